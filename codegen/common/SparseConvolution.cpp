//===- SparseConvolution.cpp - kiln-lower-sparse-convolution --------------===//
//
// The kernels around a sparse convolution's GEMM: site tables (listed row
// by row from a grid of marks, so that every row is listed in parallel and
// the order is row-major), kernel maps found through a hash of the sites'
// pixels, and the gathers and scatters of rows. The GEMM itself is a
// MatMul (the CPU's packed contraction kernels, CUDA's loops).
//
// The hash is open addressing with linear probing over twice as many slots
// as sites (at least 16): a key is a pixel's y W + x (never negative), an
// empty slot -1, and a key's first slot its product by 2^32 / phi
// (Fibonacci hashing, which spreads the runs of neighbouring pixels a site
// list is made of) scaled to the slots, (h slots) >> 32. The slots' count
// is plain integer arithmetic on the sites' count, which a target that
// sizes buffers on its host (CUDA) can follow.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/LoopEmitter.h"
#include "codegen/common/Passes.h"
#include "dialects/kiln/KernelForms.h"
#include "dialects/kiln/KilnOps.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_LOWERSPARSECONVOLUTIONPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// A hash of pixels to rows: `keys` and `rows` of `slots` entries.
struct PixelHash {
  Value keys, rows, slots;
};

class SitesEmitter : public ScalarEmitter {
public:
  SitesEmitter(Operation *op, OpBuilder &b) : ScalarEmitter(b, op->getLoc()) {}

  void emit(ListSitesOp op);
  void emit(CoarseSitesOp op);
  void emit(KernelMapOp op);
  void emit(GatherSitesOp op);
  void emit(ScatterSitesOp op);
  void emit(SparseIm2ColOp op);
  void emit(SparseCol2ImOp op);

private:
  using Predicate = arith::CmpIPredicate;

  Value compare(Predicate predicate, Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, predicate, x, y);
  }
  Value both(Value x, Value y) { return b.create<arith::AndIOp>(loc, x, y); }
  /// The count of a site table, as an index.
  Value siteCount(Value table) { return toIndex(load(table, {index(0)})); }
  /// Site `i` of a table over a grid `width` pixels wide: its row and
  /// column.
  std::pair<Value, Value> site(Value table, Value i, int64_t width) {
    Value pixel = toIndex(load(table, {add(i, index(1))}));
    return {dividedBy(pixel, index(width)), remainder(pixel, index(width))};
  }
  /// A parallel loop over `count` rows whose body `body` builds: threaded,
  /// since the count is known only at run time.
  void perRow(Value count, function_ref<void(Value)> body) {
    auto rows = b.create<scf::ParallelOp>(
        loc, ValueRange{index(0)}, ValueRange{count}, ValueRange{index(1)});
    markThreaded(rows, std::numeric_limits<int64_t>::max());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    body(rows.getInductionVars()[0]);
  }
  /// Lists, row by row of a grid of `rows` x `columns` marks (`marked`
  /// (row, column) an i1), each marked pixel's scale[0] x scale[1] sites
  /// of the grid they scale to, row-major, into the site table `table`.
  void listMarked(Value table, int64_t rows, int64_t columns,
                  ArrayRef<int64_t> scale,
                  function_ref<Value(Value, Value)> marked);
  /// An empty hash with room for `count` keys; freed by freeHash.
  PixelHash allocateHash(Value count);
  void freeHash(const PixelHash &hash) {
    b.create<memref::DeallocOp>(loc, hash.keys);
    b.create<memref::DeallocOp>(loc, hash.rows);
  }
  /// The slot of `key` (an i32): where it is, or the empty slot where it
  /// would go.
  Value probe(const PixelHash &hash, Value key);
  /// The row of `key` (an i32) in `hash`, or -1.
  Value find(const PixelHash &hash, Value key) {
    Value slot = probe(hash, key);
    Value found = compare(Predicate::eq, load(hash.keys, {slot}), key);
    return b.create<arith::SelectOp>(loc, found, load(hash.rows, {slot}),
                                     i32(-1));
  }
  /// The row (an index) of the input pixel a kernel map's offset `tap`
  /// reads for output pixel `at`, along one axis, and whether there is one
  /// inside `extent`.
  std::pair<Value, Value> tapped(Value at, Value tap, int64_t stride,
                                 int64_t padding, int64_t extent,
                                 bool transposed);
};

