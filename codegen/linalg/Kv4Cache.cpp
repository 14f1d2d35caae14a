//===- Kv4Cache.cpp - kiln.pack_kv4 and kiln.unpack_kv4 to linalg ---------===//
//
// The 4-bit KV cache's rows: a reduction to each row's range, then one
// generic over the packed bytes (two nibbles, or a byte of the f16 scale
// or zero point) that reads the row's values where it needs them; and the
// inverse, one generic over the values that reads their bytes.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::kiln;

namespace {

Value f32Constant(OpBuilder &b, Location loc, float value) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return b.create<arith::ConstantIndexOp>(loc, value);
}

/// The right shift (i16) that brings part `index % 2` of a pair of
/// `bits`-bit parts down: 0 or `bits`.
Value pairShift(OpBuilder &b, Location loc, Value index, int64_t bits) {
  Value odd = b.create<arith::RemUIOp>(loc, index, indexConstant(b, loc, 2));
  return b.create<arith::IndexCastOp>(
      loc, b.getI16Type(),
      b.create<arith::MulIOp>(loc, odd, indexConstant(b, loc, bits)));
}

/// `value` rounded to f16 and back.
Value roundToF16(OpBuilder &b, Location loc, Value value) {
  Value half = b.create<arith::TruncFOp>(loc, b.getF16Type(), value);
  return b.create<arith::ExtFOp>(loc, b.getF32Type(), half);
}

/// The position of the element being generated: its row's indices (all but
/// the last) and its index along the last dimension.
std::pair<SmallVector<Value>, Value> positionOf(OpBuilder &b, Location loc,
                                                int64_t rank) {
  SmallVector<Value> row;
  for (int64_t d = 0; d + 1 < rank; ++d)
    row.push_back(b.create<linalg::IndexOp>(loc, d));
  return {row, b.create<linalg::IndexOp>(loc, rank - 1)};
}

/// Element `column` of row `row` of `tensor`.
Value extractAt(OpBuilder &b, Location loc, Value tensor, ValueRange row,
                Value column) {
  SmallVector<Value> indices(row);
  indices.push_back(column);
  return b.create<tensor::ExtractOp>(loc, tensor, indices);
}

struct LowerPackKv4 : OpRewritePattern<PackKv4Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PackKv4Op op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank(), d = type.getShape().back();
    SmallVector<Value> sizes = dynamicSizesOf(rewriter, loc, x);
    // The leading dimensions (the rows') are the dynamic ones: D is static.
    ValueRange rowSizes(sizes);
    ArrayRef<int64_t> rowShape = type.getShape().drop_back();
    // Each row's minimum and maximum, in one reduction.
    float infinity = std::numeric_limits<float>::infinity();
    Value lows = filledTensor(rewriter, loc, rowShape,
                              rewriter.getF32FloatAttr(infinity), rowSizes);
    Value highs = filledTensor(rewriter, loc, rowShape,
                               rewriter.getF32FloatAttr(-infinity), rowSizes);
    auto range = rewriter.create<linalg::ReduceOp>(
        loc, ValueRange{x, x}, ValueRange{lows, highs},
        ArrayRef<int64_t>{rank - 1},
        [&](OpBuilder &b, Location at, ValueRange args) {
          b.create<linalg::YieldOp>(
              at,
              ValueRange{b.create<arith::MinimumFOp>(at, args[0], args[2]),
                         b.create<arith::MaximumFOp>(at, args[1], args[3])});
        });
    // Each row's s and z, once: as f16 holds them (a constant row takes
    // s = 1).
    int64_t rowRank = rank - 1;
    AffineMap identity = rewriter.getMultiDimIdentityMap(rowRank);
    auto emptyRows = [&]() -> Value {
      return rewriter.create<tensor::EmptyOp>(loc, rowShape,
                                              rewriter.getF32Type(), rowSizes);
    };
    auto rowType = RankedTensorType::get(rowShape, rewriter.getF32Type());
    auto parameters = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{rowType, rowType},
        ValueRange{range.getResult(0), range.getResult(1)},
        ValueRange{emptyRows(), emptyRows()},
        SmallVector<AffineMap>(4, identity),
        SmallVector<utils::IteratorType>(rowRank,
                                         utils::IteratorType::parallel),
        [&](OpBuilder &b, Location at, ValueRange args) {
          Value span = b.create<arith::SubFOp>(at, args[1], args[0]);
          Value constantRow = b.create<arith::CmpFOp>(
              at, arith::CmpFPredicate::OEQ, span, f32Constant(b, at, 0));
          Value scale = b.create<arith::SelectOp>(
              at, constantRow, f32Constant(b, at, 1),
              b.create<arith::DivFOp>(at, span, f32Constant(b, at, 15)));
          scale = roundToF16(b, at, scale);
          Value zero =
              roundToF16(b, at,
                         b.create<arith::NegFOp>(
                             at, b.create<arith::DivFOp>(at, args[0], scale)));
          b.create<linalg::YieldOp>(at, ValueRange{scale, zero});
        });
    Value scales = parameters.getResult(0), zeros = parameters.getResult(1);

    rewriter.replaceOp(
        op,
        generateTensor(
            rewriter, loc, resultType, sizes,
            [&](OpBuilder &b, Location at) -> Value {
              auto [row, column] = positionOf(b, at, rank);
              Value scale = b.create<tensor::ExtractOp>(at, scales, row);
              Value zero = b.create<tensor::ExtractOp>(at, zeros, row);
              auto nibble = [&](Value index) {
                Value value = extractAt(b, at, x, row, index);
                Value q = b.create<math::RoundEvenOp>(
                    at,
                    b.create<arith::AddFOp>(
                        at, b.create<arith::DivFOp>(at, value, scale), zero));
                q = b.create<arith::MinimumFOp>(
                    at,
                    b.create<arith::MaximumFOp>(at, q, f32Constant(b, at, 0)),
                    f32Constant(b, at, 15));
                return b.create<arith::FPToUIOp>(at, b.getI8Type(), q);
              };
              // Byte j < D/2: elements 2j (low) and 2j + 1 (high),
              // read at a valid index whichever byte this is.
              Value half = indexConstant(b, at, d / 2);
              Value isValue = b.create<arith::CmpIOp>(
                  at, arith::CmpIPredicate::ult, column, half);
              Value pair = b.create<arith::MulIOp>(
                  at,
                  b.create<arith::MinUIOp>(at, column,
                                           indexConstant(b, at, d / 2 - 1)),
                  indexConstant(b, at, 2));
              Value packed = b.create<arith::OrIOp>(
                  at, nibble(pair),
                  b.create<arith::ShLIOp>(
                      at,
                      nibble(b.create<arith::AddIOp>(at, pair,
                                                     indexConstant(b, at, 1))),
                      b.create<arith::ConstantIntOp>(at, 4, 8)));
              // Bytes D/2 .. D/2 + 3: s and z as f16, little-endian.
              auto bitsOf = [&](Value value) {
                Value half =
                    b.create<arith::TruncFOp>(at, b.getF16Type(), value);
                return b.create<arith::BitcastOp>(at, b.getI16Type(), half);
              };
              Value parameter = b.create<arith::SubIOp>(at, column, half);
              Value isScale =
                  b.create<arith::CmpIOp>(at, arith::CmpIPredicate::ult,
                                          parameter, indexConstant(b, at, 2));
              Value word = b.create<arith::SelectOp>(at, isScale, bitsOf(scale),
                                                     bitsOf(zero));
              Value shift = pairShift(b, at, parameter, 8);
              Value byte = b.create<arith::TruncIOp>(
                  at, b.getI8Type(), b.create<arith::ShRUIOp>(at, word, shift));
              return b.create<arith::SelectOp>(at, isValue, packed, byte);
            }));
    return success();
  }
};

