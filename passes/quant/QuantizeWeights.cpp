//===- QuantizeWeights.cpp - kiln-quant-weights ---------------------------===//
//
// Round-to-nearest 4-bit weights in groups: the W4A16 baseline, and the
// last step of AWQ once its scales are folded in.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/GroupQuantization.h"
#include "passes/quant/Passes.h"
#include "passes/quant/WeightProducts.h"

#include "dialects/onnx/OnnxConstants.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_QUANTWEIGHTSPASS
#include "passes/quant/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct QuantWeightsPass : kiln::impl::QuantWeightsPassBase<QuantWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (groupSize < 1) {
      getOperation().emitError("group-size must be positive, not ")
          << static_cast<int64_t>(groupSize);
      return signalPassFailure();
    }
    SmallVector<onnx::MatMulOp> products;
    getOperation().walk([&](onnx::MatMulOp op) {
      if (quant::isWeightProduct(op) &&
          !llvm::is_contained(exclude, quant::nodeName(op).str()))
        products.push_back(op);
    });
    bool failed = false;
    for (onnx::MatMulOp op : products) {
      auto type = cast<RankedTensorType>(op.getB().getType());
      int64_t k = type.getDimSize(0), n = type.getDimSize(1);
      if (k % groupSize) {
        op.emitError("group size ")
            << static_cast<int64_t>(groupSize) << " does not divide the " << k
            << " input channels of this product (choose a divisor of " << k
            << ", or exclude the node)";
        failed = true;
        continue;
      }
      std::optional<std::vector<float>> weight =
          onnx::getConstantFloats(op.getB());
      if (!weight)
        continue;
      quant::replaceWeight(op, quant::quantizeGroups(*weight, k, n, groupSize));
    }
    if (failed)
      return signalPassFailure();
    // (An earlier pass may have quantized them all: AWQ with GPTQ's
    // rounding.)
    if (products.empty() &&
        !getOperation()->hasAttr(kQuantizedWeightsAttrName))
      getOperation().emitWarning(
          "nothing to quantize: no matrix product has a constant f32 weight "
          "(the function stays in floating point)");
  }
};

} // namespace
