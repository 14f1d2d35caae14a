//===- Elementwise.cpp - elementwise onnx ops to linalg.generic -----------===//
//
// Every elementwise operator becomes one linalg.generic over the result's
// iteration space. Operands broadcast the ONNX (numpy) way: aligned on the
// trailing dimensions, a size-1 dimension read at index 0. A dynamic
// dimension is taken not to broadcast (as in onnx-mlir and TOSA); the
// scalar computation is the operator's formula on arith and math ops.
// Unsigned integer operands are read as signless ones (tensor.bitcast) and
// computed on with the unsigned ops where signedness matters: division,
// comparisons, extension and conversion to and from floats.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/TypeUtilities.h"

#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <functional>

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Builds the scalar result from the scalar operands (block arguments).
using ScalarBuilder = std::function<Value(OpBuilder &b, Location loc,
                                          Operation *op, ValueRange args,
                                          Type resultType)>;

bool isFloat(Type type) { return isa<FloatType>(type); }

Value constantOf(OpBuilder &b, Location loc, Type type, double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(floatType, value));
  return b.create<arith::ConstantOp>(
      loc, b.getIntegerAttr(type, APInt(type.getIntOrFloatBitWidth(),
                                        (int64_t)value, /*isSigned=*/true)));
}

double floatAttr(Operation *op, StringRef name, double otherwise) {
  if (auto attr = op->getAttrOfType<FloatAttr>(name))
    return attr.getValueAsDouble();
  return otherwise;
}

/// a OP b for floats or (signed) integers.
template <typename FloatOp, typename IntOp>
Value arithmetic(OpBuilder &b, Location loc, Value lhs, Value rhs) {
  if (isFloat(lhs.getType()))
    return b.create<FloatOp>(loc, lhs, rhs);
  return b.create<IntOp>(loc, lhs, rhs);
}

Value add(OpBuilder &b, Location loc, Value x, Value y) {
  return arithmetic<arith::AddFOp, arith::AddIOp>(b, loc, x, y);
}
Value sub(OpBuilder &b, Location loc, Value x, Value y) {
  return arithmetic<arith::SubFOp, arith::SubIOp>(b, loc, x, y);
}
Value mul(OpBuilder &b, Location loc, Value x, Value y) {
  return arithmetic<arith::MulFOp, arith::MulIOp>(b, loc, x, y);
}
/// Integer division and remainder trap on a zero divisor and on
/// INT_MIN / -1; ONNX leaves both undefined, and a run must not crash. The
/// divisor becomes 1 there; the quotient is then 0 for a zero divisor and
/// -x for -1 (wrapping), the remainder 0.
template <typename IntOp>
Value safeIntegerDivision(OpBuilder &b, Location loc, Value x, Value y) {
  Type type = x.getType();
  Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(type));
  Value one = b.create<arith::ConstantOp>(loc, b.getIntegerAttr(type, 1));
  Value minusOne = b.create<arith::ConstantOp>(loc, b.getIntegerAttr(type, -1));
  Value isZero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, y, zero);
  Value isMinusOne =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, y, minusOne);
  Value unsafe = b.create<arith::OrIOp>(loc, isZero, isMinusOne);
  Value result = b.create<IntOp>(loc, x, b.create<arith::SelectOp>(loc, unsafe, one, y));
  if constexpr (std::is_same_v<IntOp, arith::DivSIOp>)
    result = b.create<arith::SelectOp>(
        loc, isMinusOne, b.create<arith::SubIOp>(loc, zero, x), result);
  else
    result = b.create<arith::SelectOp>(loc, isMinusOne, zero, result);
  return b.create<arith::SelectOp>(loc, isZero, zero, result);
}

/// For unsigned integers only a zero divisor traps: it becomes 1, and
/// the result 0.
template <typename IntOp>
Value safeUnsignedDivision(OpBuilder &b, Location loc, Value x, Value y) {
  Type type = x.getType();
  Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(type));
  Value one = b.create<arith::ConstantOp>(loc, b.getIntegerAttr(type, 1));
  Value isZero =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, y, zero);
  Value result =
      b.create<IntOp>(loc, x, b.create<arith::SelectOp>(loc, isZero, one, y));
  return b.create<arith::SelectOp>(loc, isZero, zero, result);
}

