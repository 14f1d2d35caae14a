//===- KernelEmitter.cpp - loop nests to CUDA C++ -------------------------===//
//
// The input is the model function after bufferization, the memory plan and
// the lowering of linalg to scf loops: every buffer is a view of the weights
// section, the workspace, an input, an output or a small constant global,
// and every computation is a loop nest of scalar arith/math ops with
// memref loads and stores. The CUDA program mirrors that:
//
//   - a top-level scf.parallel is a kernel with one thread per iteration
//     (the iteration space flattened onto a 1-D grid, the last dimension
//     fastest so neighbouring threads touch neighbouring elements); its
//     body, reductions included, runs in the thread;
//   - consecutive other top-level loops and stores run in one
//     single-thread kernel;
//   - views become address arithmetic: each memref value is a byte pointer
//     (a kernel parameter), an element offset and strides;
//   - scalars computed at the top level and used in a kernel are recomputed
//     at the kernel's start.
//
// 16-bit floats live in memory as their bits and in registers as float,
// rounded after every operation, which gives the same results as computing
// in the 16-bit type.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/NodeNames.h"
#include "codegen/cuda/KernelEmitter.h"

#include "codegen/common/Passes.h"
#include "codegen/cuda/GemmKernel.h"
#include "codegen/cuda/ScalarExpressions.h"
#include "codegen/cuda/WarpReduction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Location.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cinttypes>
#include <cstdio>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cuda;

namespace {

/// Threads per block of the element-per-thread kernels.
constexpr int64_t kBlockThreads = 256;
constexpr int64_t kMaxGridX = 2147483647;


/// A memref value: a byte pointer, then elements of `elementType` at
/// `offset` + sum(index_i * strides[i]).
struct BufferView {
  std::string bytes;
  int64_t byteShift = 0;
  std::string offset = "0";
  SmallVector<std::string> strides;
  Type elementType;
};


/// a + b * c as a C++ expression, folded where all are literals.
std::string addProduct(const std::string &a, const std::string &b,
                       const std::string &c) {
  std::optional<int64_t> x = parseInteger(a), y = parseInteger(b),
                         z = parseInteger(c);
  if (y && z && *y * *z == 0)
    return a;
  if (x && y && z)
    return integerLiteral(*x + *y * *z);
  std::string product = z && *z == 1   ? b
                        : y && *y == 1 ? c
                                       : b + " * " + c;
  if (x && *x == 0)
    return product;
  return a + " + " + product;
}

/// The element of `buffer` at `indices` (C++ expressions), as an lvalue of
/// `storage` type.
std::string elementAt(const BufferView &buffer, const std::string &storage,
                      ArrayRef<std::string> indices) {
  std::string index = buffer.offset;
  for (auto [position, value] : llvm::enumerate(indices))
    index = addProduct(index, value, buffer.strides[position]);
  std::string pointer = buffer.bytes;
  if (buffer.byteShift)
    pointer = "(" + pointer + " + " + std::to_string(buffer.byteShift) + ")";
  return "reinterpret_cast<" + storage + " *>(" + pointer + ")[" + index + "]";
}

class Emitter {
public:
  Emitter(ModuleOp module, GemmPrecision precision)
      : module(module), precision(precision) {}
  FailureOr<CudaProgram> run();

private:
  //===-- Buffers ---------------------------------------------------------===//
  LogicalResult collectRoots(func::FuncOp main);
  FailureOr<BufferView> view(Value memref);
  FailureOr<BufferView> viewOf(Operation *op, Value result);
  FailureOr<std::string> element(Value memref, ValueRange indices,
                                 Operation *op, Type &elementType);
  std::string operandOrConstant(OpFoldResult value);

  //===-- Statements ------------------------------------------------------===//
  std::string &name(Value value) { return names[value]; }
  std::string fresh(StringRef prefix) {
    return (prefix + Twine(counter++)).str();
  }
  void line(const Twine &text) {
    source.append(indent * 2, ' ');
    source += text.str();
    source += '\n';
  }
  LogicalResult emitBlock(Block &block);
  LogicalResult emitOp(Operation *op);
  LogicalResult emitFor(scf::ForOp op);
  LogicalResult emitIf(scf::IfOp op);
  LogicalResult emitWhile(scf::WhileOp op);
  LogicalResult emitNestedParallel(scf::ParallelOp op);
  LogicalResult emitCopyLoops(memref::CopyOp op);
  LogicalResult assignResults(ValueRange results, ValueRange yielded);
  FailureOr<std::string> expression(Operation *op);
  LogicalResult declareResults(Operation *op);

