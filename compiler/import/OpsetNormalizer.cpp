//===- OpsetNormalizer.cpp - older operator versions in the newest form ---===//

#include "compiler/import/OpsetNormalizer.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::kiln::onnx;

namespace {

/// Takes an attribute out of the form, or null if it is absent.
Attribute takeAttribute(NodeForm &form, StringRef name) {
  Attribute value = form.attributes.get(name);
  if (value)
    form.attributes.erase(name);
  return value;
}

/// Puts `value` at input position `index`, padding with absent inputs.
void setInput(NodeForm &form, unsigned index, Value value) {
  if (form.inputs.size() <= index)
    form.inputs.resize(index + 1);
  form.inputs[index] = value;
}

Value int64Vector(OpBuilder &builder, Location loc, ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({(int64_t)values.size()},
                                    builder.getIntegerType(64));
  return createConstant(builder, loc, DenseElementsAttr::get(type, values));
}

SmallVector<int64_t> intsOf(Attribute attr) {
  SmallVector<int64_t> values;
  for (Attribute element : cast<ArrayAttr>(attr))
    values.push_back(cast<IntegerAttr>(element).getInt());
  return values;
}

/// Moves a list-of-ints attribute into an int64 vector input.
void moveIntsToInput(NodeForm &form, StringRef name, unsigned index,
                     OpBuilder &builder, Location loc) {
  if (Attribute attr = takeAttribute(form, name))
    setInput(form, index, int64Vector(builder, loc, intsOf(attr)));
}

/// A scalar tensor of `elementType` holding `value`, or null if the type
/// cannot hold a number.
Value scalarOf(OpBuilder &builder, Location loc, Type elementType,
               double value) {
  auto type = RankedTensorType::get({}, elementType);
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    APFloat number(value);
    bool lost;
    number.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                   &lost);
    return createConstant(builder, loc, DenseElementsAttr::get(type, number));
  }
  if (auto intType = dyn_cast<IntegerType>(elementType))
    return createConstant(
        builder, loc,
        DenseElementsAttr::get(type, APInt(intType.getWidth(), (int64_t)value,
                                           /*isSigned=*/true)));
  return {};
}

double floatOf(Attribute attr) {
  return cast<FloatAttr>(attr).getValueAsDouble();
}

Type elementTypeOf(NodeForm &form) {
  return form.inputs.empty() || !form.inputs[0]
             ? Type()
             : getElementTypeOrSelf(form.inputs[0].getType());
}

bool isReduction(StringRef opType) {
  return llvm::is_contained(
      {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
       "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
       "ReduceSumSquare"},
      opType);
}

} // namespace

