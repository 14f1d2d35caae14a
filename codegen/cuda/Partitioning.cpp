//===- Partitioning.cpp - top-level ops as kernels and their launches -------===//

#include "codegen/cuda/CudaEmitter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cuda;

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

/// Emits, at the kernel's start, every value the kernel uses but the model
/// function computed outside it: constants, index arithmetic, scalar loads.
LogicalResult CudaEmitter::materializeOutsideValues(ArrayRef<Operation *> ops) {
  llvm::SetVector<Operation *> needed;
  SmallVector<Value> worklist;
  auto inKernel = [&](Operation *op) {
    return llvm::any_of(ops, [&](Operation *kernelOp) {
      return kernelOp == op || kernelOp->isProperAncestor(op);
    });
  };
  for (Operation *kernelOp : ops)
    kernelOp->walk([&](Operation *nested) {
      for (Value operand : nested->getOperands())
        worklist.push_back(operand);
    });
  SmallVector<Value> fromHost;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    Operation *definition = value.getDefiningOp();
    if (!definition || inKernel(definition) || needed.contains(definition))
      continue;
    if (hostSlots.count(value) && !isa<memref::AllocOp>(definition)) {
      fromHost.push_back(value);
      continue;
    }
    needed.insert(definition);
    for (Value operand : definition->getOperands())
      worklist.push_back(operand);
  }
  for (Value value : fromHost) {
    FailureOr<std::string> expression =
        hostValueName(value, value.getDefiningOp());
    if (failed(expression))
      return failure();
    name(value) = *expression;
  }
  SmallVector<Operation *> ordered(needed.begin(), needed.end());
  llvm::sort(ordered, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  for (Operation *op : ordered) {
    if (isa<memref::AllocOp>(op))
      continue; // an output, named by collectRoots
    if (op->getNumRegions())
      return op->emitError() << "CUDA code generation cannot pass the result "
                                "of '"
                             << op->getName() << "' to a later kernel";
    if (failed(emitOp(op)))
      return failure();
  }
  return success();
}

std::string CudaEmitter::kernelHeader(const std::string &kernelName,
                                  ArrayRef<Operation *> ops) {
  names.clear();
  views.clear();
  std::string origin = nodeNamesOf(ops);
  if (!origin.empty()) {
    // Keep node names from closing the comment.
    std::string safe;
    for (char c : origin)
      safe += (c == '\n' || c == '\r') ? ' ' : c;
    size_t star;
    while ((star = safe.find("*/")) != std::string::npos)
      safe.replace(star, 2, "* /");
    line("// " + safe);
  }
  if (sizedAtRunTime)
    // The slots the kernel uses are known at its end (finishKernel).
    return "extern \"C\" __global__ void " + kernelName + "(" +
           kParametersPlaceholder.str() + ")";
  SmallVector<std::string> plain;
  for (const std::string &parameter : parameters)
    plain.push_back("unsigned char *" + parameter);
  return "extern \"C\" __global__ void " + kernelName + "(" +
         join(plain, ", ") + ")";
}

void CudaEmitter::finishKernel(const std::string &kernelName, bool cooperative,
                           ArrayRef<Operation *> ops, uint64_t threads) {
  uint32_t block = threads == 1 ? 1
                   : threads >= uint64_t(kBlockThreads)
                       ? kBlockThreads
                       : uint32_t(std::max<uint64_t>(32, (threads + 31) / 32 * 32));
  uint32_t grid[3] = {uint32_t((threads + block - 1) / block), 1, 1};
  finishKernel(kernelName, cooperative, ops, block, grid);
}

void CudaEmitter::finishKernel(const std::string &kernelName, bool cooperative,
                           ArrayRef<Operation *> ops, uint32_t blockThreads,
                           const uint32_t (&grid)[3]) {
  if (sizedAtRunTime) {
    SmallVector<uint32_t> slots;
    for (uint32_t size : grid)
      slots.push_back(host->constant(size));
    finishKernel(kernelName, cooperative, ops, blockThreads, slots);
    return;
  }
  CudaLaunch launch;
  launch.kernel = program.kernels.size();
  std::copy(std::begin(grid), std::end(grid), launch.grid);
  program.launches.push_back(launch);
  recordKernel(kernelName, cooperative, ops, blockThreads);
}

