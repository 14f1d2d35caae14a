//===- RowKernels.cpp - kiln-cpu-lower-row-kernels ------------------------===//
//
// Layer normalization, softmax and the rows' largest magnitudes reduce
// along rows that fit in cache: a thread takes whole rows and sweeps each
// a few times with vectors, so memory sees each row read once and written
// once.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/KernelHelpers.h"
#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_CPULOWERROWKERNELSPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

class RowEmitter : public KernelEmitterBase {
public:
  RowEmitter(Operation *op, Value input, Value output, int64_t vectorBits,
             OpBuilder &b)
      : KernelEmitterBase(b, op->getLoc()) {
    auto type = cast<MemRefType>(input.getType());
    length = type.getShape().back();
    lanes = vectorBits / 32;
    vectorType = VectorType::get({lanes}, b.getF32Type());
    maskType = VectorType::get({lanes}, b.getI1Type());
    this->input = flattenBuffer(b, loc, input);
    this->output = flattenBuffer(b, loc, output);
    // Over symbolic sizes (a softmax over an LLM's growing context) the
    // rows and their length are run-time values.
    if (type.hasStaticShape()) {
      rows = type.getNumElements() / length;
      rowsValue = index(rows);
      lengthValue = index(length);
    } else {
      lengthValue =
          b.create<memref::DimOp>(loc, input, type.getRank() - 1).getResult();
      rowsValue = b.create<arith::DivUIOp>(
          loc, b.create<memref::DimOp>(loc, this->input, 0), lengthValue);
    }
  }

  /// Emits a parallel loop over the rows; `body` gets the row's index and
  /// its offset in the input.
  void forEachRow(function_ref<void(Value, Value)> body) {
    auto loop = b.create<scf::ParallelOp>(loc, ValueRange{index(0)},
                                          ValueRange{rowsValue},
                                          ValueRange{index(1)});
    // A few sweeps of several operations per element. Over symbolic
    // sizes the threads are chosen at run time, by the count of rows.
    if (!ShapedType::isDynamic(length))
      markThreaded(loop, 8 * rows * length);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value row = loop.getInductionVars()[0];
    body(row, b.create<arith::MulIOp>(loc, row, lengthValue));
  }

  /// Sweeps a row: `step(offset, mask, carried)` for each vector (mask null
  /// for full ones) returns the new carried values.
  SmallVector<Value>
  sweep(ValueRange initial,
        function_ref<SmallVector<Value>(Value, Value, ValueRange)> step) {
    SmallVector<Value> carried(initial);
    if (ShapedType::isDynamic(length)) {
      // Whole vectors, then a tail under a mask (of no lanes when the
      // length is a multiple of the vector's).
      Value full = b.create<arith::MulIOp>(
          loc, b.create<arith::DivUIOp>(loc, lengthValue, index(lanes)),
          index(lanes));
      auto loop = b.create<scf::ForOp>(
          loc, index(0), full, index(lanes), carried,
          [&](OpBuilder &, Location, Value offset, ValueRange values) {
            b.create<scf::YieldOp>(loc, step(offset, Value(), values));
          });
      Value mask = b.create<vector::CreateMaskOp>(
          loc, maskType,
          ValueRange{b.create<arith::SubIOp>(loc, lengthValue, full)});
      return step(full, mask, loop.getResults());
    }
    int64_t full = length / lanes;
    if (full > 0) {
      auto loop = b.create<scf::ForOp>(
          loc, index(0), index(full * lanes), index(lanes), carried,
          [&](OpBuilder &, Location, Value offset, ValueRange values) {
            b.create<scf::YieldOp>(loc, step(offset, Value(), values));
          });
      carried = loop.getResults();
    }
    if (length % lanes) {
      Value mask = b.create<vector::CreateMaskOp>(
          loc, maskType, ValueRange{index(length % lanes)});
      carried = step(index(full * lanes), mask, carried);
    }
    return carried;
  }

  Value load(Value buffer, Value at, Value mask, float padding) {
    if (!mask)
      return b.create<vector::LoadOp>(loc, vectorType, buffer, ValueRange{at});
    return b.create<vector::MaskedLoadOp>(loc, vectorType, buffer,
                                          ValueRange{at}, mask, splat(padding));
  }
  void store(Value value, Value buffer, Value at, Value mask) {
    if (mask)
      b.create<vector::MaskedStoreOp>(loc, buffer, ValueRange{at}, mask, value);
    else
      b.create<vector::StoreOp>(loc, value, buffer, ValueRange{at});
  }
  Value splat(float value) {
    return b.create<arith::ConstantOp>(
        loc, vectorType, DenseElementsAttr::get(vectorType, value));
  }
  Value scalar(float value) {
    return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
  }
  Value broadcast(Value scalarValue) {
    return b.create<vector::BroadcastOp>(loc, vectorType, scalarValue);
  }
  Value reduce(vector::CombiningKind kind, Value vector) {
    return b.create<vector::ReductionOp>(loc, kind, vector);
  }

  /// The row length (ShapedType::kDynamic when symbolic) and count.
  int64_t length, rows = 0, lanes;
  Value lengthValue, rowsValue;
  VectorType vectorType, maskType;
  Value input, output;
};

