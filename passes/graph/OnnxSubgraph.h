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
#include "dialects/onnx/OnnxDataTypes.h"
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
    std::optional<int32_t> code = onnx::dataTypeOf(element);
    assert(code && "a type ONNX names");
    return create<onnx::CastOp>(element, value, "up", 1, *code);
  }

  /// The float element type of a TensorProto data type, or null.
  static Type floatTypeOf(MLIRContext *context, int64_t dataType) {
    Type type = onnx::convertElementType(context, dataType);
    return isa_and_nonnull<FloatType>(type) ? type : Type();
  }
  Type floatTypeOf(int64_t dataType) {
    return floatTypeOf(b.getContext(), dataType);
  }

  OpBuilder &b;
  Location loc;
};

} // namespace mlir::kiln

#endif // KILN_PASSES_GRAPH_ONNXSUBGRAPH_H
