//===- ResizeLinear.cpp - kiln-cpu-lower-resize-linear --------------------===//

#include "codegen/cpu/KernelHelpers.h"
#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPULOWERRESIZELINEARPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Per output row, per column: two source columns of two source rows,
/// blended by the tables' weights. The batch, height and width may be
/// symbolic.
class ResizeEmitter : KernelEmitterBase {
public:
  ResizeEmitter(ResizeLinearOp op, OpBuilder &b)
      : KernelEmitterBase(b, op.getLoc()), op(op) {}

  void emit() {
    auto out = cast<MemRefType>(op.getInit().getType()).getShape();
    Value height = extent(op.getInput(), 2), width = extent(op.getInput(), 3);
    Value outH = extent(op.getInit(), 2), outW = extent(op.getInit(), 3);
    Value input = flattenBuffer(b, loc, op.getInput());
    Value output = flattenBuffer(b, loc, op.getInit());

    Value planes = times(extent(op.getInit(), 0), index(out[1]));
    auto rows = b.create<scf::ParallelOp>(
        loc, ValueRange{index(0)}, ValueRange{times(planes, outH)},
        ValueRange{index(1)});
    // Four loads and three blends per output.
    markThreaded(rows, operationsOf({planes, outH, outW}, 8));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    Value row = rows.getInductionVars()[0];
    Value plane = b.create<arith::DivUIOp>(loc, row, outH);
    Value y = b.create<arith::RemUIOp>(loc, row, outH);
    Value y2 = mul(y, 2);
    Value planeBase = times(plane, height);
    Value top = times(add(planeBase, source(op.getRows(), y2)), width);
    Value bottom =
        times(add(planeBase, source(op.getRows(), add(y2, index(1)))), width);
    Value rowWeight =
        b.create<memref::LoadOp>(loc, op.getRowWeights(), ValueRange{y});
    Value outRow = times(row, outW);
    auto columns = b.create<scf::ForOp>(loc, index(0), outW, index(1));
    b.setInsertionPointToStart(columns.getBody());
    Value x = columns.getInductionVar();
    Value x2 = mul(x, 2);
    Value left = source(op.getColumns(), x2);
    Value right = source(op.getColumns(), add(x2, index(1)));
    Value columnWeight =
        b.create<memref::LoadOp>(loc, op.getColumnWeights(), ValueRange{x});
    auto at = [&](Value rowBase, Value column) -> Value {
      return b.create<memref::LoadOp>(loc, input,
                                      ValueRange{add(rowBase, column)});
    };
    Value upper = blend(at(top, left), at(top, right), columnWeight);
    Value lower = blend(at(bottom, left), at(bottom, right), columnWeight);
    b.create<memref::StoreOp>(loc, blend(upper, lower, rowWeight), output,
                              ValueRange{add(outRow, x)});
  }

private:
  /// Source position `at` of a table, as an index.
  Value source(Value table, Value at) {
    Value position = b.create<memref::LoadOp>(loc, table, ValueRange{at});
    return b.create<arith::IndexCastOp>(loc, b.getIndexType(), position);
  }
  /// a + w * (b - a)
  Value blend(Value first, Value second, Value weight) {
    Value difference = b.create<arith::SubFOp>(loc, second, first);
    return b.create<math::FmaOp>(loc, weight, difference, first);
  }

  ResizeLinearOp op;
};

struct CpuLowerResizeLinearPass
    : kiln::impl::CpuLowerResizeLinearPassBase<CpuLowerResizeLinearPass> {
  void runOnOperation() override {
    for (ResizeLinearOp op : bufferForms<ResizeLinearOp>(getOperation())) {
      OpBuilder b(op);
      ResizeEmitter(op, b).emit();
      op.erase();
    }
  }
};

} // namespace
