//===- SparseRefineOps.cpp - SparseRefine's kiln.entropy_cut,
//                           kiln.refine_tiles, kiln.gather_windows and
//                           kiln.merge_refined -------------------------===//

#include "dialects/kiln/KernelForms.h"
#include "dialects/kiln/KilnOps.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// `tile` (and `halo`, when given): two extents, the tile's positive and
/// the halo's not negative.
LogicalResult verifyTiling(Operation *op, ArrayRef<int64_t> tile,
                           std::optional<ArrayRef<int64_t>> halo = {}) {
  if (tile.size() != 2 || tile[0] < 1 || tile[1] < 1)
    return op->emitOpError("needs a tile of two positive extents");
  if (halo && (halo->size() != 2 || (*halo)[0] < 0 || (*halo)[1] < 0))
    return op->emitOpError("needs a halo of two extents, neither negative");
  return success();
}

/// The tiles of `tile` that cover `height` x `width` pixels.
int64_t tileCount(int64_t height, int64_t width, ArrayRef<int64_t> tile) {
  return llvm::divideCeil(height, tile[0]) * llvm::divideCeil(width, tile[1]);
}

/// `table` [1 + 2 T] of i32 for the tiles of `tile` over `image` [.., .., H,
/// W].
LogicalResult verifyTable(Operation *op, Value table, ArrayRef<int64_t> image,
                          ArrayRef<int64_t> tile) {
  ArrayRef<int64_t> shape = shapeOf(table);
  if (shape.size() != 1 || !elementOf(table).isInteger(32))
    return op->emitOpError("takes a table [1 + 2 T] of i32, not ")
           << table.getType();
  int64_t tiles = tileCount(image[2], image[3], tile);
  if (shape[0] != 1 + 2 * tiles)
    return op->emitOpError("needs a table of ")
           << 1 + 2 * tiles << " entries for " << tiles << " tiles, not "
           << shape[0];
  return success();
}

/// A mask [1, 1, h, w] of i1.
LogicalResult verifyMask(Operation *op, Value mask) {
  ArrayRef<int64_t> shape = shapeOf(mask);
  if (shape.size() != 4 || shape[0] != 1 || shape[1] != 1 ||
      !elementOf(mask).isInteger(1))
    return op->emitOpError("takes a mask [1, 1, h, w] of i1, not ")
           << mask.getType();
  return success();
}

/// An image [1, C, H, W] of floats.
LogicalResult verifyImage(Operation *op, Value image, StringRef what) {
  ArrayRef<int64_t> shape = shapeOf(image);
  if (shape.size() != 4 || shape[0] != 1 || !isa<FloatType>(elementOf(image)))
    return op->emitOpError("takes ")
           << what << " [1, C, H, W] of floats, not " << image.getType();
  return success();
}

/// Windows [n, C, TH + 2 hy, TW + 2 hx] (n symbolic or not) around tiles of
/// an image `image` [1, C, H, W]: the image's channels and element type,
/// and no larger than it.
LogicalResult verifyWindows(Operation *op, Value windows, Value image,
                            int64_t channels, ArrayRef<int64_t> tile,
                            ArrayRef<int64_t> halo) {
  ArrayRef<int64_t> shape = shapeOf(windows), full = shapeOf(image);
  int64_t height = tile[0] + 2 * halo[0], width = tile[1] + 2 * halo[1];
  if (shape.size() != 4 ||
      llvm::any_of(shape.drop_front(), ShapedType::isDynamic))
    return op->emitOpError("takes windows [n, C, TH + 2 hy, TW + 2 hx], only "
                           "n symbolic, not ")
           << windows.getType();
  if (elementOf(windows) != elementOf(image))
    return op->emitOpError("windows of ")
           << elementOf(windows) << " cannot hold pixels of "
           << elementOf(image);
  if (shape[1] != channels || shape[2] != height || shape[3] != width)
    return op->emitOpError("needs windows [n, ")
           << channels << ", " << height << ", " << width << "] for tiles of "
           << tile[0] << "x" << tile[1] << " with a halo of " << halo[0] << "x"
           << halo[1] << ", not " << windows.getType();
  if (height > full[2] || width > full[3])
    return op->emitOpError("windows of ")
           << height << "x" << width << " do not fit in an image of " << full[2]
           << "x" << full[3];
  return success();
}

} // namespace

