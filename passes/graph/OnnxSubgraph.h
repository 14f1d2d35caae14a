//===- OnnxSubgraph.h - onnx subgraphs for shape inference ------*- C++ -*-===//
//
// The decompositions of ONNX's composite operators build plain onnx ops
// with unranked results of the right element type; the shape inference
// that follows gives them their shapes, as it does an imported graph.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_GRAPH_ONNXSUBGRAPH_H
#define KILN_PASSES_GRAPH_ONNXSUBGRAPH_H

#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

#include <optional>

namespace mlir::kiln {

class OnnxSubgraph {
public:
  OnnxSubgraph(OpBuilder &builder, Location loc) : b(builder), loc(loc) {}

  /// An `OpTy` whose one result is an unranked tensor of `element`.
  template <typename OpTy, typename... Args>
  Value create(Type element, Args &&...args) {
    return b
        .create<OpTy>(loc, UnrankedTensorType::get(element),
                      std::forward<Args>(args)...)
        ->getResult(0);
  }

  /// `value`, which replaces a result of type `declared`: a result built
  /// here takes that type (shape inference keeps refining it), so that the
  /// users of the replaced result see the type they expect.
  static Value declare(Value value, Type declared) {
    if (!isa<RankedTensorType>(value.getType()))
      value.setType(declared);
    return value;
  }

  /// A 1-D int64 constant.
  Value ints(ArrayRef<int64_t> values) {
    auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                      b.getI64Type());
    return onnx::createConstant(b, loc, DenseElementsAttr::get(type, values));
  }

  /// An int64 constant of `shape` holding `values`.
  Value ints(ArrayRef<int64_t> shape, ArrayRef<int64_t> values) {
    auto type = RankedTensorType::get(shape, b.getI64Type());
    return onnx::createConstant(b, loc, DenseElementsAttr::get(type, values));
  }

  /// A constant of `shape` (a scalar by default) filled with `value`, of a
  /// float element type.
  Value splat(Type element, double value, ArrayRef<int64_t> shape = {}) {
    auto type = RankedTensorType::get(shape, element);
    return onnx::createConstant(
        b, loc,
        DenseElementsAttr::get(type,
                               Attribute(FloatAttr::get(element, value))));
  }

  /// A bool constant of `shape` filled with `value`.
  Value splatBool(bool value, ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(shape, b.getI1Type());
    return onnx::createConstant(b, loc, DenseElementsAttr::get(type, value));
  }

  /// `value` as `element` (a Cast, unless it already is).
  Value castTo(Value value, Type element) {
    if (getElementTypeOrSelf(value.getType()) == element)
      return value;
    std::optional<int64_t> code = dataTypeOf(element);
    assert(code && "a float type ONNX names");
    return create<onnx::CastOp>(element, value, "up", 1, *code);
  }

  /// The TensorProto data type of a float element type.
  static std::optional<int64_t> dataTypeOf(Type element) {
    if (element.isF32())
      return 1;
    if (element.isF16())
      return 10;
    if (element.isF64())
      return 11;
    if (element.isBF16())
      return 16;
    return std::nullopt;
  }

  /// The float element type of a TensorProto data type, or null.
  Type floatTypeOf(int64_t dataType) {
    switch (dataType) {
    case 1:
      return b.getF32Type();
    case 10:
      return b.getF16Type();
    case 11:
      return b.getF64Type();
    case 16:
      return b.getBF16Type();
    default:
      return {};
    }
  }

  OpBuilder &b;
  Location loc;
};

} // namespace mlir::kiln

#endif // KILN_PASSES_GRAPH_ONNXSUBGRAPH_H
