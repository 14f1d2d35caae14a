//===- PageSelectionOps.cpp - Quest's kiln.page_bounds, kiln.page_scores and
//                            kiln.select_pages
//                            ----------------------------===//

#include "dialects/kiln/KernelForms.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Bounds [G, 2 N, D] f32 or bf16, D static and N whole.
LogicalResult verifyBounds(Operation *op, Value bounds) {
  ArrayRef<int64_t> shape = shapeOf(bounds);
  Type element = elementOf(bounds);
  if (shape.size() != 3 || !(element.isF32() || element.isBF16()) ||
      ShapedType::isDynamic(shape[2]) ||
      (!ShapedType::isDynamic(shape[1]) && shape[1] % 2))
    return op->emitOpError("takes bounds [G, 2 N, D] of f32 or bf16 (a "
                           "minimum and a maximum row per page), D static, "
                           "not ")
           << bounds.getType();
  return success();
}

} // namespace

LogicalResult PageBoundsOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)) ||
      failed(verifyBounds(*this, getInit())))
    return failure();
  if (getPageSize() < 1)
    return emitOpError("needs a positive page_size, not ") << getPageSize();
  ArrayRef<int64_t> keys = shapeOf(getKeys()), bounds = shapeOf(getInit());
  Type element = elementOf(getKeys());
  bool packed = element.isInteger(8);
  if (keys.size() != 3 || !(element.isF32() || element.isBF16() || packed))
    return emitOpError("takes keys [G, C, W] of f32, bf16 or 4-bit rows (i8)");
  int64_t depth =
      packed && !ShapedType::isDynamic(keys[2]) ? (keys[2] - 4) * 2 : keys[2];
  if (depth != bounds[2])
    return emitOpError("keys of ")
           << depth << " channels cannot have bounds of " << bounds[2];
  if (differ(keys[0], bounds[0]))
    return emitOpError("keys have ")
           << keys[0] << " heads, the bounds " << bounds[0];
  if (!ShapedType::isDynamic(keys[1]) && !ShapedType::isDynamic(bounds[1]) &&
      bounds[1] / 2 * getPageSize() < keys[1])
    return emitOpError("bounds for ")
           << bounds[1] / 2 << " pages of " << getPageSize() << " cannot cover "
           << keys[1] << " keys";
  return success();
}

void PageBoundsOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/true, effects);
}

std::pair<Value, Value> PageBoundsOp::buildTouchedPages(OpBuilder &b) {
  Location loc = getLoc();
  Value page = b.create<arith::ConstantIndexOp>(loc, getPageSize());
  Value first = b.createOrFold<arith::DivUIOp>(loc, getFrom(), page);
  Value end = b.createOrFold<arith::DivUIOp>(
      loc,
      b.createOrFold<arith::AddIOp>(
          loc, getTo(),
          b.create<arith::ConstantIndexOp>(loc, getPageSize() - 1)),
      page);
  // No rows written (from = to on a page boundary): no page.
  Value count = b.create<arith::SubIOp>(
      loc, b.create<arith::MaxUIOp>(loc, end, first), first);
  return {first, count};
}

std::pair<Value, Value> PageBoundsOp::buildRowsOf(OpBuilder &b, Value page) {
  Location loc = getLoc();
  Value rows = b.create<arith::ConstantIndexOp>(loc, getPageSize());
  Value begin = b.create<arith::MulIOp>(loc, page, rows);
  Value end = b.create<arith::MinUIOp>(
      loc, b.create<arith::AddIOp>(loc, begin, rows), getTo());
  return {begin, end};
}

LogicalResult PageScoresOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)) ||
      failed(verifyBounds(*this, getBounds())))
    return failure();
  ArrayRef<int64_t> query = shapeOf(getQuery()), bounds = shapeOf(getBounds()),
                    scores = shapeOf(getInit());
  if (query.size() != 3 || !elementOf(getQuery()).isF32() ||
      query[2] != bounds[2])
    return emitOpError("takes a query [G, R, D] of f32 with the bounds' D (")
           << bounds[2] << ")";
  if (scores.size() != 2 || !elementOf(getInit()).isF32() ||
      (!ShapedType::isDynamic(bounds[1]) && differ(scores[1], bounds[1] / 2)))
    return emitOpError("writes scores [G, N] of f32, N the bounds' pages");
  if (differ(query[0], bounds[0]) || differ(scores[0], bounds[0]))
    return emitOpError("query, bounds and scores must have the same heads");
  return success();
}

void PageScoresOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult SelectPagesOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)))
    return failure();
  ArrayRef<int64_t> scores = shapeOf(getScores()), table = shapeOf(getInit());
  if (scores.size() != 2 || !elementOf(getScores()).isF32())
    return emitOpError("takes scores [G, N] of f32");
  if (table.size() != 2 || !elementOf(getInit()).isInteger(32) ||
      ShapedType::isDynamic(table[1]) || table[1] < 1)
    return emitOpError("writes a table [G, K] of i32, K static and positive");
  if (differ(scores[0], table[0]))
    return emitOpError("scores and table must have the same heads");
  return success();
}

void SelectPagesOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

Value PageBoundsOp::buildStored(OpBuilder &b, Value bound, bool isMaximum) {
  Type element = elementOf(getInit());
  if (element.isF32())
    return bound;
  // bf16 keeps an f32's upper 16 bits: dropping the rest moves a value
  // toward zero, so a maximum above zero or a minimum below it whose
  // dropped bits are not all zero steps one unit away from zero instead.
  Location loc = getLoc();
  Type bits = b.getI32Type(), narrow = element;
  if (auto vector = dyn_cast<VectorType>(bound.getType())) {
    bits = vector.clone(bits);
    narrow = vector.clone(element);
  }
  auto constant = [&](int64_t value) -> Value {
    Value scalar = b.create<arith::ConstantIntOp>(loc, value, 32);
    if (auto vector = dyn_cast<VectorType>(bits))
      return b.create<vector::BroadcastOp>(loc, vector, scalar);
    return scalar;
  };
  Value word = b.create<arith::BitcastOp>(loc, bits, bound);
  Value kept = b.create<arith::AndIOp>(loc, word, constant(0xFFFF0000));
  Value inexact =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, kept, word);
  // Outward: up from a maximum at or above +0, down from a minimum below.
  Value outward = b.create<arith::CmpIOp>(
      loc, isMaximum ? arith::CmpIPredicate::sge : arith::CmpIPredicate::slt,
      word, constant(0));
  Value away = b.create<arith::AndIOp>(loc, inexact, outward);
  Value rounded = b.create<arith::SelectOp>(
      loc, away, b.create<arith::AddIOp>(loc, kept, constant(0x10000)), kept);
  // Exactly a bf16 now, so the narrowing rounds nothing.
  return b.create<arith::TruncFOp>(
      loc, narrow, b.create<arith::BitcastOp>(loc, bound.getType(), rounded));
}
