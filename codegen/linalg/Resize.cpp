//===- Resize.cpp - Resize to linalg --------------------------------------===//
//
// One linalg.generic over the (static) output. For every resized axis the
// body maps the output index back to a coordinate in the input, with the
// operator's coordinate_transformation_mode, in float64 as the ONNX
// reference does; then takes 1 (nearest), 2 (linear) or 4 (cubic) taps
// with their weights, indices clamped to the input (edge padding), and
// sums the products over every combination of the axes' taps. Scales,
// sizes and the roi may be constants or run-time inputs (read once, before
// the loop). Axes that keep their size read straight through: with
// run-time scales such an axis is taken to have scale 1.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// What one output axis does, fixed at compile time.
struct AxisPlan {
  bool resized = false;
  /// The scale when known at compile time.
  std::optional<double> scale;
  /// Else the position of the axis in the scales or sizes input.
  int64_t inputPosition = -1;
  int64_t inLength = 1, outLength = 1;
  int64_t roiPosition = -1;
};

/// Where a Resize's scales come from.
enum class ScaleSource { Shapes, ScalesInput, SizesInput };

/// Every axis's plan, or the reason Resize cannot be lowered.
FailureOr<SmallVector<AxisPlan>> planAxes(onnx::ResizeOp op,
                                          std::string &reason,
                                          ScaleSource *source = nullptr) {
  auto inType = dyn_cast<RankedTensorType>(op.getX().getType());
  auto outType = dyn_cast<RankedTensorType>(op.getY().getType());
  if (!inType || !outType || !inType.hasStaticShape() ||
      !outType.hasStaticShape() || inType.getRank() != outType.getRank()) {
    reason = "its input and output shapes must be static for now";
    return failure();
  }
  int64_t rank = inType.getRank();
  SmallVector<int64_t> axes;
  if (std::optional<ArrayAttr> given = op.getAxes()) {
    for (Attribute axis : *given) {
      auto value = dyn_cast<IntegerAttr>(axis);
      int64_t a = value ? value.getInt() : rank;
      a = a < 0 ? a + rank : a;
      if (a < 0 || a >= rank || llvm::is_contained(axes, a)) {
        reason = "its axes are out of range or repeated";
        return failure();
      }
      axes.push_back(a);
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  SmallVector<AxisPlan> plans(rank);
  for (int64_t i = 0; i < rank; ++i) {
    plans[i].inLength = inType.getDimSize(i);
    plans[i].outLength = outType.getDimSize(i);
  }

  // Scales win over sizes; an empty scales tensor means "use sizes".
  auto vectorLength = [](Value value) -> int64_t {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    return type && type.getRank() == 1 ? type.getDimSize(0)
                                       : ShapedType::kDynamic;
  };
  ScaleSource from = ScaleSource::Shapes;
  if (op.getScales() && vectorLength(op.getScales()) != 0)
    from = ScaleSource::ScalesInput;
  else if (op.getSizes())
    from = ScaleSource::SizesInput;
  else {
    reason = "it needs scales or sizes";
    return failure();
  }
  Value given = from == ScaleSource::ScalesInput ? op.getScales() : op.getSizes();
  if (vectorLength(given) != (int64_t)axes.size()) {
    reason = "its scales or sizes do not match its axes";
    return failure();
  }
  if (from == ScaleSource::ScalesInput)
    if (DenseElementsAttr scales = onnx::getConstantElements(given)) {
      for (auto [axis, scale] : llvm::zip(axes, scales.getValues<APFloat>()))
        plans[axis].scale = scale.convertToDouble();
      from = ScaleSource::Shapes;
    }
  if (from == ScaleSource::SizesInput &&
      op.getKeepAspectRatioPolicy() == "stretch")
    from = ScaleSource::Shapes; // out / in, from the static output type
  for (int64_t i = 0; i < rank; ++i)
    if (from == ScaleSource::Shapes && !plans[i].scale)
      plans[i].scale = double(plans[i].outLength) / double(plans[i].inLength);
  for (auto [position, axis] : llvm::enumerate(axes))
    plans[axis].inputPosition = position;
  if (source)
    *source = from;

  StringRef mode = op.getCoordinateTransformationMode();
  if (mode == "tf_crop_and_resize") {
    if (!op.getRoi() || vectorLength(op.getRoi()) != 2 * (int64_t)axes.size()) {
      reason = "tf_crop_and_resize needs an roi for its axes";
      return failure();
    }
    for (auto [position, axis] : llvm::enumerate(axes))
      plans[axis].roiPosition = position;
  }
  for (AxisPlan &plan : plans) {
    plan.resized = plan.inLength != plan.outLength ||
                   (plan.scale && *plan.scale != 1.0) ||
                   plan.roiPosition >= 0;
    // An axis not in `axes` keeps its size: there is no scale (or roi) for
    // it to resize with.
    if (plan.resized && plan.inputPosition < 0) {
      reason = "it changes the size of an axis not in its axes";
      return failure();
    }
  }
  return plans;
}

/// Builds the body's float64 arithmetic.
struct Body {
  OpBuilder &b;
  Location loc;

  Value f64(double value) {
    return b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(value));
  }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }
  Value floor(Value x) { return b.create<math::FloorOp>(loc, x); }
  Value ceil(Value x) { return b.create<math::CeilOp>(loc, x); }
  Value less(Value x, Value y) {
    return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return b.create<arith::SelectOp>(loc, c, x, y);
  }
  /// An index into [0, length), clamped: the reference pads with edges.
  Value clampedIndex(Value x, int64_t length) {
    Value i = b.create<arith::FPToSIOp>(loc, b.getI64Type(), x);
    Value zero = b.create<arith::ConstantIntOp>(loc, 0, 64);
    Value last = b.create<arith::ConstantIntOp>(loc, length - 1, 64);
    i = b.create<arith::MaxSIOp>(loc, b.create<arith::MinSIOp>(loc, i, last),
                                 zero);
    return b.create<arith::IndexCastOp>(loc, b.getIndexType(), i);
  }
  Value inRange(Value x, int64_t length) {
    Value low = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGE, x,
                                        f64(0.0));
    Value high = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLE, x,
                                         f64(double(length - 1)));
    return b.create<arith::AndIOp>(loc, low, high);
  }
};

