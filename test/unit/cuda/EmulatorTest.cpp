//===- EmulatorTest.cpp - the SIMT emulator against CUDA's semantics ------===//

#include "test/unit/cuda/EmulatorKernels.cuh"

#include "runtime/src/ParallelRuntime.h"
#include "runtime/src/cuda/Emulator.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

using namespace kiln::runtime;

namespace {

/// Launches `entry` and returns the status message ("" on success).
std::string launch(kiln_emu_entry entry, std::vector<void *> params,
                   uint32_t grid, uint32_t block, ThreadTeam *team = nullptr,
                   bool cooperative = true) {
  EmulatedLaunch shape;
  shape.entry = entry;
  shape.params = params.data();
  shape.grid[0] = grid;
  shape.block[0] = block;
  shape.cooperative = cooperative;
  shape.name = "test kernel";
  kiln_status_t status = launchEmulated(shape, team);
  if (!status)
    return "";
  std::string message = kiln_status_message(status);
  kiln_status_free(status);
  return message;
}

TEST(Emulator, BarrierMakesSharedWritesVisible) {
  std::vector<int> out(3 * 128, -1);
  int *pointer = out.data();
  ASSERT_EQ(launch(rotateThroughSharedEntry, {&pointer}, 3, 128), "");
  for (int block = 0; block < 3; ++block)
    for (int t = 0; t < 128; ++t)
      EXPECT_EQ(out[block * 128 + t], ((t + 1) % 128) * 10 + block)
          << "block " << block << " thread " << t;
}

TEST(Emulator, ShuffleReductionAcrossBlocksOnTwoThreads) {
  ThreadTeam team(2);
  int n = 1000;
  std::vector<float> in(n);
  std::iota(in.begin(), in.end(), 1.0f);
  float sum = 0;
  const float *inPointer = in.data();
  float *sumPointer = &sum;
  // 8 blocks of 128; the last block is partly outside `n`.
  ASSERT_EQ(launch(sumWithShufflesEntry, {&inPointer, &sumPointer, &n}, 8, 128,
                   &team),
            "");
  EXPECT_EQ(sum, 500500.0f);
}

TEST(Emulator, ShuffleLanesFollowCuda) {
  for (int width : {32, 8}) {
    std::vector<int> idx(32), xorOut(32), up(32), down(32);
    int *p[4] = {idx.data(), xorOut.data(), up.data(), down.data()};
    ASSERT_EQ(launch(shuffleLanesEntry, {&p[0], &p[1], &p[2], &p[3], &width},
                     1, 32),
              "");
    for (int lane = 0; lane < 32; ++lane) {
      int base = lane / width * width;
      EXPECT_EQ(idx[lane], base + 3 % width) << "width " << width;
      int x = lane ^ 5;
      EXPECT_EQ(xorOut[lane], x < base + width ? x : lane) << "width " << width;
      EXPECT_EQ(up[lane], lane - base >= 2 ? lane - 2 : lane);
      EXPECT_EQ(down[lane], lane - base + 2 < width ? lane + 2 : lane);
    }
  }
}

TEST(Emulator, VotesIncludingAPartialWarp) {
  // 40 threads: a full warp and a warp of 8 lanes.
  std::vector<int> predicate(40, 0);
  for (int t : {0, 3, 31, 33})
    predicate[t] = 1;
  for (int t = 32; t < 40; ++t)
    predicate[t] = 1;
  std::vector<unsigned> ballot(2);
  std::vector<int> all(2), any(2);
  const int *p0 = predicate.data();
  unsigned *p1 = ballot.data();
  int *p2 = all.data(), *p3 = any.data();
  ASSERT_EQ(launch(votesEntry, {&p0, &p1, &p2, &p3}, 1, 40), "");
  EXPECT_EQ(ballot[0], (1u << 0) | (1u << 3) | (1u << 31));
  EXPECT_EQ(ballot[1], 0xffu);
  EXPECT_EQ(all[0], 0);
  EXPECT_EQ(all[1], 1);
  EXPECT_EQ(any[0], 1);
  EXPECT_EQ(any[1], 1);
}

TEST(Emulator, ReportsBarriersThatCannotComplete) {
  std::vector<int> out(32, 0);
  int *pointer = out.data();
  std::string message = launch(mismatchedBarriersEntry, {&pointer}, 1, 32);
  EXPECT_NE(message.find("deadlocked in block 0: 16 threads wait at "
                         "__syncthreads, 16 at a warp-wide operation"),
            std::string::npos)
      << message;
}

TEST(Emulator, RefusesImpossibleShapes) {
  int *pointer = nullptr;
  EXPECT_NE(launch(rotateThroughSharedEntry, {&pointer}, 1, 2048), "");
  EXPECT_NE(launch(rotateThroughSharedEntry, {&pointer}, 0, 32), "");
}

TEST(Emulator, NonCooperativeKernelsRunWithoutFibers) {
  ThreadTeam team(2);
  int n = 1000;
  std::vector<float> x(n, 3.0f);
  float *pointer = x.data();
  float factor = 2.0f;
  ASSERT_EQ(launch(scaleInPlaceEntry, {&pointer, &factor, &n}, 4, 256, &team,
                   /*cooperative=*/false),
            "");
  for (float value : x)
    EXPECT_EQ(value, 6.0f);
}

float roundToTf32(float value) {
  return kiln::cuda::bitsFloat(kiln::cuda::toTf32(value));
}

TEST(Emulator, MmaTf32MatchesAMatrixProduct) {
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> a(16 * 8), b(8 * 8), c(16 * 8), d(16 * 8, 0.0f);
  for (float &x : a)
    x = uniform(random);
  for (float &x : b)
    x = uniform(random);
  for (float &x : c)
    x = uniform(random);
  const float *pa = a.data(), *pb = b.data(), *pc = c.data();
  float *pd = d.data();
  ASSERT_EQ(launch(mmaTf32TileEntry, {&pa, &pb, &pc, &pd}, 1, 32), "");
  for (int row = 0; row < 16; ++row)
    for (int column = 0; column < 8; ++column) {
      double expected = c[row * 8 + column];
      for (int k = 0; k < 8; ++k)
        expected += double(roundToTf32(a[row * 8 + k])) *
                    roundToTf32(b[k * 8 + column]);
      EXPECT_NEAR(d[row * 8 + column], expected, 1e-5)
          << "row " << row << " column " << column;
    }
}

TEST(Emulator, Mma16BitMatchesAMatrixProduct) {
  for (bool bf16 : {false, true}) {
    std::mt19937 random(11);
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    auto encode = [&](float x) {
      return bf16 ? kiln::cuda::floatToBf16(x) : kiln::cuda::floatToF16(x);
    };
    auto decode = [&](uint16_t x) {
      return bf16 ? kiln::cuda::bf16ToFloat(x) : kiln::cuda::f16ToFloat(x);
    };
    std::vector<uint16_t> a(16 * 16), b(16 * 8);
    std::vector<float> c(16 * 8), d(16 * 8, 0.0f);
    for (uint16_t &x : a)
      x = encode(uniform(random));
    for (uint16_t &x : b)
      x = encode(uniform(random));
    for (float &x : c)
      x = uniform(random);
    const uint16_t *pa = a.data(), *pb = b.data();
    const float *pc = c.data();
    float *pd = d.data();
    ASSERT_EQ(launch(mma16TileEntry, {&pa, &pb, &pc, &pd, &bf16}, 1, 32), "");
    for (int row = 0; row < 16; ++row)
      for (int column = 0; column < 8; ++column) {
        double expected = c[row * 8 + column];
        for (int k = 0; k < 16; ++k)
          expected +=
              double(decode(a[row * 16 + k])) * decode(b[k * 8 + column]);
        EXPECT_NEAR(d[row * 8 + column], expected, 1e-4)
            << (bf16 ? "bf16" : "f16") << " row " << row << " column "
            << column;
      }
  }
}

TEST(Emulator, MmaS8MatchesAnIntegerMatrixProduct) {
  std::mt19937 random(13);
  std::uniform_int_distribution<int> bytes(-128, 127);
  std::uniform_int_distribution<int32_t> sums(-1000000, 1000000);
  std::vector<int8_t> a(16 * 32), b(32 * 8);
  std::vector<int32_t> c(16 * 8), d(16 * 8, 0);
  for (int8_t &x : a)
    x = int8_t(bytes(random));
  for (int8_t &x : b)
    x = int8_t(bytes(random));
  for (int32_t &x : c)
    x = sums(random);
  // The extremes: -128 * -128 summed 32 times is exact in s32.
  std::fill(a.begin(), a.begin() + 32, int8_t(-128));
  for (int k = 0; k < 32; ++k)
    b[k * 8] = -128;
  const int8_t *pa = a.data(), *pb = b.data();
  const int32_t *pc = c.data();
  int32_t *pd = d.data();
  ASSERT_EQ(launch(mmaS8TileEntry, {&pa, &pb, &pc, &pd}, 1, 32), "");
  for (int row = 0; row < 16; ++row)
    for (int column = 0; column < 8; ++column) {
      int64_t expected = c[row * 8 + column];
      for (int k = 0; k < 32; ++k)
        expected += int64_t(a[row * 32 + k]) * b[k * 8 + column];
      EXPECT_EQ(d[row * 8 + column], expected)
          << "row " << row << " column " << column;
    }
}

TEST(Emulator, ByteIntrinsicsFollowPtx) {
  // prmt.b32: bytes 0-3 from the first word, 4-7 from the second.
  EXPECT_EQ(kiln::cuda::bytePerm(0x33221100u, 0x77665544u, 0x5140u),
            0x55114400u);
  EXPECT_EQ(kiln::cuda::bytePerm(0x33221100u, 0x77665544u, 0x7362u),
            0x77336622u);
  // vsub4: each byte's difference wraps on its own, no borrow across.
  EXPECT_EQ(kiln::cuda::subBytes(0x05ff0010u, 0x06010020u), 0xfffe00f0u);
}

TEST(Emulator, LdmatrixGivesEachLaneItsRowPair) {
  std::vector<uint16_t> in(4 * 64);
  std::iota(in.begin(), in.end(), 0);
  std::vector<uint32_t> out(32 * 4);
  const uint16_t *pin = in.data();
  uint32_t *pout = out.data();
  ASSERT_EQ(launch(loadMatricesEntry, {&pin, &pout}, 1, 32), "");
  for (unsigned lane = 0; lane < 32; ++lane)
    for (unsigned m = 0; m < 4; ++m) {
      unsigned first = m * 64 + (lane / 4) * 8 + 2 * (lane % 4);
      EXPECT_EQ(out[lane * 4 + m], first | ((first + 1) << 16))
          << "lane " << lane << " matrix " << m;
    }
}

TEST(Emulator, AsyncCopyLandsBeforeTheWait) {
  std::vector<float> in(128), out(128);
  std::iota(in.begin(), in.end(), 0.0f);
  const float *pin = in.data();
  float *pout = out.data();
  ASSERT_EQ(launch(copyAsyncEntry, {&pin, &pout}, 1, 32), "");
  for (int i = 0; i < 128; ++i)
    EXPECT_EQ(out[i], float((i + 4) % 128));
}

TEST(Emulator, AsyncCopiesLandAtTheWaitThatCoversTheirGroup) {
  std::vector<float> in(256), out(512);
  std::iota(in.begin(), in.end(), 0.0f);
  const float *pin = in.data();
  float *pout = out.data();
  ASSERT_EQ(launch(copyAsyncGroupsEntry, {&pin, &pout}, 1, 32), "");
  for (int t = 0; t < 32; ++t)
    for (int i = 0; i < 8; ++i) {
      // After cp.async.wait_group 1 only the first group has landed.
      EXPECT_EQ(out[16 * t + i], i < 4 ? float(8 * t + i) : -1.0f);
      EXPECT_EQ(out[16 * t + 8 + i], float(8 * t + i));
    }
}

TEST(Conversions, HalfAndBfloat16RoundToNearestEven) {
  using namespace kiln::cuda;
  EXPECT_EQ(floatToF16(1.0f), 0x3c00);
  EXPECT_EQ(floatToF16(65504.0f), 0x7bff);
  EXPECT_EQ(floatToF16(65520.0f), 0x7c00);
  EXPECT_EQ(floatToF16(-0.0f), 0x8000);
  EXPECT_EQ(floatToF16(5.9604644775390625e-8f), 0x0001);
  EXPECT_EQ(floatToF16(1.0f + 1.0f / 2048), 0x3c00); // tie to even
  EXPECT_EQ(floatToF16(1.0f + 3.0f / 2048), 0x3c02);
  EXPECT_EQ(f16ToFloat(0x0001), 5.9604644775390625e-8f);
  EXPECT_EQ(f16ToFloat(0xfbff), -65504.0f);
  EXPECT_TRUE(std::isnan(f16ToFloat(floatToF16(NAN))));
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBf16(bitsFloat(0x3f808000u)), 0x3f80); // tie to even
  EXPECT_EQ(floatToBf16(bitsFloat(0x3f818000u)), 0x3f82);
  EXPECT_EQ(bf16ToFloat(0xc000), -2.0f);
  for (uint32_t bits = 0; bits < 0x7c00; bits += 7)
    EXPECT_EQ(floatToF16(f16ToFloat(uint16_t(bits))), bits);
}

} // namespace
