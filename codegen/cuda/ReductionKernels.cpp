//===- ReductionKernels.cpp - GEMM and warp-reduction kernels ---------------===//

#include "codegen/cuda/CudaEmitter.h"

#include "codegen/common/FourBitProducts.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cuda;

/// Where a GEMM operand's view starts.
FailureOr<GemmOperand> CudaEmitter::gemmOperand(linalg::LinalgOp op,
                                            OpOperand &operand) {
  FailureOr<BufferView> buffer = view(operand.get());
  if (failed(buffer))
    return failure();
  GemmOperand result;
  std::optional<int64_t> offset = parseInteger(buffer->offset);
  if (!offset)
    return op.emitError("CUDA code generation needs GEMM operands at static "
                        "offsets");
  result.offset = *offset;
  result.byteShift = buffer->byteShift;
  result.pointer = basePointer(*buffer);
  Type element = buffer->elementType;
  result.storage = element.isF16()                 ? "f16"
                   : element.isBF16()              ? "bf16"
                   : element.isSignlessInteger(8)  ? "s8"
                   : element.isSignlessInteger(32) ? "s32"
                                                   : "float";
  return result;
}

LogicalResult CudaEmitter::emitGemmKernel(linalg::LinalgOp op,
                                      const GemmShape &shape) {
  std::string kernelName = nextKernelName();
  std::string header = kernelHeader(kernelName, {op.getOperation()});
  FailureOr<GemmOperand> a =
      gemmOperand(op, *op.getDpsInputOperand(shape.aInput));
  // A 4-bit B is its nibbles, with their groups' scales and zero points.
  FailureOr<GemmOperand> b = gemmOperand(
      op, *op.getDpsInputOperand(shape.fourBitGroup ? kFourBitNibbles
                                                    : 1 - shape.aInput));
  FailureOr<GemmOperand> c = gemmOperand(op, *op.getDpsInitOperand(0));
  if (failed(a) || failed(b) || failed(c))
    return failure();
  std::optional<GemmGroups> groups;
  if (shape.fourBitGroup) {
    FailureOr<GemmOperand> scales =
        gemmOperand(op, *op.getDpsInputOperand(kFourBitScales));
    FailureOr<GemmOperand> zeros =
        gemmOperand(op, *op.getDpsInputOperand(kFourBitZeros));
    if (failed(scales) || failed(zeros))
      return failure();
    groups = GemmGroups{*scales, *zeros};
  }
  // Integer products take the INT8 tensor cores whatever the float
  // products' precision.
  GemmKernelSource kernel =
      gemmKernel(header, shape, *a, *b, *c,
                 a->storage == "s8" ? GemmPrecision::Int8 : precision,
                 groups ? &*groups : nullptr);
  source += kernel.text;
  finishKernel(kernelName, /*cooperative=*/true, {op.getOperation()},
               kernel.blockThreads, kernel.grid);
  return success();
}



/// Whether each lane can read four consecutive elements of every input at
/// once: one reduction loop, innermost and unit-stride in every input (and
/// nowhere else in its indices), float32, a whole number of vectors and at
/// least one per lane. Alignment is checked at run time.
bool CudaEmitter::vectorizable(linalg::LinalgOp op,
                               const WarpReduction &match) {
  if (match.reductionLoops.size() != 1 ||
      ShapedType::isDynamic(match.extent) || match.extent % 4 != 0 ||
      match.extent < 128)
    return false;
  unsigned loop = match.reductionLoops.front();
  Block &body = op->getRegion(0).front();
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (body.getArgument(input->getOperandNumber()).use_empty())
      continue;
    auto type = dyn_cast<MemRefType>(input->get().getType());
    if (!type || !type.getElementType().isF32())
      return false;
    AffineMap map = op.getMatchingIndexingMap(input);
    if (map.getNumResults() == 0 ||
        map.getResults().back() != getAffineDimExpr(loop, op.getContext()))
      return false;
    for (AffineExpr expr : map.getResults().drop_back())
      if (expr.isFunctionOfDim(loop))
        return false;
    FailureOr<BufferView> buffer = view(input->get());
    if (failed(buffer) || buffer->strides.back() != "1")
      return false;
  }
  return true;
}

