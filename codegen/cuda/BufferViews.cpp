//===- BufferViews.cpp - memref values as CUDA address arithmetic -----------===//

#include "codegen/cuda/CudaEmitter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cuda;

/// a + b * c as a C++ expression, folded where all are literals.
std::string mlir::kiln::cuda::addProduct(const std::string &a, const std::string &b,
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
std::string mlir::kiln::cuda::elementAt(const BufferView &buffer, const std::string &storage,
                      ArrayRef<std::string> indices) {
  std::string index = buffer.offset;
  for (auto [position, value] : llvm::enumerate(indices))
    index = addProduct(index, value, buffer.strides[position]);
  return "reinterpret_cast<" + storage + " *>(" + basePointer(buffer) + ")[" +
         index + "]";
}

std::string mlir::kiln::cuda::basePointer(const BufferView &buffer) {
  if (!buffer.byteShift)
    return buffer.bytes;
  return "(" + buffer.bytes + " + " + std::to_string(buffer.byteShift) + ")";
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

/// Names the function's arguments and the buffers it returns.
LogicalResult CudaEmitter::collectRoots(func::FuncOp main) {
  unsigned inputs = 0;
  for (BlockArgument argument : main.getArguments()) {
    std::string root;
    if (main.getArgAttr(argument.getArgNumber(), kWeightsAttrName))
      root = "weights";
    else if (main.getArgAttr(argument.getArgNumber(), kWorkspaceAttrName))
      root = "workspace";
    else {
      inputIndex[argument] = inputs;
      root = "input" + std::to_string(inputs++);
    }
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
    if (!alloc || !type ||
        (!sizedAtRunTime && !type.hasStaticShape()) ||
        !type.getLayout().isIdentity() ||
        !cast<MemRefType>(alloc.getType()).getLayout().isIdentity())
      return returnOp.emitError()
             << "CUDA code generation needs result " << index
             << " in a buffer of its own with a static shape";
    if (outputIndex.count(alloc))
      return returnOp.emitError()
             << "CUDA code generation needs each result in a buffer of its "
                "own; result "
             << index << " shares one";
    outputIndex[alloc] = unsigned(index);
    if (!sizedAtRunTime)
      roots[alloc] = "output" + std::to_string(index);
  }
  return success();
}

/// The kernel parameter holding a root buffer, with sizes at run time: the
/// weights, workspace and inputs in their fixed slots, allocations in
/// theirs.
std::optional<uint32_t> CudaEmitter::rootSlot(Value memref) {
  if (auto found = hostSlots.find(memref); found != hostSlots.end())
    return found->second;
  auto argument = dyn_cast<BlockArgument>(memref);
  if (!argument || argument.getOwner() != &main.getBody().front())
    return std::nullopt;
  unsigned number = argument.getArgNumber();
  if (main.getArgAttr(number, kWeightsAttrName))
    return HostProgram::kWeightsSlot;
  if (main.getArgAttr(number, kWorkspaceAttrName))
    return HostProgram::kWorkspaceSlot;
  return HostProgram::inputSlot(inputIndex.lookup(argument));
}

std::string CudaEmitter::operandOrConstant(OpFoldResult value) {
  if (auto attribute = dyn_cast<Attribute>(value))
    return integerLiteral(cast<IntegerAttr>(attribute).getInt());
  return name(cast<Value>(value));
}

FailureOr<BufferView> CudaEmitter::view(Value memref) {
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
static LogicalResult typeLayout(MemRefType type, BufferView &result) {
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

FailureOr<BufferView> CudaEmitter::viewOf(Operation *op, Value result) {
  auto type = cast<MemRefType>(result.getType());
  BufferView view;
  view.elementType = type.getElementType();
  auto unsupported = [&](Operation *at) -> FailureOr<BufferView> {
    return at->emitError() << "CUDA code generation needs buffers with "
                              "static strides; got "
                           << type;
  };
  if (sizedAtRunTime && (!op || isa<memref::AllocOp>(op))) {
    std::optional<uint32_t> slot = rootSlot(result);
    if (!slot)
      return (op ? op : main.getOperation())
          ->emitError("CUDA code generation met a buffer it cannot place");
    pointerSlots.insert(*slot);
    view.bytes = slotName(*slot);
    FailureOr<SmallVector<std::string>> strides = identityStrides(result);
    if (failed(strides))
      return failure();
    view.strides = *strides;
    return view;
  }
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
        if (failed(typeLayout(type, view))) {
          if (!sizedAtRunTime || failed(derivedStrides(op, *source, view)))
            return unsupported(op);
        }
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

/// The strides of a reshaped or cast view whose layout is known only at run
/// time, from its source's.
LogicalResult CudaEmitter::derivedStrides(Operation *op,
                                          const BufferView &source,
                                          BufferView &view) {
  Value result = op->getResult(0);
  auto type = cast<MemRefType>(result.getType());
  view.strides.assign(type.getRank(), "");
  if (isa<memref::CastOp>(op)) {
    view.strides = source.strides;
    return success();
  }
  if (auto cast = dyn_cast<memref::ReinterpretCastOp>(op)) {
    for (auto [d, stride] : llvm::enumerate(cast.getMixedStrides()))
      view.strides[d] = operandOrConstant(stride);
    return success();
  }
  if (auto collapse = dyn_cast<memref::CollapseShapeOp>(op)) {
    // A collapsed group is contiguous: its innermost dimension's stride.
    for (auto [d, group] : llvm::enumerate(collapse.getReassociationIndices()))
      view.strides[d] = source.strides[group.back()];
    return success();
  }
  auto expand = cast<memref::ExpandShapeOp>(op);
  for (auto [d, group] : llvm::enumerate(expand.getReassociationIndices())) {
    std::string stride = source.strides[d];
    for (int64_t r = int64_t(group.size()) - 1; r >= 0; --r) {
      view.strides[group[r]] = stride;
      FailureOr<std::string> size = dimName(result, unsigned(group[r]));
      if (failed(size))
        return failure();
      stride = addProduct("0", stride, *size);
      if (!parseInteger(stride))
        stride = "(" + stride + ")";
    }
  }
  return success();
}

FailureOr<std::string> CudaEmitter::element(Value memref, ValueRange indices,
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
FailureOr<std::string> CudaEmitter::loadAt(Value memref,
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

FailureOr<std::string> CudaEmitter::expression(Operation *op) {
  if (auto load = dyn_cast<memref::LoadOp>(op)) {
    SmallVector<std::string> indices;
    for (Value index : load.getIndices())
      indices.push_back(name(index));
    return loadAt(load.getMemRef(), indices, op);
  }
  return scalarExpression(op, [&](Value value) { return name(value); });
}
