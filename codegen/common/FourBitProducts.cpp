//===- FourBitProducts.cpp - products by 4-bit weights in groups ----------===//

#include "codegen/common/FourBitProducts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::kiln;

Value mlir::kiln::buildFourBitProduct(OpBuilder &b, Location loc,
                                      Value activations, Value nibbles,
                                      Value scales, Value zeros,
                                      int64_t groupSize, Value init) {
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
  AffineMap groups =
      AffineMap::get(loops, 0, {k.floorDiv(groupSize), n}, context);
  SmallVector<AffineMap> maps = {
      AffineMap::get(loops, 0, rows, context),
      AffineMap::get(loops, 0, {n, k.floorDiv(2)}, context),
      AffineMap::get(loops, 0, {k % 2}, context),
      groups,
      groups,
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
        Value level = nested.create<arith::SIToFPOp>(
            at, nested.getF32Type(),
            nested.create<arith::SubIOp>(at, nibble, args[kFourBitZeros]));
        Value scale = args[kFourBitScales];
        if (!scale.getType().isF32())
          scale = nested.create<arith::ExtFOp>(at, nested.getF32Type(), scale);
        Value weight = nested.create<arith::MulFOp>(at, level, scale);
        Value product =
            nested.create<arith::MulFOp>(at, args[kFourBitActivations], weight);
        nested.create<linalg::YieldOp>(
            at,
            ValueRange{nested.create<arith::AddFOp>(at, args.back(), product)});
      });
  return generic.getResult(0);
}

namespace {

/// `value`'s defining op if it is an OpTy, else null.
template <typename OpTy> OpTy producer(Value value) {
  return value ? value.getDefiningOp<OpTy>() : OpTy();
}

/// Whether `body` is buildFourBitProduct's.
bool hasFourBitBody(Block &body) {
  auto argument = [&](Value value, unsigned position) {
    return value == body.getArgument(position);
  };
  auto sum = producer<arith::AddFOp>(body.getTerminator()->getOperand(0));
  if (!sum || !argument(sum.getLhs(), kFourBitInputCount))
    return false;
  auto product = producer<arith::MulFOp>(sum.getRhs());
  if (!product || !argument(product.getLhs(), kFourBitActivations))
    return false;
  auto weight = producer<arith::MulFOp>(product.getRhs());
  if (!weight)
    return false;
  Value scale = weight.getRhs();
  if (auto extend = producer<arith::ExtFOp>(scale))
    scale = extend.getIn();
  auto level = producer<arith::SIToFPOp>(weight.getLhs());
  auto difference =
      level ? producer<arith::SubIOp>(level.getIn()) : arith::SubIOp();
  if (!argument(scale, kFourBitScales) || !difference ||
      !argument(difference.getRhs(), kFourBitZeros))
    return false;
  auto nibble = producer<arith::AndIOp>(difference.getLhs());
  auto shifted =
      nibble ? producer<arith::ShRUIOp>(nibble.getLhs()) : arith::ShRUIOp();
  APInt mask;
  return shifted && matchPattern(nibble.getRhs(), m_ConstantInt(&mask)) &&
         mask == 15 && argument(shifted.getLhs(), kFourBitNibbles) &&
         argument(shifted.getRhs(), kFourBitShifts) &&
         llvm::count_if(body.without_terminator(), [](Operation &op) {
           return !isa<arith::ConstantOp>(op);
         }) == 7 + (scale != weight.getRhs());
}

} // namespace

std::optional<FourBitProduct>
mlir::kiln::matchFourBitProduct(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != kFourBitInputCount || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1 || op->getNumRegions() != 1)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap nibbles = maps[kFourBitNibbles], groups = maps[kFourBitScales];
  if (nibbles.getNumResults() != 2 || groups.getNumResults() != 2 ||
      maps[kFourBitZeros] != groups ||
      maps[kFourBitShifts].getNumResults() != 1)
    return std::nullopt;
  auto n = dyn_cast<AffineDimExpr>(nibbles.getResult(0));
  if (!n || groups.getResult(1) != n)
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
  if (nibbles.getResult(1) != k.floorDiv(2) ||
      maps[kFourBitShifts].getResult(0) != k % 2 || !groupSize ||
      group.getKind() != AffineExprKind::FloorDiv || group.getLHS() != k ||
      groupSize.getValue() < 1)
    return std::nullopt;
  match.groupSize = groupSize.getValue();
  if (!hasFourBitBody(*op.getBlock()))
    return std::nullopt;
  return match;
}