  //===-- Kernels ---------------------------------------------------------===//
  LogicalResult materializeOutsideValues(ArrayRef<Operation *> ops);
  std::string kernelHeader(const std::string &kernelName,
                           ArrayRef<Operation *> ops);
  std::string nextKernelName() const {
    return "kiln_kernel_" + std::to_string(program.kernels.size());
  }
  /// Opens a kernel of `total` threads, one per element: its signature,
  /// the thread's index `thread` (threads past the end return) and the
  /// values it needs from outside `op`.
  LogicalResult beginElementKernel(const std::string &kernelName,
                                   Operation *op, uint64_t total);
  LogicalResult emitParallelKernel(scf::ParallelOp op);
  LogicalResult emitSerialKernel(ArrayRef<Operation *> ops);
  LogicalResult emitCopyKernel(memref::CopyOp op);
  LogicalResult emitGemmKernel(linalg::LinalgOp op, const GemmShape &shape);
  LogicalResult emitWarpReductionKernel(linalg::LinalgOp op,
                                        const WarpReduction &match);
  FailureOr<std::string> loadAt(Value memref, ArrayRef<std::string> indices,
                                Operation *op);
  FailureOr<GemmOperand> gemmOperand(linalg::LinalgOp op, OpOperand &operand);
  /// Records a kernel of `threads` threads, one per element.
  void finishKernel(const std::string &kernelName, bool cooperative,
                    ArrayRef<Operation *> ops, uint64_t threads);
  void finishKernel(const std::string &kernelName, bool cooperative,
                    ArrayRef<Operation *> ops, uint32_t blockThreads,
                    const uint32_t (&grid)[3]);
  void emitGlobals();
  void emitPrologue();

  ModuleOp module;
  GemmPrecision precision;
  func::FuncOp main;
  CudaProgram program;
  std::string source;
  int indent = 0;
  unsigned counter = 0;
  /// Kernel parameter names, in the order every kernel takes them.
  SmallVector<std::string> parameters;
  /// The root of each buffer the model function sees: its arguments and
  /// the allocations it returns.
  DenseMap<Value, std::string> roots;
  /// Per kernel: the C++ expression or variable of each value in scope.
  DenseMap<Value, std::string> names;
  DenseMap<Value, BufferView> views;
  /// The constant globals that stay in the code, by symbol.
  llvm::MapVector<StringAttr, std::string> globals;
};

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

/// Names the function's arguments and the buffers it returns.
LogicalResult Emitter::collectRoots(func::FuncOp main) {
  unsigned inputs = 0;
  for (BlockArgument argument : main.getArguments()) {
    std::string root;
    if (main.getArgAttr(argument.getArgNumber(), kWeightsAttrName))
      root = "weights";
    else if (main.getArgAttr(argument.getArgNumber(), "kiln.workspace"))
      root = "workspace";
    else
      root = "input" + std::to_string(inputs++);
    if (!isa<MemRefType>(argument.getType()))
      return main.emitError("CUDA code generation expects only buffers as "
                            "arguments of the model function");
    roots[argument] = root;
  }
  auto returnOp = cast<func::ReturnOp>(main.getBody().back().getTerminator());
  for (auto [index, result] : llvm::enumerate(returnOp.getOperands())) {
    // The returned value is an allocation, or a reshaped view of one.
    Value buffer = result;
    while (Operation *definition = buffer.getDefiningOp()) {
      if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp, memref::CastOp>(
              definition))
        buffer = definition->getOperand(0);
      else
        break;
    }
    auto alloc = buffer.getDefiningOp<memref::AllocOp>();
    auto type = dyn_cast<MemRefType>(result.getType());
    if (!alloc || !type || !type.hasStaticShape() ||
        !type.getLayout().isIdentity())
      return returnOp.emitError()
             << "CUDA code generation needs result " << index
             << " in a buffer of its own with a static shape";
    if (roots.count(alloc))
      return returnOp.emitError()
             << "CUDA code generation needs each result in a buffer of its "
                "own; result "
             << index << " shares one";
    roots[alloc] = "output" + std::to_string(index);
  }
  return success();
}

