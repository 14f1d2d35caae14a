//===- ForwardScalarStores.cpp - kiln-forward-scalar-stores ---------------===//
//
// After bufferization, an exporter's shape arithmetic (Shape -> Gather ->
// Add -> Concat -> Reshape) is a run of scalar stores into small buffers and
// loads back from them, all at the top level of the function. Forwarding
// the stored values to the loads leaves sizes as arithmetic on the inputs'
// dimensions — values a host can compute without reading device memory.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_FORWARDSCALARSTORESPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Views that keep their source's element offsets: an element of the view
/// and of its source at the same offset from the base are the same bytes.
bool isOffsetPreservingView(Operation *op) {
  return isa<memref::SubViewOp, memref::CastOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::ReinterpretCastOp>(op);
}

/// The buffer `memref` is a view of, through offset-preserving views.
Value baseOf(Value memref) {
  while (Operation *definition = memref.getDefiningOp()) {
    if (!isOffsetPreservingView(definition))
      break;
    memref = definition->getOperand(0);
  }
  return memref;
}

/// One element of a buffer: the base buffer and the element's offset in it.
struct ElementKey {
  Value base;
  int64_t offset;
  bool operator==(const ElementKey &other) const {
    return base == other.base && offset == other.offset;
  }
};

/// The offset of element `indices` (constants) in a buffer of `type`, when
/// its layout is static.
std::optional<int64_t> elementOffset(MemRefType type,
                                     ArrayRef<int64_t> indices) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)) ||
      ShapedType::isDynamic(offset))
    return std::nullopt;
  for (auto [index, stride] : llvm::zip(indices, strides)) {
    if (ShapedType::isDynamic(stride))
      return std::nullopt;
    offset += index * stride;
  }
  return offset;
}

/// The element `indices` of `memref` selects, when the indices and the
/// layout are constants.
std::optional<ElementKey> elementKey(Value memref, ValueRange indices) {
  SmallVector<int64_t> constants;
  for (Value index : indices) {
    std::optional<int64_t> constant = getConstantIntValue(index);
    if (!constant)
      return std::nullopt;
    constants.push_back(*constant);
  }
  std::optional<int64_t> offset =
      elementOffset(cast<MemRefType>(memref.getType()), constants);
  if (!offset)
    return std::nullopt;
  return ElementKey{baseOf(memref), *offset};
}

/// Copies of whole small buffers are followed element by element.
constexpr int64_t kMaxCopiedElements = 64;

/// Where `copy` took the element it wrote at `key`: the source's element;
/// `covers` says whether the copy wrote `key` at all. Fails when the
/// layouts are not static.
LogicalResult copiedFrom(memref::CopyOp copy, const ElementKey &key,
                         bool &covers, ElementKey &source) {
  auto target = cast<MemRefType>(copy.getTarget().getType());
  auto from = cast<MemRefType>(copy.getSource().getType());
  if (!target.hasStaticShape() || target.getNumElements() > kMaxCopiedElements)
    return failure();
  covers = false;
  SmallVector<int64_t> indices(target.getRank(), 0);
  for (int64_t linear = 0; linear < target.getNumElements(); ++linear) {
    int64_t rest = linear;
    for (int64_t d = target.getRank() - 1; d >= 0; --d) {
      indices[d] = rest % target.getDimSize(d);
      rest /= target.getDimSize(d);
    }
    std::optional<int64_t> written = elementOffset(target, indices);
    if (!written)
      return failure();
    if (*written != key.offset)
      continue;
    std::optional<int64_t> read = elementOffset(from, indices);
    if (!read)
      return failure();
    covers = true;
    source = ElementKey{baseOf(copy.getSource()), *read};
    return success();
  }
  return success();
}

/// The element at `offset` of a constant global, as a constant op.
Value globalElement(memref::GetGlobalOp get, int64_t offset, Type type,
                    Operation *before) {
  auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
      get, get.getNameAttr());
  if (!global || !global.getConstant() || !global.getInitialValue())
    return {};
  auto values = dyn_cast<DenseElementsAttr>(*global.getInitialValue());
  if (!values || !type.isIntOrIndex() || values.getElementType() != type ||
      offset < 0 || offset >= values.getNumElements())
    return {};
  auto element = cast<TypedAttr>(values.getValues<Attribute>()[offset]);
  OpBuilder builder(before);
  return builder.create<arith::ConstantOp>(before->getLoc(), element);
}

