//===- ScalarExpressions.cpp - arith and math ops as C++ ------------------===//
//
// The scalar half of the CUDA emitter: types, literals and one C++
// expression per arith or math op, with MLIR's semantics where C++'s differ
// (wrapping integer arithmetic, NaN-propagating maximumf, saturating float
// to integer, floor division, 16-bit floats rounded after each operation).
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/ScalarExpressions.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace mlir::kiln::cuda;

std::string mlir::kiln::cuda::join(ArrayRef<std::string> items,
                                   StringRef separator) {
  std::string text;
  for (const std::string &item : items)
    text += (text.empty() ? "" : separator.str()) + item;
  return text;
}

bool mlir::kiln::cuda::isHalf(Type type) {
  return type.isF16() || type.isBF16();
}

std::string mlir::kiln::cuda::integerLiteral(int64_t value) {
  return std::to_string(value);
}

std::optional<int64_t> mlir::kiln::cuda::parseInteger(const std::string &text) {
  int64_t value;
  if (StringRef(text).getAsInteger(10, value))
    return std::nullopt;
  return value;
}

//===----------------------------------------------------------------------===//
// Types and literals
//===----------------------------------------------------------------------===//

FailureOr<std::string> mlir::kiln::cuda::registerType(Type type, Operation *op) {
  if (type.isF32() || isHalf(type))
    return std::string("float");
  if (type.isF64())
    return std::string("double");
  if (type.isIndex())
    return std::string("int64_t");
  if (type.isInteger(1))
    return std::string("bool");
  for (unsigned width : {8, 16, 32, 64})
    if (type.isInteger(width))
      return "int" + std::to_string(width) + "_t";
  return op->emitError() << "CUDA code generation does not support values "
                            "of type "
                         << type;
}

FailureOr<std::string> mlir::kiln::cuda::storageType(Type type, Operation *op) {
  if (isHalf(type))
    return std::string("uint16_t");
  return registerType(type, op);
}

std::string mlir::kiln::cuda::unsignedType(Type type) {
  if (type.isInteger(1))
    return "bool";
  if (type.isIndex())
    return "uint64_t";
  return "uint" + std::to_string(type.getIntOrFloatBitWidth()) + "_t";
}

static std::string floatLiteral(const APFloat &value, Type type) {
  if (type.isF64()) {
    double number = value.convertToDouble();
    if (!std::isfinite(number))
      return llvm::formatv("kiln::cuda::bitsDouble({0:x}ull)",
                           value.bitcastToAPInt().getZExtValue());
    char text[64];
    std::snprintf(text, sizeof text, "%a", number);
    return text;
  }
  APFloat single = value;
  bool lost;
  single.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
  float number = single.convertToFloat();
  if (!std::isfinite(number))
    return llvm::formatv("kiln::cuda::bitsFloat({0:x}u)",
                         single.bitcastToAPInt().getZExtValue());
  char text[64];
  std::snprintf(text, sizeof text, "%af", double(number));
  return text;
}

/// An affine expression over loop variables as C++ (empty if it uses
/// symbols). Affine mod and floordiv round toward negative infinity.
std::string mlir::kiln::cuda::affineExpression(AffineExpr expr,
                                              ArrayRef<std::string> dims) {
  if (auto constant = dyn_cast<AffineConstantExpr>(expr))
    return integerLiteral(constant.getValue());
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dims[dim.getPosition()];
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return "";
  std::string l = affineExpression(binary.getLHS(), dims);
  std::string r = affineExpression(binary.getRHS(), dims);
  if (l.empty() || r.empty())
    return "";
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return "(" + l + " + " + r + ")";
  case AffineExprKind::Mul:
    return "(" + l + " * " + r + ")";
  case AffineExprKind::Mod:
    return "(((" + l + ") % " + r + " + " + r + ") % " + r + ")";
  case AffineExprKind::FloorDiv:
    return "kiln::cuda::floorDiv<int64_t>(" + l + ", " + r + ")";
  case AffineExprKind::CeilDiv:
    return "kiln::cuda::ceilDiv<int64_t>(" + l + ", " + r + ")";
  default:
    return "";
  }
}

