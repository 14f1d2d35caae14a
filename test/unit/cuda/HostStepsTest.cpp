//===- HostStepsTest.cpp - a CUDA schedule's host steps -------------------===//

#include "runtime/src/cuda/HostSteps.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

using namespace kiln;
using namespace kiln::runtime;
using package::CudaHostArith;
using package::CudaHostOp;
using package::CudaHostStep;

namespace {

/// Records what the steps ask of a device.
struct RecordingDevice : HostStepDevice {
  kiln_status_t allocate(uint64_t bytes, uint64_t &pointer) override {
    pointer = next;
    next += 0x1000;
    allocated[pointer] = bytes;
    return nullptr;
  }
  void release(uint64_t pointer) override { released.push_back(pointer); }
  kiln_status_t allocateOutput(uint32_t output, uint64_t bytes,
                               uint64_t &pointer) override {
    outputBytes[output] = bytes;
    return allocate(bytes, pointer);
  }
  kiln_status_t launch(uint32_t kernel, const uint32_t (&grid)[3],
                       void **params) override {
    launches.push_back({kernel, grid[0], *static_cast<int64_t *>(params[0])});
    return nullptr;
  }
  /// Device memory is `memory`, from address 0.
  kiln_status_t read(uint64_t pointer, uint64_t bytes, void *host) override {
    if (pointer + bytes > memory.size())
      return makeStatus(KILN_STATUS_INTERNAL, "read past the memory");
    std::memcpy(host, memory.data() + pointer, bytes);
    reads.push_back(pointer);
    return nullptr;
  }
  uint64_t next = 0x10000;
  std::vector<uint8_t> memory;
  std::vector<uint64_t> reads;
  std::map<uint64_t, uint64_t> allocated;
  std::map<uint32_t, uint64_t> outputBytes;
  std::vector<uint64_t> released;
  struct Launch {
    uint32_t kernel, blocks;
    int64_t firstParameter;
  };
  std::vector<Launch> launches;
};

CudaHostStep step(CudaHostOp op, uint32_t result,
                  std::vector<uint32_t> operands = {}, uint32_t code = 0,
                  int64_t value = 0) {
  CudaHostStep s;
  s.op = op;
  s.result = result;
  s.operands = std::move(operands);
  s.code = code;
  s.value = value;
  return s;
}

CudaHostStep arith(CudaHostArith op, uint32_t result, uint32_t a, uint32_t b,
                   int64_t bits = 64) {
  return step(CudaHostOp::Arith, result, {a, b}, uint32_t(op), bits);
}

/// A schedule of one kernel; slots 0-2 are the weights, workspace and the
/// one input.
package::CudaSchedule schedule(std::vector<CudaHostStep> steps) {
  package::CudaSchedule result;
  result.kernels.resize(1);
  result.kernels[0].name = "kiln_kernel_0";
  result.kernels[0].blockThreads = 256;
  result.slotCount = 32;
  result.steps = std::move(steps);
  return result;
}

TEST(HostSteps, SizeAllocateLaunchAndShapeAnOutput) {
  // n = dim 0; bytes = n * 16; grid = ceil(n * 4 / 256).
  package::CudaSchedule s = schedule({
      step(CudaHostOp::InputDim, 3, {}, 0, 0),
      step(CudaHostOp::Constant, 4, {}, 0, 16),
      step(CudaHostOp::Constant, 5, {}, 0, 4),
      step(CudaHostOp::Constant, 6, {}, 0, 256),
      step(CudaHostOp::Constant, 7, {}, 0, 1),
      arith(CudaHostArith::Mul, 8, 3, 4),
      step(CudaHostOp::Alloc, 9, {8}),
      step(CudaHostOp::AllocOutput, 10, {8}, 0),
      arith(CudaHostArith::Mul, 11, 3, 5),
      arith(CudaHostArith::CeilDivS, 12, 11, 6),
      step(CudaHostOp::Launch, 0, {12, 7, 7, 11, 9, 10}, 0),
      step(CudaHostOp::Free, 0, {9}),
      step(CudaHostOp::OutputShape, 0, {3, 5}, 0),
  });
  RecordingDevice device;
  std::vector<std::vector<int64_t>> shapes;
  ASSERT_EQ(runHostSteps(s, {1, 2, 3}, {{100, 4}}, 1, device, shapes), nullptr);
  EXPECT_EQ(device.outputBytes[0], 1600u);
  ASSERT_EQ(device.launches.size(), 1u);
  EXPECT_EQ(device.launches[0].blocks, 2u); // ceil(400 / 256)
  EXPECT_EQ(device.launches[0].firstParameter, 400);
  ASSERT_EQ(device.released.size(), 1u);
  EXPECT_EQ(device.released[0], 0x10000u);
  EXPECT_EQ(shapes, (std::vector<std::vector<int64_t>>{{100, 4}}));
}

TEST(HostSteps, IntegerSemanticsFollowTheirWidth) {
  package::CudaSchedule s = schedule({
      step(CudaHostOp::Constant, 3, {}, 0, -7),
      step(CudaHostOp::Constant, 4, {}, 0, 2),
      step(CudaHostOp::Constant, 5, {}, 0, 300),
      arith(CudaHostArith::CeilDivS, 10, 3, 4),  // -3
      arith(CudaHostArith::FloorDivS, 11, 3, 4), // -4
      arith(CudaHostArith::Add, 12, 5, 5, 8),    // 600 as i8: 88
      arith(CudaHostArith::LtU, 13, 3, 4),       // 2^64 - 7 < 2: false
      arith(CudaHostArith::ExtU, 14, 3, 4, 8),   // -7 as u8: 249
      step(CudaHostOp::Select, 15, {13, 3, 4}),  // 2
      step(CudaHostOp::Alloc, 16, {10}),         // -3 bytes: an error
  });
  RecordingDevice device;
  std::vector<std::vector<int64_t>> shapes;
  kiln_status_t status = runHostSteps(s, {1, 2, 3}, {{1}}, 0, device, shapes);
  ASSERT_NE(status, nullptr);
  EXPECT_NE(std::string(kiln_status_message(status)).find("-3 bytes"),
            std::string::npos);
  kiln_status_free(status);

  // The same arithmetic, observed through a launch's parameters.
  s.steps.back() =
      step(CudaHostOp::Launch, 0, {4, 4, 4, 10, 11, 12, 13, 14, 15});
  struct Parameters : HostStepDevice {
    kiln_status_t allocate(uint64_t, uint64_t &) override { return nullptr; }
    void release(uint64_t) override {}
    kiln_status_t allocateOutput(uint32_t, uint64_t, uint64_t &) override {
      return nullptr;
    }
    kiln_status_t launch(uint32_t, const uint32_t (&)[3],
                         void **params) override {
      for (int i = 0; i < 6; ++i)
        values.push_back(*static_cast<int64_t *>(params[i]));
      return nullptr;
    }
    kiln_status_t read(uint64_t, uint64_t, void *) override { return nullptr; }
    std::vector<int64_t> values;
  } parameters;
  ASSERT_EQ(runHostSteps(s, {1, 2, 3}, {{1}}, 0, parameters, shapes), nullptr);
  EXPECT_EQ(parameters.values, (std::vector<int64_t>{-3, -4, 88, 0, 249, 2}));
}

TEST(HostSteps, SizesTheKernelsComputedAreReadFromTheDevice) {
  // n = the i32 at byte 8 of the workspace (slot 1), sign-extended; a
  // buffer of n * 4 bytes; the i16 at byte 2 as a kernel's parameter.
  package::CudaSchedule s = schedule({
      step(CudaHostOp::Constant, 3, {}, 0, 8),
      step(CudaHostOp::Constant, 4, {}, 0, 4),
      step(CudaHostOp::Constant, 5, {}, 0, 2),
      step(CudaHostOp::Constant, 6, {}, 0, 1),
      step(CudaHostOp::Load, 7, {1, 3}, 0, 4),
      arith(CudaHostArith::Mul, 8, 7, 4),
      step(CudaHostOp::Alloc, 9, {8}),
      step(CudaHostOp::Load, 10, {1, 5}, 0, 2),
      step(CudaHostOp::Launch, 0, {6, 6, 6, 10}, 0),
  });
  RecordingDevice device;
  device.memory.assign(64, 0);
  int32_t count = 5;
  int16_t negative = -3;
  std::memcpy(device.memory.data() + 16 + 8, &count, 4);
  std::memcpy(device.memory.data() + 16 + 2, &negative, 2);
  std::vector<std::vector<int64_t>> shapes;
  // The workspace at device address 16.
  ASSERT_EQ(runHostSteps(s, {0, 16, 0}, {{1}}, 0, device, shapes), nullptr);
  EXPECT_EQ(device.reads, (std::vector<uint64_t>{24, 18}));
  EXPECT_EQ(device.allocated.begin()->second, 20u);
  ASSERT_EQ(device.launches.size(), 1u);
  EXPECT_EQ(device.launches[0].firstParameter, -3);

  // A read from no buffer is refused.
  s.steps[4] = step(CudaHostOp::Load, 7, {0, 3}, 0, 4);
  kiln_status_t status = runHostSteps(s, {0, 16, 0}, {{1}}, 0, device, shapes);
  ASSERT_NE(status, nullptr);
  kiln_status_free(status);
}

TEST(HostSteps, DivisionByZeroAndBadGridsAreErrors) {
  package::CudaSchedule s = schedule({
      step(CudaHostOp::InputDim, 3, {}, 0, 0),
      step(CudaHostOp::Constant, 4, {}, 0, 64),
      arith(CudaHostArith::DivS, 5, 4, 3),
  });
  RecordingDevice device;
  std::vector<std::vector<int64_t>> shapes;
  kiln_status_t status = runHostSteps(s, {1, 2, 3}, {{0}}, 0, device, shapes);
  ASSERT_NE(status, nullptr);
  EXPECT_NE(std::string(kiln_status_message(status)).find("division by zero"),
            std::string::npos);
  kiln_status_free(status);

  // A dimension the input does not have.
  s.steps = {step(CudaHostOp::InputDim, 3, {}, 0, 5)};
  status = runHostSteps(s, {1, 2, 3}, {{4}}, 0, device, shapes);
  ASSERT_NE(status, nullptr);
  kiln_status_free(status);

  // A grid of 0 blocks (an empty tensor) launches nothing; a negative one
  // is an error.
  s.steps = {step(CudaHostOp::Constant, 3, {}, 0, 0),
             step(CudaHostOp::Constant, 4, {}, 0, 1),
             step(CudaHostOp::Launch, 0, {3, 4, 4}, 0)};
  ASSERT_EQ(runHostSteps(s, {1, 2, 3}, {{4}}, 0, device, shapes), nullptr);
  EXPECT_TRUE(device.launches.empty());
  s.steps[0].value = -1;
  status = runHostSteps(s, {1, 2, 3}, {{4}}, 0, device, shapes);
  ASSERT_NE(status, nullptr);
  kiln_status_free(status);
}

TEST(HostSteps, ScheduleRoundTripsAndRefusesBadSteps) {
  package::CudaSchedule s = schedule({
      step(CudaHostOp::InputDim, 3, {}, 0, 1),
      arith(CudaHostArith::Mul, 4, 3, 3),
      step(CudaHostOp::Launch, 0, {4, 3, 3, 2, 4}, 0),
  });
  std::string bytes = package::serializeCudaSchedule(s);
  package::CudaSchedule parsed;
  std::string error;
  ASSERT_TRUE(
      package::parseCudaSchedule(bytes.data(), bytes.size(), parsed, error))
      << error;
  ASSERT_EQ(parsed.steps.size(), 3u);
  EXPECT_EQ(parsed.slotCount, 32u);
  EXPECT_EQ(parsed.steps[1].op, CudaHostOp::Arith);
  EXPECT_EQ(parsed.steps[2].operands, (std::vector<uint32_t>{4, 3, 3, 2, 4}));

  // A slot past the count, a kernel the schedule lacks, an unknown
  // operation: each refused.
  for (int broken = 0; broken < 3; ++broken) {
    package::CudaSchedule bad = s;
    if (broken == 0)
      bad.steps[1].operands[0] = 40;
    if (broken == 1)
      bad.steps[2].code = 3;
    if (broken == 2)
      bad.steps[1].code = 99;
    std::string badBytes = package::serializeCudaSchedule(bad);
    EXPECT_FALSE(package::parseCudaSchedule(badBytes.data(), badBytes.size(),
                                            parsed, error));
    EXPECT_NE(error.find("invalid host step"), std::string::npos) << error;
  }
}

} // namespace
