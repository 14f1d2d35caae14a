//===- PlanMemory.cpp - kiln-plan-memory ------------------------------===//
//
// A static memory plan: intermediates live in one workspace the runtime
// allocates once per session, instead of being allocated and freed on
// every run. Offsets come from a greedy first fit over the buffers in
// decreasing size, each placed at the lowest aligned offset that does not
// overlap a buffer whose lifetime intersects its own. A buffer lives from
// its allocation to its last use (through views of it), not to its
// dealloc, which the deallocation passes put at the end of the function.
//
// With `plan-results`, the model's statically shaped results live in the
// workspace too, to the end of the run: the runtime hands them out as the
// session's memory, valid until its next run, so a run allocates nothing.
//
// Buffers sized at run time cannot be planned; they are freed right after
// their last use instead of at the end of the function, so that a model
// over symbolic sizes (an LLM's prefill) holds one layer's intermediates
// at a time rather than all of them.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "codegen/common/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr int64_t kBufferAlignment = 64;

/// One planned buffer: its allocation, release, lifetime and place.
struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t begin, end; // positions of alloc and dealloc in the block
  int64_t bytes;
  int64_t offset = 0;
};

/// Whether `alloc` reaches the function's return, directly or through views
/// (reshapes, casts) of it.
bool isReturned(memref::AllocOp alloc) {
  SmallVector<Value> worklist = {alloc.getResult()};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (isa<func::ReturnOp>(user))
        return true;
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == value)
          llvm::append_range(worklist, user->getResults());
    }
  }
  return false;
}

/// The position in `body` of the last op that uses `alloc`, directly or
/// through views of it (an op nested in a region counts at its ancestor in
/// `body`); `otherwise` if a use might make another alias of it.
int64_t lastUse(memref::AllocOp alloc, Block &body,
                const DenseMap<Operation *, int64_t> &position,
                int64_t otherwise) {
  int64_t last = position.lookup(alloc);
  SmallVector<Value> worklist = {alloc.getResult()};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (isa<memref::DeallocOp>(user))
        continue;
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == value) {
        llvm::append_range(worklist, user->getResults());
      } else if (llvm::any_of(user->getResultTypes(),
                              [](Type t) { return isa<MemRefType>(t); })) {
        return otherwise;
      }
      Operation *top = body.findAncestorOpInBlock(*user);
      if (!top)
        return otherwise;
      last = std::max(last, position.lookup(top));
    }
  }
  return last;
}

/// Bytes of a statically shaped, identity-layout buffer, or 0.
int64_t staticBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity())
    return 0;
  return type.getNumElements() * elementBytes(type.getElementType());
}

struct PlanMemoryPass
    : kiln::impl::PlanMemoryPassBase<PlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp main = lookupModelFunction(module);
    if (!main)
      return signalPassFailure();
    Block &body = main.getBody().front();
    DenseMap<Operation *, int64_t> position;
    for (auto [index, op] : llvm::enumerate(body))
      position[&op] = index;

    // Buffers allocated and freed at the top level of @main, and with
    // plan-results the returned ones, live to the end.
    std::vector<Buffer> buffers;
    std::vector<std::pair<memref::DeallocOp, int64_t>> earlyFrees;
    for (auto alloc : body.getOps<memref::AllocOp>()) {
      int64_t bytes = staticBytes(alloc.getType());
      memref::DeallocOp dealloc;
      int deallocs = 0;
      for (Operation *user : alloc->getUsers())
        if (auto candidate = dyn_cast<memref::DeallocOp>(user)) {
          dealloc = candidate;
          ++deallocs;
        }
      if (bytes == 0) {
        if (deallocs == 1 && dealloc->getBlock() == &body) {
          int64_t last =
              lastUse(alloc, body, position, position[dealloc]);
          if (last < position[dealloc])
            earlyFrees.push_back({dealloc, last});
        }
        continue;
      }
      if (deallocs == 1 && dealloc->getBlock() == &body)
        buffers.push_back(
            {alloc, dealloc, position[alloc],
             lastUse(alloc, body, position, position[dealloc]), bytes});
      else if (planResults && deallocs == 0 && isReturned(alloc))
        buffers.push_back({alloc, nullptr, position[alloc],
                           position[body.getTerminator()], bytes});
    }

    // Dynamically sized buffers: freed after the op of their last use.
    std::vector<Operation *> ops;
    for (Operation &op : body)
      ops.push_back(&op);
    for (auto [dealloc, last] : earlyFrees)
      dealloc->moveAfter(ops[last]);

    // Greedy first fit, largest first.
    std::vector<Buffer *> order;
    for (Buffer &buffer : buffers)
      order.push_back(&buffer);
    llvm::stable_sort(order, [](const Buffer *a, const Buffer *b) {
      return a->bytes > b->bytes;
    });
    std::vector<Buffer *> placed;
    int64_t workspaceBytes = 0;
    for (Buffer *buffer : order) {
      std::vector<std::pair<int64_t, int64_t>> taken;
      for (Buffer *other : placed)
        if (other->begin <= buffer->end && buffer->begin <= other->end)
          taken.push_back({other->offset, other->offset + other->bytes});
      llvm::sort(taken);
      int64_t offset = 0;
      for (auto [start, stop] : taken) {
        if (offset + buffer->bytes <= start)
          break;
        offset = std::max<int64_t>(offset, llvm::alignTo(stop, kBufferAlignment));
      }
      buffer->offset = offset;
      workspaceBytes = std::max(workspaceBytes, offset + buffer->bytes);
      placed.push_back(buffer);
    }

    // The workspace argument, and views into it.
    MLIRContext *context = &getContext();
    OpBuilder builder(context);
    Type bytesType =
        MemRefType::get({ShapedType::kDynamic}, IntegerType::get(context, 8));
    unsigned argument = main.getNumArguments() > 0 &&
                                main.getArgAttr(0, kWeightsAttrName)
                            ? 1
                            : 0;
    main.insertArgument(argument, bytesType,
                        builder.getDictionaryAttr(builder.getNamedAttr(
                            kWorkspaceAttrName, builder.getUnitAttr())),
                        main.getLoc());
    Value workspace = main.getArgument(argument);
    for (Buffer &buffer : buffers) {
      builder.setInsertionPoint(buffer.alloc);
      Location loc = buffer.alloc.getLoc();
      Value offset = builder.create<arith::ConstantIndexOp>(loc, buffer.offset);
      Value view = builder.create<memref::ViewOp>(
          loc, buffer.alloc.getType(), workspace, offset, ValueRange{});
      buffer.alloc.replaceAllUsesWith(view);
      if (buffer.dealloc)
        buffer.dealloc.erase();
      buffer.alloc.erase();
    }
    int64_t dynamicBuffers = 0;
    main.walk([&](memref::AllocOp) { ++dynamicBuffers; });
    module->setAttr(kWorkspaceBytesAttrName,
                    builder.getI64IntegerAttr(workspaceBytes));
    module->setAttr(kDynamicBuffersAttrName,
                    builder.getI64IntegerAttr(dynamicBuffers));
  }
};

} // namespace