/// The vector loop of a warp reduction, opened with the run-time alignment
/// check (`if (vectors) {`) and left open for the scalar loop's `else`.
LogicalResult CudaEmitter::emitVectorReduction(
    linalg::LinalgOp op, const WarpReduction &match,
    SmallVectorImpl<std::string> &ivs, const std::string &extent) {
  unsigned loop = match.reductionLoops.front();
  Block &body = op->getRegion(0).front();
  SmallVector<OpOperand *> inputs;
  for (OpOperand *input : op.getDpsInputOperands())
    if (!body.getArgument(input->getOperandNumber()).use_empty())
      inputs.push_back(input);
  auto addressAt = [&](OpOperand *input,
                       const std::string &r) -> FailureOr<std::string> {
    ivs[loop] = r;
    SmallVector<std::string> indices;
    for (AffineExpr expr : op.getMatchingIndexingMap(input).getResults())
      indices.push_back(affineExpression(expr, ivs));
    FailureOr<BufferView> buffer = view(input->get());
    if (failed(buffer))
      return failure();
    return "&" + elementAt(*buffer, "float", indices);
  };
  line("// Rows that start on 16 bytes: four elements per load.");
  line("bool vectors = true;");
  for (OpOperand *input : inputs) {
    FailureOr<std::string> start = addressAt(input, "0");
    if (failed(start))
      return failure();
    line("vectors = vectors && reinterpret_cast<uintptr_t>(" + *start +
         ") % 16 == 0;");
  }
  line("if (vectors) {");
  ++indent;
  line("for (int64_t r4 = lane * 4; r4 < " + extent + "; r4 += 128) {");
  ++indent;
  SmallVector<std::string> vectors;
  for (OpOperand *input : inputs) {
    FailureOr<std::string> address = addressAt(input, "r4");
    if (failed(address))
      return failure();
    vectors.push_back(fresh("q"));
    line("const kiln::cuda::Float4 " + vectors.back() +
         " = *reinterpret_cast<const kiln::cuda::Float4 *>(" + *address +
         ");");
  }
  static const char *const lanes[] = {".x", ".y", ".z", ".w"};
  for (int j = 0; j < 4; ++j) {
    for (auto [input, vector] : llvm::zip(inputs, vectors))
      name(body.getArgument(input->getOperandNumber())) = vector + lanes[j];
    for (OpOperand *input : op.getDpsInputOperands())
      if (!isa<MemRefType>(input->get().getType()))
        name(body.getArgument(input->getOperandNumber())) =
            name(input->get());
    for (Operation &nested : body.without_terminator())
      if (&nested != match.combiner && failed(emitOp(&nested)))
        return failure();
    std::string contribution = name(match.contribution);
    std::string combined = combine(match.combiner, "partial", contribution);
    line(j == 0 ? "partial = r4 == lane * 4 ? " + contribution + " : " +
                      combined + ";"
                : "partial = " + combined + ";");
  }
  --indent;
  line("}");
  --indent;
  return success();
}