Value div(OpBuilder &b, Location loc, Value x, Value y) {
  if (isFloat(x.getType()))
    return b.create<arith::DivFOp>(loc, x, y);
  return safeIntegerDivision<arith::DivSIOp>(b, loc, x, y);
}
Value divUnsigned(OpBuilder &b, Location loc, Value x, Value y) {
  return safeUnsignedDivision<arith::DivUIOp>(b, loc, x, y);
}
Value maximum(OpBuilder &b, Location loc, Value x, Value y) {
  return arithmetic<arith::MaximumFOp, arith::MaxSIOp>(b, loc, x, y);
}
Value maximumUnsigned(OpBuilder &b, Location loc, Value x, Value y) {
  return b.create<arith::MaxUIOp>(loc, x, y);
}
Value minimum(OpBuilder &b, Location loc, Value x, Value y) {
  return arithmetic<arith::MinimumFOp, arith::MinSIOp>(b, loc, x, y);
}
Value minimumUnsigned(OpBuilder &b, Location loc, Value x, Value y) {
  return b.create<arith::MinUIOp>(loc, x, y);
}

/// Whether `op` computes on unsigned integers (its first operand's type;
/// the scalar arguments are signless).
bool unsignedOperands(Operation *op) {
  return hasUnsignedElements(op->getOperand(0).getType());
}

/// The unsigned form of a signed comparison.
arith::CmpIPredicate unsignedPredicate(arith::CmpIPredicate predicate) {
  using I = arith::CmpIPredicate;
  switch (predicate) {
  case I::slt:
    return I::ult;
  case I::sle:
    return I::ule;
  case I::sgt:
    return I::ugt;
  case I::sge:
    return I::uge;
  default:
    return predicate;
  }
}

/// x < y (ordered for floats; a NaN compares false).
Value less(OpBuilder &b, Location loc, Value x, Value y) {
  if (isFloat(x.getType()))
    return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, y);
  return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x, y);
}

Value compare(OpBuilder &b, Location loc, Value x, Value y,
              arith::CmpFPredicate floatPredicate,
              arith::CmpIPredicate intPredicate) {
  if (isFloat(x.getType()))
    return b.create<arith::CmpFOp>(loc, floatPredicate, x, y);
  return b.create<arith::CmpIOp>(loc, intPredicate, x, y);
}

Value select(OpBuilder &b, Location loc, Value c, Value x, Value y) {
  return b.create<arith::SelectOp>(loc, c, x, y);
}

Value zeroOf(OpBuilder &b, Location loc, Value like) {
  return constantOf(b, loc, like.getType(), 0);
}

/// Element type conversion with ONNX Cast semantics for the signless types:
/// to bool is "not zero", from bool is 0/1; `fromUnsigned` and
/// `toUnsigned` say which integers are ONNX's unsigned ones.
Value convert(OpBuilder &b, Location loc, Value x, Type to,
              bool fromUnsigned = false, bool toUnsigned = false) {
  Type from = x.getType();
  if (from == to)
    return x;
  if (to.isInteger(1)) {
    Value zero = zeroOf(b, loc, x);
    return isFloat(from)
               ? b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, x,
                                         zero)
               : b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, x,
                                         zero)
                     .getResult();
  }
  bool zeroExtended = from.isInteger(1) || fromUnsigned;
  if (isFloat(from) && isFloat(to))
    return from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth()
               ? b.create<arith::ExtFOp>(loc, to, x).getResult()
               : b.create<arith::TruncFOp>(loc, to, x).getResult();
  if (isFloat(to))
    return zeroExtended ? b.create<arith::UIToFPOp>(loc, to, x).getResult()
                        : b.create<arith::SIToFPOp>(loc, to, x).getResult();
  if (isFloat(from))
    return toUnsigned ? b.create<arith::FPToUIOp>(loc, to, x).getResult()
                      : b.create<arith::FPToSIOp>(loc, to, x).getResult();
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return zeroExtended ? b.create<arith::ExtUIOp>(loc, to, x).getResult()
                        : b.create<arith::ExtSIOp>(loc, to, x).getResult();
  return b.create<arith::TruncIOp>(loc, to, x);
}