/// An axis's scale and roi as values of the loop body.
struct AxisValues {
  Value scale, roiStart, roiEnd;
};

/// The input coordinate of output index `x` along an axis.
Value inputCoordinate(Body &f, Value x, const AxisPlan &plan,
                      const AxisValues &values, StringRef mode) {
  Value scale = values.scale;
  double inLength = double(plan.inLength), outLength = double(plan.outLength);
  if (mode == "asymmetric")
    return f.div(x, scale);
  // The reference measures the resized length as scale * in, which with
  // scales given is not the (rounded down) output length.
  Value resizedLength = f.mul(scale, f.f64(inLength));
  if (mode == "align_corners")
    return plan.outLength == 1
               ? f.f64(0.0)
               : f.div(f.mul(x, f.f64(inLength - 1)),
                       f.sub(resizedLength, f.f64(1.0)));
  if (mode == "pytorch_half_pixel" && plan.outLength == 1)
    return f.f64(0.0);
  if (mode == "tf_half_pixel_for_nn")
    return f.div(f.add(x, f.f64(0.5)), scale);
  if (mode == "tf_crop_and_resize") {
    Value last = f.f64(inLength - 1);
    if (plan.outLength == 1)
      return f.mul(f.mul(f.f64(0.5), f.add(values.roiStart, values.roiEnd)),
                   last);
    Value span = f.mul(f.sub(values.roiEnd, values.roiStart), last);
    return f.add(f.mul(values.roiStart, last),
                 f.div(f.mul(x, span), f.sub(resizedLength, f.f64(1.0))));
  }
  Value halfPixel = f.sub(f.div(f.add(x, f.f64(0.5)), scale), f.f64(0.5));
  if (mode == "half_pixel_symmetric") {
    // offset = center * (1 - out / (scale * in)), center = in / 2
    Value adjustment = f.div(f.f64(outLength), resizedLength);
    Value offset =
        f.mul(f.f64(inLength / 2), f.sub(f.f64(1.0), adjustment));
    return f.add(offset, halfPixel);
  }
  return halfPixel; // half_pixel, pytorch_half_pixel
}

/// One tap along an axis: where to read and with what weight.
struct Tap {
  Value index;
  Value weight; // f64, null for weight 1
};

