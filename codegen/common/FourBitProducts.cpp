//===- FourBitProducts.cpp - products by 4-bit weights in groups ----------===//

#include "codegen/common/FourBitProducts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The maps of the nibbles, the shifts and the groups (scales and zeros)
/// over `loops` loops whose n and k are given, in `order`.
struct WeightMaps {
  AffineMap nibbles, shifts, groups;
};

WeightMaps weightMaps(unsigned loops, AffineExpr n, AffineExpr k,
                      int64_t groupSize, FourBitOrder order) {
  MLIRContext *context = n.getContext();
  auto map = [&](ArrayRef<AffineExpr> results) {
    return AffineMap::get(loops, 0, results, context);
  };
  if (order == FourBitOrder::Rows)
    return {map({n, k.floorDiv(2)}), map({k % 2}),
            map({k.floorDiv(groupSize), n})};
  // FourBitProducts.h: [N/32, K/32, r, c, h, a, e] and [K/G, N/32, r, a].
  return {map({n.floorDiv(32), k.floorDiv(32), n % 8, (k % 16).floorDiv(4),
               (k % 32).floorDiv(16), (n % 16).floorDiv(8), k % 4}),
          map({(n % 32).floorDiv(16)}),
          map({k.floorDiv(groupSize), n.floorDiv(32), n % 8,
               (n % 32).floorDiv(8)})};
}

/// The product's generic, each element's weight from `weightOf` (the
/// builder, its location, the nibble, the scale and the zero point) and
/// folded into the sum by `accumulate` (builder, location, activation,
/// weight, sum).
Value buildProduct(
    OpBuilder &b, Location loc, Value activations, Value nibbles, Value scales,
    Value zeros, int64_t groupSize, Value init, FourBitOrder order,
    function_ref<Value(OpBuilder &, Location, Value, Value, Value)> weightOf,
    function_ref<Value(OpBuilder &, Location, Value, Value, Value)>
        accumulate) {
  MLIRContext *context = b.getContext();
  int64_t rank = cast<ShapedType>(activations.getType()).getRank();
  // Loops: the result's dimensions (n the last), then k.
  int64_t loops = rank + 1;
  AffineExpr n = getAffineDimExpr(rank - 1, context);
  AffineExpr k = getAffineDimExpr(rank, context);
  SmallVector<AffineExpr> rows, result;
  for (int64_t d = 0; d + 1 < rank; ++d)
    rows.push_back(getAffineDimExpr(d, context));
  result = rows;
  result.push_back(n);
  rows.push_back(k);
  WeightMaps weights = weightMaps(loops, n, k, groupSize, order);
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, rows, context),
                                 weights.nibbles,
                                 weights.shifts,
                                 weights.groups,
                                 weights.groups,
                                 AffineMap::get(loops, 0, result, context)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value shifts = b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(RankedTensorType::get({2}, b.getI8Type()),
                                  ArrayRef<APInt>{APInt(8, 0), APInt(8, 4)}));
  auto generic = b.create<linalg::GenericOp>(
      loc, init.getType(),
      ValueRange{activations, nibbles, shifts, scales, zeros}, init, maps,
      iterators, [&](OpBuilder &nested, Location at, ValueRange args) {
        Value nibble = nested.create<arith::AndIOp>(
            at,
            nested.create<arith::ShRUIOp>(at, args[kFourBitNibbles],
                                          args[kFourBitShifts]),
            nested.create<arith::ConstantIntOp>(at, 15, 8));
        Value weight = weightOf(nested, at, nibble, args[kFourBitScales],
                                args[kFourBitZeros]);
        nested.create<linalg::YieldOp>(at, accumulate(nested, at,
                                                      args[kFourBitActivations],
                                                      weight, args.back()));
      });
  return generic.getResult(0);
}

} // namespace

Value mlir::kiln::buildFourBitProduct(OpBuilder &b, Location loc,
                                      Value activations, Value nibbles,
                                      Value scales, Value zeros,
                                      int64_t groupSize, Value init) {
  return buildProduct(
      b, loc, activations, nibbles, scales, zeros, groupSize, init,
      FourBitOrder::Rows,
      [](OpBuilder &nested, Location at, Value nibble, Value scale,
         Value zero) -> Value {
        Value level = nested.create<arith::SIToFPOp>(
            at, nested.getF32Type(),
            nested.create<arith::SubIOp>(at, nibble, zero));
        if (!scale.getType().isF32())
          scale = nested.create<arith::ExtFOp>(at, nested.getF32Type(), scale);
        return nested.create<arith::MulFOp>(at, level, scale);
      },
      [](OpBuilder &nested, Location at, Value x, Value weight,
         Value sum) -> Value {
        return nested.create<arith::AddFOp>(
            at, sum, nested.create<arith::MulFOp>(at, x, weight));
      });
}

Value mlir::kiln::buildFourBitIntegerProduct(OpBuilder &b, Location loc,
                                             Value activations, Value nibbles,
                                             Value scales, Value scaledZeros,
                                             int64_t groupSize, Value init,
                                             FourBitOrder order) {
  return buildProduct(
      b, loc, activations, nibbles, scales, scaledZeros, groupSize, init, order,
      [](OpBuilder &nested, Location at, Value nibble, Value scale,
         Value scaledZero) -> Value {
        return nested.create<arith::SubIOp>(
            at, nested.create<arith::MulIOp>(at, nibble, scale), scaledZero);
      },
      [](OpBuilder &nested, Location at, Value x, Value weight,
         Value sum) -> Value {
        Type i32 = nested.getI32Type();
        Value wideX = nested.create<arith::ExtSIOp>(at, i32, x);
        Value wideWeight = nested.create<arith::ExtSIOp>(at, i32, weight);
        return nested.create<arith::AddIOp>(
            at, sum, nested.create<arith::MulIOp>(at, wideX, wideWeight));
      });
}

