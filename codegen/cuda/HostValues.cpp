//===- HostValues.cpp - sizes the host computes at run time ---------------===//
//
// With sizes known only at run time, the integer arithmetic at the top level
// of the model function (the inputs' dimensions and what is computed from
// them) becomes host steps, each value a slot. Kernels take the slots they
// use as parameters: `buffer<slot>` and `size<slot>`.
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmitter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cuda;

namespace {

/// Bytes of one element in the kernels' memory: index as their int64_t,
/// booleans a byte.
int64_t deviceElementBytes(Type type) {
  return type.isIndex() ? 8 : std::max<int64_t>(1, elementBytes(type));
}

unsigned bitsOf(Type type) {
  return type.isIndex() ? 64 : type.getIntOrFloatBitWidth();
}

std::optional<HostArith> hostArith(Operation *op) {
  return TypeSwitch<Operation *, std::optional<HostArith>>(op)
      .Case([](arith::AddIOp) { return HostArith::Add; })
      .Case([](arith::SubIOp) { return HostArith::Sub; })
      .Case([](arith::MulIOp) { return HostArith::Mul; })
      .Case([](arith::DivSIOp) { return HostArith::DivS; })
      .Case([](arith::DivUIOp) { return HostArith::DivU; })
      .Case([](arith::RemSIOp) { return HostArith::RemS; })
      .Case([](arith::RemUIOp) { return HostArith::RemU; })
      .Case([](arith::CeilDivSIOp) { return HostArith::CeilDivS; })
      .Case([](arith::FloorDivSIOp) { return HostArith::FloorDivS; })
      .Case([](arith::MaxSIOp) { return HostArith::MaxS; })
      .Case([](arith::MinSIOp) { return HostArith::MinS; })
      .Case([](arith::MaxUIOp) { return HostArith::MaxU; })
      .Case([](arith::MinUIOp) { return HostArith::MinU; })
      .Case([](arith::AndIOp) { return HostArith::And; })
      .Case([](arith::OrIOp) { return HostArith::Or; })
      .Case([](arith::XOrIOp) { return HostArith::Xor; })
      .Case([](arith::ShLIOp) { return HostArith::Shl; })
      .Case([](arith::ShRSIOp) { return HostArith::ShrS; })
      .Case([](arith::ShRUIOp) { return HostArith::ShrU; })
      .Default([](Operation *) { return std::nullopt; });
}

HostArith comparison(arith::CmpIPredicate predicate) {
  using P = arith::CmpIPredicate;
  switch (predicate) {
  case P::eq:
    return HostArith::Eq;
  case P::ne:
    return HostArith::Ne;
  case P::slt:
    return HostArith::LtS;
  case P::sle:
    return HostArith::LeS;
  case P::sgt:
    return HostArith::GtS;
  case P::sge:
    return HostArith::GeS;
  case P::ult:
    return HostArith::LtU;
  case P::ule:
    return HostArith::LeU;
  case P::ugt:
    return HostArith::GtU;
  case P::uge:
    return HostArith::GeU;
  }
  return HostArith::Eq;
}

} // namespace

bool CudaEmitter::tryHostOp(Operation *op) {
  if (op->getNumResults() != 1 || op->getNumRegions())
    return false;
  Value result = op->getResult(0);
  Type type = result.getType();
  if (!type.isIntOrIndex())
    return false;
  unsigned bits = bitsOf(type);
  auto operand = [&](unsigned i) -> std::optional<uint32_t> {
    auto found = hostSlots.find(op->getOperand(i));
    if (found != hostSlots.end())
      return found->second;
    if (std::optional<int64_t> constant =
            getConstantIntValue(op->getOperand(i)))
      return host->constant(*constant);
    return std::nullopt;
  };
  std::optional<uint32_t> slot;
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    if (std::optional<int64_t> value = getConstantIntValue(result))
      slot = host->constant(*value);
  } else if (auto dim = dyn_cast<memref::DimOp>(op)) {
    std::optional<int64_t> axis = dim.getConstantIndex();
    if (!axis)
      return false;
    FailureOr<uint32_t> size = hostDim(dim.getSource(), unsigned(*axis));
    if (failed(size))
      return false;
    slot = *size;
  } else if (std::optional<HostArith> code = hostArith(op)) {
    std::optional<uint32_t> a = operand(0), b = operand(1);
    if (a && b)
      slot = host->arith(*code, *a, *b, bits);
  } else if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
    std::optional<uint32_t> a = operand(0), b = operand(1);
    if (a && b)
      slot = host->arith(comparison(cmp.getPredicate()), *a, *b,
                         bitsOf(cmp.getLhs().getType()));
  } else if (isa<arith::SelectOp>(op)) {
    std::optional<uint32_t> c = operand(0), a = operand(1), b = operand(2);
    if (c && a && b)
      slot = host->select(*c, *a, *b);
  } else if (isa<arith::IndexCastOp, arith::ExtSIOp, arith::TruncIOp,
                 arith::IndexCastUIOp, arith::ExtUIOp>(op)) {
    std::optional<uint32_t> a = operand(0);
    unsigned from = bitsOf(op->getOperand(0).getType());
    if (!a)
      return false;
    bool unsignedSource = isa<arith::IndexCastUIOp, arith::ExtUIOp>(op);
    uint32_t zero = host->constant(0);
    if (bits <= from)
      // Truncation: back to `bits` bits.
      slot = bits == 64 ? *a : host->arith(HostArith::Add, *a, zero, bits);
    else if (unsignedSource)
      slot = host->arith(HostArith::ExtU, *a, zero, from);
    else if (from == 1)
      // Booleans are 0 or 1 in their slots; sign-extended, true is -1.
      slot = host->arith(HostArith::Sub, zero, *a, bits);
    else
      slot = *a; // sign-extended in its slot already
  }
  if (!slot)
    return false;
  hostSlots[result] = *slot;
  return true;
}