SmallVector<Tap> axisTaps(Body &f, Value coordinate, const AxisPlan &plan,
                          onnx::ResizeOp op) {
  StringRef mode = op.getMode();
  if (mode == "nearest") {
    StringRef rounding = op.getNearestMode();
    Value rounded;
    if (rounding == "floor")
      rounded = f.floor(coordinate);
    else if (rounding == "ceil")
      rounded = f.ceil(coordinate);
    else if (rounding == "round_prefer_ceil")
      rounded = f.floor(f.add(coordinate, f.f64(0.5)));
    else // round_prefer_floor
      rounded = f.ceil(f.sub(coordinate, f.f64(0.5)));
    return {{f.clampedIndex(rounded, plan.inLength), Value()}};
  }
  Value base = f.floor(coordinate);
  Value ratio = f.sub(coordinate, base);
  if (mode == "linear")
    return {{f.clampedIndex(base, plan.inLength), f.sub(f.f64(1.0), ratio)},
            {f.clampedIndex(f.add(base, f.f64(1.0)), plan.inLength), ratio}};

  // cubic: Keys' kernel with a = cubic_coeff_a over base-1 .. base+2.
  double a = op.getCubicCoeffA().convertToDouble();
  auto nearKernel = [&](Value t) { // |t| <= 1
    return f.add(f.mul(f.mul(f.sub(f.mul(f.f64(a + 2), t), f.f64(a + 3)), t),
                       t),
                 f.f64(1.0));
  };
  auto farKernel = [&](Value t) { // 1 < |t| < 2
    Value inner = f.add(f.mul(f.sub(f.mul(f.f64(a), t), f.f64(5 * a)), t),
                        f.f64(8 * a));
    return f.sub(f.mul(inner, t), f.f64(4 * a));
  };
  Value one = f.f64(1.0);
  SmallVector<Value> weights = {farKernel(f.add(ratio, one)),
                                nearKernel(ratio),
                                nearKernel(f.sub(one, ratio)),
                                farKernel(f.sub(f.f64(2.0), ratio))};
  SmallVector<Value> positions;
  for (int k = -1; k <= 2; ++k)
    positions.push_back(f.add(base, f.f64(k)));
  if (op.getExcludeOutside()) {
    // Taps outside the input get no weight; the rest are renormalized.
    Value total = f.f64(0.0);
    for (auto [position, weight] : llvm::zip(positions, weights)) {
      weight = f.select(f.inRange(position, plan.inLength), weight, f.f64(0.0));
      total = f.add(total, weight);
    }
    for (Value &weight : weights)
      weight = f.div(weight, total);
  }
  SmallVector<Tap> taps;
  for (auto [position, weight] : llvm::zip(positions, weights))
    taps.push_back({f.clampedIndex(position, plan.inLength), weight});
  return taps;
}

/// Element `position` of the 1-D tensor `vector`, as f64.
Value readF64(OpBuilder &b, Location loc, Value vector, int64_t position) {
  Value at = b.create<arith::ConstantIndexOp>(loc, position);
  Value value = b.create<tensor::ExtractOp>(loc, vector, at);
  Type type = value.getType();
  if (type.isF64())
    return value;
  if (isa<FloatType>(type))
    return b.create<arith::ExtFOp>(loc, b.getF64Type(), value);
  return b.create<arith::SIToFPOp>(loc, b.getF64Type(), value);
}

/// Each axis's scale (and roi), computed once before the loop: constants,
/// or read from the scales / sizes / roi inputs.
SmallVector<AxisValues> axisValues(OpBuilder &b, Location loc,
                                   onnx::ResizeOp op,
                                   ArrayRef<AxisPlan> plans,
                                   ScaleSource source) {
  Body f{b, loc};
  SmallVector<AxisValues> values(plans.size());
  Value shared; // keep_aspect_ratio_policy's one scale for every axis
  if (source == ScaleSource::SizesInput) {
    bool notLarger = op.getKeepAspectRatioPolicy() == "not_larger";
    for (const AxisPlan &plan : plans) {
      if (plan.inputPosition < 0)
        continue;
      Value ratio = f.div(readF64(b, loc, op.getSizes(), plan.inputPosition),
                          f.f64(double(plan.inLength)));
      shared = !shared      ? ratio
               : notLarger ? b.create<arith::MinimumFOp>(loc, shared, ratio)
                                 .getResult()
                           : b.create<arith::MaximumFOp>(loc, shared, ratio)
                                 .getResult();
    }
  }
  for (auto [plan, value] : llvm::zip(plans, values)) {
    if (plan.scale)
      value.scale = f.f64(*plan.scale);
    else if (plan.inputPosition < 0)
      value.scale = f.f64(1.0);
    else if (source == ScaleSource::ScalesInput)
      value.scale = readF64(b, loc, op.getScales(), plan.inputPosition);
    else
      value.scale = shared;
    if (plan.roiPosition >= 0) {
      int64_t count = llvm::count_if(
          plans, [](const AxisPlan &p) { return p.roiPosition >= 0; });
      value.roiStart = readF64(b, loc, op.getRoi(), plan.roiPosition);
      value.roiEnd = readF64(b, loc, op.getRoi(), plan.roiPosition + count);
    }
  }
  return values;
}

