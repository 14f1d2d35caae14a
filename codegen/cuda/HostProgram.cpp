//===- HostProgram.cpp - the host steps of a CUDA program -----------------===//

#include "codegen/cuda/HostProgram.h"

#include <algorithm>

using namespace mlir::kiln::cuda;
using ::kiln::package::CudaHostOp;

uint32_t HostProgram::step(CudaHostOp op, uint32_t code, int64_t value,
                           std::vector<uint32_t> operands, bool hasResult) {
  ::kiln::package::CudaHostStep step;
  step.op = op;
  step.code = code;
  step.value = value;
  step.operands = std::move(operands);
  step.result = hasResult ? slotCount++ : 0;
  steps.push_back(std::move(step));
  return steps.back().result;
}

uint32_t HostProgram::constant(int64_t value) {
  auto found = constants.find(value);
  if (found != constants.end())
    return found->second;
  uint32_t slot = step(CudaHostOp::Constant, 0, value, {});
  constants[value] = slot;
  constantSlots[slot] = value;
  return slot;
}

uint32_t HostProgram::inputDim(unsigned input, int64_t axis) {
  auto [found, inserted] = inputDims.try_emplace({input, axis}, 0);
  if (inserted)
    found->second = step(CudaHostOp::InputDim, input, axis, {});
  return found->second;
}

std::optional<int64_t> HostProgram::constantOf(uint32_t slot) const {
  auto found = constantSlots.find(slot);
  if (found == constantSlots.end())
    return std::nullopt;
  return found->second;
}

uint32_t HostProgram::arith(HostArith op, uint32_t a, uint32_t b,
                            unsigned bits) {
  std::optional<int64_t> x = constantOf(a), y = constantOf(b);
  if (x && y && bits == 64) {
    switch (op) {
    case HostArith::Add:
      return constant(*x + *y);
    case HostArith::Sub:
      return constant(*x - *y);
    case HostArith::Mul:
      return constant(*x * *y);
    case HostArith::MaxS:
      return constant(std::max(*x, *y));
    case HostArith::MinS:
      return constant(std::min(*x, *y));
    case HostArith::CeilDivS:
      if (*x >= 0 && *y > 0)
        return constant((*x + *y - 1) / *y);
      break;
    default:
      break;
    }
  }
  if (bits == 64) {
    if ((op == HostArith::Mul || op == HostArith::CeilDivS) && y == 1)
      return a;
    if (op == HostArith::Mul && x == 1)
      return b;
    if ((op == HostArith::Add || op == HostArith::Sub) && y == 0)
      return a;
  }
  bool commutes =
      op == HostArith::Add || op == HostArith::Mul || op == HostArith::MaxS ||
      op == HostArith::MinS || op == HostArith::And || op == HostArith::Or ||
      op == HostArith::Xor || op == HostArith::Eq || op == HostArith::Ne;
  if (commutes && a > b)
    std::swap(a, b);
  auto [found, inserted] = computed.try_emplace({uint32_t(op), a, b, bits}, 0);
  if (inserted)
    found->second = step(CudaHostOp::Arith, uint32_t(op), bits, {a, b});
  return found->second;
}

uint32_t HostProgram::select(uint32_t condition, uint32_t a, uint32_t b) {
  if (std::optional<int64_t> known = constantOf(condition))
    return *known ? a : b;
  return step(CudaHostOp::Select, 0, 0, {condition, a, b});
}

uint32_t HostProgram::alloc(uint32_t bytes) {
  return step(CudaHostOp::Alloc, 0, 0, {bytes});
}

void HostProgram::free(uint32_t pointer) {
  step(CudaHostOp::Free, 0, 0, {pointer}, /*hasResult=*/false);
}

uint32_t HostProgram::allocOutput(unsigned output, uint32_t bytes) {
  return step(CudaHostOp::AllocOutput, output, 0, {bytes});
}

void HostProgram::outputShape(unsigned output, llvm::ArrayRef<uint32_t> dims) {
  step(CudaHostOp::OutputShape, output, 0, dims.vec(), /*hasResult=*/false);
}

void HostProgram::launch(unsigned kernel, llvm::ArrayRef<uint32_t> grid,
                         llvm::ArrayRef<uint32_t> arguments) {
  std::vector<uint32_t> operands(grid.begin(), grid.end());
  operands.insert(operands.end(), arguments.begin(), arguments.end());
  step(CudaHostOp::Launch, kernel, 0, std::move(operands),
       /*hasResult=*/false);
}

uint32_t HostProgram::load(uint32_t pointer, uint32_t byteOffset,
                           unsigned bytes) {
  return step(CudaHostOp::Load, 0, bytes, {pointer, byteOffset});
}

namespace {
const char *arithSymbol(HostArith op) {
  static const char *const symbols[] = {
      "+",        "-",   "*",   "/s",   "/u",   "%s",  "%u",  "ceildiv",
      "floordiv", "max", "min", "maxu", "minu", "&",   "|",   "^",
      "<<",       ">>s", ">>u", "==",   "!=",   "<s",  "<=s", ">s",
      ">=s",      "<u",  "<=u", ">u",   ">=u",  "zext"};
  return symbols[uint32_t(op)];
}
} // namespace

std::vector<std::string>
HostProgram::describe(llvm::ArrayRef<std::string> kernelNames) const {
  std::vector<std::string> lines;
  auto slot = [&](uint32_t index) {
    if (std::optional<int64_t> known = constantOf(index))
      return std::to_string(*known);
    return "s" + std::to_string(index);
  };
  auto list = [&](llvm::ArrayRef<uint32_t> slots) {
    std::string text;
    for (uint32_t index : slots)
      text += (text.empty() ? "" : ", ") + slot(index);
    return text;
  };
  for (const ::kiln::package::CudaHostStep &step : steps) {
    std::string result = "s" + std::to_string(step.result) + " = ";
    llvm::ArrayRef<uint32_t> operands = step.operands;
    switch (step.op) {
    case CudaHostOp::Constant:
      break; // inlined where used
    case CudaHostOp::InputDim:
      lines.push_back(result + "dimension " + std::to_string(step.value) +
                      " of input " + std::to_string(step.code));
      break;
    case CudaHostOp::Arith:
      lines.push_back(
          result + slot(operands[0]) + " " + arithSymbol(HostArith(step.code)) +
          " " + slot(operands[1]) + " (i" + std::to_string(step.value) + ")");
      break;
    case CudaHostOp::Select:
      lines.push_back(result + slot(operands[0]) + " ? " + slot(operands[1]) +
                      " : " + slot(operands[2]));
      break;
    case CudaHostOp::Alloc:
      lines.push_back(result + "allocate " + slot(operands[0]) + " bytes");
      break;
    case CudaHostOp::Free:
      lines.push_back("free " + slot(operands[0]));
      break;
    case CudaHostOp::AllocOutput:
      lines.push_back(result + "allocate output " + std::to_string(step.code) +
                      ", " + slot(operands[0]) + " bytes");
      break;
    case CudaHostOp::OutputShape:
      lines.push_back("output " + std::to_string(step.code) + " has shape (" +
                      list(operands) + ")");
      break;
    case CudaHostOp::Launch:
      lines.push_back(kernelNames[step.code] + "<<<(" +
                      list(operands.take_front(3)) + ")>>>(" +
                      list(operands.drop_front(3)) + ")");
      break;
    case CudaHostOp::Load:
      lines.push_back(result + "read the i" + std::to_string(step.value * 8) +
                      " at byte " + slot(operands[1]) + " of " +
                      slot(operands[0]) + " from the device");
      break;
    }
  }
  return lines;
}
