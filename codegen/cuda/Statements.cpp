//===- Statements.cpp - scf loops and scalar ops as CUDA statements ---------===//

#include "codegen/cuda/CudaEmitter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cuda;

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

/// Declares variables for an op's results, assigned in its regions.
LogicalResult CudaEmitter::declareResults(Operation *op) {
  for (Value result : op->getResults()) {
    FailureOr<std::string> cType = registerType(result.getType(), op);
    if (failed(cType))
      return failure();
    name(result) = fresh("r");
    line(*cType + " " + name(result) + ";");
  }
  return success();
}

LogicalResult CudaEmitter::assignResults(ValueRange results, ValueRange yielded) {
  // Through temporaries: a yielded value may be another result's variable.
  SmallVector<std::string> temporaries;
  for (Value value : yielded) {
    std::string temporary = fresh("t");
    line("const auto " + temporary + " = " + name(value) + ";");
    temporaries.push_back(temporary);
  }
  for (auto [result, temporary] : llvm::zip(results, temporaries))
    line(name(result) + " = " + temporary + ";");
  return success();
}

LogicalResult CudaEmitter::emitBlock(Block &block) {
  for (Operation &op : block.without_terminator())
    if (failed(emitOp(&op)))
      return failure();
  return success();
}

LogicalResult CudaEmitter::emitFor(scf::ForOp op) {
  if (failed(declareResults(op)))
    return failure();
  for (auto [result, init] : llvm::zip(op.getResults(), op.getInitArgs()))
    line(name(result) + " = " + name(init) + ";");
  FailureOr<std::string> ivType =
      registerType(op.getInductionVar().getType(), op);
  if (failed(ivType))
    return failure();
  std::string iv = fresh("i");
  name(op.getInductionVar()) = iv;
  line("for (" + *ivType + " " + iv + " = " + name(op.getLowerBound()) +
       "; " + iv + " < " + name(op.getUpperBound()) + "; " + iv + " += " +
       name(op.getStep()) + ") {");
  ++indent;
  for (auto [argument, result] :
       llvm::zip(op.getRegionIterArgs(), op.getResults()))
    name(argument) = name(result);
  if (failed(emitBlock(*op.getBody())))
    return failure();
  auto yield = cast<scf::YieldOp>(op.getBody()->getTerminator());
  if (failed(assignResults(op.getResults(), yield.getOperands())))
    return failure();
  --indent;
  line("}");
  return success();
}

LogicalResult CudaEmitter::emitIf(scf::IfOp op) {
  if (failed(declareResults(op)))
    return failure();
  line("if (" + name(op.getCondition()) + ") {");
  ++indent;
  if (failed(emitBlock(*op.thenBlock())) ||
      failed(assignResults(op.getResults(), op.thenYield().getOperands())))
    return failure();
  --indent;
  if (op.elseBlock()) {
    line("} else {");
    ++indent;
    if (failed(emitBlock(*op.elseBlock())) ||
        failed(assignResults(op.getResults(), op.elseYield().getOperands())))
      return failure();
    --indent;
  }
  line("}");
  return success();
}

LogicalResult CudaEmitter::emitWhile(scf::WhileOp op) {
  if (failed(declareResults(op)))
    return failure();
  // The loop-carried values of the `before` region.
  SmallVector<std::string> carried;
  for (auto [argument, init] :
       llvm::zip(op.getBeforeArguments(), op.getInits())) {
    FailureOr<std::string> cType = registerType(argument.getType(), op);
    if (failed(cType))
      return failure();
    std::string variable = fresh("w");
    line(*cType + " " + variable + " = " + name(init) + ";");
    name(argument) = variable;
  }
  line("for (;;) {");
  ++indent;
  if (failed(emitBlock(op.getBefore().front())))
    return failure();
  scf::ConditionOp condition = op.getConditionOp();
  if (failed(assignResults(op.getResults(), condition.getArgs())))
    return failure();
  line("if (!" + name(condition.getCondition()) + ")");
  line("  break;");
  for (auto [argument, result] :
       llvm::zip(op.getAfterArguments(), op.getResults()))
    name(argument) = name(result);
  if (failed(emitBlock(op.getAfter().front())))
    return failure();
  auto yield = cast<scf::YieldOp>(op.getAfter().front().getTerminator());
  if (failed(assignResults(op.getBeforeArguments(), yield.getOperands())))
    return failure();
  --indent;
  line("}");
  return success();
}