std::string Emitter::operandOrConstant(OpFoldResult value) {
  if (auto attribute = dyn_cast<Attribute>(value))
    return integerLiteral(cast<IntegerAttr>(attribute).getInt());
  return name(cast<Value>(value));
}

FailureOr<BufferView> Emitter::view(Value memref) {
  auto found = views.find(memref);
  if (found != views.end())
    return found->second;
  auto type = dyn_cast<MemRefType>(memref.getType());
  Operation *definition = memref.getDefiningOp();
  Operation *anchor = definition ? definition : main.getOperation();
  if (!type)
    return anchor->emitError("CUDA code generation supports only ranked "
                             "buffers");
  FailureOr<BufferView> result = viewOf(definition, memref);
  if (failed(result))
    return failure();
  views[memref] = *result;
  return result;
}

/// The layout a memref type gives: static offset and strides.
LogicalResult typeLayout(MemRefType type, BufferView &result) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)))
    return failure();
  result.strides.clear();
  for (int64_t stride : strides) {
    if (ShapedType::isDynamic(stride))
      return failure();
    result.strides.push_back(integerLiteral(stride));
  }
  if (!ShapedType::isDynamic(offset))
    result.offset = integerLiteral(offset);
  return success();
}

FailureOr<BufferView> Emitter::viewOf(Operation *op, Value result) {
  auto type = cast<MemRefType>(result.getType());
  BufferView view;
  view.elementType = type.getElementType();
  auto unsupported = [&](Operation *at) -> FailureOr<BufferView> {
    return at->emitError() << "CUDA code generation needs buffers with "
                              "static strides; got "
                           << type;
  };
  auto root = roots.find(result);
  if (root != roots.end()) {
    view.bytes = root->second;
    if (!type.hasStaticShape() && type.getRank() != 1)
      return (op ? op : main.getOperation())
                 ->emitError("CUDA code generation needs static shapes");
    if (type.hasStaticShape() && failed(typeLayout(type, view)))
      return unsupported(op ? op : main.getOperation());
    if (!type.hasStaticShape())
      view.strides = {"1"};
    return view;
  }
  if (!op)
    return main.emitError("CUDA code generation met a buffer it cannot "
                          "place");

  return TypeSwitch<Operation *, FailureOr<BufferView>>(op)
      .Case([&](memref::ViewOp viewOp) -> FailureOr<BufferView> {
        FailureOr<BufferView> source = this->view(viewOp.getSource());
        if (failed(source))
          return failure();
        std::optional<int64_t> shift =
            getConstantIntValue(viewOp.getByteShift());
        if (!shift || !viewOp.getSizes().empty())
          return viewOp.emitError("CUDA code generation needs buffers of "
                                  "static size at static offsets");
        view.bytes = source->bytes;
        view.byteShift = source->byteShift + *shift;
        if (failed(typeLayout(type, view)))
          return unsupported(op);
        return view;
      })
      .Case([&](memref::GetGlobalOp get) -> FailureOr<BufferView> {
        auto found = globals.find(get.getNameAttr().getAttr());
        if (found == globals.end())
          return get.emitError("CUDA code generation cannot find the "
                               "constant ")
                 << get.getNameAttr();
        view.bytes = found->second;
        if (failed(typeLayout(type, view)))
          return unsupported(op);
        return view;
      })
      .Case([&](memref::SubViewOp subview) -> FailureOr<BufferView> {
        FailureOr<BufferView> source = this->view(subview.getSource());
        if (failed(source))
          return failure();
        view.bytes = source->bytes;
        view.byteShift = source->byteShift;
        std::string offset =
            parseInteger(source->offset) ? source->offset
                                         : "(" + source->offset + ")";
        SmallVector<OpFoldResult> offsets = subview.getMixedOffsets();
        SmallVector<OpFoldResult> steps = subview.getMixedStrides();
        llvm::SmallBitVector dropped = subview.getDroppedDims();
        for (unsigned d = 0; d < offsets.size(); ++d) {
          offset = addProduct(offset, operandOrConstant(offsets[d]),
                              source->strides[d]);
          if (dropped.test(d))
            continue;
          view.strides.push_back(
              addProduct("0", source->strides[d], operandOrConstant(steps[d])));
        }
        view.offset = offset;
        return view;
      })
      .Case<memref::ExpandShapeOp, memref::CollapseShapeOp, memref::CastOp,
            memref::ReinterpretCastOp>([&](Operation *) -> FailureOr<BufferView> {
        FailureOr<BufferView> source = this->view(op->getOperand(0));
        if (failed(source))
          return failure();
        view.bytes = source->bytes;
        view.byteShift = source->byteShift;
        view.offset = source->offset;
        if (failed(typeLayout(type, view)))
          return unsupported(op);
        if (auto cast = dyn_cast<memref::ReinterpretCastOp>(op))
          view.offset = operandOrConstant(cast.getMixedOffsets()[0]);
        return view;
      })
      .Case([&](memref::AllocaOp alloca) -> FailureOr<BufferView> {
        if (!type.hasStaticShape() || !alloca.getDynamicSizes().empty())
          return alloca.emitError("CUDA code generation needs local buffers "
                                  "of static size");
        FailureOr<std::string> element =
            storageType(type.getElementType(), op);
        if (failed(element))
          return failure();
        std::string local = fresh("local");
        line(*element + " " + local + "[" +
             std::to_string(std::max<int64_t>(1, type.getNumElements())) +
             "];");
        view.bytes = "reinterpret_cast<unsigned char *>(" + local + ")";
        if (failed(typeLayout(type, view)))
          return unsupported(op);
        return view;
      })
      .Default([&](Operation *other) -> FailureOr<BufferView> {
        return other->emitError()
               << "CUDA code generation does not support buffers made by '"
               << other->getName() << "'";
      });
}

