//===- Resize.cpp - Resize to linalg --------------------------------------===//
//
// One linalg.generic over the output. For every resized axis the
// body maps the output index back to a coordinate in the input, with the
// operator's coordinate_transformation_mode, in float64 as the ONNX
// reference does; then takes 1 (nearest), 2 (linear) or 4 (cubic) taps
// with their weights, indices clamped to the input (edge padding), and
// sums the products over every combination of the axes' taps. Scales,
// sizes and the roi may be constants or run-time inputs (read once, before
// the loop). Axes that keep their size read straight through: with
// run-time scales such an axis is taken to have scale 1. Lengths may be
// symbolic: an axis whose length is symbolic counts as resized, its
// lengths and scale are read at run time, and the output's length comes
// from the sizes input or floor(input * scale).
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
  /// Static lengths, or ShapedType::kDynamic.
  int64_t inLength = 1, outLength = 1;
  int64_t roiPosition = -1;
  /// The output length is the sizes input's (else floor(in * scale)).
  bool lengthFromSizes = false;
  bool isSymbolic() const {
    return ShapedType::isDynamic(inLength) || ShapedType::isDynamic(outLength);
  }
};

/// Where a Resize's scales come from.
enum class ScaleSource { Shapes, ScalesInput, SizesInput };

/// Every axis's plan, or the reason Resize cannot be lowered.
FailureOr<SmallVector<AxisPlan>> planAxes(onnx::ResizeOp op,
                                          std::string &reason,
                                          ScaleSource *source = nullptr) {
  auto inType = dyn_cast<RankedTensorType>(op.getX().getType());
  auto outType = dyn_cast<RankedTensorType>(op.getY().getType());
  if (!inType || !outType || inType.getRank() != outType.getRank()) {
    reason = "its input and output must be ranked alike";
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
  if (from == ScaleSource::SizesInput) {
    for (int64_t axis : axes)
      plans[axis].lengthFromSizes = true;
    if (op.getKeepAspectRatioPolicy() == "stretch")
      from = ScaleSource::Shapes; // out / in, from the output's length
    else if (llvm::any_of(plans, [](const AxisPlan &p) { return p.isSymbolic(); })) {
      reason = "keep_aspect_ratio_policy over a symbolic dimension is not "
               "lowered yet";
      return failure();
    }
  }
  // Static lengths give the scale now; symbolic ones at run time.
  for (int64_t i = 0; i < rank; ++i)
    if (from == ScaleSource::Shapes && !plans[i].scale &&
        !plans[i].isSymbolic())
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
                   (plan.isSymbolic() && plan.inputPosition >= 0) ||
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
  /// `length` is the axis's (f64).
  Value clampedIndex(Value x, Value length) {
    Value i = b.create<arith::FPToSIOp>(loc, b.getI64Type(), x);
    Value zero = b.create<arith::ConstantIntOp>(loc, 0, 64);
    Value last = b.create<arith::FPToSIOp>(loc, b.getI64Type(),
                                           sub(length, f64(1.0)));
    i = b.create<arith::MaxSIOp>(loc, b.create<arith::MinSIOp>(loc, i, last),
                                 zero);
    return b.create<arith::IndexCastOp>(loc, b.getIndexType(), i);
  }
  Value inRange(Value x, Value length) {
    Value low = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGE, x,
                                        f64(0.0));
    Value high = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLE, x,
                                         sub(length, f64(1.0)));
    return b.create<arith::AndIOp>(loc, low, high);
  }
};

/// An axis's scale, roi and lengths as values of the loop body (f64; the
/// output's length also as an index, for the result's size).
struct AxisValues {
  Value scale, roiStart, roiEnd;
  Value inLength, outLength, outSize;
};

/// Whether the output length is 1: known at compile time, or a run-time i1.
Value outputIsOne(Body &f, const AxisPlan &plan, const AxisValues &values) {
  if (!ShapedType::isDynamic(plan.outLength))
    return f.b.create<arith::ConstantIntOp>(f.loc, plan.outLength == 1, 1);
  return f.b.create<arith::CmpFOp>(f.loc, arith::CmpFPredicate::OEQ,
                                   values.outLength, f.f64(1.0));
}

/// The input coordinate of output index `x` along an axis.
Value inputCoordinate(Body &f, Value x, const AxisPlan &plan,
                      const AxisValues &values, StringRef mode) {
  Value scale = values.scale;
  Value inLength = values.inLength, outLength = values.outLength;
  if (mode == "asymmetric")
    return f.div(x, scale);
  // The reference measures the resized length as scale * in, which with
  // scales given is not the (rounded down) output length.
  Value resizedLength = f.mul(scale, inLength);
  Value last = f.sub(inLength, f.f64(1.0));
  // Modes whose single output position is a special case; where the
  // output's length is symbolic, chosen at run time.
  auto unlessOutputIsOne = [&](Value single, function_ref<Value()> general) {
    if (!ShapedType::isDynamic(plan.outLength))
      return plan.outLength == 1 ? single : general();
    return f.select(outputIsOne(f, plan, values), single, general());
  };
  if (mode == "align_corners")
    return unlessOutputIsOne(f.f64(0.0), [&] {
      return f.div(f.mul(x, last), f.sub(resizedLength, f.f64(1.0)));
    });
  Value halfPixel = f.sub(f.div(f.add(x, f.f64(0.5)), scale), f.f64(0.5));
  if (mode == "pytorch_half_pixel")
    return unlessOutputIsOne(f.f64(0.0), [&] { return halfPixel; });
  if (mode == "tf_half_pixel_for_nn")
    return f.div(f.add(x, f.f64(0.5)), scale);
  if (mode == "tf_crop_and_resize") {
    return unlessOutputIsOne(
        f.mul(f.mul(f.f64(0.5), f.add(values.roiStart, values.roiEnd)), last),
        [&] {
          Value span = f.mul(f.sub(values.roiEnd, values.roiStart), last);
          return f.add(f.mul(values.roiStart, last),
                       f.div(f.mul(x, span), f.sub(resizedLength, f.f64(1.0))));
        });
  }
  if (mode == "half_pixel_symmetric") {
    // offset = center * (1 - out / (scale * in)), center = in / 2
    Value adjustment = f.div(outLength, resizedLength);
    Value offset = f.mul(f.div(inLength, f.f64(2.0)),
                         f.sub(f.f64(1.0), adjustment));
    return f.add(offset, halfPixel);
  }
  return halfPixel; // half_pixel
}