PixelHash SitesEmitter::allocateHash(Value count) {
  PixelHash hash;
  hash.slots = mul(b.create<arith::MaxSIOp>(loc, count, index(8)), 2);
  auto type = MemRefType::get({ShapedType::kDynamic}, b.getI32Type());
  hash.keys = b.create<memref::AllocOp>(loc, type, ValueRange{hash.slots});
  hash.rows = b.create<memref::AllocOp>(loc, type, ValueRange{hash.slots});
  perRow(hash.slots, [&](Value slot) { store(i32(-1), hash.keys, {slot}); });
  return hash;
}

Value SitesEmitter::probe(const PixelHash &hash, Value key) {
  Value product = b.create<arith::MulIOp>(
      loc, key, b.create<arith::ConstantIntOp>(loc, 0x9e3779b1, 32));
  Value wide = b.create<arith::MulIOp>(
      loc, b.create<arith::ExtUIOp>(loc, b.getI64Type(), product),
      b.create<arith::IndexCastOp>(loc, b.getI64Type(), hash.slots));
  Value first = b.create<arith::IndexCastOp>(
      loc, b.getIndexType(),
      b.create<arith::ShRUIOp>(loc, wide,
                               b.create<arith::ConstantIntOp>(loc, 32, 64)));
  Value last = b.create<arith::SubIOp>(loc, hash.slots, index(1));
  auto search = b.create<scf::WhileOp>(
      loc, TypeRange{b.getIndexType()}, ValueRange{first},
      [&](OpBuilder &, Location, ValueRange slot) {
        Value held = load(hash.keys, {slot[0]});
        Value occupied = both(compare(Predicate::ne, held, i32(-1)),
                              compare(Predicate::ne, held, key));
        b.create<scf::ConditionOp>(loc, occupied, slot);
      },
      [&](OpBuilder &, Location, ValueRange slot) {
        Value next = b.create<arith::SelectOp>(
            loc, compare(Predicate::eq, slot[0], last), index(0),
            add(slot[0], index(1)));
        b.create<scf::YieldOp>(loc, ValueRange{next});
      });
  return search.getResult(0);
}

std::pair<Value, Value> SitesEmitter::tapped(Value at, Value tap,
                                             int64_t stride, int64_t padding,
                                             int64_t extent, bool transposed) {
  Value inside;
  Value pixel;
  if (!transposed) {
    // at stride - padding + tap.
    pixel =
        b.create<arith::SubIOp>(loc, add(mul(at, stride), tap), index(padding));
    inside = compare(Predicate::sge, pixel, index(0));
  } else {
    // The pixel p with p stride - padding + tap = at.
    Value scaled = b.create<arith::SubIOp>(loc, add(at, index(padding)), tap);
    Value whole =
        compare(Predicate::eq,
                b.create<arith::RemSIOp>(loc, scaled, index(stride)), index(0));
    inside = both(compare(Predicate::sge, scaled, index(0)), whole);
    pixel = b.create<arith::DivSIOp>(loc, scaled, index(stride));
  }
  return {pixel, both(inside, compare(Predicate::slt, pixel, index(extent)))};
}