FailureOr<uint32_t> CudaEmitter::hostValue(Value value, Operation *user) {
  auto found = hostSlots.find(value);
  if (found != hostSlots.end())
    return found->second;
  if (std::optional<int64_t> constant = getConstantIntValue(value))
    return host->constant(*constant);
  Operation *definition = value.getDefiningOp();
  if (definition && definition->getBlock() == &main.getBody().front() &&
      tryHostOp(definition))
    return hostSlots[value];
  return user->emitError("CUDA code generation cannot compute this size on "
                         "the host (it is not arithmetic on the inputs' "
                         "dimensions)");
}

bool CudaEmitter::sizesOnHost(memref::LoadOp load) {
  if (!load.getType().isIntOrIndex())
    return false;
  Block *top = &main.getBody().front();
  SmallVector<Value> worklist = {load.getResult()};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      // Uses inside a kernel's loops read the value there.
      if (user->getBlock() != top)
        continue;
      if (isa<memref::AllocOp, memref::ViewOp, memref::SubViewOp,
              memref::ReinterpretCastOp, memref::ExpandShapeOp,
              scf::ParallelOp>(user))
        return true;
      if (isMemoryEffectFree(user) && !user->getNumRegions() &&
          user->getNumResults() == 1 &&
          user->getResult(0).getType().isIntOrIndex())
        worklist.push_back(user->getResult(0));
    }
  }
  return false;
}

