//===- AttendPast.cpp - kiln-cpu-attend-past
//-------------------------------===//
//
// A decoder's plain graph concatenates each layer's past cache with the
// step's new keys and values, returns the concatenation as its `present`
// output and attends to it. The copy streams to memory (the present is
// written once and read by the next step), so attending to it reads it
// back from memory; attending to the past and the new rows where they
// are reads the past again from the caches, just after the copy read it.
// This rewrites such an attention to take the past as `past_keys` and
// `past_values` and the new rows as its keys and values.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPUATTENDPASTPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// A past and the new rows concatenated along the positions of [B, H, T,
/// D], the heads then collapsed into the attention's [B * H, T, D].
struct SplitRows {
  Value past, fresh;
};

std::optional<SplitRows> splitRowsOf(Value rows) {
  auto collapse = rows.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse || collapse.getSrcType().getRank() != 4 ||
      collapse.getReassociationIndices() !=
          SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}})
    return std::nullopt;
  auto concat = collapse.getSrc().getDefiningOp<onnx::ConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return std::nullopt;
  int64_t axis = concat.getAxis();
  if (axis != 2 && axis != -2)
    return std::nullopt;
  Value past = concat.getInputs()[0], fresh = concat.getInputs()[1];
  auto pastType = dyn_cast<RankedTensorType>(past.getType());
  auto freshType = dyn_cast<RankedTensorType>(fresh.getType());
  if (!pastType || !freshType || pastType.getRank() != 4 ||
      freshType.getRank() != 4 ||
      pastType.getElementType() != freshType.getElementType())
    return std::nullopt;
  return SplitRows{past, fresh};
}

struct CpuAttendPastPass
    : kiln::impl::CpuAttendPastPassBase<CpuAttendPastPass> {
  void runOnOperation() override {
    SmallVector<AttentionOp> attentions;
    getOperation().walk([&](AttentionOp op) {
      if (isa<RankedTensorType>(op.getInit().getType()) && op.getKeyRows() &&
          !op.getPages() && !op.hasPast())
        attentions.push_back(op);
    });
    for (AttentionOp op : attentions) {
      std::optional<SplitRows> keys = splitRowsOf(op.getKeys());
      std::optional<SplitRows> values = splitRowsOf(op.getValues());
      if (!keys || !values)
        continue;
      // 4-bit rows are a session cache's, never a graph's concatenation.
      Type element = getElementTypeOrSelf(keys->past.getType());
      if (!element.isF32() && !element.isBF16())
        continue;
      OpBuilder b(op);
      Location loc = op.getLoc();
      auto collapsed = [&](Value rows) {
        return b.create<tensor::CollapseShapeOp>(
            loc, rows, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
      };
      Value pastKeys = collapsed(keys->past), newKeys = collapsed(keys->fresh);
      Value pastValues = collapsed(values->past),
            newValues = collapsed(values->fresh);
      auto attention = b.create<AttentionOp>(
          loc, op->getResultTypes(), op.getQuery(), newKeys, newValues,
          pastKeys, pastValues, op.getMask(), /*pages=*/Value(), op.getInit(),
          op.getScaleAttr(), op.getKeyRowsAttr(), /*page_size=*/IntegerAttr());
      op->replaceAllUsesWith(attention);
      op->erase();
    }
  }
};

} // namespace