/// A parallel loop inside a kernel runs as ordinary nested loops.
LogicalResult CudaEmitter::emitNestedParallel(scf::ParallelOp op) {
  if (op.getNumResults())
    return op.emitError("CUDA code generation does not support parallel "
                        "loops with reductions");
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    std::string iv = fresh("i");
    name(op.getInductionVars()[d]) = iv;
    line("for (int64_t " + iv + " = " + name(op.getLowerBound()[d]) + "; " +
         iv + " < " + name(op.getUpperBound()[d]) + "; " + iv +
         " += " + name(op.getStep()[d]) + ") {");
    ++indent;
  }
  if (failed(emitBlock(*op.getBody())))
    return failure();
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    --indent;
    line("}");
  }
  return success();
}

/// A copy inside a kernel: element by element.
LogicalResult CudaEmitter::emitCopyLoops(memref::CopyOp op) {
  auto type = cast<MemRefType>(op.getTarget().getType());
  FailureOr<BufferView> source = view(op.getSource());
  FailureOr<BufferView> target = view(op.getTarget());
  FailureOr<std::string> storage = storageType(type.getElementType(), op);
  if (failed(source) || failed(target) || failed(storage))
    return failure();
  SmallVector<std::string> ivs;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    FailureOr<std::string> size = dimName(op.getTarget(), unsigned(d));
    if (failed(size))
      return failure();
    ivs.push_back(fresh("i"));
    line("for (int64_t " + ivs.back() + " = 0; " + ivs.back() + " < " + *size +
         "; ++" + ivs.back() + ")");
    ++indent;
  }
  line(elementAt(*target, *storage, ivs) + " = " +
       elementAt(*source, *storage, ivs) + ";");
  indent -= type.getRank();
  return success();
}

LogicalResult CudaEmitter::emitOp(Operation *op) {
  if (auto forOp = dyn_cast<scf::ForOp>(op))
    return emitFor(forOp);
  if (auto ifOp = dyn_cast<scf::IfOp>(op))
    return emitIf(ifOp);
  if (auto whileOp = dyn_cast<scf::WhileOp>(op))
    return emitWhile(whileOp);
  if (auto parallel = dyn_cast<scf::ParallelOp>(op))
    return emitNestedParallel(parallel);
  if (auto store = dyn_cast<memref::StoreOp>(op)) {
    Type elementType;
    FailureOr<std::string> address =
        element(store.getMemRef(), store.getIndices(), op, elementType);
    if (failed(address))
      return failure();
    std::string value = name(store.getValue());
    if (elementType.isF16())
      value = "kiln::cuda::floatToF16(" + value + ")";
    else if (elementType.isBF16())
      value = "kiln::cuda::floatToBf16(" + value + ")";
    line(*address + " = " + value + ";");
    return success();
  }
  if (auto copy = dyn_cast<memref::CopyOp>(op))
    return emitCopyLoops(copy);
  if (isa<memref::ViewOp, memref::SubViewOp, memref::ExpandShapeOp,
          memref::CollapseShapeOp, memref::CastOp, memref::ReinterpretCastOp,
          memref::AllocaOp, memref::GetGlobalOp>(op))
    return success(succeeded(view(op->getResult(0))));
  if (isa<memref::DeallocOp, memref::AssumeAlignmentOp>(op))
    return success();
  if (op->getNumRegions() || op->getNumResults() != 1)
    return op->emitError() << "CUDA code generation does not support '"
                           << op->getName() << "'";
  FailureOr<std::string> value = expression(op);
  if (failed(value))
    return failure();
  if (isa<arith::ConstantOp>(op)) {
    name(op->getResult(0)) = *value;
    return success();
  }
  FailureOr<std::string> cType = registerType(op->getResult(0).getType(), op);
  if (failed(cType))
    return failure();
  std::string variable = fresh("v");
  line("const " + *cType + " " + variable + " = " + *value + ";");
  name(op->getResult(0)) = variable;
  return success();
}