LogicalResult CudaEmitter::emitWarpReductionKernel(linalg::LinalgOp op,
                                               const WarpReduction &match) {
  std::string kernelName = nextKernelName();
  // Sizes known only at run time are the host's slots: the kernel's
  // parameters, and the grid's size.
  SmallVector<std::string> sizes;
  std::optional<uint32_t> outputsSlot;
  if (ShapedType::isDynamic(match.outputs) ||
      ShapedType::isDynamic(match.extent)) {
    if (!sizedAtRunTime)
      return op.emitError("CUDA code generation needs static shapes");
    SmallVector<uint32_t> slots;
    for (auto [loop, source] : llvm::enumerate(match.loopSources)) {
      FailureOr<uint32_t> size =
          hostDim(op->getOperand(source.first), source.second);
      if (failed(size))
        return failure();
      slots.push_back(*size);
    }
    uint32_t outputs = host->constant(1), extent = host->constant(1);
    for (unsigned loop : match.parallelLoops)
      outputs = host->arith(HostArith::Mul, outputs, slots[loop]);
    for (unsigned loop : match.reductionLoops)
      extent = host->arith(HostArith::Mul, extent, slots[loop]);
    outputsSlot = outputs;
    for (uint32_t slot : slots)
      sizes.push_back(slotName(slot));
    sizes.push_back(slotName(outputs));
    sizes.push_back(slotName(extent));
  } else {
    for (int64_t size : match.loopSizes)
      sizes.push_back(std::to_string(size));
    sizes.push_back(std::to_string(match.outputs) + "ll");
    sizes.push_back(std::to_string(match.extent));
  }
  std::string extent = sizes.pop_back_val();
  std::string outputs = sizes.pop_back_val();
  std::string header = kernelHeader(kernelName, {op.getOperation()});
  line(header + " {");
  ++indent;
  line("// One warp per output: the lanes stride over its " + extent +
       " elements, then combine their partial results with shuffles.");
  line("const int64_t output = int64_t(blockIdx.x) * 8 + threadIdx.x / 32;");
  line("const int lane = threadIdx.x % 32;");
  line("if (output >= " + outputs + ")");
  line("  return;");
  if (failed(materializeOutsideValues({op.getOperation()})))
    return failure();
  SmallVector<std::string> ivs(match.loopSizes.size());
  auto emitLine = [&](const Twine &text) { line(text); };
  decodeLoops(match.parallelLoops, sizes, "output", "p", ivs, emitLine);
  line("float partial = 0.0f;");
  Block &body = op->getRegion(0).front();
  bool vectorized = vectorizable(op, match);
  if (vectorized) {
    if (failed(emitVectorReduction(op, match, ivs, extent)))
      return failure();
    line("} else {");
    ++indent;
  }
  line("for (int64_t r = lane; r < " + extent + "; r += 32) {");
  ++indent;
  decodeLoops(match.reductionLoops, sizes, "r", "r", ivs, emitLine);
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument argument = body.getArgument(input->getOperandNumber());
    if (argument.use_empty())
      continue;
    if (!isa<MemRefType>(input->get().getType())) {
      name(argument) = name(input->get());
      continue;
    }
    SmallVector<std::string> indices;
    for (AffineExpr expr : op.getMatchingIndexingMap(input).getResults()) {
      indices.push_back(affineExpression(expr, ivs));
      if (indices.back().empty())
        return op.emitError("CUDA code generation cannot index with a "
                            "symbolic affine expression");
    }
    FailureOr<std::string> value = loadAt(input->get(), indices, op);
    FailureOr<std::string> cType = registerType(argument.getType(), op);
    if (failed(value) || failed(cType))
      return failure();
    std::string variable = fresh("v");
    line("const " + *cType + " " + variable + " = " + *value + ";");
    name(argument) = variable;
  }
  for (Operation &nested : body.without_terminator())
    if (&nested != match.combiner && failed(emitOp(&nested)))
      return failure();
  std::string contribution = name(match.contribution);
  line("partial = r == lane ? " + contribution + " : " +
       combine(match.combiner, "partial", contribution) + ";");
  --indent;
  line("}");
  if (vectorized) {
    --indent;
    line("}");
  }
  bool someLanesIdle = ShapedType::isDynamic(match.extent);
  if (someLanesIdle) {
    // Fewer elements than lanes leave lanes without a partial result,
    // which must not enter the combination (a 0 is no identity of max).
    line("bool has = lane < " + extent + ";");
    line("for (int offset = 16; offset > 0; offset /= 2) {");
    line("  const float other = __shfl_xor_sync(0xffffffffu, partial, "
         "offset);");
    line("  const bool otherHas = __shfl_xor_sync(0xffffffffu, int(has), "
         "offset) != 0;");
    line("  partial = has && otherHas ? " +
         combine(match.combiner, "partial", "other") +
         " : has ? partial : other;");
    line("  has = has || otherHas;");
    line("}");
  } else {
    line("for (int offset = 16; offset > 0; offset /= 2)");
    line("  partial = " +
         combine(match.combiner, "partial",
                 "__shfl_xor_sync(0xffffffffu, partial, offset)") +
         ";");
  }
  OpOperand *init = op.getDpsInitOperand(0);
  SmallVector<std::string> indices;
  for (AffineExpr expr : op.getMatchingIndexingMap(init).getResults())
    indices.push_back(affineExpression(expr, ivs));
  FailureOr<BufferView> output = view(init->get());
  if (failed(output))
    return failure();
  std::string element = elementAt(*output, "float", indices);
  line(someLanesIdle ? "if (lane == 0 && has)" : "if (lane == 0)");
  line("  " + element + " = " + combine(match.combiner, element, "partial") +
       ";");
  --indent;
  line("}");
  if (outputsSlot) {
    uint32_t one = host->constant(1);
    uint32_t blocks =
        host->arith(HostArith::CeilDivS, *outputsSlot, host->constant(8));
    finishKernel(kernelName, /*cooperative=*/true, {op.getOperation()}, 256,
                 SmallVector<uint32_t>{blocks, one, one});
    return success();
  }
  uint32_t grid[3] = {uint32_t((match.outputs + 7) / 8), 1, 1};
  finishKernel(kernelName, /*cooperative=*/true, {op.getOperation()}, 256,
               grid);
  return success();
}