void CudaEmitter::finishKernel(const std::string &kernelName, bool cooperative,
                               ArrayRef<Operation *> ops,
                               uint32_t blockThreads,
                               ArrayRef<uint32_t> gridSlots) {
  // The parameters: the slots the kernel named.
  SmallVector<std::string> declared;
  for (uint32_t slot : kernelSlots)
    declared.push_back(pointerSlots.contains(slot)
                           ? "unsigned char *buffer" + std::to_string(slot)
                           : "int64_t size" + std::to_string(slot));
  size_t at = source.rfind(kParametersPlaceholder.str());
  if (at != std::string::npos)
    source.replace(at, kParametersPlaceholder.size(), join(declared, ", "));
  host->launch(program.kernels.size(), gridSlots, kernelSlots.getArrayRef());
  kernelSlots.clear();
  recordKernel(kernelName, cooperative, ops, blockThreads);
}

void CudaEmitter::recordKernel(const std::string &kernelName, bool cooperative,
                               ArrayRef<Operation *> ops,
                               uint32_t blockThreads) {
  CudaKernel kernel;
  kernel.name = kernelName;
  kernel.cooperative = cooperative;
  kernel.origin = nodeNamesOf(ops);
  kernel.blockThreads = blockThreads;
  program.kernels.push_back(kernel);
  line("#ifndef __CUDACC__");
  line("KILN_EMU_ENTRY(" + kernelName + ", " + kernelName + "_emulated)");
  line("#endif");
  line("");
}


/// Writes `const int64_t` variables decoding `linear` into the given loops
/// (the last varying fastest).
void mlir::kiln::cuda::decodeLoops(ArrayRef<unsigned> loops, ArrayRef<int64_t> sizes,
                        const std::string &linear, StringRef prefix,
                        SmallVectorImpl<std::string> &ivs,
                        function_ref<void(const Twine &)> line) {
  SmallVector<std::string> names;
  for (int64_t size : sizes)
    names.push_back(std::to_string(size));
  decodeLoops(loops, names, linear, prefix, ivs, line);
}

void mlir::kiln::cuda::decodeLoops(ArrayRef<unsigned> loops,
                                   ArrayRef<std::string> sizes,
                                   const std::string &linear, StringRef prefix,
                                   SmallVectorImpl<std::string> &ivs,
                                   function_ref<void(const Twine &)> line) {
  std::string rest = linear;
  for (int i = int(loops.size()) - 1; i >= 0; --i) {
    unsigned loop = loops[i];
    std::string iv = (prefix + Twine(loop)).str();
    ivs[loop] = iv;
    const std::string &size = sizes[loop];
    line("const int64_t " + iv + " = " +
         (i == 0 ? rest : rest + " % " + size) + ";");
    rest = "(" + rest + " / " + size + ")";
  }
}


LogicalResult CudaEmitter::beginElementKernel(const std::string &kernelName,
                                          Operation *op, uint64_t total) {
  return beginElementKernel(kernelName, op, std::to_string(total) + "ll");
}

LogicalResult CudaEmitter::beginElementKernel(const std::string &kernelName,
                                              Operation *op,
                                              const std::string &total) {
  line(kernelHeader(kernelName, {op}) + " {");
  ++indent;
  line("const int64_t thread = int64_t(blockIdx.x) * blockDim.x + "
       "threadIdx.x;");
  line("if (thread >= " + total + ")");
  line("  return;");
  return materializeOutsideValues({op});
}

FailureOr<uint32_t> CudaEmitter::hostTripCount(Value lower, Value upper,
                                               Value step, Operation *op) {
  FailureOr<uint32_t> lb = hostValue(lower, op), ub = hostValue(upper, op),
                      stride = hostValue(step, op);
  if (failed(lb) || failed(ub) || failed(stride))
    return failure();
  if (std::optional<int64_t> known = host->constantOf(*stride);
      !known || *known <= 0)
    return op->emitError("CUDA code generation needs loop steps that are "
                         "positive constants");
  uint32_t span = host->arith(HostArith::Sub, *ub, *lb);
  uint32_t trips = host->arith(HostArith::CeilDivS, span, *stride);
  return host->arith(HostArith::MaxS, trips, host->constant(0));
}