struct LowerResize : OpRewritePattern<onnx::ResizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::ResizeOp op,
                                PatternRewriter &rewriter) const override {
    if (checkResizeLowering(op))
      return failure();
    std::string reason;
    ScaleSource source;
    SmallVector<AxisPlan> plans = *planAxes(op, reason, &source);
    Location loc = op.getLoc();
    SmallVector<AxisValues> values = axisValues(rewriter, loc, op, plans,
                                                source);
    Value input = op.getX();
    auto type = cast<RankedTensorType>(op.getY().getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    StringRef mode = op.getCoordinateTransformationMode();
    double extrapolation = op.getExtrapolationValue().convertToDouble();
    Value result = generateTensor(
        rewriter, loc, type, {}, [&](OpBuilder &b, Location l) -> Value {
          Body f{b, l};
          SmallVector<SmallVector<Tap>> taps(rank);
          Value outside;
          for (int64_t axis = 0; axis < rank; ++axis) {
            Value index = b.create<linalg::IndexOp>(l, axis);
            if (!plans[axis].resized) {
              taps[axis] = {{index, Value()}};
              continue;
            }
            Value x = b.create<arith::SIToFPOp>(
                l, b.getF64Type(),
                b.create<arith::IndexCastOp>(l, b.getI64Type(), index));
            Value coordinate =
                inputCoordinate(f, x, plans[axis], values[axis], mode);
            if (mode == "tf_crop_and_resize") {
              Value out = b.create<arith::XOrIOp>(
                  l, f.inRange(coordinate, plans[axis].inLength),
                  b.create<arith::ConstantIntOp>(l, 1, 1));
              outside = outside ? b.create<arith::OrIOp>(l, outside, out)
                                      .getResult()
                                : out;
            }
            taps[axis] = axisTaps(f, coordinate, plans[axis], op);
          }
          // Sum over every combination of the axes' taps.
          bool isFloat = isa<FloatType>(element);
          Value sum;
          SmallVector<size_t> choice(rank, 0);
          while (true) {
            SmallVector<Value> at;
            Value weight;
            for (int64_t axis = 0; axis < rank; ++axis) {
              const Tap &tap = taps[axis][choice[axis]];
              at.push_back(tap.index);
              if (tap.weight)
                weight = weight ? f.mul(weight, tap.weight) : tap.weight;
            }
            Value value = b.create<tensor::ExtractOp>(l, input, at);
            if (!isFloat) {
              sum = value; // nearest: one tap
              break;
            }
            Value wide = element.isF64()
                             ? value
                             : b.create<arith::ExtFOp>(l, b.getF64Type(), value)
                                   .getResult();
            Value term = weight ? f.mul(wide, weight) : wide;
            sum = sum ? f.add(sum, term) : term;
            int64_t axis = rank - 1;
            for (; axis >= 0; --axis) {
              if (++choice[axis] < taps[axis].size())
                break;
              choice[axis] = 0;
            }
            if (axis < 0)
              break;
          }
          if (isFloat && outside)
            sum = f.select(outside, f.f64(extrapolation), sum);
          if (isFloat && !element.isF64())
            sum = b.create<arith::TruncFOp>(l, element, sum);
          return sum;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkResizeLowering(Operation *op) {
  auto resize = dyn_cast<onnx::ResizeOp>(op);
  if (!resize)
    return std::string();
  std::string reason;
  FailureOr<SmallVector<AxisPlan>> plans = planAxes(resize, reason);
  if (failed(plans))
    return reason;
  if (resize.getAntialias() != 0)
    return std::string("antialias is not lowered yet");
  StringRef mode = resize.getMode();
  Type element = cast<RankedTensorType>(resize.getX().getType()).getElementType();
  if (mode != "nearest" && !isa<FloatType>(element))
    return std::string("linear and cubic modes need a floating-point input");
  if (!element.isSignlessIntOrFloat())
    return std::string("its element type is not lowered yet");
  StringRef transform = resize.getCoordinateTransformationMode();
  if (!llvm::is_contained({"half_pixel", "half_pixel_symmetric",
                           "pytorch_half_pixel", "align_corners", "asymmetric",
                           "tf_half_pixel_for_nn", "tf_crop_and_resize"},
                          transform))
    return "coordinate_transformation_mode '" + transform.str() +
           "' is not lowered";
  int64_t taps = 1;
  for (const AxisPlan &plan : *plans)
    if (plan.resized)
      taps *= mode == "nearest" ? 1 : mode == "linear" ? 2 : 4;
  if (taps > 256)
    return std::string("it resizes too many axes at once");
  return std::nullopt;
}

void mlir::kiln::populateResizeLowering(RewritePatternSet &patterns) {
  patterns.add<LowerResize>(patterns.getContext());
}