/// Whether `op`, or an op nested in it, may write or free `base` (or
/// writes memory it does not name).
bool mayWrite(Operation *op, Value base) {
  WalkResult result = op->walk([&](Operation *nested) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(nested);
    if (!effects) {
      if (nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        return WalkResult::advance();
      return WalkResult::interrupt();
    }
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &instance : instances) {
      if (!isa<MemoryEffects::Write, MemoryEffects::Free>(instance.getEffect()))
        continue;
      Value written = instance.getValue();
      if (!written || baseOf(written) == base)
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Whether `value` is an integer computed from constants, buffer sizes,
/// scalar arguments and elements of `readOnly` arguments (buffers nothing
/// in the function writes, such as a session cache's length) alone — from
/// no memory that could change, so that a target may compute it again,
/// anywhere after its definition, with the same result. Only such values
/// are forwarded: a value read from other memory is read where the program
/// reads it.
bool isShapeArithmetic(Value value, const DenseSet<Value> &readOnly) {
  SmallVector<Value> worklist = {value};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value next = worklist.pop_back_val();
    if (!seen.insert(next).second)
      continue;
    if (!next.getType().isIntOrIndex())
      return false;
    Operation *definition = next.getDefiningOp();
    if (!definition)
      continue;
    if (isa<memref::DimOp>(definition))
      continue;
    if (auto load = dyn_cast<memref::LoadOp>(definition);
        load && readOnly.contains(baseOf(load.getMemRef()))) {
      worklist.append(load.getIndices().begin(), load.getIndices().end());
      continue;
    }
    if (definition->getNumRegions() || !isMemoryEffectFree(definition))
      return false;
    worklist.append(definition->operand_begin(), definition->operand_end());
  }
  return true;
}

/// The value of element `key` (of type `type`) just before `at`, if the
/// nearest earlier writes of it are a store, a copy from an element whose
/// value is known, or a constant global — and nothing in between may have
/// changed it. New constants go before `use`.
Value valueBefore(Operation *at, ElementKey key, Type type, Operation *use,
                  const DenseSet<Value> &readOnly) {
  for (Operation *op = at->getPrevNode(); op; op = op->getPrevNode()) {
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      if (baseOf(store.getMemRef()) != key.base)
        continue;
      std::optional<ElementKey> stored =
          elementKey(store.getMemRef(), store.getIndices());
      if (!stored)
        return {};
      if (*stored == key)
        return store.getValue().getType() == type &&
                       isShapeArithmetic(store.getValue(), readOnly)
                   ? store.getValue()
                   : Value();
      continue;
    }
    if (auto copy = dyn_cast<memref::CopyOp>(op)) {
      if (baseOf(copy.getTarget()) == key.base) {
        bool covers = false;
        ElementKey source;
        if (failed(copiedFrom(copy, key, covers, source)))
          return {};
        if (covers)
          return valueBefore(copy, source, type, use, readOnly);
        continue;
      }
    }
    if (op == key.base.getDefiningOp()) {
      if (auto get = dyn_cast<memref::GetGlobalOp>(op))
        return globalElement(get, key.offset, type, use);
      return {};
    }
    if (mayWrite(op, key.base))
      return {};
  }
  return {};
}

/// The value the nearest earlier top-level write put where `load` reads,
/// if nothing in between may have changed it. A load inside a loop nest
/// reads what was there before the nest, unless the nest writes the buffer.
Value storedValue(memref::LoadOp load, Block &body,
                  const DenseSet<Value> &readOnly) {
  std::optional<ElementKey> key =
      elementKey(load.getMemRef(), load.getIndices());
  if (!key)
    return {};
  Operation *topLevel = body.findAncestorOpInBlock(*load);
  if (!topLevel || (topLevel != load && mayWrite(topLevel, key->base)))
    return {};
  return valueBefore(topLevel, *key, load.getType(), topLevel, readOnly);
}

/// Erases `base` with its views, the stores and copies into it and its
/// deallocation when nothing reads it; returns whether it did.
bool eraseIfOnlyWritten(Operation *base) {
  SmallVector<Operation *> stores, views;
  SmallVector<Value> worklist(base->getResults());
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (auto store = dyn_cast<memref::StoreOp>(user)) {
        if (use.get() != store.getMemRef())
          return false;
        stores.push_back(user);
      } else if (isa<memref::DeallocOp>(user) ||
                 (isa<memref::CopyOp>(user) && use.getOperandNumber() == 1)) {
        stores.push_back(user);
      } else if (isOffsetPreservingView(user) && use.getOperandNumber() == 0) {
        views.push_back(user);
        worklist.append(user->result_begin(), user->result_end());
      } else {
        return false;
      }
    }
  }
  for (Operation *op : stores)
    op->erase();
  for (Operation *view : llvm::reverse(views))
    view->erase();
  base->erase();
  return true;
}

struct ForwardScalarStoresPass
    : kiln::impl::ForwardScalarStoresPassBase<ForwardScalarStoresPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    Block &body = function.getBody().front();
    DenseSet<Value> readOnly;
    for (BlockArgument argument : body.getArguments())
      if (isa<MemRefType>(argument.getType()) &&
          llvm::none_of(body,
                        [&](Operation &op) { return mayWrite(&op, argument); }))
        readOnly.insert(argument);
    SmallVector<memref::LoadOp> loads;
    function.walk([&](memref::LoadOp load) { loads.push_back(load); });
    for (memref::LoadOp load : loads) {
      if (Value value = storedValue(load, body, readOnly)) {
        load.replaceAllUsesWith(value);
        load.erase();
      }
    }
    // Erasing a buffer can leave the one it was copied from unread, so
    // until nothing changes.
    for (bool changed = true; changed;) {
      changed = false;
      SmallVector<Operation *> buffers;
      for (Operation &op : body)
        if (isa<memref::AllocOp, memref::AllocaOp, memref::ViewOp>(op))
          buffers.push_back(&op);
      for (Operation *buffer : llvm::reverse(buffers))
        changed |= eraseIfOnlyWritten(buffer);
    }
  }
};

} // namespace