template <typename MathOp>
ScalarBuilder unaryMath() {
  return [](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
    return b.create<MathOp>(loc, args[0]).getResult();
  };
}

/// 1 / (1 + exp(-x))
Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Value one = constantOf(b, loc, x.getType(), 1);
  Value negExp = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
  return b.create<arith::DivFOp>(loc, one,
                                 b.create<arith::AddFOp>(loc, one, negExp));
}

/// log(1 + exp(x))
Value softplus(OpBuilder &b, Location loc, Value x) {
  return b.create<math::Log1pOp>(loc, b.create<math::ExpOp>(loc, x));
}

/// clamp(x, 0, 1)
Value saturate01(OpBuilder &b, Location loc, Value x) {
  Value zero = constantOf(b, loc, x.getType(), 0);
  Value one = constantOf(b, loc, x.getType(), 1);
  return b.create<arith::MaximumFOp>(loc, zero,
                                     b.create<arith::MinimumFOp>(loc, one, x));
}

/// Cast and CastLike: the operand to the result's element type.
Value castElements(OpBuilder &b, Location loc, Operation *op, ValueRange args,
                   Type type) {
  return convert(b, loc, args[0], type, unsignedOperands(op),
                 hasUnsignedElements(op->getResult(0).getType()));
}

struct ElementwiseInfo {
  ScalarBuilder build;
  /// The formula needs floating-point operands.
  bool floatOnly = false;
};

using Combine = Value (*)(OpBuilder &, Location, Value, Value);

template <typename IntOp>
Value bitwise(OpBuilder &b, Location loc, Value x, Value y) {
  return b.create<IntOp>(loc, x, y);
}

/// Folds a variadic op's operands pairwise, with `combineUnsigned` (when
/// given) for unsigned integers.
ScalarBuilder variadic(Combine combine, Combine combineUnsigned = nullptr) {
  return [=](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
    Combine combineThese =
        combineUnsigned && unsignedOperands(op) ? combineUnsigned : combine;
    Value result = args[0];
    for (Value arg : args.drop_front())
      result = combineThese(b, loc, result, arg);
    return result;
  };
}