void SitesEmitter::listMarked(Value table, int64_t rows, int64_t columns,
                              ArrayRef<int64_t> scale,
                              function_ref<Value(Value, Value)> marked) {
  int64_t width = columns * scale[1];
  // In three steps, two of them parallel: each row's marked pixels
  // counted; where each row's sites start in the list (a running sum, one
  // thread); then each grid row lists its marked pixels' runs of scale[1]
  // sites from its start. (i32 counts, as the table's.)
  auto i32Buffer = [&] {
    return b.create<memref::AllocOp>(loc,
                                     MemRefType::get({rows}, b.getI32Type()));
  };
  Value counts = i32Buffer(), starts = i32Buffer();
  auto countRows = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0)}, ValueRange{index(rows)}, ValueRange{index(1)});
  markThreaded(countRows, rows * columns);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(countRows.getBody());
    Value row = countRows.getInductionVars()[0];
    auto overColumns = b.create<scf::ForOp>(
        loc, index(0), index(columns), index(1), ValueRange{index(0)},
        [&](OpBuilder &, Location, Value x, ValueRange count) {
          Value pixel = b.create<arith::IndexCastUIOp>(loc, b.getIndexType(),
                                                       marked(row, x));
          b.create<scf::YieldOp>(loc, ValueRange{add(count[0], pixel)});
        });
    store(toI32(overColumns.getResult(0)), counts, {row});
  }
  auto running = b.create<scf::ForOp>(
      loc, index(0), index(rows), index(1), ValueRange{index(0)},
      [&](OpBuilder &, Location, Value row, ValueRange listed) {
        store(toI32(listed[0]), starts, {row});
        b.create<scf::YieldOp>(
            loc, ValueRange{add(listed[0], mul(toIndex(load(counts, {row})),
                                               scale[0] * scale[1]))});
      });
  store(toI32(running.getResult(0)), table, {index(0)});
  auto listRows = b.create<scf::ParallelOp>(loc, ValueRange{index(0)},
                                            ValueRange{index(rows * scale[0])},
                                            ValueRange{index(1)});
  markThreaded(listRows, rows * scale[0] * columns);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(listRows.getBody());
    Value y = listRows.getInductionVars()[0];
    Value row = dividedBy(y, index(scale[0]));
    // The grid row's sites follow those of the grid rows above it in its
    // row of marks.
    Value first = add(
        toIndex(load(starts, {row})),
        b.create<arith::MulIOp>(loc, remainder(y, index(scale[0])),
                                mul(toIndex(load(counts, {row})), scale[1])));
    b.create<scf::ForOp>(
        loc, index(0), index(columns), index(1), ValueRange{first},
        [&](OpBuilder &, Location, Value x, ValueRange at) {
          auto ifMarked = b.create<scf::IfOp>(loc, TypeRange{b.getIndexType()},
                                              marked(row, x), true);
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(ifMarked.thenBlock());
            Value site = add(mul(y, width), mul(x, scale[1]));
            loop(index(0), index(scale[1]), [&](Value dx) {
              store(toI32(add(site, dx)), table,
                    {add(add(at[0], dx), index(1))});
            });
            b.create<scf::YieldOp>(loc,
                                   ValueRange{add(at[0], index(scale[1]))});
            b.setInsertionPointToStart(ifMarked.elseBlock());
            b.create<scf::YieldOp>(loc, at);
          }
          b.create<scf::YieldOp>(loc, ifMarked.getResults());
        });
  }
  b.create<memref::DeallocOp>(loc, counts);
  b.create<memref::DeallocOp>(loc, starts);
}

void SitesEmitter::emit(ListSitesOp op) {
  Value mask = op.getMask();
  ArrayRef<int64_t> shape = shapeOf(mask);
  listMarked(op.getInit(), shape[2], shape[3], op.getScale(),
             [&](Value row, Value x) {
               return load(mask, {index(0), index(0), row, x});
             });
}

void SitesEmitter::emit(CoarseSitesOp op) {
  Value fine = op.getFine();
  ArrayRef<int64_t> grid = op.getGrid(), stride = op.getStride();
  int64_t coarseRows = llvm::divideCeil(grid[0], stride[0]),
          coarseColumns = llvm::divideCeil(grid[1], stride[1]);
  // Each fine site marks its coarse pixel in a grid of marks (in
  // parallel: threads marking the same pixel write the same byte), which
  // is then listed row by row as list_sites lists a mask.
  Value marks = b.create<memref::AllocOp>(
      loc, MemRefType::get({coarseRows * coarseColumns}, b.getI8Type()));
  Value unmarked = b.create<arith::ConstantIntOp>(loc, 0, 8);
  perRow(index(coarseRows * coarseColumns),
         [&](Value pixel) { store(unmarked, marks, {pixel}); });
  perRow(siteCount(fine), [&](Value i) {
    auto [y, x] = site(fine, i, grid[1]);
    store(b.create<arith::ConstantIntOp>(loc, 1, 8), marks,
          {add(mul(dividedBy(y, index(stride[0])), coarseColumns),
               dividedBy(x, index(stride[1])))});
  });
  listMarked(op.getInit(), coarseRows, coarseColumns, {1, 1},
             [&](Value row, Value x) {
               return compare(Predicate::ne,
                              load(marks, {add(mul(row, coarseColumns), x)}),
                              unmarked);
             });
  b.create<memref::DeallocOp>(loc, marks);
}

void SitesEmitter::emit(KernelMapOp op) {
  Value input = op.getInput(), output = op.getOutput(), map = op.getInit();
  ArrayRef<int64_t> inGrid = op.getInputGrid(), outGrid = op.getOutputGrid(),
                    kernel = op.getKernel(), stride = op.getStride(),
                    padding = op.getPadding();
  bool transposed = op.getTransposed();
  Value inputs = siteCount(input);
  PixelHash hash = allocateHash(inputs);
  loop(index(0), inputs, [&](Value i) {
    Value key = load(input, {add(i, index(1))});
    Value slot = probe(hash, key);
    store(key, hash.keys, {slot});
    store(toI32(i), hash.rows, {slot});
  });
  perRow(extent(map, 0), [&](Value o) {
    auto [y, x] = site(output, o, outGrid[1]);
    loop(index(0), index(kernel[0] * kernel[1]), [&](Value k) {
      auto [row, rowInside] =
          tapped(y, dividedBy(k, index(kernel[1])), stride[0], padding[0],
                 inGrid[0], transposed);
      auto [column, columnInside] =
          tapped(x, remainder(k, index(kernel[1])), stride[1], padding[1],
                 inGrid[1], transposed);
      auto ifInside = b.create<scf::IfOp>(loc, TypeRange{b.getI32Type()},
                                          both(rowInside, columnInside), true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifInside.thenBlock());
        b.create<scf::YieldOp>(
            loc, find(hash, toI32(add(mul(row, inGrid[1]), column))));
        b.setInsertionPointToStart(ifInside.elseBlock());
        b.create<scf::YieldOp>(loc, i32(-1));
      }
      store(ifInside.getResult(0), map, {o, k});
    });
  });
  freeHash(hash);
}