void lowerLayerNorm(LayerNormOp op, int64_t vectorBits) {
  OpBuilder b(op);
  RowEmitter e(op, op.getInput(), op.getInit(), vectorBits, b);
  Location loc = e.loc;
  Value scale = op.getScale(), bias = op.getBias();
  float epsilon = op.getEpsilon().convertToFloat();
  e.forEachRow([&](Value, Value row) {
    Value sum = e.sweep({e.splat(0.0f)}, [&](Value at, Value mask,
                                              ValueRange acc) {
      Value x = e.load(e.input, e.add(row, at), mask, 0.0f);
      return SmallVector<Value>{b.create<arith::AddFOp>(loc, acc[0], x)};
    })[0];
    Value count = e.scalar(float(e.length));
    Value mean = b.create<arith::DivFOp>(
        loc, e.reduce(vector::CombiningKind::ADD, sum), count);
    Value means = e.broadcast(mean);
    // The tail's padding is the mean itself, which adds nothing.
    Value squares = e.sweep({e.splat(0.0f)}, [&](Value at, Value mask,
                                                  ValueRange acc) {
      Value x = mask ? b.create<vector::MaskedLoadOp>(
                           loc, e.vectorType, e.input,
                           ValueRange{e.add(row, at)}, mask, means)
                     : e.load(e.input, e.add(row, at), Value(), 0.0f);
      Value d = b.create<arith::SubFOp>(loc, x, means);
      return SmallVector<Value>{b.create<vector::FMAOp>(loc, d, d, acc[0])};
    })[0];
    Value variance = b.create<arith::DivFOp>(
        loc, e.reduce(vector::CombiningKind::ADD, squares), count);
    Value rstd = b.create<math::RsqrtOp>(
        loc, b.create<arith::AddFOp>(loc, variance, e.scalar(epsilon)));
    Value rstds = e.broadcast(rstd);
    e.sweep({}, [&](Value at, Value mask, ValueRange) {
      Value x = e.load(e.input, e.add(row, at), mask, 0.0f);
      Value normalized = b.create<arith::MulFOp>(
          loc, b.create<arith::SubFOp>(loc, x, means), rstds);
      Value y = b.create<vector::FMAOp>(loc, normalized,
                                        e.load(scale, at, mask, 0.0f),
                                        e.load(bias, at, mask, 0.0f));
      e.store(y, e.output, e.add(row, at), mask);
      return SmallVector<Value>{};
    });
  });
  op.erase();
}

void lowerSoftmax(SoftmaxOp op, int64_t vectorBits) {
  OpBuilder b(op);
  RowEmitter e(op, op.getInput(), op.getInit(), vectorBits, b);
  Location loc = e.loc;
  float lowest = -std::numeric_limits<float>::infinity();
  e.forEachRow([&](Value, Value row) {
    Value maxima = e.sweep({e.splat(lowest)}, [&](Value at, Value mask,
                                                   ValueRange acc) {
      Value x = e.load(e.input, e.add(row, at), mask, lowest);
      return SmallVector<Value>{b.create<arith::MaximumFOp>(loc, acc[0], x)};
    })[0];
    Value maxs =
        e.broadcast(e.reduce(vector::CombiningKind::MAXIMUMF, maxima));
    Value sums = e.sweep({e.splat(0.0f)}, [&](Value at, Value mask,
                                               ValueRange acc) {
      Value x = e.load(e.input, e.add(row, at), mask, 0.0f);
      Value exp = b.create<math::ExpOp>(
          loc, b.create<arith::SubFOp>(loc, x, maxs));
      e.store(exp, e.output, e.add(row, at), mask);
      if (mask)
        exp = b.create<arith::SelectOp>(loc, mask, exp, e.splat(0.0f));
      return SmallVector<Value>{b.create<arith::AddFOp>(loc, acc[0], exp)};
    })[0];
    Value inverse = b.create<arith::DivFOp>(
        loc, e.scalar(1.0f), e.reduce(vector::CombiningKind::ADD, sums));
    Value inverses = e.broadcast(inverse);
    e.sweep({}, [&](Value at, Value mask, ValueRange) {
      Value y = e.load(e.output, e.add(row, at), mask, 0.0f);
      e.store(b.create<arith::MulFOp>(loc, y, inverses), e.output,
              e.add(row, at), mask);
      return SmallVector<Value>{};
    });
  });
  op.erase();
}

void lowerRowAbsMax(RowAbsMaxOp op, int64_t vectorBits) {
  OpBuilder b(op);
  RowEmitter e(op, op.getInput(), op.getInit(), vectorBits, b);
  Location loc = e.loc;
  e.forEachRow([&](Value row, Value offset) {
    // A masked tail reads zeros, which no magnitude is below.
    Value maxima =
        e.sweep({e.splat(0.0f)}, [&](Value at, Value mask, ValueRange acc) {
          Value x = e.load(e.input, e.add(offset, at), mask, 0.0f);
          return SmallVector<Value>{b.create<arith::MaximumFOp>(
              loc, acc[0], b.create<math::AbsFOp>(loc, x))};
        })[0];
    b.create<memref::StoreOp>(loc,
                              e.reduce(vector::CombiningKind::MAXIMUMF, maxima),
                              e.output, ValueRange{row});
  });
  op.erase();
}

struct CpuLowerRowKernelsPass
    : kiln::impl::CpuLowerRowKernelsPassBase<CpuLowerRowKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkVectorBits(getOperation(), vectorBits)))
      return signalPassFailure();
    for (LayerNormOp op : bufferForms<LayerNormOp>(getOperation()))
      lowerLayerNorm(op, vectorBits);
    for (SoftmaxOp op : bufferForms<SoftmaxOp>(getOperation()))
      lowerSoftmax(op, vectorBits);
    for (RowAbsMaxOp op : bufferForms<RowAbsMaxOp>(getOperation()))
      lowerRowAbsMax(op, vectorBits);
  }
};

} // namespace