const llvm::StringMap<ElementwiseInfo> &elementwiseOps() {
  using P = arith::CmpFPredicate;
  using I = arith::CmpIPredicate;
  auto cmp = [](P floatPredicate, I intPredicate) -> ScalarBuilder {
    return
        [=](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          return compare(b, loc, args[0], args[1], floatPredicate,
                         unsignedOperands(op) ? unsignedPredicate(intPredicate)
                                              : intPredicate);
        };
  };
  static const llvm::StringMap<ElementwiseInfo> ops = {
      // Arithmetic, with ONNX's truncating integer division.
      {"Add", {variadic(add)}},
      {"Sub", {variadic(sub)}},
      {"Mul", {variadic(mul)}},
      {"Div", {variadic(div, divUnsigned)}},
      {"Sum", {variadic(add)}},
      {"Max", {variadic(maximum, maximumUnsigned)}},
      {"Min", {variadic(minimum, minimumUnsigned)}},
      {"Mean",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args,
           Type type) {
          Value sum = variadic(add)(b, loc, op, args, type);
          return b.create<arith::DivFOp>(
                      loc, sum, constantOf(b, loc, type, args.size()))
              .getResult();
        },
        /*floatOnly=*/true}},
      {"Pow",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args,
           Type type) -> Value {
         Value exponent = args[1];
         if (exponent.getType() != type)
           exponent = convert(b, loc, exponent, type,
                              hasUnsignedElements(op->getOperand(1).getType()),
                              unsignedOperands(op));
         if (isFloat(type))
           return b.create<math::PowFOp>(loc, args[0], exponent);
         return b.create<math::IPowIOp>(loc, args[0], exponent);
       }}},
      {"Mod",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args,
           Type type) -> Value {
         Value x = args[0], y = args[1];
         if (unsignedOperands(op)) // Both signs agree: C's remainder.
           return safeUnsignedDivision<arith::RemUIOp>(b, loc, x, y);
         bool floating = isFloat(type);
         Value remainder =
             floating ? b.create<arith::RemFOp>(loc, x, y).getResult()
                      : safeIntegerDivision<arith::RemSIOp>(b, loc, x, y);
         auto fmod = op->getAttrOfType<IntegerAttr>("fmod");
         if (fmod && fmod.getInt())
           return remainder; // C fmod: the sign of the dividend.
         // Otherwise the sign of the divisor, as in Python.
         Value zero = zeroOf(b, loc, x);
         Value nonZero =
             floating ? b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::ONE,
                                                remainder, zero)
                            .getResult()
                      : b.create<arith::CmpIOp>(loc, I::ne, remainder, zero)
                            .getResult();
         Value signsDiffer = b.create<arith::XOrIOp>(
             loc, less(b, loc, remainder, zero), less(b, loc, y, zero));
         return select(b, loc,
                       b.create<arith::AndIOp>(loc, nonZero, signsDiffer),
                       add(b, loc, remainder, y), remainder);
       }}},
      {"PRelu",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
         Value x = args[0];
         if (unsignedOperands(op))
           return x;
         return select(b, loc, less(b, loc, x, zeroOf(b, loc, x)),
                       mul(b, loc, args[1], x), x);
       }}},
      {"Where",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
         return select(b, loc, args[0], args[1], args[2]);
       }}},

      // Comparisons and logic.
      {"Equal", {cmp(P::OEQ, I::eq)}},
      {"Less", {cmp(P::OLT, I::slt)}},
      {"LessOrEqual", {cmp(P::OLE, I::sle)}},
      {"Greater", {cmp(P::OGT, I::sgt)}},
      {"GreaterOrEqual", {cmp(P::OGE, I::sge)}},
      {"And",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
         return b.create<arith::AndIOp>(loc, args[0], args[1]).getResult();
       }}},
      {"Or",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
         return b.create<arith::OrIOp>(loc, args[0], args[1]).getResult();
       }}},
      {"Xor",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
         return b.create<arith::XOrIOp>(loc, args[0], args[1]).getResult();
       }}},
      {"Not",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
         Value truth = b.create<arith::ConstantOp>(loc, b.getBoolAttr(true));
         return b.create<arith::XOrIOp>(loc, args[0], truth).getResult();
       }}},

      // Bits of integers.
      {"BitwiseAnd", {variadic(bitwise<arith::AndIOp>)}},
      {"BitwiseOr", {variadic(bitwise<arith::OrIOp>)}},
      {"BitwiseXor", {variadic(bitwise<arith::XOrIOp>)}},
      {"BitwiseNot",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
         Value ones = constantOf(b, loc, args[0].getType(), -1);
         return b.create<arith::XOrIOp>(loc, args[0], ones).getResult();
       }}},
      {"BitShift",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args,
           Type type) {
         // A shift by the width or more (poison in arith), or by a
         // negative amount, shifts every bit out: 0, or the sign for a
         // signed right shift.
         Value x = args[0], amount = args[1];
         Value width = constantOf(b, loc, type, type.getIntOrFloatBitWidth());
         Value inRange = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                                 amount, width);
         auto direction = op->getAttrOfType<StringAttr>("direction");
         if (direction && direction.getValue() == "LEFT")
           return select(b, loc, inRange,
                         b.create<arith::ShLIOp>(loc, x, amount),
                         zeroOf(b, loc, x));
         if (unsignedOperands(op))
           return select(b, loc, inRange,
                         b.create<arith::ShRUIOp>(loc, x, amount),
                         zeroOf(b, loc, x));
         Value signOnly =
             constantOf(b, loc, type, type.getIntOrFloatBitWidth() - 1);
         return b
             .create<arith::ShRSIOp>(loc, x,
                                     select(b, loc, inRange, amount, signOnly))
             .getResult();
       }}},
      {"BitCast",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args,
           Type type) -> Value {
         Value x = args[0];
         // A bool is a byte: 0 or 1 as an integer, "not zero" back.
         if (x.getType().isInteger(1) || type.isInteger(1))
           return convert(b, loc, x, type);
         return b.create<arith::BitcastOp>(loc, type, x);
       }}},

      // Sign and magnitude.
      {"Neg",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args,
           Type) -> Value {
         if (isFloat(args[0].getType()))
           return b.create<arith::NegFOp>(loc, args[0]);
         return b.create<arith::SubIOp>(loc, zeroOf(b, loc, args[0]), args[0]);
       }}},
      {"Abs",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args,
           Type) -> Value {
         if (unsignedOperands(op))
           return args[0];
         if (isFloat(args[0].getType()))
           return b.create<math::AbsFOp>(loc, args[0]);
         return b.create<math::AbsIOp>(loc, args[0]);
       }}},
      {"Sign",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
         // 1, -1, or x itself (0, or NaN which stays NaN).
         Value x = args[0], zero = zeroOf(b, loc, x);
         Type type = x.getType();
         if (unsignedOperands(op))
           return select(b, loc, compare(b, loc, x, zero, P::ONE, I::ne),
                         constantOf(b, loc, type, 1), x);
         return select(b, loc, less(b, loc, zero, x),
                       constantOf(b, loc, type, 1),
                       select(b, loc, less(b, loc, x, zero),
                              constantOf(b, loc, type, -1), x));
       }}},
      {"Relu",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
         return maximum(b, loc, args[0], zeroOf(b, loc, args[0]));
       }}},
      {"Reciprocal",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
          return b.create<arith::DivFOp>(
                      loc, constantOf(b, loc, args[0].getType(), 1), args[0])
              .getResult();
        },
        true}},

      // Transcendentals.
      {"Exp", {unaryMath<math::ExpOp>(), true}},
      {"Log", {unaryMath<math::LogOp>(), true}},
      {"Sqrt", {unaryMath<math::SqrtOp>(), true}},
      {"Tanh", {unaryMath<math::TanhOp>(), true}},
      {"Erf", {unaryMath<math::ErfOp>(), true}},
      {"Sin", {unaryMath<math::SinOp>(), true}},
      {"Cos", {unaryMath<math::CosOp>(), true}},
      {"Tan", {unaryMath<math::TanOp>(), true}},
      {"Asin", {unaryMath<math::AsinOp>(), true}},
      {"Acos", {unaryMath<math::AcosOp>(), true}},
      {"Atan", {unaryMath<math::AtanOp>(), true}},
      {"Sinh", {unaryMath<math::SinhOp>(), true}},
      {"Cosh", {unaryMath<math::CoshOp>(), true}},
      {"Asinh", {unaryMath<math::AsinhOp>(), true}},
      {"Acosh", {unaryMath<math::AcoshOp>(), true}},
      {"Atanh", {unaryMath<math::AtanhOp>(), true}},
      {"Ceil", {unaryMath<math::CeilOp>(), true}},
      {"Floor", {unaryMath<math::FloorOp>(), true}},
      {"Round", {unaryMath<math::RoundEvenOp>(), true}},

      // Activations.
      {"Sigmoid",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
          return sigmoid(b, loc, args[0]);
        },
        true}},
      {"Softplus",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
          return softplus(b, loc, args[0]);
        },
        true}},
      {"Softsign",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
          Value x = args[0], one = constantOf(b, loc, x.getType(), 1);
          return b.create<arith::DivFOp>(
                      loc, x,
                      b.create<arith::AddFOp>(
                          loc, one, b.create<math::AbsFOp>(loc, x)))
              .getResult();
        },
        true}},
      {"Mish",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
          Value x = args[0];
          return b.create<arith::MulFOp>(
                      loc, x, b.create<math::TanhOp>(loc, softplus(b, loc, x)))
              .getResult();
        },
        true}},
      {"LeakyRelu",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          Value x = args[0], zero = zeroOf(b, loc, x);
          Value alpha =
              constantOf(b, loc, x.getType(), floatAttr(op, "alpha", 0.01));
          return select(b, loc, less(b, loc, x, zero), mul(b, loc, alpha, x),
                        x);
        },
        true}},
      {"ThresholdedRelu",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          Value x = args[0];
          Value alpha =
              constantOf(b, loc, x.getType(), floatAttr(op, "alpha", 1.0));
          return select(b, loc, less(b, loc, alpha, x), x, zeroOf(b, loc, x));
        },
        true}},
      {"Elu",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          Value x = args[0], zero = zeroOf(b, loc, x);
          Type type = x.getType();
          Value alpha = constantOf(b, loc, type, floatAttr(op, "alpha", 1.0));
          Value expm1 = b.create<math::ExpM1Op>(loc, x);
          return select(b, loc, less(b, loc, x, zero),
                        mul(b, loc, alpha, expm1), x);
        },
        true}},
      {"Selu",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          Value x = args[0], zero = zeroOf(b, loc, x);
          Type type = x.getType();
          Value alpha = constantOf(b, loc, type,
                                   floatAttr(op, "alpha", 1.67326319217681884765625));
          Value gamma = constantOf(b, loc, type,
                                   floatAttr(op, "gamma", 1.05070102214813232421875));
          Value negative = sub(b, loc, mul(b, loc, alpha,
                                           b.create<math::ExpOp>(loc, x)),
                               alpha);
          Value inner = select(b, loc, less(b, loc, zero, x), x, negative);
          return mul(b, loc, gamma, inner);
        },
        true}},
      {"Celu",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          Value x = args[0], zero = zeroOf(b, loc, x);
          Value alpha =
              constantOf(b, loc, x.getType(), floatAttr(op, "alpha", 1.0));
          Value scaled = mul(b, loc, alpha,
                             b.create<math::ExpM1Op>(loc, div(b, loc, x, alpha)));
          return add(b, loc, maximum(b, loc, zero, x),
                     minimum(b, loc, zero, scaled));
        },
        true}},
      {"Shrink",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          Value x = args[0];
          Type type = x.getType();
          Value lambd = constantOf(b, loc, type, floatAttr(op, "lambd", 0.5));
          Value minusLambd =
              constantOf(b, loc, type, -floatAttr(op, "lambd", 0.5));
          Value bias = constantOf(b, loc, type, floatAttr(op, "bias", 0.0));
          Value above = select(b, loc, less(b, loc, lambd, x),
                               sub(b, loc, x, bias), zeroOf(b, loc, x));
          return select(b, loc, less(b, loc, x, minusLambd),
                        add(b, loc, x, bias), above);
        },
        true}},
      {"HardSigmoid",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          Value x = args[0];
          Type type = x.getType();
          Value alpha = constantOf(b, loc, type, floatAttr(op, "alpha", 0.2));
          Value beta = constantOf(b, loc, type, floatAttr(op, "beta", 0.5));
          return saturate01(b, loc, add(b, loc, mul(b, loc, alpha, x), beta));
        },
        true}},
      {"HardSwish",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
          Value x = args[0];
          Type type = x.getType();
          Value sixth = constantOf(b, loc, type, 1.0 / 6.0);
          Value half = constantOf(b, loc, type, 0.5);
          return mul(b, loc, x,
                     saturate01(b, loc, add(b, loc, mul(b, loc, sixth, x), half)));
        },
        true}},
      {"Gelu",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          Value x = args[0];
          Type type = x.getType();
          Value half = constantOf(b, loc, type, 0.5);
          Value one = constantOf(b, loc, type, 1);
          auto approximate = op->getAttrOfType<StringAttr>("approximate");
          Value inner;
          if (approximate && approximate.getValue() == "tanh") {
            // tanh(sqrt(2 / pi) * (x + 0.044715 x^3))
            Value cube = mul(b, loc, x, mul(b, loc, x, x));
            Value poly = add(b, loc, x,
                             mul(b, loc, constantOf(b, loc, type, 0.044715), cube));
            inner = b.create<math::TanhOp>(
                loc, mul(b, loc, constantOf(b, loc, type, std::sqrt(2 / M_PI)),
                         poly));
          } else {
            inner = b.create<math::ErfOp>(
                loc, mul(b, loc, x, constantOf(b, loc, type, M_SQRT1_2)));
          }
          return mul(b, loc, mul(b, loc, half, x), add(b, loc, one, inner));
        },
        true}},
      {"IsNaN",
       {[](OpBuilder &b, Location loc, Operation *, ValueRange args, Type) {
          return b.create<arith::CmpFOp>(loc, P::UNO, args[0], args[0])
              .getResult();
        },
        true}},
      {"IsInf",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
          Value x = args[0];
          Type type = x.getType();
          Value inf = constantOf(b, loc, type, INFINITY);
          Value negInf = constantOf(b, loc, type, -INFINITY);
          auto flag = [&](StringRef name) {
            auto attr = op->getAttrOfType<IntegerAttr>(name);
            return !attr || attr.getInt() != 0;
          };
          Value isPositive = b.create<arith::CmpFOp>(loc, P::OEQ, x, inf);
          Value isNegative = b.create<arith::CmpFOp>(loc, P::OEQ, x, negInf);
          Value no = b.create<arith::ConstantOp>(loc, b.getBoolAttr(false));
          return b.create<arith::OrIOp>(
                      loc, flag("detect_positive") ? isPositive : no,
                      flag("detect_negative") ? isNegative : no)
              .getResult();
        },
        true}},

      // Conversions and clamps.
      {"Identity",
       {[](OpBuilder &, Location, Operation *, ValueRange args, Type) {
         return args[0];
       }}},
      {"Cast", {castElements}},
      {"CastLike", {castElements}},
      {"Clip",
       {[](OpBuilder &b, Location loc, Operation *op, ValueRange args, Type) {
         // Operands present: x, then min and/or max by the segments.
         auto segments =
             op->getAttrOfType<DenseI32ArrayAttr>("operandSegmentSizes");
         Value x = args[0];
         bool isUnsigned = unsignedOperands(op);
         unsigned next = 1;
         if (segments && segments[1])
           x = (isUnsigned ? maximumUnsigned : maximum)(b, loc, x,
                                                        args[next++]);
         if (segments && segments[2])
           x = (isUnsigned ? minimumUnsigned : minimum)(b, loc, x, args[next]);
         return x;
       }}},
  };
  return ops;
}

