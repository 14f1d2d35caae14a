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
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    Operation *definition = value.getDefiningOp();
    if (!definition || inKernel(definition) || needed.contains(definition))
      continue;
    needed.insert(definition);
    for (Value operand : definition->getOperands())
      worklist.push_back(operand);
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
  CudaKernel kernel;
  kernel.name = kernelName;
  kernel.cooperative = cooperative;
  kernel.origin = nodeNamesOf(ops);
  kernel.blockThreads = blockThreads;
  CudaLaunch launch;
  launch.kernel = program.kernels.size();
  std::copy(std::begin(grid), std::end(grid), launch.grid);
  program.kernels.push_back(kernel);
  program.launches.push_back(launch);
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
  std::string rest = linear;
  for (int i = int(loops.size()) - 1; i >= 0; --i) {
    unsigned loop = loops[i];
    std::string iv = (prefix + Twine(loop)).str();
    ivs[loop] = iv;
    std::string size = std::to_string(sizes[loop]);
    line("const int64_t " + iv + " = " +
         (i == 0 ? rest : rest + " % " + size) + ";");
    rest = "(" + rest + " / " + size + ")";
  }
}


LogicalResult CudaEmitter::beginElementKernel(const std::string &kernelName,
                                          Operation *op, uint64_t total) {
  line(kernelHeader(kernelName, {op}) + " {");
  ++indent;
  line("const int64_t thread = int64_t(blockIdx.x) * blockDim.x + "
       "threadIdx.x;");
  line("if (thread >= " + std::to_string(total) + "ll)");
  line("  return;");
  return materializeOutsideValues({op});
}

LogicalResult CudaEmitter::emitParallelKernel(scf::ParallelOp op) {
  if (op.getNumResults())
    return op.emitError("CUDA code generation does not support parallel "
                        "loops with reductions");
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
  if (!type.hasStaticShape())
    return op.emitError("CUDA code generation needs static shapes");
  uint64_t total = type.getNumElements();
  if (total == 0)
    return success();
  std::string kernelName = nextKernelName();
  if (failed(beginElementKernel(kernelName, op, total)))
    return failure();
  FailureOr<BufferView> source = view(op.getSource());
  FailureOr<BufferView> target = view(op.getTarget());
  FailureOr<std::string> storage = storageType(type.getElementType(), op);
  if (failed(source) || failed(target) || failed(storage))
    return failure();
  SmallVector<std::string> ivs(type.getRank());
  SmallVector<unsigned> dims =
      llvm::to_vector(llvm::seq<unsigned>(0, unsigned(type.getRank())));
  decodeLoops(dims, type.getShape(), "thread", "d", ivs,
              [&](const Twine &text) { line(text); });
  line(elementAt(*target, *storage, ivs) + " = " +
       elementAt(*source, *storage, ivs) + ";");
  --indent;
  line("}");
  finishKernel(kernelName, /*cooperative=*/false, {op.getOperation()}, total);
  return success();
}