namespace {

/// `value`'s defining op if it is an OpTy, else null.
template <typename OpTy> OpTy producer(Value value) {
  return value ? value.getDefiningOp<OpTy>() : OpTy();
}

/// The form `body` has, if it is one of the builders': nullopt, or whether
/// it is the integer one.
std::optional<bool> fourBitBodyForm(Block &body) {
  auto argument = [&](Value value, unsigned position) {
    return value == body.getArgument(position);
  };
  Value nibbleValue, scale, zero;
  Value yielded = body.getTerminator()->getOperand(0);
  bool integer = isa<IntegerType>(yielded.getType());
  size_t operations = 0;
  if (!integer) {
    // sum + x * (sitofp(nibble - z) * s), s widened to f32 if need be.
    auto sum = producer<arith::AddFOp>(yielded);
    auto product =
        sum ? producer<arith::MulFOp>(sum.getRhs()) : arith::MulFOp();
    auto weight =
        product ? producer<arith::MulFOp>(product.getRhs()) : arith::MulFOp();
    if (!weight || !argument(sum.getLhs(), kFourBitInputCount) ||
        !argument(product.getLhs(), kFourBitActivations))
      return std::nullopt;
    scale = weight.getRhs();
    if (auto extend = producer<arith::ExtFOp>(scale))
      scale = extend.getIn(), ++operations;
    auto level = producer<arith::SIToFPOp>(weight.getLhs());
    auto difference =
        level ? producer<arith::SubIOp>(level.getIn()) : arith::SubIOp();
    if (!difference)
      return std::nullopt;
    nibbleValue = difference.getLhs(), zero = difference.getRhs();
    operations += 5;
  } else {
    // sum + extsi(x) * extsi(nibble * s - zs).
    auto sum = producer<arith::AddIOp>(yielded);
    auto product =
        sum ? producer<arith::MulIOp>(sum.getRhs()) : arith::MulIOp();
    auto x =
        product ? producer<arith::ExtSIOp>(product.getLhs()) : arith::ExtSIOp();
    auto w =
        product ? producer<arith::ExtSIOp>(product.getRhs()) : arith::ExtSIOp();
    auto difference = w ? producer<arith::SubIOp>(w.getIn()) : arith::SubIOp();
    auto scaled = difference ? producer<arith::MulIOp>(difference.getLhs())
                             : arith::MulIOp();
    if (!scaled || !argument(sum.getLhs(), kFourBitInputCount) ||
        !argument(x.getIn(), kFourBitActivations))
      return std::nullopt;
    nibbleValue = scaled.getLhs(), scale = scaled.getRhs();
    zero = difference.getRhs();
    operations = 6;
  }
  auto nibble = producer<arith::AndIOp>(nibbleValue);
  auto shifted =
      nibble ? producer<arith::ShRUIOp>(nibble.getLhs()) : arith::ShRUIOp();
  APInt mask;
  if (!shifted || !matchPattern(nibble.getRhs(), m_ConstantInt(&mask)) ||
      mask != 15 || !argument(shifted.getLhs(), kFourBitNibbles) ||
      !argument(shifted.getRhs(), kFourBitShifts) ||
      !argument(scale, kFourBitScales) || !argument(zero, kFourBitZeros))
    return std::nullopt;
  // Nothing else: the shift, the mask and the ops above.
  if (size_t(llvm::count_if(body.without_terminator(), [](Operation &op) {
        return !isa<arith::ConstantOp>(op);
      })) != operations + 2)
    return std::nullopt;
  return integer;
}

} // namespace

std::optional<FourBitProduct>
mlir::kiln::matchFourBitProduct(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != kFourBitInputCount || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1 || op->getNumRegions() != 1)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap groups = maps[kFourBitScales];
  if (groups.getNumResults() < 2 || maps[kFourBitZeros] != groups)
    return std::nullopt;
  // The group is k floordiv G; n is the output's last index.
  AffineMap output = maps.back();
  if (!output.getNumResults())
    return std::nullopt;
  auto n = dyn_cast<AffineDimExpr>(output.getResults().back());
  if (!n)
    return std::nullopt;
  FourBitProduct match;
  match.nLoop = n.getPosition();
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  match.kLoop = reductions.front();
  AffineExpr k = getAffineDimExpr(match.kLoop, op.getContext());
  auto group = dyn_cast<AffineBinaryOpExpr>(groups.getResult(0));
  auto groupSize =
      group ? dyn_cast<AffineConstantExpr>(group.getRHS()) : nullptr;
  if (!groupSize || group.getKind() != AffineExprKind::FloorDiv ||
      group.getLHS() != k || groupSize.getValue() < 1)
    return std::nullopt;
  match.groupSize = groupSize.getValue();
  auto isOrder = [&](FourBitOrder order) {
    WeightMaps expected =
        weightMaps(op.getNumLoops(), n, k, match.groupSize, order);
    return maps[kFourBitNibbles] == expected.nibbles &&
           maps[kFourBitShifts] == expected.shifts && groups == expected.groups;
  };
  if (isOrder(FourBitOrder::Fragments))
    match.order = FourBitOrder::Fragments;
  else if (!isOrder(FourBitOrder::Rows))
    return std::nullopt;
  std::optional<bool> integer = fourBitBodyForm(*op.getBlock());
  if (!integer)
    return std::nullopt;
  match.integer = *integer;
  if (match.order == FourBitOrder::Fragments && !match.integer)
    return std::nullopt;
  return match;
}