const ElementwiseInfo *lookup(Operation *op) {
  if (!isa<onnx::OnnxDialect>(op->getDialect()))
    return nullptr;
  auto it = elementwiseOps().find(op->getName().stripDialect());
  return it == elementwiseOps().end() ? nullptr : &it->second;
}

/// Element types the scalar formulas handle: signless integers (including
/// i1), unsigned integers of the widths the runtime passes, and the
/// IEEE/bfloat floats.
bool isLowerableElement(Type type) {
  if (auto integer = dyn_cast<IntegerType>(type))
    return integer.isSignless() ||
           llvm::is_contained({8u, 16u, 32u, 64u}, integer.getWidth());
  return type.isF16() || type.isBF16() || type.isF32() || type.isF64();
}

struct LowerElementwise : RewritePattern {
  LowerElementwise(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    const ElementwiseInfo *info = lookup(op);
    if (!info || checkElementwiseLowering(op))
      return failure();
    Location loc = op->getLoc();
    auto onnxResultType = cast<RankedTensorType>(op->getResult(0).getType());
    auto resultType =
        cast<RankedTensorType>(withSignlessElements(onnxResultType));
    ArrayRef<int64_t> resultShape = resultType.getShape();
    MLIRContext *context = op->getContext();

    SmallVector<Value> inputs;
    for (Value operand : op->getOperands())
      inputs.push_back(signlessTensor(rewriter, loc, operand));
    SmallVector<AffineMap> maps;
    for (Value input : inputs)
      maps.push_back(broadcastMap(
          cast<RankedTensorType>(input.getType()).getShape(), resultShape,
          context));
    maps.push_back(rewriter.getMultiDimIdentityMap(resultShape.size()));

    // Dynamic result sizes come from an operand that spans the dimension.
    SmallVector<Value> dynamicSizes;
    for (auto [dim, size] : llvm::enumerate(resultShape)) {
      if (!ShapedType::isDynamic(size))
        continue;
      for (Value input : inputs) {
        auto shape = cast<RankedTensorType>(input.getType()).getShape();
        int64_t at = (int64_t)dim - ((int64_t)resultShape.size() - (int64_t)shape.size());
        if (at >= 0 && shape[at] != 1) {
          dynamicSizes.push_back(rewriter.create<tensor::DimOp>(loc, input, at));
          break;
        }
      }
    }
    Value init = rewriter.create<tensor::EmptyOp>(
        loc, resultShape, resultType.getElementType(), dynamicSizes);
    SmallVector<utils::IteratorType> iterators(resultShape.size(),
                                               utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, resultType, inputs, init, maps, iterators,
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value result = info->build(b, bodyLoc, op, args.drop_back(),
                                     resultType.getElementType());
          b.create<linalg::YieldOp>(bodyLoc, result);
        });
    rewriter.replaceOp(
        op, bitcastTensor(rewriter, loc, generic.getResult(0), onnxResultType));
    return success();
  }
};

} // namespace