/// A kernel of one thread per element of `total` (a slot), in blocks of
/// kBlockThreads.
void CudaEmitter::finishElementKernel(const std::string &kernelName,
                                      Operation *op, uint32_t total) {
  std::optional<int64_t> known = host->constantOf(total);
  if (known) {
    finishKernel(kernelName, /*cooperative=*/false, {op}, uint64_t(*known));
    return;
  }
  uint32_t blocks = host->arith(HostArith::CeilDivS, total,
                                host->constant(kBlockThreads));
  uint32_t one = host->constant(1);
  finishKernel(kernelName, /*cooperative=*/false, {op}, kBlockThreads,
               SmallVector<uint32_t>{blocks, one, one});
}

/// A parallel loop nest whose bounds are known only at run time: the trip
/// counts are host slots, the thread's position is decoded against them.
LogicalResult CudaEmitter::emitRunTimeParallelKernel(scf::ParallelOp op) {
  SmallVector<uint32_t> trips;
  uint32_t total = host->constant(1);
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    FailureOr<uint32_t> trip =
        hostTripCount(op.getLowerBound()[d], op.getUpperBound()[d],
                      op.getStep()[d], op);
    if (failed(trip))
      return failure();
    trips.push_back(*trip);
    total = host->arith(HostArith::Mul, total, *trip);
  }
  if (host->constantOf(total) == 0)
    return success();
  std::string kernelName = nextKernelName();
  if (failed(beginElementKernel(kernelName, op, slotName(total))))
    return failure();
  std::string rest = "thread";
  for (int d = int(op.getNumLoops()) - 1; d >= 0; --d) {
    std::string iv = fresh("i");
    name(op.getInductionVars()[d]) = iv;
    std::string trip = slotName(trips[d]);
    std::string position = d == 0 ? rest : rest + " % " + trip;
    std::string value = addProduct(name(op.getLowerBound()[d]), position,
                                   name(op.getStep()[d]));
    line("const int64_t " + iv + " = " + value + ";");
    if (d > 0)
      rest = "(" + rest + " / " + trip + ")";
  }
  if (failed(emitBlock(*op.getBody())))
    return failure();
  --indent;
  line("}");
  finishElementKernel(kernelName, op, total);
  return success();
}

LogicalResult CudaEmitter::emitParallelKernel(scf::ParallelOp op) {
  if (op.getNumResults())
    return op.emitError("CUDA code generation does not support parallel "
                        "loops with reductions");
  // With sizes at run time every nest's trip counts are host slots (those
  // known at compile time fold to constants).
  if (sizedAtRunTime)
    return emitRunTimeParallelKernel(op);
  SmallVector<int64_t> lower, upper, steps, trips;
  uint64_t total = 1;
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    std::optional<int64_t> lb = getConstantIntValue(op.getLowerBound()[d]);
    std::optional<int64_t> ub = getConstantIntValue(op.getUpperBound()[d]);
    std::optional<int64_t> step = getConstantIntValue(op.getStep()[d]);
    if (!lb || !ub || !step || *step <= 0)
      return op.emitError("CUDA code generation needs static shapes (a loop "
                          "bound is only known at run time)");
    int64_t trip = *ub > *lb ? (*ub - *lb + *step - 1) / *step : 0;
    lower.push_back(*lb);
    steps.push_back(*step);
    trips.push_back(trip);
    total *= uint64_t(trip);
  }
  if (total == 0)
    return success(); // an empty tensor: nothing to launch
  if ((total + kBlockThreads - 1) / kBlockThreads > uint64_t(kMaxGridX))
    return op.emitError("CUDA code generation: the loop nest has too many "
                        "iterations for one launch");
  std::string kernelName = nextKernelName();
  if (failed(beginElementKernel(kernelName, op, total)))
    return failure();
  // The last dimension varies fastest across neighbouring threads.
  std::string rest = "thread";
  for (int d = int(op.getNumLoops()) - 1; d >= 0; --d) {
    std::string iv = fresh("i");
    name(op.getInductionVars()[d]) = iv;
    std::string position =
        d == 0 ? rest : rest + " % " + std::to_string(trips[d]);
    std::string value = position;
    if (steps[d] != 1)
      value = value + " * " + std::to_string(steps[d]);
    if (lower[d] != 0)
      value = std::to_string(lower[d]) + " + " + value;
    line("const int64_t " + iv + " = " + value + ";");
    if (d > 0)
      rest = "(" + rest + " / " + std::to_string(trips[d]) + ")";
  }
  if (failed(emitBlock(*op.getBody())))
    return failure();
  --indent;
  line("}");
  finishKernel(kernelName, /*cooperative=*/false, {op.getOperation()}, total);
  return success();
}