LogicalResult CudaEmitter::hostLoad(memref::LoadOp load) {
  auto type = load.getMemRefType();
  SmallVector<int64_t> strides;
  int64_t offset = 0;
  auto unsupported = [&] {
    return load.emitError("CUDA code generation reads a size from device "
                          "memory only through views of static layout");
  };
  if (failed(getStridesAndOffset(type, strides, offset)) ||
      ShapedType::isDynamic(offset) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return unsupported();
  // The layout's offset counts from the buffer a memref.view cuts at a
  // byte shift (the memory plan's), or from the root.
  Value base = load.getMemRef();
  int64_t byteShift = 0;
  while (Operation *definition = base.getDefiningOp()) {
    if (auto view = dyn_cast<memref::ViewOp>(definition)) {
      std::optional<int64_t> shift = getConstantIntValue(view.getByteShift());
      if (!shift)
        return unsupported();
      byteShift = *shift;
      base = view.getSource();
      break;
    }
    if (isa<memref::AllocOp>(definition))
      break;
    if (!isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
             memref::CastOp, memref::ReinterpretCastOp>(definition))
      return unsupported();
    base = definition->getOperand(0);
  }
  std::optional<uint32_t> pointer = rootSlot(base);
  if (!pointer)
    return unsupported();
  int64_t elementBytes = deviceElementBytes(type.getElementType());
  uint32_t element = host->constant(offset);
  for (auto [index, stride] : llvm::zip(load.getIndices(), strides)) {
    FailureOr<uint32_t> at = hostValue(index, load);
    if (failed(at))
      return failure();
    element =
        host->arith(HostArith::Add, element,
                    host->arith(HostArith::Mul, *at, host->constant(stride)));
  }
  uint32_t bytes = host->arith(
      HostArith::Add, host->constant(byteShift),
      host->arith(HostArith::Mul, element, host->constant(elementBytes)));
  hostSlots[load.getResult()] =
      host->load(*pointer, bytes, unsigned(elementBytes));
  return success();
}

FailureOr<uint32_t> CudaEmitter::hostDim(Value memref, unsigned axis) {
  auto type = cast<MemRefType>(memref.getType());
  if (!type.isDynamicDim(axis))
    return host->constant(type.getDimSize(axis));
  auto input = inputIndex.find(memref);
  if (input != inputIndex.end())
    return host->inputDim(input->second, axis);
  Operation *definition = memref.getDefiningOp();
  auto mixed = [&](OpFoldResult size) -> FailureOr<uint32_t> {
    if (auto attribute = dyn_cast<Attribute>(size))
      return host->constant(cast<IntegerAttr>(attribute).getInt());
    return hostValue(cast<Value>(size), definition);
  };
  if (!definition)
    return main.emitError("CUDA code generation cannot size a buffer");
  auto dynamicOperand = [&](ValueRange sizes) -> FailureOr<uint32_t> {
    unsigned position = 0;
    for (unsigned d = 0; d < axis; ++d)
      position += type.isDynamicDim(d);
    return hostValue(sizes[position], definition);
  };
  return TypeSwitch<Operation *, FailureOr<uint32_t>>(definition)
      .Case([&](memref::AllocOp alloc) {
        return dynamicOperand(alloc.getDynamicSizes());
      })
      .Case(
          [&](memref::ViewOp view) { return dynamicOperand(view.getSizes()); })
      .Case([&](memref::SubViewOp subview) -> FailureOr<uint32_t> {
        llvm::SmallBitVector dropped = subview.getDroppedDims();
        SmallVector<OpFoldResult> sizes = subview.getMixedSizes();
        unsigned kept = 0;
        for (unsigned d = 0; d < sizes.size(); ++d) {
          if (dropped.test(d))
            continue;
          if (kept++ == axis)
            return mixed(sizes[d]);
        }
        return subview.emitError("CUDA code generation cannot size a view");
      })
      .Case([&](memref::ExpandShapeOp expand) {
        Builder builder(expand.getContext());
        return mixed(getMixedValues(expand.getStaticOutputShape(),
                                    expand.getOutputShape(), builder)[axis]);
      })
      .Case([&](memref::CollapseShapeOp collapse) -> FailureOr<uint32_t> {
        uint32_t product = host->constant(1);
        for (int64_t d : collapse.getReassociationIndices()[axis]) {
          FailureOr<uint32_t> size = hostDim(collapse.getSrc(), unsigned(d));
          if (failed(size))
            return failure();
          product = host->arith(HostArith::Mul, product, *size);
        }
        return product;
      })
      .Case(
          [&](memref::CastOp cast) { return hostDim(cast.getSource(), axis); })
      .Case([&](memref::ReinterpretCastOp cast) {
        return mixed(cast.getMixedSizes()[axis]);
      })
      .Default([&](Operation *other) -> FailureOr<uint32_t> {
        return other->emitError() << "CUDA code generation cannot size the "
                                     "buffer of '"
                                  << other->getName() << "'";
      });
}

FailureOr<uint32_t> CudaEmitter::hostBytes(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  uint32_t bytes = host->constant(deviceElementBytes(type.getElementType()));
  for (unsigned d = 0; d < type.getRank(); ++d) {
    FailureOr<uint32_t> size = hostDim(memref, d);
    if (failed(size))
      return failure();
    bytes = host->arith(HostArith::Mul, bytes, *size);
  }
  return bytes;
}

std::string CudaEmitter::slotName(uint32_t slot) {
  if (std::optional<int64_t> constant = host->constantOf(slot))
    return integerLiteral(*constant);
  kernelSlots.insert(slot);
  return (pointerSlots.contains(slot) ? "buffer" : "size") +
         std::to_string(slot);
}

FailureOr<std::string> CudaEmitter::hostValueName(Value value, Operation *op) {
  std::string slot = slotName(hostSlots.lookup(value));
  Type type = value.getType();
  if (type.isIndex() || type.isInteger(64))
    return slot;
  if (type.isInteger(1))
    return "(" + slot + " != 0)";
  FailureOr<std::string> cType = registerType(type, op);
  if (failed(cType))
    return failure();
  return *cType + "(" + slot + ")";
}

FailureOr<std::string> CudaEmitter::dimName(Value memref, unsigned axis) {
  auto type = cast<MemRefType>(memref.getType());
  if (!type.isDynamicDim(axis))
    return integerLiteral(type.getDimSize(axis));
  if (!sizedAtRunTime)
    return memref.getDefiningOp()
               ? memref.getDefiningOp()->emitError(
                     "CUDA code generation needs static shapes")
               : main.emitError("CUDA code generation needs static shapes");
  FailureOr<uint32_t> slot = hostDim(memref, axis);
  if (failed(slot))
    return failure();
  return slotName(*slot);
}

FailureOr<SmallVector<std::string>> CudaEmitter::identityStrides(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  SmallVector<std::string> strides(type.getRank(), "1");
  for (int64_t d = type.getRank() - 2; d >= 0; --d) {
    FailureOr<std::string> size = dimName(memref, unsigned(d + 1));
    if (failed(size))
      return failure();
    strides[d] = addProduct("0", strides[d + 1], *size);
    if (!parseInteger(strides[d]))
      strides[d] = "(" + strides[d] + ")";
  }
  return strides;
}