void SitesEmitter::emit(GatherSitesOp op) {
  Value image = op.getImage(), sites = op.getSites(), rows = op.getInit();
  ArrayRef<int64_t> shape = shapeOf(image), scale = op.getScale();
  perRow(extent(rows, 0), [&](Value i) {
    auto [y, x] = site(sites, i, shape[3] * scale[1]);
    Value row = dividedBy(y, index(scale[0])),
          column = dividedBy(x, index(scale[1]));
    loop(index(0), index(shape[1]), [&](Value c) {
      store(load(image, {index(0), c, row, column}), rows, {i, c});
    });
  });
}

void SitesEmitter::emit(ScatterSitesOp op) {
  Value rows = op.getRows(), sites = op.getSites(), image = op.getInit();
  ArrayRef<int64_t> shape = shapeOf(image);
  perRow(extent(rows, 0), [&](Value i) {
    auto [y, x] = site(sites, i, shape[3]);
    loop(index(0), index(shape[1]), [&](Value c) {
      store(load(rows, {i, c}), image, {index(0), c, y, x});
    });
  });
}

void SitesEmitter::emit(SparseIm2ColOp op) {
  Value features = op.getFeatures(), map = op.getMap(), columns = op.getInit();
  int64_t channels = shapeOf(features)[1], taps = shapeOf(map)[1];
  Value zero = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0));
  perRow(extent(columns, 0), [&](Value o) {
    loop(index(0), index(taps), [&](Value k) {
      Value source = load(map, {o, k});
      Value block = mul(k, channels);
      auto ifSite = b.create<scf::IfOp>(
          loc, compare(Predicate::sge, source, i32(0)), true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifSite.thenBlock());
      Value row = toIndex(source);
      loop(index(0), index(channels), [&](Value c) {
        store(load(features, {row, c}), columns, {o, add(block, c)});
      });
      b.setInsertionPointToStart(ifSite.elseBlock());
      loop(index(0), index(channels), [&](Value c) {
        store(zero, columns, {o, add(block, c)});
      });
    });
  });
}

void SitesEmitter::emit(SparseCol2ImOp op) {
  Value products = op.getProducts(), map = op.getMap(), rows = op.getInit();
  int64_t filters = shapeOf(rows)[1], taps = shapeOf(map)[1];
  Value zero = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0));
  perRow(extent(rows, 0), [&](Value o) {
    loop(index(0), index(filters), [&](Value f) { store(zero, rows, {o, f}); });
    loop(index(0), index(taps), [&](Value k) {
      Value source = load(map, {o, k});
      auto ifSite = b.create<scf::IfOp>(
          loc, compare(Predicate::sge, source, i32(0)), false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifSite.thenBlock());
      Value row = toIndex(source), block = mul(k, filters);
      loop(index(0), index(filters), [&](Value f) {
        Value sum = b.create<arith::AddFOp>(
            loc, load(rows, {o, f}), load(products, {row, add(block, f)}));
        store(sum, rows, {o, f});
      });
    });
  });
}

struct LowerSparseConvolutionPass
    : kiln::impl::LowerSparseConvolutionPassBase<LowerSparseConvolutionPass> {
  void runOnOperation() override {
    auto lowerAll = [&](auto tag) {
      using OpTy = decltype(tag);
      for (OpTy op : bufferForms<OpTy>(getOperation())) {
        OpBuilder b(op);
        SitesEmitter(op, b).emit(op);
        op.erase();
      }
    };
    lowerAll(ListSitesOp());
    lowerAll(CoarseSitesOp());
    lowerAll(KernelMapOp());
    lowerAll(GatherSitesOp());
    lowerAll(ScatterSitesOp());
    lowerAll(SparseIm2ColOp());
    lowerAll(SparseCol2ImOp());
  }
};

} // namespace
