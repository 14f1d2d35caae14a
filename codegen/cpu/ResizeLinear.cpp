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

void lowerResize(ResizeLinearOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto in = cast<MemRefType>(op.getInput().getType()).getShape();
  auto out = cast<MemRefType>(op.getInit().getType()).getShape();
  int64_t height = in[2], width = in[3], outH = out[2], outW = out[3];
  Value input = flattenBuffer(b, loc, op.getInput());
  Value output = flattenBuffer(b, loc, op.getInit());
  auto index = [&](int64_t value) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, value);
  };
  auto add = [&](Value x, Value y) -> Value {
    return b.create<arith::AddIOp>(loc, x, y);
  };
  auto mul = [&](Value x, int64_t y) -> Value {
    return b.create<arith::MulIOp>(loc, x, index(y));
  };
  // Source position `at` of a table, as an index.
  auto source = [&](Value table, Value at) -> Value {
    Value position = b.create<memref::LoadOp>(loc, table, ValueRange{at});
    return b.create<arith::IndexCastOp>(loc, b.getIndexType(), position);
  };
  // a + w * (b - a)
  auto blend = [&](Value first, Value second, Value weight) -> Value {
    Value difference = b.create<arith::SubFOp>(loc, second, first);
    return b.create<math::FmaOp>(loc, weight, difference, first);
  };

  auto rows = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0)}, ValueRange{index(out[0] * out[1] * outH)},
      ValueRange{index(1)});
  // Four loads and three blends per output.
  markThreaded(rows, 8 * out[0] * out[1] * outH * out[3]);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(rows.getBody());
  Value row = rows.getInductionVars()[0];
  Value plane = b.create<arith::DivUIOp>(loc, row, index(outH));
  Value y = b.create<arith::RemUIOp>(loc, row, index(outH));
  Value y2 = mul(y, 2);
  Value planeBase = mul(plane, height);
  Value top = mul(add(planeBase, source(op.getRows(), y2)), width);
  Value bottom =
      mul(add(planeBase, source(op.getRows(), add(y2, index(1)))), width);
  Value rowWeight =
      b.create<memref::LoadOp>(loc, op.getRowWeights(), ValueRange{y});
  Value outRow = mul(row, outW);
  auto columns = b.create<scf::ForOp>(loc, index(0), index(outW), index(1));
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
  op.erase();
}

struct CpuLowerResizeLinearPass
    : kiln::impl::CpuLowerResizeLinearPassBase<CpuLowerResizeLinearPass> {
  void runOnOperation() override {
    for (ResizeLinearOp op : bufferForms<ResizeLinearOp>(getOperation()))
      lowerResize(op);
  }
};

} // namespace
