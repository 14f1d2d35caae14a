//===- AttentionScores.cpp - products that make queries and keys ----------===//

#include "passes/quant/AttentionScores.h"

#include "passes/quant/WeightProducts.h"

#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// How far the walks look: RoPE, the cache, reshapes and transposes lie
/// between a projection and the scores; a mask and a scale between the
/// scores and their Softmax.
constexpr int kMaxStepsToScores = 40;
constexpr int kMaxStepsToSoftmax = 6;

/// Whether a Softmax is among the ops within `steps` uses of `value`.
bool reachesSoftmax(Value value, int steps) {
  for (Operation *user : value.getUsers()) {
    if (isa<onnx::SoftmaxOp>(user))
      return true;
    if (steps > 1 && !isa<onnx::MatMulOp>(user))
      for (Value result : user->getResults())
        if (reachesSoftmax(result, steps - 1))
          return true;
  }
  return false;
}

} // namespace

bool mlir::kiln::quant::feedsAttentionScores(onnx::MatMulOp product) {
  SmallVector<std::pair<Value, int>> work = {{product.getResult(), 0}};
  llvm::DenseSet<Operation *> seen;
  while (!work.empty()) {
    auto [value, steps] = work.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (!seen.insert(user).second)
        continue;
      if (auto next = dyn_cast<onnx::MatMulOp>(user)) {
        if (!isWeightProduct(next) &&
            reachesSoftmax(next.getResult(), kMaxStepsToSoftmax))
          return true;
        continue;
      }
      if (steps + 1 < kMaxStepsToScores)
        for (Value result : user->getResults())
          work.push_back({result, steps + 1});
    }
  }
  return false;
}
