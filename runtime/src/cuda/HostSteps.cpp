//===- HostSteps.cpp - a CUDA schedule's host steps -----------------------===//

#include "runtime/src/cuda/HostSteps.h"

#include <algorithm>
#include <limits>

using namespace kiln;
using namespace kiln::runtime;
using package::CudaHostArith;
using package::CudaHostOp;
using package::CudaHostStep;

namespace {

/// A `bits`-wide integer in its slot: booleans as 0 or 1, wider integers
/// sign-extended.
int64_t normalize(uint64_t value, int64_t bits) {
  if (bits == 1)
    return int64_t(value & 1);
  if (bits >= 64)
    return int64_t(value);
  unsigned shift = unsigned(64 - bits);
  return int64_t(value << shift) >> shift;
}

uint64_t zeroExtended(int64_t value, int64_t bits) {
  return bits >= 64 ? uint64_t(value)
                    : uint64_t(value) & ((uint64_t(1) << bits) - 1);
}

kiln_status_t sizeError(const std::string &message) {
  return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                    "computing the CUDA kernels' sizes: " + message);
}

kiln_status_t arith(const CudaHostStep &step, int64_t a, int64_t b,
                    int64_t &result) {
  int64_t bits = step.value;
  uint64_t ua = zeroExtended(a, bits), ub = zeroExtended(b, bits);
  bool divides = step.code >= uint32_t(CudaHostArith::DivS) &&
                 step.code <= uint32_t(CudaHostArith::FloorDivS);
  if (divides && b == 0)
    return sizeError("division by zero (an input dimension of 0?)");
  bool overflows = a == std::numeric_limits<int64_t>::min() && b == -1;
  uint64_t value = 0;
  switch (static_cast<CudaHostArith>(step.code)) {
  case CudaHostArith::Add:
    value = uint64_t(a) + uint64_t(b);
    break;
  case CudaHostArith::Sub:
    value = uint64_t(a) - uint64_t(b);
    break;
  case CudaHostArith::Mul:
    value = uint64_t(a) * uint64_t(b);
    break;
  case CudaHostArith::DivS:
    value = overflows ? uint64_t(a) : uint64_t(a / b);
    break;
  case CudaHostArith::DivU:
    value = ua / ub;
    break;
  case CudaHostArith::RemS:
    value = overflows ? 0 : uint64_t(a % b);
    break;
  case CudaHostArith::RemU:
    value = ua % ub;
    break;
  case CudaHostArith::CeilDivS:
  case CudaHostArith::FloorDivS: {
    if (overflows) {
      value = uint64_t(a);
      break;
    }
    int64_t quotient = a / b;
    bool inexact = quotient * b != a;
    bool positive = (a < 0) == (b < 0);
    if (inexact && step.code == uint32_t(CudaHostArith::CeilDivS) && positive)
      ++quotient;
    if (inexact && step.code == uint32_t(CudaHostArith::FloorDivS) && !positive)
      --quotient;
    value = uint64_t(quotient);
    break;
  }
  case CudaHostArith::MaxS:
    value = uint64_t(std::max(a, b));
    break;
  case CudaHostArith::MinS:
    value = uint64_t(std::min(a, b));
    break;
  case CudaHostArith::MaxU:
    value = std::max(ua, ub);
    break;
  case CudaHostArith::MinU:
    value = std::min(ua, ub);
    break;
  case CudaHostArith::And:
    value = uint64_t(a) & uint64_t(b);
    break;
  case CudaHostArith::Or:
    value = uint64_t(a) | uint64_t(b);
    break;
  case CudaHostArith::Xor:
    value = uint64_t(a) ^ uint64_t(b);
    break;
  case CudaHostArith::Shl:
    value = ub >= uint64_t(bits) ? 0 : ua << ub;
    break;
  case CudaHostArith::ShrS:
    value = uint64_t(ub >= uint64_t(bits) ? (a < 0 ? -1 : 0) : a >> ub);
    break;
  case CudaHostArith::ShrU:
    value = ub >= uint64_t(bits) ? 0 : ua >> ub;
    break;
  case CudaHostArith::Eq:
    result = a == b;
    return nullptr;
  case CudaHostArith::Ne:
    result = a != b;
    return nullptr;
  case CudaHostArith::LtS:
    result = a < b;
    return nullptr;
  case CudaHostArith::LeS:
    result = a <= b;
    return nullptr;
  case CudaHostArith::GtS:
    result = a > b;
    return nullptr;
  case CudaHostArith::GeS:
    result = a >= b;
    return nullptr;
  case CudaHostArith::LtU:
    result = ua < ub;
    return nullptr;
  case CudaHostArith::LeU:
    result = ua <= ub;
    return nullptr;
  case CudaHostArith::GtU:
    result = ua > ub;
    return nullptr;
  case CudaHostArith::GeU:
    result = ua >= ub;
    return nullptr;
  case CudaHostArith::ExtU:
    result = int64_t(ua);
    return nullptr;
  }
  result = normalize(value, bits);
  return nullptr;
}