struct LowerUnpackKv4 : OpRewritePattern<UnpackKv4Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnpackKv4Op op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value packed = op.getInput();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank(), d = resultType.getShape().back();
    SmallVector<Value> sizes = dynamicSizesOf(rewriter, loc, packed);
    rewriter.replaceOp(
        op,
        generateTensor(
            rewriter, loc, resultType, sizes,
            [&](OpBuilder &b, Location at) -> Value {
              auto [row, column] = positionOf(b, at, rank);
              auto byteAt = [&](Value index) {
                return b.create<arith::ExtUIOp>(
                    at, b.getI16Type(), extractAt(b, at, packed, row, index));
              };
              // An f16 from its two bytes at D/2 + offset.
              auto halfAt = [&](int64_t offset) {
                Value lowByte = byteAt(indexConstant(b, at, d / 2 + offset));
                Value highByte =
                    byteAt(indexConstant(b, at, d / 2 + offset + 1));
                Value bits = b.create<arith::OrIOp>(
                    at, lowByte,
                    b.create<arith::ShLIOp>(
                        at, highByte,
                        b.create<arith::ConstantIntOp>(at, 8, 16)));
                Value half =
                    b.create<arith::BitcastOp>(at, b.getF16Type(), bits);
                return b.create<arith::ExtFOp>(at, b.getF32Type(), half);
              };
              Value byte = byteAt(b.create<arith::DivUIOp>(
                  at, column, indexConstant(b, at, 2)));
              Value shift = pairShift(b, at, column, 4);
              Value q = b.create<arith::AndIOp>(
                  at, b.create<arith::ShRUIOp>(at, byte, shift),
                  b.create<arith::ConstantIntOp>(at, 15, 16));
              Value value = b.create<arith::UIToFPOp>(at, b.getF32Type(), q);
              return b.create<arith::MulFOp>(
                  at, b.create<arith::SubFOp>(at, value, halfAt(2)), halfAt(0));
            }));
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkKv4CacheLowering(Operation *op) {
  if (isa<PackKv4Op, UnpackKv4Op>(op))
    return std::nullopt; // The verifier has checked the types.
  return std::string();
}

void mlir::kiln::populateKv4CacheLowering(RewritePatternSet &patterns) {
  patterns.add<LowerPackKv4, LowerUnpackKv4>(patterns.getContext());
}