/// `combiner` (an associative float op) applied to two C++ values.
std::string mlir::kiln::cuda::combine(Operation *combiner, const std::string &a,
                                     const std::string &b) {
  return TypeSwitch<Operation *, std::string>(combiner)
      .Case([&](arith::AddFOp) { return "(" + a + " + " + b + ")"; })
      .Case([&](arith::MulFOp) { return "(" + a + " * " + b + ")"; })
      .Case([&](arith::MaximumFOp) {
        return "kiln::cuda::maximumf(" + a + ", " + b + ")";
      })
      .Case([&](arith::MinimumFOp) {
        return "kiln::cuda::minimumf(" + a + ", " + b + ")";
      })
      .Case([&](arith::MaxNumFOp) { return "fmaxf(" + a + ", " + b + ")"; })
      .Case([&](arith::MinNumFOp) { return "fminf(" + a + ", " + b + ")"; })
      .Default([&](Operation *) { return std::string(); });
}

FailureOr<std::string> mlir::kiln::cuda::constantExpression(arith::ConstantOp op) {
  Type type = op.getType();
  if (auto value = dyn_cast<FloatAttr>(op.getValue()))
    return floatLiteral(value.getValue(), type);
  if (auto value = dyn_cast<IntegerAttr>(op.getValue())) {
    if (type.isInteger(1))
      return std::string(value.getValue().isZero() ? "false" : "true");
    FailureOr<std::string> cType = registerType(type, op);
    if (failed(cType))
      return failure();
    APInt bits = value.getValue();
    int64_t number = type.isIndex() ? bits.getSExtValue()
                                    : bits.sextOrTrunc(64).getSExtValue();
    if (number == INT64_MIN)
      return *cType + "(0x8000000000000000ull)";
    if (type.isIndex() && number >= INT32_MIN && number <= INT32_MAX)
      return integerLiteral(number);
    return *cType + "(" + integerLiteral(number) + (type.isInteger(64) ||
                                                            type.isIndex()
                                                        ? "ll"
                                                        : "") +
           ")";
  }
  return op.emitError() << "CUDA code generation does not support the "
                           "constant "
                        << op.getValue();
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// `expression` rounded to the result type where that is a 16-bit float.
static std::string rounded(Type type, const std::string &expression) {
  if (type.isF16())
    return "kiln::cuda::roundF16(" + expression + ")";
  if (type.isBF16())
    return "kiln::cuda::roundBf16(" + expression + ")";
  return expression;
}

/// The C library's name of a float function for `type` ("expf", "exp").
static std::string libm(StringRef function, Type type) {
  return type.isF64() ? function.str() : (function + "f").str();
}

static FailureOr<std::string>
mathExpression(Operation *op, function_ref<std::string(Value)> name) {
  Type type = op->getResult(0).getType();
  auto operand = [&](unsigned i) { return name(op->getOperand(i)); };
  auto call = [&](StringRef function) {
    SmallVector<std::string> arguments;
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      arguments.push_back(operand(i));
    return rounded(type, libm(function, type) + "(" +
                             join(arguments, ", ") + ")");
  };
  return TypeSwitch<Operation *, FailureOr<std::string>>(op)
      .Case([&](math::ExpOp) { return call("exp"); })
      .Case([&](math::Exp2Op) { return call("exp2"); })
      .Case([&](math::ExpM1Op) { return call("expm1"); })
      .Case([&](math::LogOp) { return call("log"); })
      .Case([&](math::Log2Op) { return call("log2"); })
      .Case([&](math::Log10Op) { return call("log10"); })
      .Case([&](math::Log1pOp) { return call("log1p"); })
      .Case([&](math::SqrtOp) { return call("sqrt"); })
      .Case([&](math::RsqrtOp) { return call("rsqrt"); })
      .Case([&](math::CbrtOp) { return call("cbrt"); })
      .Case([&](math::TanhOp) { return call("tanh"); })
      .Case([&](math::SinOp) { return call("sin"); })
      .Case([&](math::CosOp) { return call("cos"); })
      .Case([&](math::TanOp) { return call("tan"); })
      .Case([&](math::AsinOp) { return call("asin"); })
      .Case([&](math::AcosOp) { return call("acos"); })
      .Case([&](math::AtanOp) { return call("atan"); })
      .Case([&](math::Atan2Op) { return call("atan2"); })
      .Case([&](math::SinhOp) { return call("sinh"); })
      .Case([&](math::CoshOp) { return call("cosh"); })
      .Case([&](math::AsinhOp) { return call("asinh"); })
      .Case([&](math::AcoshOp) { return call("acosh"); })
      .Case([&](math::AtanhOp) { return call("atanh"); })
      .Case([&](math::ErfOp) { return call("erf"); })
      .Case([&](math::PowFOp) { return call("pow"); })
      .Case([&](math::AbsFOp) { return call("fabs"); })
      .Case([&](math::FloorOp) { return call("floor"); })
      .Case([&](math::CeilOp) { return call("ceil"); })
      .Case([&](math::RoundOp) { return call("round"); })
      .Case([&](math::RoundEvenOp) { return call("rint"); })
      .Case([&](math::TruncOp) { return call("trunc"); })
      .Case([&](math::CopySignOp) { return call("copysign"); })
      .Case([&](math::FmaOp) { return call("fma"); })
      .Case([&](math::FPowIOp) {
        return rounded(type, libm("pow", type) + "(" + operand(0) + ", " +
                                 (type.isF64() ? "double(" : "float(") +
                                 operand(1) + "))");
      })
      .Case([&](math::AbsIOp) -> FailureOr<std::string> {
        FailureOr<std::string> cType = registerType(type, op);
        if (failed(cType))
          return failure();
        return *cType + "(" + operand(0) + " < 0 ? " + unsignedType(type) +
               "(0) - " + unsignedType(type) + "(" + operand(0) + ") : " +
               operand(0) + ")";
      })
      .Default([&](Operation *other) -> FailureOr<std::string> {
        return other->emitError()
               << "CUDA code generation does not support '"
               << other->getName() << "'";
      });
}

static std::string comparison(arith::CmpFPredicate predicate, const std::string &a,
                       const std::string &b) {
  using P = arith::CmpFPredicate;
  auto isNan = [](const std::string &x) { return "(" + x + " != " + x + ")"; };
  switch (predicate) {
  case P::AlwaysFalse:
    return "false";
  case P::AlwaysTrue:
    return "true";
  case P::OEQ:
    return "(" + a + " == " + b + ")";
  case P::OGT:
    return "(" + a + " > " + b + ")";
  case P::OGE:
    return "(" + a + " >= " + b + ")";
  case P::OLT:
    return "(" + a + " < " + b + ")";
  case P::OLE:
    return "(" + a + " <= " + b + ")";
  case P::ONE:
    return "(" + a + " < " + b + " || " + a + " > " + b + ")";
  case P::ORD:
    return "!(" + isNan(a) + " || " + isNan(b) + ")";
  case P::UEQ:
    return "!(" + a + " < " + b + " || " + a + " > " + b + ")";
  case P::UGT:
    return "!(" + a + " <= " + b + ")";
  case P::UGE:
    return "!(" + a + " < " + b + ")";
  case P::ULT:
    return "!(" + a + " >= " + b + ")";
  case P::ULE:
    return "!(" + a + " > " + b + ")";
  case P::UNE:
    return "(" + a + " != " + b + ")";
  case P::UNO:
    return "(" + isNan(a) + " || " + isNan(b) + ")";
  }
  return "false";
}

static FailureOr<std::string>
arithExpression(Operation *op, function_ref<std::string(Value)> name) {
  Type type = op->getNumResults() ? op->getResult(0).getType() : Type();
  auto operand = [&](unsigned i) { return name(op->getOperand(i)); };
  FailureOr<std::string> cTypeOr = registerType(type, op);
  if (failed(cTypeOr))
    return failure();
  std::string cType = *cTypeOr;
  auto binary = [&](StringRef symbol) {
    return rounded(type, "(" + operand(0) + " " + symbol.str() + " " +
                             operand(1) + ")");
  };
  // Integer arithmetic wraps: done on the unsigned type.
  auto wrapping = [&](StringRef symbol) {
    std::string u = unsignedType(type);
    return cType + "(" + u + "(" + operand(0) + ") " + symbol.str() + " " +
           u + "(" + operand(1) + "))";
  };
  auto onUnsigned = [&](StringRef symbol) {
    std::string u = unsignedType(type);
    return cType + "(" + u + "(" + operand(0) + ") " + symbol.str() + " " +
           u + "(" + operand(1) + "))";
  };
  auto shiftCount = [&]() {
    return "(" + unsignedType(type) + "(" + operand(1) + ") & " +
           std::to_string(type.getIntOrFloatBitWidth() - 1) + ")";
  };
  auto pick = [&](StringRef condition) {
    return "(" + condition.str() + " ? " + operand(0) + " : " + operand(1) +
           ")";
  };
  auto convert = [&](const std::string &value) {
    return rounded(type, cType + "(" + value + ")");
  };
  Type sourceType = op->getNumOperands() ? op->getOperand(0).getType() : Type();

  return TypeSwitch<Operation *, FailureOr<std::string>>(op)
      .Case([&](arith::AddFOp) { return binary("+"); })
      .Case([&](arith::SubFOp) { return binary("-"); })
      .Case([&](arith::MulFOp) { return binary("*"); })
      .Case([&](arith::DivFOp) { return binary("/"); })
      .Case([&](arith::RemFOp) {
        return rounded(type, libm("fmod", type) + "(" + operand(0) + ", " +
                                 operand(1) + ")");
      })
      .Case([&](arith::NegFOp) { return "(-" + operand(0) + ")"; })
      .Case([&](arith::MaximumFOp) {
        return "kiln::cuda::maximumf(" + operand(0) + ", " + operand(1) + ")";
      })
      .Case([&](arith::MinimumFOp) {
        return "kiln::cuda::minimumf(" + operand(0) + ", " + operand(1) + ")";
      })
      .Case([&](arith::MaxNumFOp) {
        return libm("fmax", type) + "(" + operand(0) + ", " + operand(1) + ")";
      })
      .Case([&](arith::MinNumFOp) {
        return libm("fmin", type) + "(" + operand(0) + ", " + operand(1) + ")";
      })
      .Case([&](arith::AddIOp) -> std::string {
        if (type.isInteger(1))
          return "(" + operand(0) + " != " + operand(1) + ")";
        return wrapping("+");
      })
      .Case([&](arith::SubIOp) -> std::string {
        if (type.isInteger(1))
          return "(" + operand(0) + " != " + operand(1) + ")";
        return wrapping("-");
      })
      .Case([&](arith::MulIOp) -> std::string {
        if (type.isInteger(1))
          return "(" + operand(0) + " && " + operand(1) + ")";
        return wrapping("*");
      })
      .Case([&](arith::DivSIOp) { return cType + "(" + operand(0) + " / " + operand(1) + ")"; })
      .Case([&](arith::RemSIOp) { return cType + "(" + operand(0) + " % " + operand(1) + ")"; })
      .Case([&](arith::DivUIOp) { return onUnsigned("/"); })
      .Case([&](arith::RemUIOp) { return onUnsigned("%"); })
      .Case([&](arith::FloorDivSIOp) {
        return "kiln::cuda::floorDiv<" + cType + ">(" + operand(0) + ", " +
               operand(1) + ")";
      })
      .Case([&](arith::CeilDivSIOp) {
        return "kiln::cuda::ceilDiv<" + cType + ">(" + operand(0) + ", " +
               operand(1) + ")";
      })
      .Case([&](arith::CeilDivUIOp) {
        std::string u = unsignedType(type);
        return cType + "((" + u + "(" + operand(0) + ") + " + u + "(" +
               operand(1) + ") - 1) / " + u + "(" + operand(1) + "))";
      })
      .Case([&](arith::AndIOp) { return "(" + operand(0) + " & " + operand(1) + ")"; })
      .Case([&](arith::OrIOp) { return "(" + operand(0) + " | " + operand(1) + ")"; })
      .Case([&](arith::XOrIOp) -> std::string {
        if (type.isInteger(1))
          return "(" + operand(0) + " != " + operand(1) + ")";
        return cType + "(" + operand(0) + " ^ " + operand(1) + ")";
      })
      .Case([&](arith::ShLIOp) {
        return cType + "(" + unsignedType(type) + "(" + operand(0) + ") << " +
               shiftCount() + ")";
      })
      .Case([&](arith::ShRSIOp) {
        return cType + "(" + operand(0) + " >> " + shiftCount() + ")";
      })
      .Case([&](arith::ShRUIOp) {
        return cType + "(" + unsignedType(type) + "(" + operand(0) + ") >> " +
               shiftCount() + ")";
      })
      .Case([&](arith::MaxSIOp) { return pick(operand(0) + " > " + operand(1)); })
      .Case([&](arith::MinSIOp) { return pick(operand(0) + " < " + operand(1)); })
      .Case([&](arith::MaxUIOp) {
        std::string u = unsignedType(type);
        return pick(u + "(" + operand(0) + ") > " + u + "(" + operand(1) + ")");
      })
      .Case([&](arith::MinUIOp) {
        std::string u = unsignedType(type);
        return pick(u + "(" + operand(0) + ") < " + u + "(" + operand(1) + ")");
      })
      .Case([&](arith::CmpIOp cmp) -> std::string {
        using P = arith::CmpIPredicate;
        std::string a = operand(0), b = operand(1);
        std::string u = unsignedType(cmp.getLhs().getType());
        switch (cmp.getPredicate()) {
        case P::eq:
          return "(" + a + " == " + b + ")";
        case P::ne:
          return "(" + a + " != " + b + ")";
        case P::slt:
          return "(" + a + " < " + b + ")";
        case P::sle:
          return "(" + a + " <= " + b + ")";
        case P::sgt:
          return "(" + a + " > " + b + ")";
        case P::sge:
          return "(" + a + " >= " + b + ")";
        case P::ult:
          return "(" + u + "(" + a + ") < " + u + "(" + b + "))";
        case P::ule:
          return "(" + u + "(" + a + ") <= " + u + "(" + b + "))";
        case P::ugt:
          return "(" + u + "(" + a + ") > " + u + "(" + b + "))";
        case P::uge:
          return "(" + u + "(" + a + ") >= " + u + "(" + b + "))";
        }
        return "false";
      })
      .Case([&](arith::CmpFOp cmp) {
        return comparison(cmp.getPredicate(), operand(0), operand(1));
      })
      .Case([&](arith::SelectOp) {
        return "(" + operand(0) + " ? " + operand(1) + " : " + operand(2) + ")";
      })
      .Case([&](arith::ExtSIOp) -> std::string {
        if (sourceType.isInteger(1))
          return cType + "(" + operand(0) + " ? -1 : 0)";
        return cType + "(" + operand(0) + ")";
      })
      .Case([&](arith::ExtUIOp) {
        return cType + "(" + unsignedType(sourceType) + "(" + operand(0) + "))";
      })
      .Case([&](arith::TruncIOp) -> std::string {
        if (type.isInteger(1))
          return "bool(" + operand(0) + " & 1)";
        return cType + "(" + operand(0) + ")";
      })
      .Case([&](arith::IndexCastOp) -> std::string {
        if (type.isInteger(1))
          return "bool(" + operand(0) + " & 1)";
        return cType + "(" + operand(0) + ")";
      })
      .Case([&](arith::IndexCastUIOp) -> std::string {
        if (type.isInteger(1))
          return "bool(" + operand(0) + " & 1)";
        return cType + "(" + unsignedType(sourceType) + "(" + operand(0) + "))";
      })
      .Case([&](arith::SIToFPOp) { return convert(operand(0)); })
      .Case([&](arith::UIToFPOp) {
        return convert(unsignedType(sourceType) + "(" + operand(0) + ")");
      })
      .Case([&](arith::FPToSIOp) {
        return "kiln::cuda::floatToInt<" + cType + ">(" + operand(0) + ")";
      })
      .Case([&](arith::FPToUIOp) {
        return cType + "(kiln::cuda::floatToInt<" + unsignedType(type) + ">(" +
               operand(0) + "))";
      })
      .Case([&](arith::ExtFOp) { return convert(operand(0)); })
      .Case([&](arith::TruncFOp) { return convert(operand(0)); })
      .Case([&](arith::BitcastOp) -> FailureOr<std::string> {
        std::string value = operand(0);
        if (sourceType.isF32())
          value = "kiln::cuda::floatBits(" + value + ")";
        else if (sourceType.isF64())
          value = "kiln::cuda::doubleBits(" + value + ")";
        else if (sourceType.isF16())
          value = "kiln::cuda::floatToF16(" + value + ")";
        else if (sourceType.isBF16())
          value = "kiln::cuda::floatToBf16(" + value + ")";
        else if (sourceType.isInteger(1) || type.isInteger(1))
          return cType + "(" + value + ")";
        else
          value = unsignedType(sourceType) + "(" + value + ")";
        if (type.isF32())
          return "kiln::cuda::bitsFloat(" + value + ")";
        if (type.isF64())
          return "kiln::cuda::bitsDouble(" + value + ")";
        if (type.isF16())
          return "kiln::cuda::f16ToFloat(" + value + ")";
        if (type.isBF16())
          return "kiln::cuda::bf16ToFloat(" + value + ")";
        return cType + "(" + value + ")";
      })
      .Default([&](Operation *other) -> FailureOr<std::string> {
        return other->emitError()
               << "CUDA code generation does not support '"
               << other->getName() << "'";
      });
}


FailureOr<std::string>
mlir::kiln::cuda::scalarExpression(Operation *op,
                                   function_ref<std::string(Value)> name) {
  if (auto constantOp = dyn_cast<arith::ConstantOp>(op))
    return constantExpression(constantOp);
  if (isa<math::MathDialect>(op->getDialect()))
    return mathExpression(op, name);
  if (isa<arith::ArithDialect>(op->getDialect()))
    return arithExpression(op, name);
  return op->emitError() << "CUDA code generation does not support '"
                         << op->getName() << "'";
}

