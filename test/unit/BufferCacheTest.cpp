//===- BufferCacheTest.cpp - the runtime's cache of run-time buffers ------===//

#include "runtime/src/BufferCache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

using kiln::runtime::allocateBuffer;
using kiln::runtime::releaseBuffer;

namespace {

TEST(BufferCache, ReusesAFreedBlockOfTheSameSize) {
  void *first = allocateBuffer(3 << 20);
  ASSERT_NE(first, nullptr);
  std::memset(first, 1, 3 << 20);
  releaseBuffer(first);
  void *second = allocateBuffer(3 << 20);
  EXPECT_EQ(second, first);
  releaseBuffer(second);
}

TEST(BufferCache, AlignsLikeMalloc) {
  for (size_t bytes : {1, 7, 64, 4096, 1 << 20}) {
    void *buffer = allocateBuffer(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer) % 16, 0u);
    releaseBuffer(buffer);
  }
}

TEST(BufferCache, KeepsLargeBlocksFromSmallRequests) {
  void *large = allocateBuffer(8 << 20);
  releaseBuffer(large);
  // Less than half the block: a new one, the large stays for its size.
  void *small = allocateBuffer(1 << 20);
  EXPECT_NE(small, large);
  void *again = allocateBuffer(7 << 20);
  EXPECT_EQ(again, large);
  releaseBuffer(small);
  releaseBuffer(again);
}

TEST(BufferCache, IsSafeAcrossThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < 1000; ++i) {
        size_t bytes = size_t(64 + (i * 37 + t * 101) % 5000);
        auto *buffer = static_cast<uint8_t *>(allocateBuffer(bytes));
        ASSERT_NE(buffer, nullptr);
        buffer[0] = buffer[bytes - 1] = uint8_t(t);
        releaseBuffer(buffer);
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  releaseBuffer(nullptr);
}

} // namespace
