//===- StridedCopies.cpp - kiln-lower-strided-copies ------------------===//
//
// A copy between views that are not both contiguous, such as a key cache
// of [batch, heads, past, 64] copied into the first `past` rows of each
// head of a [batch, heads, past + 1, 64] buffer, becomes loops. As a
// linalg.copy it would be a parallel loop per row of 64 elements, whose
// collapsed index the CPU's threads divide back into coordinates for every
// row; but the trailing dimensions that are contiguous in both views
// (here past x 64) are one run of memory. With `chunk-bytes`, such runs
// are copied in chunks of that size: the threads share rows x chunks and
// the copy inside a chunk is one contiguous loop. With `streaming-stores`,
// a chunk whose target is 16-byte aligned is written with non-temporal
// stores: a decode step's present caches, tens of MB written once and read
// back only by the next step, then skip the read for ownership of every
// line (SmolLM2's plain graph at 1,024 tokens: 47 MB, 23.2 -> 22.4 ms a
// step on a 2-core AVX-512 Xeon).
//
//===----------------------------------------------------------------------===//

#include "codegen/common/LoopEmitter.h"
#include "codegen/common/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_LOWERSTRIDEDCOPIESPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

bool isContiguous(Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  return type.getLayout().isIdentity() ||
         memref::isStaticShapeAndContiguousRowMajor(type);
}

/// How many trailing dimensions of `type` are provably one run of memory:
/// a unit innermost stride, and each stride outside it the product of the
/// (static) sizes inside.
int64_t contiguousTrailingDims(MemRefType type) {
  int64_t rank = type.getRank();
  if (type.getLayout().isIdentity())
    return rank;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (rank == 0 || failed(getStridesAndOffset(type, strides, offset)) ||
      strides.back() != 1)
    return 0;
  int64_t dims = 1;
  int64_t run = 1;
  for (int64_t d = rank - 1; d > 0; --d) {
    if (type.isDynamicDim(d))
      break;
    run *= type.getDimSize(d);
    if (strides[d - 1] != run)
      break;
    ++dims;
  }
  return dims;
}

/// The last `dims` dimensions of `buffer` collapsed into one.
Value collapseTrailing(OpBuilder &b, Location loc, Value buffer, int64_t dims) {
  int64_t rank = cast<MemRefType>(buffer.getType()).getRank();
  if (dims == 1)
    return buffer;
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < rank - dims; ++d)
    groups.push_back({d});
  groups.emplace_back();
  for (int64_t d = rank - dims; d < rank; ++d)
    groups.back().push_back(d);
  return b.create<memref::CollapseShapeOp>(loc, buffer, groups);
}

/// Bytes per non-temporal store, and the alignment it needs (x86's
/// `movntps` of 16 bytes; a 64-byte vector stored at that alignment
/// becomes four).
constexpr int64_t kStreamVectorBytes = 64;
constexpr int64_t kStreamAlignment = 16;

struct StridedCopyToLoops : OpRewritePattern<memref::CopyOp> {
  StridedCopyToLoops(MLIRContext *context, int64_t chunkBytes,
                     bool streamingStores)
      : OpRewritePattern(context), chunkBytes(chunkBytes),
        streamingStores(streamingStores) {}

