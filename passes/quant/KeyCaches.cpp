//===- KeyCaches.cpp - session key caches and their projections -----------===//

#include "passes/quant/KeyCaches.h"

#include "passes/quant/WeightProducts.h"

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Ops that move, rotate or cast a projection's output on its way to the
/// attention without mixing its channels with another weight's: what
/// lies between q_proj or k_proj and the scores (head reshapes and
/// transposes, RoPE's halves, negation and products with cos and sin, the
/// cache's views).
bool carriesProjection(Operation *op) {
  if (isa<onnx::AddOp>(op))
    // RoPE's sum of two rotations; a bias (a constant) would need scaling.
    return llvm::none_of(op->getOperands(), [](Value operand) {
      return onnx::getConstantElements(operand, 1);
    });
  if (isa<onnx::SubOp>(op))
    // kiln-quant-center-keys' offset, a constant taken from every key,
    // which the rotation after it leaves as it is.
    return bool(op->getOperand(1).getDefiningOp<onnx::ConstantOp>());
  return isa<onnx::ReshapeOp, onnx::TransposeOp, onnx::MulOp, onnx::NegOp,
             onnx::SliceOp, onnx::ConcatOp, onnx::CastOp, onnx::IdentityOp,
             onnx::UnsqueezeOp, onnx::SqueezeOp, onnx::ExpandOp, tensor::CastOp,
             tensor::ExtractSliceOp, tensor::InsertSliceOp, UnpackKv4Op,
             PackKv4Op>(op);
}

} // namespace

onnx::MatMulOp quant::projectionBehind(Value value) {
  if (!value)
    return onnx::MatMulOp();
  llvm::SetVector<Value> pending;
  pending.insert(value);
  llvm::SmallSetVector<Operation *, 2> found;
  for (size_t i = 0; i < pending.size() && pending.size() < 256; ++i) {
    Operation *op = pending[i].getDefiningOp();
    if (!op)
      continue;
    if (auto product = dyn_cast<onnx::MatMulOp>(op)) {
      // A weight product, f32 or already quantized.
      if (quant::isWeightProduct(product) ||
          product.getB().getDefiningOp<DequantizeOp>())
        found.insert(product);
      continue;
    }
    if (carriesProjection(op))
      for (Value operand : op->getOperands())
        pending.insert(operand);
  }
  return found.size() == 1 ? cast<onnx::MatMulOp>(found.front())
                           : onnx::MatMulOp();
}

namespace {

/// The products that read `value` (through ops that carry it) as their
/// right operand.
SmallVector<onnx::MatMulOp> productsReading(Value value) {
  llvm::SetVector<Value> pending;
  pending.insert(value);
  llvm::SetVector<onnx::MatMulOp> readers;
  for (size_t i = 0; i < pending.size() && pending.size() < 256; ++i)
    for (OpOperand &use : pending[i].getUses()) {
      Operation *user = use.getOwner();
      if (auto product = dyn_cast<onnx::MatMulOp>(user)) {
        if (use.getOperandNumber() == 1)
          readers.insert(product);
        continue;
      }
      if (carriesProjection(user))
        for (Value result : user->getResults())
          pending.insert(result);
    }
  return readers.takeVector();
}

/// The rows a session cache's state is written with (its
/// tensor.insert_slice's source), or null.
Value writtenRows(BlockArgument state) {
  for (Operation *user : state.getUsers())
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(user))
      return insert.getSource();
  return Value();
}

} // namespace

SmallVector<quant::KeyCache> quant::findKeyCaches(func::FuncOp function) {
  SmallVector<KeyCache> caches;
  for (BlockArgument state : function.getArguments()) {
    if (!function.getArgAttr(state.getArgNumber(), kKvCacheStateAttrName))
      continue;
    // The cache's readers: the scores' product reads keys, whose left
    // operand comes from the query projection.
    SmallVector<onnx::MatMulOp> readers = productsReading(state);
    Value rows = writtenRows(state);
    onnx::MatMulOp keyProjection = quant::projectionBehind(rows);
    if (!keyProjection || readers.size() != 1)
      continue;
    onnx::MatMulOp queryProjection = quant::projectionBehind(readers[0].getA());
    if (!queryProjection || queryProjection == keyProjection)
      continue;
    caches.push_back({state, keyProjection, queryProjection, readers[0], rows});
  }
  return caches;
}

std::pair<Value, Operation *> quant::keysBeforeEncoding(const KeyCache &cache) {
  Operation *encoder = cache.writtenRows.getDefiningOp();
  if (isa_and_nonnull<PackKv4Op, onnx::CastOp>(encoder))
    return {encoder->getOperand(0), encoder};
  return {cache.writtenRows, nullptr};
}

void quant::replaceWrittenKeys(const KeyCache &cache, Operation *encoder,
                               Value keys) {
  if (encoder) {
    encoder->setOperand(0, keys);
    return;
  }
  for (Operation *user : cache.state.getUsers())
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(user))
      insert.getSourceMutable().assign(keys);
}
