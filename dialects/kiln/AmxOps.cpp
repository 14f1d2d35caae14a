//===- AmxOps.cpp - kiln.amx_* verifiers ----------------------------------===//

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// x86's tile registers: tmm0 to tmm7.
constexpr int64_t kTiles = 8;

LogicalResult verifyTile(Operation *op, int64_t tile, StringRef role) {
  if (tile >= kTiles)
    return op->emitOpError()
           << role << " tile " << tile << " is not one of the 8 tiles (0 to 7)";
  return success();
}

} // namespace

LogicalResult AmxZeroOp::verify() {
  return verifyTile(*this, getTile(), "the");
}

LogicalResult AmxLoadOp::verify() {
  return verifyTile(*this, getTile(), "the");
}

LogicalResult AmxStoreOp::verify() {
  return verifyTile(*this, getTile(), "the");
}

LogicalResult AmxDotOp::verify() {
  int64_t tiles[3] = {int64_t(getAccumulator()), int64_t(getLhs()),
                      int64_t(getRhs())};
  StringRef roles[3] = {"the accumulator", "the lhs", "the rhs"};
  for (int i = 0; i < 3; ++i)
    if (failed(verifyTile(*this, tiles[i], roles[i])))
      return failure();
  if (tiles[0] == tiles[1] || tiles[0] == tiles[2] || tiles[1] == tiles[2])
    return emitOpError("multiplies three different tiles, not ")
           << tiles[0] << ", " << tiles[1] << " and " << tiles[2];
  return success();
}