/// The buffers the steps allocated, freed when the run ends however it
/// ends.
struct Allocations {
  explicit Allocations(HostStepDevice &device) : device(device) {}
  ~Allocations() {
    for (uint64_t pointer : live)
      device.release(pointer);
  }
  HostStepDevice &device;
  std::vector<uint64_t> live;
};

} // namespace

kiln_status_t kiln::runtime::runHostSteps(
    const package::CudaSchedule &schedule, const std::vector<uint64_t> &roots,
    const std::vector<std::vector<int64_t>> &inputShapes, size_t outputCount,
    HostStepDevice &device, std::vector<std::vector<int64_t>> &outputShapes) {
  std::vector<int64_t> slots(
      std::max<size_t>(schedule.slotCount, roots.size()));
  std::copy(roots.begin(), roots.end(), slots.begin());
  outputShapes.assign(outputCount, {});
  std::vector<bool> outputAllocated(outputCount, false);
  Allocations allocations(device);
  std::vector<void *> params;
  for (const CudaHostStep &step : schedule.steps) {
    auto operand = [&](size_t i) { return slots[step.operands[i]]; };
    int64_t &result = slots[step.result];
    switch (step.op) {
    case CudaHostOp::Constant:
      result = step.value;
      break;
    case CudaHostOp::InputDim:
      if (step.code >= inputShapes.size() || step.value < 0 ||
          size_t(step.value) >= inputShapes[step.code].size())
        return makeStatus(KILN_STATUS_DATA_LOSS,
                          "the CUDA schedule reads a dimension no input has");
      result = inputShapes[step.code][size_t(step.value)];
      break;
    case CudaHostOp::Arith:
      KILN_RETURN_IF_ERROR(arith(step, operand(0), operand(1), result));
      break;
    case CudaHostOp::Select:
      result = operand(0) != 0 ? operand(1) : operand(2);
      break;
    case CudaHostOp::Alloc: {
      if (operand(0) < 0)
        return sizeError("a buffer of " + std::to_string(operand(0)) +
                         " bytes");
      uint64_t pointer = 0;
      KILN_RETURN_IF_ERROR(device.allocate(uint64_t(operand(0)), pointer));
      allocations.live.push_back(pointer);
      result = int64_t(pointer);
      break;
    }
    case CudaHostOp::Free: {
      auto found = std::find(allocations.live.begin(), allocations.live.end(),
                             uint64_t(operand(0)));
      if (found == allocations.live.end())
        return makeStatus(KILN_STATUS_DATA_LOSS,
                          "the CUDA schedule frees a buffer it did not "
                          "allocate");
      device.release(*found);
      allocations.live.erase(found);
      break;
    }
    case CudaHostOp::AllocOutput: {
      if (step.code >= outputCount || outputAllocated[step.code])
        return makeStatus(KILN_STATUS_DATA_LOSS,
                          "the CUDA schedule allocates an output twice or "
                          "one the model does not have");
      if (operand(0) < 0)
        return sizeError("an output of " + std::to_string(operand(0)) +
                         " bytes");
      uint64_t pointer = 0;
      KILN_RETURN_IF_ERROR(
          device.allocateOutput(step.code, uint64_t(operand(0)), pointer));
      outputAllocated[step.code] = true;
      result = int64_t(pointer);
      break;
    }
    case CudaHostOp::OutputShape:
      if (step.code >= outputCount)
        return makeStatus(KILN_STATUS_DATA_LOSS,
                          "the CUDA schedule shapes an output the model does "
                          "not have");
      outputShapes[step.code].clear();
      for (size_t i = 0; i < step.operands.size(); ++i)
        outputShapes[step.code].push_back(operand(i));
      break;
    case CudaHostOp::Launch: {
      uint32_t grid[3];
      bool empty = false;
      for (int d = 0; d < 3; ++d) {
        int64_t size = operand(size_t(d));
        if (size < 0 || size > std::numeric_limits<int32_t>::max())
          return sizeError("kernel " + schedule.kernels[step.code].name +
                           " needs a grid of " + std::to_string(size) +
                           " blocks");
        empty |= size == 0;
        grid[d] = uint32_t(size);
      }
      if (empty)
        break; // an empty tensor: nothing to compute
      params.clear();
      for (size_t i = 3; i < step.operands.size(); ++i)
        params.push_back(&slots[step.operands[i]]);
      KILN_RETURN_IF_ERROR(device.launch(step.code, grid, params.data()));
      break;
    }
    case CudaHostOp::Load: {
      if (operand(0) == 0)
        return makeStatus(KILN_STATUS_DATA_LOSS,
                          "the CUDA schedule reads a size from no buffer");
      uint64_t bits = 0;
      KILN_RETURN_IF_ERROR(
          device.read(uint64_t(operand(0)) + uint64_t(operand(1)),
                      uint64_t(step.value), &bits));
      // Little-endian, as both the GPU and the emulator's host are.
      result = normalize(bits, step.value * 8);
      break;
    }
    }
  }
  for (size_t i = 0; i < outputCount; ++i)
    if (!outputAllocated[i])
      return makeStatus(KILN_STATUS_DATA_LOSS,
                        "the CUDA schedule never allocates output " +
                            std::to_string(i));
  return nullptr;
}
