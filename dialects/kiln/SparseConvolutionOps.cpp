//===- SparseConvolutionOps.cpp - The site tables, kernel maps, gathers and
//                               scatters of sparse convolutions --------===//

#include "dialects/kiln/KernelForms.h"
#include "dialects/kiln/KilnOps.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

using Effects =
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>;

/// `pair` (named `what`): two extents, each at least `least`.
LogicalResult verifyPair(Operation *op, ArrayRef<int64_t> pair, StringRef what,
                         int64_t least) {
  if (pair.size() != 2 || pair[0] < least || pair[1] < least)
    return op->emitOpError("needs ")
           << what << " of two extents, each at least " << least;
  return success();
}

/// A site table [1 + N] of i32; with `grid`, room for its every pixel.
LogicalResult verifySiteTable(Operation *op, Value table,
                              std::optional<ArrayRef<int64_t>> grid = {}) {
  ArrayRef<int64_t> shape = shapeOf(table);
  if (shape.size() != 1 || !elementOf(table).isInteger(32) ||
      ShapedType::isDynamic(shape[0]))
    return op->emitOpError("takes a site table [1 + N] of i32, not ")
           << table.getType();
  if (grid && shape[0] != 1 + (*grid)[0] * (*grid)[1])
    return op->emitOpError("needs a site table of ")
           << 1 + (*grid)[0] * (*grid)[1] << " entries for a grid of "
           << (*grid)[0] << "x" << (*grid)[1] << ", not " << shape[0];
  return success();
}

/// Rows [n, C] of f32, n symbolic or not.
LogicalResult verifyRows(Operation *op, Value rows, StringRef what) {
  ArrayRef<int64_t> shape = shapeOf(rows);
  if (shape.size() != 2 || ShapedType::isDynamic(shape[1]) ||
      !elementOf(rows).isF32())
    return op->emitOpError("takes ")
           << what << " [n, C] of f32 (only n symbolic), not "
           << rows.getType();
  return success();
}

/// A kernel map [n_out, K] of i32, n_out symbolic or not.
LogicalResult verifyMap(Operation *op, Value map) {
  ArrayRef<int64_t> shape = shapeOf(map);
  if (shape.size() != 2 || ShapedType::isDynamic(shape[1]) ||
      !elementOf(map).isInteger(32))
    return op->emitOpError("takes a kernel map [n_out, K] of i32 (only "
                           "n_out symbolic), not ")
           << map.getType();
  return success();
}

/// An image [1, C, H, W] of f32, all static, with `channels` channels.
LogicalResult verifySiteImage(Operation *op, Value image, int64_t channels) {
  ArrayRef<int64_t> shape = shapeOf(image);
  if (shape.size() != 4 || shape[0] != 1 || !elementOf(image).isF32() ||
      !cast<ShapedType>(image.getType()).hasStaticShape())
    return op->emitOpError("takes an image [1, C, H, W] of f32 of static "
                           "shape, not ")
           << image.getType();
  if (shape[1] != channels)
    return op->emitOpError("has rows of ")
           << channels << " values for an image of " << shape[1] << " channels";
  return success();
}

} // namespace

LogicalResult ListSitesOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit())) ||
      failed(verifyPair(*this, getScale(), "a scale", 1)))
    return failure();
  ArrayRef<int64_t> mask = shapeOf(getMask());
  if (mask.size() != 4 || mask[0] != 1 || mask[1] != 1 ||
      !elementOf(getMask()).isInteger(1))
    return emitOpError("takes a mask [1, 1, h, w] of i1, not ")
           << getMask().getType();
  int64_t grid[] = {mask[2] * getScale()[0], mask[3] * getScale()[1]};
  return verifySiteTable(*this, getInit(), ArrayRef<int64_t>(grid));
}

void ListSitesOp::getEffects(Effects &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult CoarseSitesOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit())) ||
      failed(verifyPair(*this, getGrid(), "a grid", 1)) ||
      failed(verifyPair(*this, getStride(), "a stride", 1)) ||
      failed(verifySiteTable(*this, getFine())))
    return failure();
  ArrayRef<int64_t> grid = getGrid(), stride = getStride();
  int64_t coarse[] = {llvm::divideCeil(grid[0], stride[0]),
                      llvm::divideCeil(grid[1], stride[1])};
  return verifySiteTable(*this, getInit(), ArrayRef<int64_t>(coarse));
}

void CoarseSitesOp::getEffects(Effects &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult KernelMapOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)) ||
      failed(verifyPair(*this, getInputGrid(), "an input grid", 1)) ||
      failed(verifyPair(*this, getOutputGrid(), "an output grid", 1)) ||
      failed(verifyPair(*this, getKernel(), "a kernel", 1)) ||
      failed(verifyPair(*this, getStride(), "a stride", 1)) ||
      failed(verifyPair(*this, getPadding(), "a padding", 0)) ||
      failed(verifySiteTable(*this, getInput())) ||
      failed(verifySiteTable(*this, getOutput())) ||
      failed(verifyMap(*this, getInit())))
    return failure();
  ArrayRef<int64_t> kernel = getKernel();
  if (shapeOf(getInit())[1] != kernel[0] * kernel[1])
    return emitOpError("needs a map of ")
           << kernel[0] * kernel[1] << " columns for a kernel of " << kernel[0]
           << "x" << kernel[1] << ", not " << getInit().getType();
  return success();
}

void KernelMapOp::getEffects(Effects &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult GatherSitesOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)) ||
      failed(verifyPair(*this, getScale(), "a scale", 1)) ||
      failed(verifySiteTable(*this, getSites())) ||
      failed(verifyRows(*this, getInit(), "rows")))
    return failure();
  return verifySiteImage(*this, getImage(), shapeOf(getInit())[1]);
}

void GatherSitesOp::getEffects(Effects &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult ScatterSitesOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)) ||
      failed(verifySiteTable(*this, getSites())) ||
      failed(verifyRows(*this, getRows(), "rows")))
    return failure();
  return verifySiteImage(*this, getInit(), shapeOf(getRows())[1]);
}

void ScatterSitesOp::getEffects(Effects &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/true, effects);
}

LogicalResult SparseIm2ColOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)) ||
      failed(verifyRows(*this, getFeatures(), "features")) ||
      failed(verifyMap(*this, getMap())) ||
      failed(verifyRows(*this, getInit(), "columns")))
    return failure();
  ArrayRef<int64_t> map = shapeOf(getMap()), columns = shapeOf(getInit());
  int64_t width = map[1] * shapeOf(getFeatures())[1];
  if (differ(map[0], columns[0]) || columns[1] != width)
    return emitOpError("needs columns [n_out, K C] of ")
           << width << " columns for " << map[1] << " offsets of "
           << shapeOf(getFeatures())[1] << " channels, not "
           << getInit().getType();
  return success();
}

void SparseIm2ColOp::getEffects(Effects &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult SparseCol2ImOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)) ||
      failed(verifyRows(*this, getProducts(), "products")) ||
      failed(verifyMap(*this, getMap())) ||
      failed(verifyRows(*this, getInit(), "rows")))
    return failure();
  ArrayRef<int64_t> map = shapeOf(getMap()), rows = shapeOf(getInit());
  int64_t width = map[1] * rows[1];
  if (differ(map[0], rows[0]) || shapeOf(getProducts())[1] != width)
    return emitOpError("needs products [n_in, K F] of ")
           << width << " columns for " << map[1] << " offsets of " << rows[1]
           << " filters, not " << getProducts().getType();
  return success();
}

void SparseCol2ImOp::getEffects(Effects &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}