LogicalResult EntropyCutOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit())))
    return failure();
  if (!elementOf(getEntropy()).isF32())
    return emitOpError("takes an f32 entropy, not ") << getEntropy().getType();
  ArrayRef<int64_t> cut = shapeOf(getInit());
  if (cut.size() != 1 || cut[0] != 1 || !elementOf(getInit()).isF32())
    return emitOpError("writes one f32 [1], not ") << getInit().getType();
  double fraction = getFraction().convertToDouble();
  if (!(fraction >= 0 && fraction <= 1))
    return emitOpError("needs a fraction in [0, 1], not ") << fraction;
  return success();
}

void EntropyCutOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult RefineTilesOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit())) ||
      failed(verifyMask(*this, getMask())) ||
      failed(verifyTiling(*this, getTile())))
    return failure();
  if (getMaxTilesAttr().getInt() < 0)
    return emitOpError("needs max_tiles not negative (0: no limit), not ")
           << getMaxTilesAttr().getInt();
  return verifyTable(*this, getInit(), shapeOf(getMask()), getTile());
}

void RefineTilesOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult GatherWindowsOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)) ||
      failed(verifyTiling(*this, getTile(), getHalo())))
    return failure();
  if (!cast<ShapedType>(getImage().getType()).hasStaticShape())
    return emitOpError("needs the image's shape static");
  if (failed(verifyImage(*this, getImage(), "an image")) ||
      failed(verifyTable(*this, getTable(), shapeOf(getImage()), getTile())))
    return failure();
  return verifyWindows(*this, getInit(), getImage(), shapeOf(getImage())[1],
                       getTile(), getHalo());
}

void GatherWindowsOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult MergeRefinedOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), {},
                              /*anySymbolic=*/true)) ||
      failed(verifyTiling(*this, getTile(), getHalo())))
    return failure();
  for (Value value : {getLow(), getMask(), getTable(), getInit()})
    if (!cast<ShapedType>(value.getType()).hasStaticShape())
      return emitOpError("needs static shapes but for the windows' count");
  if (failed(verifyImage(*this, getLow(), "low-resolution logits")) ||
      failed(verifyImage(*this, getInit(), "logits")) ||
      failed(verifyMask(*this, getMask())))
    return failure();
  ArrayRef<int64_t> low = shapeOf(getLow()), mask = shapeOf(getMask()),
                    full = shapeOf(getInit());
  ArrayRef<int64_t> tile = getTile();
  if (low[1] != full[1] || elementOf(getLow()) != elementOf(getInit()))
    return emitOpError("low-resolution logits ")
           << getLow().getType() << " do not match the logits "
           << getInit().getType();
  if (mask[2] != low[2] || mask[3] != low[3])
    return emitOpError("a mask of ")
           << mask[2] << "x" << mask[3]
           << " does not match low-resolution logits of " << low[2] << "x"
           << low[3];
  if (full[2] % low[2] || full[3] % low[3])
    return emitOpError("logits of ")
           << full[2] << "x" << full[3] << " are no whole multiple of "
           << low[2] << "x" << low[3];
  int64_t scaleY = full[2] / low[2], scaleX = full[3] / low[3];
  if (tile[0] % scaleY || tile[1] % scaleX)
    return emitOpError("tiles of ")
           << tile[0] << "x" << tile[1]
           << " are no whole number of low-resolution pixels of " << scaleY
           << "x" << scaleX;
  if (failed(verifyTable(*this, getTable(), full, tile)))
    return failure();
  return verifyWindows(*this, getRefined(), getInit(), full[1], tile,
                       getHalo());
}

void MergeRefinedOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}
