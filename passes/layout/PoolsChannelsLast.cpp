//===- PoolsChannelsLast.cpp - kiln-layout-pools-channels-last ------------===//
//
// A CNN's pooling sits between convolutions that run channels-last; in
// NCHW it would cost a Transpose each side. kiln.max_pool2d pools NHWC
// data directly, and the Transposes it takes and gives cancel against the
// convolutions' (kiln-layout-propagate-transposes). Over a symbolic
// height or width the padding must not depend on it (no ceil_mode, SAME
// only with stride 1).
//
//===----------------------------------------------------------------------===//

#include "passes/layout/Passes.h"
#include "dialects/onnx/OnnxTransposes.h"
#include "passes/layout/Windows.h"

#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_LAYOUTPOOLSCHANNELSLASTPASS
#include "passes/layout/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct MaxPoolChannelsLast : OpRewritePattern<onnx::MaxPoolOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onnx::MaxPoolOp op,
                                PatternRewriter &rewriter) const override {
    auto inType = dyn_cast<RankedTensorType>(op.getX().getType());
    auto outType = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!inType || !outType || inType.getRank() != 4 ||
        outType.getRank() != 4 || inType.isDynamicDim(1) ||
        !inType.getElementType().isF32() || op.getIndices() ||
        op.getKernelShape().size() != 2)
      return failure();
    SmallVector<int64_t> kernel = onnx::intsOr(op.getKernelShape(), 2, 1);
    SmallVector<int64_t> strides = onnx::intsOr(op.getStrides(), 2, 1);
    SmallVector<int64_t> dilations = onnx::intsOr(op.getDilations(), 2, 1);
    SmallVector<int64_t> pads = onnx::intsOr(op.getPads(), 4, 0);
    StringRef autoPad = op.getAutoPad();
    for (int axis = 0; axis < 2; ++axis) {
      int64_t in = inType.getDimSize(axis + 2);
      if (ShapedType::isDynamic(in) ||
          ShapedType::isDynamic(outType.getDimSize(axis + 2))) {
        if (op.getCeilMode() != 0)
          return failure();
        if (autoPad == "VALID") {
          pads[axis] = pads[axis + 2] = 0;
        } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
          if (strides[axis] != 1)
            return failure();
          int64_t total = (kernel[axis] - 1) * dilations[axis];
          pads[axis] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
          pads[axis + 2] = total - pads[axis];
        }
        continue;
      }
      int64_t span = (outType.getDimSize(axis + 2) - 1) * strides[axis] +
                     (kernel[axis] - 1) * dilations[axis] + 1;
      if (autoPad == "VALID") {
        pads[axis] = pads[axis + 2] = 0;
      } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        int64_t total = std::max<int64_t>(0, span - in);
        pads[axis] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
        pads[axis + 2] = total - pads[axis];
      }
      // ceil_mode's last windows run past the padding; more of it (of
      // negative infinity) gives them the same maximum.
      pads[axis + 2] =
          std::max<int64_t>(pads[axis + 2], span - in - pads[axis]);
    }

    Location loc = op.getLoc();
    Value input = createTranspose(rewriter, loc, op.getX(), kToChannelsLast);
    ArrayRef<int64_t> out = outType.getShape();
    bool padded = llvm::any_of(pads, [](int64_t p) { return p != 0; });
    Value init = emptyWindowResult(
        rewriter, loc, input, {out[0], out[2], out[3], out[1]}, kernel,
        strides, dilations, padded ? ArrayRef(pads) : ArrayRef<int64_t>{});
    Value result =
        rewriter
            .create<MaxPool2DOp>(
                loc, TypeRange{init.getType()}, input, init,
                rewriter.getDenseI64ArrayAttr(kernel),
                rewriter.getDenseI64ArrayAttr(strides),
                rewriter.getDenseI64ArrayAttr(dilations),
                rewriter.getDenseI64ArrayAttr(padded ? ArrayRef(pads)
                                                     : ArrayRef<int64_t>{}))
            .getResult()[0];
    rewriter.replaceOp(op, {createTranspose(rewriter, loc, result,
                                            kToChannelsFirst),
                            Value()});
    return success();
  }
};

struct LayoutPoolsChannelsLastPass
    : kiln::impl::LayoutPoolsChannelsLastPassBase<
          LayoutPoolsChannelsLastPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MaxPoolChannelsLast>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