FailureOr<std::string> Emitter::element(Value memref, ValueRange indices,
                                        Operation *op, Type &elementType) {
  FailureOr<BufferView> buffer = view(memref);
  if (failed(buffer))
    return failure();
  elementType = buffer->elementType;
  FailureOr<std::string> storage = storageType(elementType, op);
  if (failed(storage))
    return failure();
  SmallVector<std::string> names;
  for (Value index : indices)
    names.push_back(name(index));
  return elementAt(*buffer, *storage, names);
}

/// The value of `memref` at `indices` (C++ expressions), in registers.
FailureOr<std::string> Emitter::loadAt(Value memref,
                                       ArrayRef<std::string> indices,
                                       Operation *op) {
  FailureOr<BufferView> buffer = view(memref);
  if (failed(buffer))
    return failure();
  FailureOr<std::string> storage = storageType(buffer->elementType, op);
  if (failed(storage))
    return failure();
  std::string address = elementAt(*buffer, *storage, indices);
  if (buffer->elementType.isF16())
    return "kiln::cuda::f16ToFloat(" + address + ")";
  if (buffer->elementType.isBF16())
    return "kiln::cuda::bf16ToFloat(" + address + ")";
  return address;
}

FailureOr<std::string> Emitter::expression(Operation *op) {
  if (auto load = dyn_cast<memref::LoadOp>(op)) {
    SmallVector<std::string> indices;
    for (Value index : load.getIndices())
      indices.push_back(name(index));
    return loadAt(load.getMemRef(), indices, op);
  }
  return scalarExpression(op, [&](Value value) { return name(value); });
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

/// Declares variables for an op's results, assigned in its regions.
LogicalResult Emitter::declareResults(Operation *op) {
  for (Value result : op->getResults()) {
    FailureOr<std::string> cType = registerType(result.getType(), op);
    if (failed(cType))
      return failure();
    name(result) = fresh("r");
    line(*cType + " " + name(result) + ";");
  }
  return success();
}

LogicalResult Emitter::assignResults(ValueRange results, ValueRange yielded) {
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

LogicalResult Emitter::emitBlock(Block &block) {
  for (Operation &op : block.without_terminator())
    if (failed(emitOp(&op)))
      return failure();
  return success();
}

LogicalResult Emitter::emitFor(scf::ForOp op) {
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

LogicalResult Emitter::emitIf(scf::IfOp op) {
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

LogicalResult Emitter::emitWhile(scf::WhileOp op) {
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
LogicalResult Emitter::emitNestedParallel(scf::ParallelOp op) {
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
LogicalResult Emitter::emitCopyLoops(memref::CopyOp op) {
  auto type = cast<MemRefType>(op.getTarget().getType());
  if (!type.hasStaticShape())
    return op.emitError("CUDA code generation needs static shapes");
  FailureOr<BufferView> source = view(op.getSource());
  FailureOr<BufferView> target = view(op.getTarget());
  FailureOr<std::string> storage = storageType(type.getElementType(), op);
  if (failed(source) || failed(target) || failed(storage))
    return failure();
  SmallVector<std::string> ivs;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    ivs.push_back(fresh("i"));
    line("for (int64_t " + ivs.back() + " = 0; " + ivs.back() + " < " +
         std::to_string(type.getDimSize(d)) + "; ++" + ivs.back() + ")");
    ++indent;
  }
  line(elementAt(*target, *storage, ivs) + " = " +
       elementAt(*source, *storage, ivs) + ";");
  indent -= type.getRank();
  return success();
}

LogicalResult Emitter::emitOp(Operation *op) {
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

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

/// Emits, at the kernel's start, every value the kernel uses but the model
/// function computed outside it: constants, index arithmetic, scalar loads.
LogicalResult Emitter::materializeOutsideValues(ArrayRef<Operation *> ops) {
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

std::string Emitter::kernelHeader(const std::string &kernelName,
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

void Emitter::finishKernel(const std::string &kernelName, bool cooperative,
                           ArrayRef<Operation *> ops, uint64_t threads) {
  uint32_t block = threads == 1 ? 1
                   : threads >= uint64_t(kBlockThreads)
                       ? kBlockThreads
                       : uint32_t(std::max<uint64_t>(32, (threads + 31) / 32 * 32));
  uint32_t grid[3] = {uint32_t((threads + block - 1) / block), 1, 1};
  finishKernel(kernelName, cooperative, ops, block, grid);
}

void Emitter::finishKernel(const std::string &kernelName, bool cooperative,
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

/// Where a GEMM operand's view starts.
FailureOr<GemmOperand> Emitter::gemmOperand(linalg::LinalgOp op,
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
  result.pointer = buffer->byteShift ? "(" + buffer->bytes + " + " +
                                           std::to_string(buffer->byteShift) +
                                           ")"
                                     : buffer->bytes;
  Type element = buffer->elementType;
  result.storage = element.isF16() ? "f16" : element.isBF16() ? "bf16" : "float";
  return result;
}

LogicalResult Emitter::emitGemmKernel(linalg::LinalgOp op,
                                      const GemmShape &shape) {
  std::string kernelName = nextKernelName();
  std::string header = kernelHeader(kernelName, {op.getOperation()});
  FailureOr<GemmOperand> a =
      gemmOperand(op, *op.getDpsInputOperand(shape.aInput));
  FailureOr<GemmOperand> b =
      gemmOperand(op, *op.getDpsInputOperand(1 - shape.aInput));
  FailureOr<GemmOperand> c = gemmOperand(op, *op.getDpsInitOperand(0));
  if (failed(a) || failed(b) || failed(c))
    return failure();
  GemmKernelSource kernel = gemmKernel(header, shape, *a, *b, *c, precision);
  source += kernel.text;
  finishKernel(kernelName, /*cooperative=*/true, {op.getOperation()},
               kernel.blockThreads, kernel.grid);
  return success();
}

/// Writes `const int64_t` variables decoding `linear` into the given loops
/// (the last varying fastest).
static void decodeLoops(ArrayRef<unsigned> loops, ArrayRef<int64_t> sizes,
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

LogicalResult Emitter::emitWarpReductionKernel(linalg::LinalgOp op,
                                               const WarpReduction &match) {
  std::string kernelName = nextKernelName();
  std::string header = kernelHeader(kernelName, {op.getOperation()});
  line(header + " {");
  ++indent;
  std::string extent = std::to_string(match.extent);
  line("// One warp per output: the lanes stride over its " + extent +
       " elements, then combine their partial results with shuffles.");
  line("const int64_t output = int64_t(blockIdx.x) * 8 + threadIdx.x / 32;");
  line("const int lane = threadIdx.x % 32;");
  line("if (output >= " + std::to_string(match.outputs) + "ll)");
  line("  return;");
  if (failed(materializeOutsideValues({op.getOperation()})))
    return failure();
  SmallVector<std::string> ivs(match.loopSizes.size());
  auto emitLine = [&](const Twine &text) { line(text); };
  decodeLoops(match.parallelLoops, match.loopSizes, "output", "p", ivs,
              emitLine);
  line("float partial = 0.0f;");
  line("for (int64_t r = lane; r < " + extent + "; r += 32) {");
  ++indent;
  decodeLoops(match.reductionLoops, match.loopSizes, "r", "r", ivs, emitLine);
  Block &body = op->getRegion(0).front();
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
  line("for (int offset = 16; offset > 0; offset /= 2)");
  line("  partial = " +
       combine(match.combiner, "partial",
               "__shfl_xor_sync(0xffffffffu, partial, offset)") +
       ";");
  OpOperand *init = op.getDpsInitOperand(0);
  SmallVector<std::string> indices;
  for (AffineExpr expr : op.getMatchingIndexingMap(init).getResults())
    indices.push_back(affineExpression(expr, ivs));
  FailureOr<BufferView> output = view(init->get());
  if (failed(output))
    return failure();
  std::string element = elementAt(*output, "float", indices);
  line("if (lane == 0)");
  line("  " + element + " = " + combine(match.combiner, element, "partial") +
       ";");
  --indent;
  line("}");
  uint32_t grid[3] = {uint32_t((match.outputs + 7) / 8), 1, 1};
  finishKernel(kernelName, /*cooperative=*/true, {op.getOperation()}, 256,
               grid);
  return success();
}

LogicalResult Emitter::beginElementKernel(const std::string &kernelName,
                                          Operation *op, uint64_t total) {
  line(kernelHeader(kernelName, {op}) + " {");
  ++indent;
  line("const int64_t thread = int64_t(blockIdx.x) * blockDim.x + "
       "threadIdx.x;");
  line("if (thread >= " + std::to_string(total) + "ll)");
  line("  return;");
  return materializeOutsideValues({op});
}

LogicalResult Emitter::emitParallelKernel(scf::ParallelOp op) {
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

LogicalResult Emitter::emitSerialKernel(ArrayRef<Operation *> ops) {
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

LogicalResult Emitter::emitCopyKernel(memref::CopyOp op) {
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

/// Constant globals small enough to stay in the code (larger ones are in
/// the weights section) become device arrays of their bytes.
void Emitter::emitGlobals() {
  unsigned index = 0;
  for (auto global : module.getOps<memref::GlobalOp>()) {
    auto value = dyn_cast_or_null<ElementsAttr>(global.getInitialValueAttr());
    if (!global.getConstant() || !value)
      continue;
    std::string variable = "kiln_constant_" + std::to_string(index++);
    MemRefType type = global.getType();
    Type elementType = type.getElementType();
    unsigned elementBytes = kiln::elementBytes(elementType);
    std::vector<uint8_t> bytes;
    if (elementBytes) {
      for (int64_t i = 0; i < type.getNumElements(); ++i) {
        APInt bits;
        if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
          if (isa<FloatType>(elementType))
            bits = (*(dense.getValues<APFloat>().begin() +
                      (dense.isSplat() ? 0 : i)))
                       .bitcastToAPInt();
          else
            bits = *(dense.getValues<APInt>().begin() + (dense.isSplat() ? 0 : i));
        } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
          ArrayRef<char> data;
          if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
            data = blob->getData();
          uint64_t word = 0;
          if (data.size() >= uint64_t(i + 1) * elementBytes)
            std::memcpy(&word, data.data() + i * elementBytes, elementBytes);
          bits = APInt(elementBytes * 8, word);
        }
        uint64_t word = bits.getBitWidth() ? bits.getZExtValue() : 0;
        if (elementType.isInteger(1))
          word &= 1;
        for (unsigned b = 0; b < elementBytes; ++b)
          bytes.push_back(uint8_t(word >> (8 * b)));
      }
    }
    if (bytes.empty())
      bytes.push_back(0);
    std::string text = "__device__ const __align__(16) unsigned char " +
                       variable + "[" + std::to_string(bytes.size()) +
                       "] = {";
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (i % 16 == 0)
        text += "\n   ";
      text += " " + std::to_string(bytes[i]) + ",";
    }
    line(text + "\n};");
    globals[global.getSymNameAttr()] =
        "const_cast<unsigned char *>(" + variable + ")";
  }
  if (index)
    line("");
}

void Emitter::emitPrologue() {
  line("// Generated by kiln " KILN_VERSION " from the model '" +
       (module->getAttrOfType<StringAttr>("onnx.graph_name")
            ? module->getAttrOfType<StringAttr>("onnx.graph_name").str()
            : std::string("model")) +
       "'.");
  line("// Compiles with nvcc for the GPU, and with a host C++ compiler");
  line("// against Kiln's SIMT emulator.");
  line("#include \"kiln/cuda/device.h\"");
  line("");
}

FailureOr<CudaProgram> Emitter::run() {
  main = lookupModelFunction(module);
  if (!main)
    return failure();
  if (!main.getBody().hasOneBlock())
    return main.emitError("CUDA code generation expects the model function "
                          "to be one block");
  if (failed(collectRoots(main)))
    return failure();
  for (BlockArgument argument : main.getArguments())
    parameters.push_back(roots[argument]);
  for (unsigned i = 0; i < main.getNumResults(); ++i)
    parameters.push_back("output" + std::to_string(i));

  emitPrologue();
  emitGlobals();

  // Top-level ops: kernels, and the buffers and scalars they use. A
  // serial kernel takes a whole range of top-level ops, so the scalars read
  // between its loops are read in order.
  SmallVector<Operation *> serial;
  auto flushSerial = [&]() -> LogicalResult {
    if (serial.empty())
      return success();
    LogicalResult result = emitSerialKernel(serial);
    serial.clear();
    return result;
  };
  for (Operation &op : main.getBody().front()) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      if (!roots.count(alloc))
        return alloc.emitError("CUDA code generation needs every "
                               "intermediate buffer in the memory plan "
                               "(static shapes)");
      continue;
    }
    if (isa<memref::DeallocOp, memref::AssumeAlignmentOp, func::ReturnOp>(op))
      continue;
    bool scalarOrView =
        isa<memref::ViewOp, memref::SubViewOp, memref::ExpandShapeOp,
            memref::CollapseShapeOp, memref::CastOp, memref::ReinterpretCastOp,
            memref::GetGlobalOp, memref::LoadOp>(op) ||
        (isMemoryEffectFree(&op) && !op.getNumRegions());
    if (scalarOrView) {
      // Recomputed in the kernels that use it, or in order within an open
      // serial range.
      if (!serial.empty())
        serial.push_back(&op);
      continue;
    }
    if (auto parallel = dyn_cast<scf::ParallelOp>(op)) {
      if (failed(flushSerial()) || failed(emitParallelKernel(parallel)))
        return failure();
      continue;
    }
    if (auto copy = dyn_cast<memref::CopyOp>(op)) {
      if (failed(flushSerial()) || failed(emitCopyKernel(copy)))
        return failure();
      continue;
    }
    if (isa<scf::ForOp, scf::IfOp, scf::WhileOp, memref::StoreOp>(op)) {
      serial.push_back(&op);
      continue;
    }
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
      std::optional<GemmShape> shape = matchGemm(linalgOp);
      if (shape) {
        if (failed(flushSerial()) || failed(emitGemmKernel(linalgOp, *shape)))
          return failure();
        continue;
      }
      std::optional<WarpReduction> reduction = matchWarpReduction(linalgOp);
      if (reduction) {
        if (failed(flushSerial()) ||
            failed(emitWarpReductionKernel(linalgOp, *reduction)))
          return failure();
        continue;
      }
    }
    return op.emitError() << "CUDA code generation does not support '"
                          << op.getName() << "'";
  }
  if (failed(flushSerial()))
    return failure();

  line("// Launches, in order, on one stream:");
  for (const CudaLaunch &launch : program.launches) {
    std::string grid = std::to_string(launch.grid[0]);
    if (launch.grid[1] != 1 || launch.grid[2] != 1)
      grid = "dim3(" + grid + ", " + std::to_string(launch.grid[1]) + ", " +
             std::to_string(launch.grid[2]) + ")";
    line("//   " + program.kernels[launch.kernel].name + "<<<" + grid + ", " +
         std::to_string(program.kernels[launch.kernel].blockThreads) + ">>>");
  }
  line("");
  line("#ifndef __CUDACC__");
  line("// The emulator finds the kernels through this table.");
  line("extern \"C\" const kiln_emu_entry kiln_emu_kernels[] = {");
  for (const CudaKernel &kernel : program.kernels)
    line("    " + kernel.name + "_emulated,");
  if (program.kernels.empty())
    line("    nullptr,");
  line("};");
  line("extern \"C\" const unsigned kiln_emu_kernel_count = " +
       std::to_string(program.kernels.size()) + ";");
  line("#endif");
  program.source = std::move(source);
  return program;
}

} // namespace

FailureOr<CudaProgram> mlir::kiln::cuda::emitCudaProgram(ModuleOp module,
                                                         GemmPrecision precision) {
  return Emitter(module, precision).run();
}
