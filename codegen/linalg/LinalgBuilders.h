//===- LinalgBuilders.h - small builders the op families share -*- C++ -*-===//

#ifndef KILN_CODEGEN_LINALG_LINALGBUILDERS_H
#define KILN_CODEGEN_LINALG_LINALGBUILDERS_H

#include "mlir/IR/Builders.h"

namespace mlir::kiln {

/// A float constant of `type`.
Value floatConstant(OpBuilder &b, Location loc, Type type, double value);

/// Whether `type`'s elements (or `type` itself) are unsigned integers:
/// ONNX's uint8 ... uint64, which arith reads as signless integers and the
/// lowering of each op computes on with the unsigned ops.
bool hasUnsignedElements(Type type);

/// `type` with unsigned integer elements made signless (same width).
Type withSignlessElements(Type type);

/// `tensor` viewed as `type`, which differs at most in the signedness of
/// its integer elements (a tensor.bitcast when it differs at all).
Value bitcastTensor(OpBuilder &b, Location loc, Value tensor, Type type);

/// `tensor` with its unsigned integer elements read as signless ones.
inline Value signlessTensor(OpBuilder &b, Location loc, Value tensor) {
  return bitcastTensor(b, loc, tensor, withSignlessElements(tensor.getType()));
}

/// The scalar float `value` as f32 (extended unless it is one).
Value floatToF32(OpBuilder &b, Location loc, Value value);

/// A tensor of `shape` filled with `value` (tensor.empty + linalg.fill).
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   TypedAttr value, ValueRange dynamicSizes = {});

/// The indexing map that reads an operand of `operandShape` broadcast the
/// ONNX (numpy) way into an iteration space of `resultShape`: aligned on the
/// trailing dimensions, a size-1 dimension read at index 0.
AffineMap broadcastMap(ArrayRef<int64_t> operandShape,
                       ArrayRef<int64_t> resultShape, MLIRContext *context);

/// `source` padded by static `low` / `high` amounts with `padding`.
Value padTensor(OpBuilder &b, Location loc, RankedTensorType resultType,
                Value source, ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                Value padding);

/// The sizes of `tensor`'s dynamic dimensions (tensor.dim), in order: what
/// a tensor.empty of its type takes.
SmallVector<Value> dynamicSizesOf(OpBuilder &b, Location loc, Value tensor);

/// f(x) applied to every element of a tensor.
Value mapElements(OpBuilder &b, Location loc, Value input,
                  function_ref<Value(OpBuilder &, Location, Value)> f);

/// `index` (any integer type) as an index into a dimension of `extent`
/// (index-typed) elements: negative values count from the end, as ONNX's
/// indices do, and the result is clamped into [0, extent), so an invalid
/// index cannot read or write outside the tensor.
Value dimensionIndex(OpBuilder &b, Location loc, Value index, Value extent);

/// A tensor of `type` whose every element is `element(b, loc)`, computed
/// from its position (linalg.index) in one parallel linalg.generic with no
/// inputs. `dynamicSizes` gives the sizes of `type`'s dynamic dimensions.
Value generateTensor(OpBuilder &b, Location loc, RankedTensorType type,
                     ValueRange dynamicSizes,
                     function_ref<Value(OpBuilder &, Location)> element);

/// Runs `body(builder, loc, position, value) -> new value` over every
/// position of the static `shape`, in row-major order, carrying `value`
/// (a tensor, usually) through a nest of scf.for; returns the final value.
/// For updates at run-time positions, which no linalg.generic expresses.
Value forEachPosition(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value value,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_LINALG_LINALGBUILDERS_H