LogicalResult mlir::kiln::onnx::normalizeToNewestOpset(NodeForm &form,
                                                       int version,
                                                       OpBuilder &builder,
                                                       Location loc,
                                                       std::string &error) {
  StringRef op = form.opType;

  // Axes became an input: Squeeze, Unsqueeze and ReduceSum at 13, the other
  // reductions at 18.
  if (((op == "Squeeze" || op == "Unsqueeze" || op == "ReduceSum") &&
       version < 13) ||
      (isReduction(op) && op != "ReduceSum" && version < 18)) {
    moveIntsToInput(form, "axes", 1, builder, loc);
    return success();
  }
  if (op == "Split" && version < 13) {
    moveIntsToInput(form, "split", 1, builder, loc);
    return success();
  }
  if (op == "Slice" && version < 10) {
    moveIntsToInput(form, "starts", 1, builder, loc);
    moveIntsToInput(form, "ends", 2, builder, loc);
    moveIntsToInput(form, "axes", 3, builder, loc);
    return success();
  }
  if (op == "TopK" && version < 10) {
    if (Attribute k = takeAttribute(form, "k"))
      setInput(form, 1, int64Vector(builder, loc, cast<IntegerAttr>(k).getInt()));
    return success();
  }
  if (op == "Pad" && version < 11) {
    moveIntsToInput(form, "pads", 1, builder, loc);
    if (Attribute value = takeAttribute(form, "value")) {
      Value scalar = scalarOf(builder, loc, elementTypeOf(form), floatOf(value));
      if (!scalar) {
        error = "cannot express the pad value for this element type";
        return failure();
      }
      setInput(form, 2, scalar);
    }
    return success();
  }
  if (op == "Clip" && version < 11) {
    for (auto [name, index] : {std::pair<StringRef, unsigned>{"min", 1},
                               std::pair<StringRef, unsigned>{"max", 2}})
      if (Attribute bound = takeAttribute(form, name)) {
        Value scalar =
            scalarOf(builder, loc, elementTypeOf(form), floatOf(bound));
        if (!scalar) {
          error = "cannot express Clip's " + name.str() +
                  " for this element type";
          return failure();
        }
        setInput(form, index, scalar);
      }
    return success();
  }
  if (op == "Dropout" && version < 12) {
    if (Attribute ratio = takeAttribute(form, "ratio"))
      setInput(form, 1, scalarOf(builder, loc, builder.getF32Type(),
                                 floatOf(ratio)));
    return success();
  }
  if (op == "BatchNormalization" && version < 9) {
    // `spatial` = 1 (the default) is what later versions always do.
    if (Attribute spatial = takeAttribute(form, "spatial"))
      if (cast<IntegerAttr>(spatial).getInt() != 1) {
        error = "BatchNormalization with spatial = 0 (per-element statistics) "
                "is not supported";
        return failure();
      }
    return success();
  }
  if (op == "DFT" && version < 20) {
    if (Attribute axis = takeAttribute(form, "axis")) {
      auto type = RankedTensorType::get({}, builder.getIntegerType(64));
      setInput(form, 2,
               createConstant(builder, loc,
                              DenseElementsAttr::get(
                                  type, cast<IntegerAttr>(axis).getInt())));
    }
    return success();
  }
  if (op == "Constant") {
    // One form for every constant: the `value` tensor.
    auto vector = [&](Type element, ArrayRef<Attribute> values) {
      return RankedTensorType::get({(int64_t)values.size()}, element);
    };
    Attribute value;
    if (Attribute f = takeAttribute(form, "value_float"))
      value = DenseElementsAttr::get(
          RankedTensorType::get({}, builder.getF32Type()), f);
    else if (Attribute i = takeAttribute(form, "value_int"))
      value = DenseElementsAttr::get(
          RankedTensorType::get({}, builder.getIntegerType(64)), i);
    else if (Attribute fs = takeAttribute(form, "value_floats"))
      value = DenseElementsAttr::get(
          vector(builder.getF32Type(), cast<ArrayAttr>(fs).getValue()),
          cast<ArrayAttr>(fs).getValue());
    else if (Attribute is = takeAttribute(form, "value_ints"))
      value = DenseElementsAttr::get(
          vector(builder.getIntegerType(64), cast<ArrayAttr>(is).getValue()),
          cast<ArrayAttr>(is).getValue());
    else if (form.attributes.get("value_string") ||
             form.attributes.get("value_strings")) {
      error = "holds strings, which Kiln does not support";
      return failure();
    }
    if (value)
      form.attributes.set("value", value);
    return success();
  }
  if (op == "Scatter") {
    form.opType = "ScatterElements";
    return success();
  }
  if (op == "Upsample" || (op == "Resize" && version < 11)) {
    // Upsample and Resize-10 scale with asymmetric coordinates and floor
    // rounding; later Resize takes (X, roi, scales, sizes).
    Value scales = form.inputs.size() > 1 ? form.inputs[1] : Value();
    if (Attribute scaleAttr = takeAttribute(form, "scales")) {
      SmallVector<float> values;
      for (Attribute element : cast<ArrayAttr>(scaleAttr))
        values.push_back(cast<FloatAttr>(element).getValueAsDouble());
      auto type = RankedTensorType::get({(int64_t)values.size()},
                                        builder.getF32Type());
      scales = createConstant(builder, loc,
                              DenseElementsAttr::get(type, ArrayRef(values)));
    }
    form.opType = "Resize";
    form.inputs.resize(1);
    setInput(form, 2, scales);
    Attribute mode = form.attributes.get("mode");
    bool nearest = !mode || cast<StringAttr>(mode).getValue() == "nearest";
    form.attributes.set("coordinate_transformation_mode",
                        builder.getStringAttr("asymmetric"));
    if (nearest)
      form.attributes.set("nearest_mode", builder.getStringAttr("floor"));
    return success();
  }
  if ((op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") &&
      version < 13) {
    // Before 13 these flattened the input to 2-D at `axis` (default 1) and
    // normalized over the second dimension.
    Attribute axis = takeAttribute(form, "axis");
    form.coerceTo2DAt = axis ? cast<IntegerAttr>(axis).getInt() : 1;
    form.attributes.set("axis", builder.getI64IntegerAttr(-1));
    return success();
  }
  return success();
}
