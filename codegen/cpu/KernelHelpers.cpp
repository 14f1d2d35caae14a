//===- KernelHelpers.cpp - what the kernel lowerings share ----------------===//

#include "codegen/cpu/KernelHelpers.h"
#include "codegen/common/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::kiln;

Value mlir::kiln::applyActivation(OpBuilder &b, Location loc, Value x,
                                  Activation activation, float clipMin,
                                  float clipMax) {
  auto type = cast<VectorType>(x.getType());
  auto splat = [&](float value) -> Value {
    return b.create<arith::ConstantOp>(loc, type,
                                       DenseElementsAttr::get(type, value));
  };
  auto clamp = [&](Value v, float low, float high) -> Value {
    Value above = b.create<arith::MaximumFOp>(loc, v, splat(low));
    return b.create<arith::MinimumFOp>(loc, above, splat(high));
  };
  switch (activation) {
  case Activation::None:
    return x;
  case Activation::Relu:
    return b.create<arith::MaximumFOp>(loc, x, splat(0.0f));
  case Activation::Clip:
    return clamp(x, clipMin, clipMax);
  case Activation::Sigmoid:
  case Activation::Silu: {
    Value negated = b.create<arith::NegFOp>(loc, x);
    Value denominator = b.create<arith::AddFOp>(
        loc, splat(1.0f), b.create<math::ExpOp>(loc, negated));
    Value sigmoid = b.create<arith::DivFOp>(loc, splat(1.0f), denominator);
    if (activation == Activation::Sigmoid)
      return sigmoid;
    return b.create<arith::MulFOp>(loc, x, sigmoid);
  }
  case Activation::Gelu: {
    Value scaled = b.create<arith::MulFOp>(loc, x, splat(float(M_SQRT1_2)));
    Value erf = b.create<math::ErfOp>(loc, scaled);
    Value half = b.create<arith::MulFOp>(loc, x, splat(0.5f));
    return b.create<arith::MulFOp>(
        loc, half, b.create<arith::AddFOp>(loc, erf, splat(1.0f)));
  }
  case Activation::HardSwish: {
    Value gate = clamp(b.create<arith::AddFOp>(loc, x, splat(3.0f)), 0.0f, 6.0f);
    Value scaled = b.create<arith::MulFOp>(loc, gate, splat(1.0f / 6.0f));
    return b.create<arith::MulFOp>(loc, x, scaled);
  }
  }
  llvm_unreachable("unknown activation");
}

LogicalResult mlir::kiln::checkVectorBits(Operation *scope,
                                          int64_t vectorBits) {
  if (vectorBits == 256 || vectorBits == 512)
    return success();
  return scope->emitError("vector-bits must be 256 or 512, not ") << vectorBits;
}

void mlir::kiln::storeVector(OpBuilder &b, Location loc, Value value,
                             Value buffer, Value index, Value mask) {
  Type element = cast<MemRefType>(buffer.getType()).getElementType();
  if (element != cast<VectorType>(value.getType()).getElementType())
    value = b.create<arith::TruncFOp>(
        loc, cast<VectorType>(value.getType()).clone(element), value);
  if (mask)
    b.create<vector::MaskedStoreOp>(loc, buffer, ValueRange{index}, mask,
                                    value);
  else
    b.create<vector::StoreOp>(loc, value, buffer, ValueRange{index});
}

Value mlir::kiln::paddingFloats(OpBuilder &b, Operation *anchor,
                                int64_t count, Type element, double value) {
  if (!element)
    element = b.getF32Type();
  auto module = anchor->getParentOfType<ModuleOp>();
  std::string name = (value == 0.0 ? "kiln_zeros_"
                      : value < 0  ? "kiln_lowest_"
                                   : "kiln_fill_") +
                     std::to_string(count);
  if (value != 0.0 && !std::isinf(value))
    name += "_" + std::to_string(value);
  if (!element.isF32())
    name += element.isBF16() ? "_bf16"
                             : "_" + std::to_string(element.getIntOrFloatBitWidth());
  auto type = MemRefType::get({count}, element);
  if (!module.lookupSymbol(name)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto tensorType = RankedTensorType::get({count}, element);
    b.create<memref::GlobalOp>(
        module.getLoc(), name, b.getStringAttr("private"), type,
        isa<IntegerType>(element)
            ? DenseElementsAttr::get(tensorType,
                                     b.getIntegerAttr(element, int64_t(value)))
            : DenseElementsAttr::get(tensorType,
                                     b.getFloatAttr(element, value)),
        /*constant=*/true, /*alignment=*/nullptr);
  }
  Location loc = anchor->getLoc();
  Value values = b.create<memref::GetGlobalOp>(loc, type, name);
  return b.create<memref::CastOp>(
      loc, MemRefType::get({ShapedType::kDynamic}, element), values);
}