std::optional<std::string>
mlir::kiln::checkElementwiseLowering(Operation *op) {
  const ElementwiseInfo *info = lookup(op);
  if (!info)
    return std::string();
  if (op->getNumResults() != 1)
    return std::string("it has more than one result");
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType)
    return std::string("the rank of its result is unknown");
  SmallVector<Type> types = {resultType.getElementType()};
  for (Value operand : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type)
      return std::string("the rank of an operand is unknown");
    if (type.getRank() > resultType.getRank())
      return std::string("an operand has a higher rank than the result");
    int64_t offset = resultType.getRank() - type.getRank();
    for (auto [i, dim] : llvm::enumerate(type.getShape())) {
      int64_t resultDim = resultType.getDimSize(offset + i);
      if (dim != 1 && !ShapedType::isDynamic(dim) &&
          !ShapedType::isDynamic(resultDim) && dim != resultDim)
        return std::string("operand dimension ") + std::to_string(dim) +
               " does not broadcast to " + std::to_string(resultDim);
    }
    types.push_back(type.getElementType());
  }
  for (Type type : types)
    if (!isLowerableElement(type)) {
      std::string text;
      llvm::raw_string_ostream(text) << "element type '" << type
                                     << "' is not lowered yet";
      return text;
    }
  if (op->getName().stripDialect() == "BitCast") {
    auto width = [](Type type) {
      return type.isInteger(1) ? 8 : type.getIntOrFloatBitWidth();
    };
    if (width(types[0]) != width(types[1]))
      return std::string("a BitCast between element types of different "
                         "widths is not lowered yet");
  }
  if (info->floatOnly && !isFloat(getElementTypeOrSelf(op->getOperand(0))))
    return std::string("it is lowered for floating-point inputs only");
  return std::nullopt;
}

void mlir::kiln::populateElementwiseLowering(RewritePatternSet &patterns) {
  patterns.add<LowerElementwise>(patterns.getContext());
}