/// One tap along an axis: where to read and with what weight.
struct Tap {
  Value index;
  Value weight; // f64, null for weight 1
};

SmallVector<Tap> axisTaps(Body &f, Value coordinate, Value inLength,
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
    return {{f.clampedIndex(rounded, inLength), Value()}};
  }
  Value base = f.floor(coordinate);
  Value ratio = f.sub(coordinate, base);
  if (mode == "linear")
    return {{f.clampedIndex(base, inLength), f.sub(f.f64(1.0), ratio)},
            {f.clampedIndex(f.add(base, f.f64(1.0)), inLength), ratio}};

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
      weight = f.select(f.inRange(position, inLength), weight, f.f64(0.0));
      total = f.add(total, weight);
    }
    for (Value &weight : weights)
      weight = f.div(weight, total);
  }
  SmallVector<Tap> taps;
  for (auto [position, weight] : llvm::zip(positions, weights))
    taps.push_back({f.clampedIndex(position, inLength), weight});
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
  auto asF64 = [&](Value index) -> Value {
    return b.create<arith::SIToFPOp>(
        loc, b.getF64Type(),
        b.create<arith::IndexCastOp>(loc, b.getI64Type(), index));
  };
  for (auto [axis, pair] : llvm::enumerate(llvm::zip(plans, values))) {
    auto &[plan, value] = pair;
    // The lengths: static, the input's dimension, or the sizes input's.
    Value inSize =
        ShapedType::isDynamic(plan.inLength)
            ? b.create<tensor::DimOp>(loc, op.getX(), axis).getResult()
            : b.create<arith::ConstantIndexOp>(loc, plan.inLength).getResult();
    value.inLength = ShapedType::isDynamic(plan.inLength)
                         ? asF64(inSize)
                         : f.f64(double(plan.inLength));
    if (!ShapedType::isDynamic(plan.outLength)) {
      value.outSize = b.create<arith::ConstantIndexOp>(loc, plan.outLength);
      value.outLength = f.f64(double(plan.outLength));
    } else if (plan.inputPosition < 0 ||
               (plan.scale && *plan.scale == 1.0 && !plan.lengthFromSizes)) {
      // floor(in * 1) is in: integer arithmetic, which a target computing
      // sizes on its host (CUDA) can follow.
      value.outSize = inSize;
      value.outLength = value.inLength;
    } else if (plan.lengthFromSizes) {
      Value size = b.create<tensor::ExtractOp>(
          loc, op.getSizes(),
          ValueRange{b.create<arith::ConstantIndexOp>(loc, plan.inputPosition)});
      // A negative size (invalid) makes an empty axis, not a huge one.
      size = b.create<arith::MaxSIOp>(
          loc, size,
          b.create<arith::ConstantIntOp>(loc, 0, size.getType()));
      value.outSize = b.create<arith::IndexCastOp>(loc, b.getIndexType(), size);
      value.outLength = asF64(value.outSize);
    }

    if (plan.scale)
      value.scale = f.f64(*plan.scale);
    else if (plan.inputPosition < 0)
      value.scale = f.f64(1.0);
    else if (source == ScaleSource::ScalesInput)
      value.scale = readF64(b, loc, op.getScales(), plan.inputPosition);
    else if (source == ScaleSource::Shapes)
      value.scale = f.div(value.outLength, value.inLength); // symbolic
    else
      value.scale = shared;
    if (!value.outSize) {
      // Scaled: floor(in * scale), as the ONNX rule says.
      value.outLength = f.floor(f.mul(value.inLength, value.scale));
      value.outSize = b.create<arith::IndexCastOp>(
          loc, b.getIndexType(),
          b.create<arith::FPToSIOp>(loc, b.getI64Type(), value.outLength));
    }
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
    SmallVector<Value> dynamicSizes;
    for (int64_t axis = 0; axis < type.getRank(); ++axis)
      if (type.isDynamicDim(axis))
        dynamicSizes.push_back(values[axis].outSize);
    Value result = generateTensor(
        rewriter, loc, type, dynamicSizes, [&](OpBuilder &b, Location l) -> Value {
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
                  l, f.inRange(coordinate, values[axis].inLength),
                  b.create<arith::ConstantIntOp>(l, 1, 1));
              outside = outside ? b.create<arith::OrIOp>(l, outside, out)
                                      .getResult()
                                : out;
            }
            taps[axis] = axisTaps(f, coordinate, values[axis].inLength, op);
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