LogicalResult CudaEmitter::emitSerialKernel(ArrayRef<Operation *> ops) {
  // Nothing its loops compute may be used after it (scalars read between
  // them are read again where they are used).
  for (Operation *op : ops)
    for (Value result : op->getNumRegions() ? op->getResults()
                                              : ResultRange(nullptr, 0))
      for (Operation *user : result.getUsers())
        if (!llvm::any_of(ops, [&](Operation *kernelOp) {
              return kernelOp->isAncestor(user);
            }))
          return op->emitError() << "CUDA code generation cannot pass the "
                                    "result of '"
                                 << op->getName() << "' to a later kernel";
  std::string kernelName = nextKernelName();
  std::string header = kernelHeader(kernelName, ops);
  line(header + " {");
  ++indent;
  line("// One thread: loops with dependences between iterations.");
  if (failed(materializeOutsideValues(ops)))
    return failure();
  for (Operation *op : ops)
    if (failed(emitOp(op)))
      return failure();
  --indent;
  line("}");
  finishKernel(kernelName, /*cooperative=*/false, ops, 1);
  return success();
}

LogicalResult CudaEmitter::emitCopyKernel(memref::CopyOp op) {
  auto type = cast<MemRefType>(op.getTarget().getType());
  if (!type.hasStaticShape() && !sizedAtRunTime)
    return op.emitError("CUDA code generation needs static shapes");
  std::string kernelName = nextKernelName();
  std::optional<uint32_t> totalSlot;
  if (type.hasStaticShape()) {
    if (type.getNumElements() == 0)
      return success();
    if (failed(beginElementKernel(kernelName, op,
                                  uint64_t(type.getNumElements()))))
      return failure();
  } else {
    uint32_t elements = host->constant(1);
    for (unsigned d = 0; d < type.getRank(); ++d) {
      FailureOr<uint32_t> size = hostDim(op.getTarget(), d);
      if (failed(size))
        return failure();
      elements = host->arith(HostArith::Mul, elements, *size);
    }
    totalSlot = elements;
    if (host->constantOf(*totalSlot) == 0)
      return success();
    if (failed(beginElementKernel(kernelName, op, slotName(*totalSlot))))
      return failure();
  }
  FailureOr<BufferView> source = view(op.getSource());
  FailureOr<BufferView> target = view(op.getTarget());
  FailureOr<std::string> storage = storageType(type.getElementType(), op);
  if (failed(source) || failed(target) || failed(storage))
    return failure();
  SmallVector<std::string> ivs(type.getRank()), sizes;
  for (unsigned d = 0; d < type.getRank(); ++d) {
    FailureOr<std::string> size = dimName(op.getTarget(), d);
    if (failed(size))
      return failure();
    sizes.push_back(*size);
  }
  SmallVector<unsigned> dims =
      llvm::to_vector(llvm::seq<unsigned>(0, unsigned(type.getRank())));
  decodeLoops(dims, sizes, "thread", "d", ivs,
              [&](const Twine &text) { line(text); });
  line(elementAt(*target, *storage, ivs) + " = " +
       elementAt(*source, *storage, ivs) + ";");
  --indent;
  line("}");
  if (totalSlot)
    finishElementKernel(kernelName, op, *totalSlot);
  else
    finishKernel(kernelName, /*cooperative=*/false, {op.getOperation()},
                 uint64_t(type.getNumElements()));
  return success();
}