PaddedSource mlir::kiln::selectPadded(OpBuilder &b, Location loc, Value inside,
                                      Value data, Value offset, Value zeros,
                                      Value zeroOffset) {
  if (!getElementTypeOrSelf(data.getType()).isBF16())
    return {b.create<arith::SelectOp>(loc, inside, data, zeros),
            b.create<arith::SelectOp>(loc, inside, offset, zeroOffset)};
  // A branch for bf16 buffers: arith-emulate-unsupported-floats would
  // widen a select of them into one of f32 buffers that do not exist.
  // LLVM makes the branch a select again.
  auto branch = b.create<scf::IfOp>(
      loc, inside,
      [&](OpBuilder &then, Location at) {
        then.create<scf::YieldOp>(at, ValueRange{data, offset});
      },
      [&](OpBuilder &otherwise, Location at) {
        otherwise.create<scf::YieldOp>(at, ValueRange{zeros, zeroOffset});
      });
  return {branch.getResult(0), branch.getResult(1)};
}

WindowOrigin mlir::kiln::windowOrigin(OpBuilder &b, Location loc, Value pixel,
                                      Value outH, Value outW,
                                      ArrayRef<int64_t> strides, int64_t padTop,
                                      int64_t padLeft) {
  Value plane = b.createOrFold<arith::MulIOp>(loc, outH, outW);
  Value image = b.create<arith::DivUIOp>(loc, pixel, plane);
  Value within = b.create<arith::RemUIOp>(loc, pixel, plane);
  Value y = b.create<arith::DivUIOp>(loc, within, outW);
  Value x = b.create<arith::RemUIOp>(loc, within, outW);
  auto first = [&](Value at, int64_t stride, int64_t pad) -> Value {
    return b.create<arith::SubIOp>(
        loc,
        b.create<arith::MulIOp>(loc, at,
                                b.create<arith::ConstantIndexOp>(loc, stride)),
        b.create<arith::ConstantIndexOp>(loc, pad));
  };
  return {image, first(y, strides[0], padTop), first(x, strides[1], padLeft)};
}

Value mlir::kiln::isWithin(OpBuilder &b, Location loc, Value value,
                           int64_t bound) {
  return isWithin(b, loc, value,
                  b.create<arith::ConstantIndexOp>(loc, bound).getResult());
}

Value mlir::kiln::isWithin(OpBuilder &b, Location loc, Value value,
                           Value limit) {
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value above = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, value,
                                        zero);
  Value below = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, value,
                                        limit);
  return b.create<arith::AndIOp>(loc, above, below);
}

std::pair<Value, Value> mlir::kiln::splitBf16Pairs(OpBuilder &b, Location loc,
                                                   Value words) {
  Type type = words.getType();
  Type floatType = b.getF32Type();
  auto constant = [&](uint32_t value) -> Value {
    TypedAttr attr = b.getI32IntegerAttr(value);
    if (auto vector = dyn_cast<VectorType>(type))
      attr = DenseElementsAttr::get(vector, b.getI32IntegerAttr(value));
    return b.create<arith::ConstantOp>(loc, attr);
  };
  if (auto vector = dyn_cast<VectorType>(type))
    floatType = vector.clone(b.getF32Type());
  // Little-endian: the even value is the low half of the word.
  Value low = b.create<arith::ShLIOp>(loc, words, constant(16));
  Value high = b.create<arith::AndIOp>(loc, words, constant(0xffff0000u));
  return {b.create<arith::BitcastOp>(loc, floatType, low),
          b.create<arith::BitcastOp>(loc, floatType, high)};
}

Value mlir::kiln::loadFourBitValues(OpBuilder &b, Location loc, Value buffer,
                                    Value i, Value j, Value k, int64_t lanes,
                                    int64_t depth) {
  Type i8 = b.getI8Type();
  auto bytesType = VectorType::get({lanes / 2}, i8);
  auto index = [&](int64_t value) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, value);
  };
  Value bytes = b.create<vector::LoadOp>(
      loc, bytesType, buffer,
      ValueRange{i, j, b.create<arith::DivUIOp>(loc, k, index(2))});
  auto splatByte = [&](int64_t value) {
    return b.create<arith::ConstantOp>(
        loc, bytesType,
        DenseElementsAttr::get(bytesType, b.getIntegerAttr(i8, value)));
  };
  Value low = b.create<arith::AndIOp>(loc, bytes, splatByte(15));
  Value high = b.create<arith::ShRUIOp>(loc, bytes, splatByte(4));
  SmallVector<int64_t> interleave;
  for (int64_t e = 0; e < lanes / 2; ++e)
    interleave.append({e, lanes / 2 + e});
  Value nibbles = b.create<vector::ShuffleOp>(loc, low, high, interleave);
  auto vectorType = VectorType::get({lanes}, b.getF32Type());
  Value values = b.create<arith::UIToFPOp>(loc, vectorType, nibbles);
  auto paramsType = VectorType::get({4}, i8);
  Value params = b.create<vector::LoadOp>(loc, paramsType, buffer,
                                          ValueRange{i, j, index(depth / 2)});
  Value halves = b.create<vector::BitCastOp>(
      loc, VectorType::get({2}, b.getF16Type()), params);
  Value wide = b.create<arith::ExtFOp>(
      loc, VectorType::get({2}, b.getF32Type()), halves);
  Value scale = b.create<vector::ExtractOp>(loc, wide, int64_t(0));
  Value zero = b.create<vector::ExtractOp>(loc, wide, int64_t(1));
  Value centered = b.create<arith::SubFOp>(
      loc, values, b.create<vector::BroadcastOp>(loc, vectorType, zero));
  return b.create<arith::MulFOp>(
      loc, centered, b.create<vector::BroadcastOp>(loc, vectorType, scale));
}