  LogicalResult matchAndRewrite(memref::CopyOp copy,
                                PatternRewriter &rewriter) const override {
    Value source = copy.getSource(), target = copy.getTarget();
    if (isContiguous(source) && isContiguous(target))
      return failure();
    if (chunkBytes <= 0 || failed(copyInChunks(copy, rewriter)))
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, source, target);
    else
      rewriter.eraseOp(copy);
    return success();
  }

  /// Rows x full chunks in one parallel nest, each row's remainder in a
  /// second; fails (emitting nothing) where the contiguous run is known to
  /// be shorter than a chunk, which a linalg.copy does as well.
  LogicalResult copyInChunks(memref::CopyOp copy, OpBuilder &b) const {
    Value source = copy.getSource(), target = copy.getTarget();
    auto sourceType = cast<MemRefType>(source.getType());
    auto targetType = cast<MemRefType>(target.getType());
    Type element = sourceType.getElementType();
    if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8 != 0)
      return failure();
    int64_t rank = sourceType.getRank();
    int64_t runDims = std::min(contiguousTrailingDims(sourceType),
                               contiguousTrailingDims(targetType));
    if (runDims == 0)
      return failure();
    int64_t chunk = std::max<int64_t>(
        1, chunkBytes / (element.getIntOrFloatBitWidth() / 8));
    ArrayRef<int64_t> runShape = sourceType.getShape().take_back(runDims);
    bool staticRun = !ShapedType::isDynamicShape(runShape);
    int64_t staticLength = staticRun ? ShapedType::getNumElements(runShape) : 0;
    if (staticRun && staticLength < chunk)
      return failure();

    ScalarEmitter e(b, copy.getLoc());
    Value from = collapseTrailing(b, e.loc, source, runDims);
    Value to = collapseTrailing(b, e.loc, target, runDims);
    int64_t rowDims = rank - runDims;
    SmallVector<Value> rows;
    for (int64_t d = 0; d < rowDims; ++d)
      rows.push_back(e.extent(from, d));
    Value length = e.extent(from, rowDims);
    Value fullChunks = e.dividedBy(length, e.index(chunk));

    auto copyElement = [&](ValueRange row, Value i) {
      SmallVector<Value> indices(row);
      indices.push_back(i);
      e.store(e.load(from, indices), to, indices);
    };
    // A chunk's loop counts from 0 to a constant, so that the choice of
    // threads at run time sees its work.
    auto copyChunk = [&](ValueRange row, Value begin) {
      e.loop(e.index(0), e.index(chunk),
             [&](Value i) { copyElement(row, e.add(begin, i)); });
    };
    int64_t elementBytes = element.getIntOrFloatBitWidth() / 8;
    bool stream = streamingStores && kStreamAlignment % elementBytes == 0 &&
                  (chunk * elementBytes) % kStreamVectorBytes == 0;
    SmallVector<Value> chunkSpace(rows);
    chunkSpace.push_back(fullChunks);
    e.parallel(chunkSpace, [&](ValueRange ivs) {
      Value begin = e.mul(ivs.back(), chunk);
      if (stream)
        streamChunk(e, from, to, ivs.drop_back(), begin, chunk, copyChunk);
      else
        copyChunk(ivs.drop_back(), begin);
    });
    if (staticRun && staticLength % chunk == 0)
      return success();
    Value tail = e.mul(fullChunks, chunk);
    auto copyTail = [&](ValueRange row) {
      e.loop(tail, length, [&](Value i) { copyElement(row, i); });
    };
    if (rows.empty())
      copyTail({});
    else
      e.parallel(rows, copyTail);
    return success();
  }

  /// The chunk of `chunk` elements from `begin` of `row`: where the
  /// target is aligned for them, loads of 64 bytes and their non-temporal
  /// stores; elsewhere `copyChunk`. The stores are weakly ordered, and
  /// another thread may read them after the loop: the runtime's barrier
  /// that ends every parallel loop is a locked read-modify-write, which
  /// drains them first (x86), so they need no fence here.
  void streamChunk(ScalarEmitter &e, Value from, Value to, ValueRange row,
                   Value begin, int64_t chunk,
                   function_ref<void(ValueRange, Value)> copyChunk) const {
    OpBuilder &b = e.b;
    Type element = cast<MemRefType>(to.getType()).getElementType();
    int64_t elementBytes = element.getIntOrFloatBitWidth() / 8;
    int64_t lanes = kStreamVectorBytes / elementBytes;
    // The target's byte address: its aligned pointer, plus its offset and
    // the row's and chunk's elements by their strides.
    auto metadata = b.create<memref::ExtractStridedMetadataOp>(e.loc, to);
    Value element0 = metadata.getOffset();
    for (auto [i, coordinate] : llvm::enumerate(row))
      element0 =
          e.add(element0, b.create<arith::MulIOp>(e.loc, coordinate,
                                                  metadata.getStrides()[i]));
    element0 = e.add(element0, begin);
    Value address =
        e.add(b.create<memref::ExtractAlignedPointerAsIndexOp>(e.loc, to),
              e.mul(element0, elementBytes));
    Value misaligned = b.create<arith::CmpIOp>(
        e.loc, arith::CmpIPredicate::ne,
        b.create<arith::RemUIOp>(e.loc, address, e.index(kStreamAlignment)),
        e.index(0));
    auto ifMisaligned =
        b.create<scf::IfOp>(e.loc, misaligned, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifMisaligned.getThenRegion().front());
    copyChunk(row, begin);
    b.setInsertionPointToStart(&ifMisaligned.getElseRegion().front());
    auto vectorType = VectorType::get({lanes}, element);
    auto pointerType = LLVM::LLVMPointerType::get(b.getContext());
    e.loop(e.index(0), e.index(chunk / lanes), [&](Value v) {
      SmallVector<Value> indices(row);
      indices.push_back(e.add(begin, e.mul(v, lanes)));
      Value values = b.create<vector::LoadOp>(e.loc, vectorType, from, indices);
      Value at = b.create<arith::IndexCastOp>(
          e.loc, b.getI64Type(), e.add(address, e.mul(v, kStreamVectorBytes)));
      Value pointer = b.create<LLVM::IntToPtrOp>(e.loc, pointerType, at);
      b.create<LLVM::StoreOp>(e.loc, values, pointer, kStreamAlignment,
                              /*isVolatile=*/false, /*isNonTemporal=*/true);
    });
  }

  int64_t chunkBytes;
  bool streamingStores;
};

struct LowerStridedCopiesPass
    : kiln::impl::LowerStridedCopiesPassBase<LowerStridedCopiesPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<StridedCopyToLoops>(&getContext(), chunkBytes,
                                     streamingStores);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
