//===- Emulator.cpp - the SIMT emulator's scheduler -----------------------===//

#include "runtime/src/cuda/Emulator.h"

#include "runtime/src/ParallelRuntime.h"

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace kiln;
using namespace kiln::runtime;
namespace context = boost::context;

namespace {

constexpr uint64_t kMaxBlockThreads = 1024;
/// Room for a kernel's locals and the math library; pages never touched
/// cost nothing, and a guard page catches overflow.
constexpr size_t kFiberStackBytes = 128 * 1024;

/// Fiber stacks are made once per OS thread and reused by every block.
class StackPool {
public:
  context::stack_context allocate() {
    if (free_.empty())
      return allocator_.allocate();
    context::stack_context stack = free_.back();
    free_.pop_back();
    return stack;
  }
  void deallocate(context::stack_context &stack) { free_.push_back(stack); }
  ~StackPool() {
    for (context::stack_context &stack : free_)
      allocator_.deallocate(stack);
  }

private:
  context::protected_fixedsize_stack allocator_{kFiberStackBytes};
  std::vector<context::stack_context> free_;
};

/// The allocator a fiber is made with: a handle on the OS thread's pool.
struct PooledStack {
  StackPool *pool;
  context::stack_context allocate() { return pool->allocate(); }
  void deallocate(context::stack_context &stack) { pool->deallocate(stack); }
};

enum class ThreadState { Running, AtBlockBarrier, AtWarpBarrier, Done };

struct EmulatedThread {
  kiln_emu_thread abi{};
  /// The thread while it is suspended.
  context::fiber fiber;
  /// The scheduler while the thread runs.
  context::fiber scheduler;
  ThreadState state = ThreadState::Running;
  bool hasFiber = false;
};

void suspend(kiln_emu_thread *self, ThreadState state) {
  auto *thread = static_cast<EmulatedThread *>(self->scheduler);
  if (!thread->hasFiber) {
    // Kiln's code generator marks every kernel that synchronizes; reaching
    // here means it did not.
    std::fprintf(stderr, "kiln: internal error: a kernel launched as "
                         "non-cooperative waited at a barrier\n");
    std::abort();
  }
  thread->state = state;
  thread->scheduler = std::move(thread->scheduler).resume();
}

void syncBlock(kiln_emu_thread *self) {
  suspend(self, ThreadState::AtBlockBarrier);
}
void syncWarp(kiln_emu_thread *self) {
  suspend(self, ThreadState::AtWarpBarrier);
}

constexpr kiln_emu_api kApi = {syncBlock, syncWarp};

/// Runs blocks, one at a time, on one OS thread.
class BlockRunner {
public:
  kiln_status_t run(const EmulatedLaunch &launch, uint64_t blockIndex);

private:
  void prepare(const EmulatedLaunch &launch, uint64_t blockIndex);
  void start(EmulatedThread &thread, const EmulatedLaunch &launch);
  /// Lets the waiting threads whose barrier is complete go on; false if no
  /// thread can go on.
  bool releaseBarriers();

  StackPool stacks_;
  std::vector<EmulatedThread> threads_;
  std::vector<uint32_t> warpSlots_;
  std::vector<unsigned char> dynamicShared_;
};

void BlockRunner::prepare(const EmulatedLaunch &launch, uint64_t blockIndex) {
  uint32_t bx = launch.block[0], by = launch.block[1], bz = launch.block[2];
  uint32_t count = bx * by * bz;
  uint32_t warps = (count + KILN_EMU_WARP_SIZE - 1) / KILN_EMU_WARP_SIZE;
  threads_.clear();
  threads_.resize(count);
  warpSlots_.assign(size_t(warps) * KILN_EMU_WARP_SIZE * KILN_EMU_SLOT_WORDS,
                    0);
  dynamicShared_.resize(launch.dynamicSharedBytes);
  uint64_t gx = launch.grid[0], gy = launch.grid[1];
  kiln_emu_uint3 block = {uint32_t(blockIndex % gx),
                          uint32_t(blockIndex / gx % gy),
                          uint32_t(blockIndex / (gx * gy))};
  for (uint32_t linear = 0; linear < count; ++linear) {
    kiln_emu_thread &abi = threads_[linear].abi;
    abi.thread_idx = {linear % bx, linear / bx % by, linear / (bx * by)};
    abi.block_idx = block;
    abi.block_dim = {bx, by, bz};
    abi.grid_dim = {launch.grid[0], launch.grid[1], launch.grid[2]};
    uint32_t warp = linear / KILN_EMU_WARP_SIZE;
    abi.lane = linear % KILN_EMU_WARP_SIZE;
    abi.warp_width =
        std::min<uint32_t>(KILN_EMU_WARP_SIZE, count - warp * KILN_EMU_WARP_SIZE);
    abi.warp_slots =
        warpSlots_.data() + size_t(warp) * KILN_EMU_WARP_SIZE * KILN_EMU_SLOT_WORDS;
    abi.dynamic_shared = dynamicShared_.data();
    abi.api = &kApi;
    abi.scheduler = &threads_[linear];
  }
}

void BlockRunner::start(EmulatedThread &thread, const EmulatedLaunch &launch) {
  thread.hasFiber = true;
  thread.fiber = context::fiber(
      std::allocator_arg, PooledStack{&stacks_},
      [&thread, &launch](context::fiber &&scheduler) {
        thread.scheduler = std::move(scheduler);
        launch.entry(&thread.abi, launch.params);
        thread.state = ThreadState::Done;
        return std::move(thread.scheduler);
      });
  thread.fiber = std::move(thread.fiber).resume();
}

bool BlockRunner::releaseBarriers() {
  size_t live = 0, atBlock = 0;
  for (const EmulatedThread &thread : threads_) {
    live += thread.state != ThreadState::Done;
    atBlock += thread.state == ThreadState::AtBlockBarrier;
  }
  bool released = false;
  if (atBlock && atBlock == live) {
    for (EmulatedThread &thread : threads_)
      if (thread.state == ThreadState::AtBlockBarrier)
        thread.state = ThreadState::Running;
    released = true;
  }
  for (size_t first = 0; first < threads_.size(); first += KILN_EMU_WARP_SIZE) {
    size_t end = std::min(threads_.size(), first + KILN_EMU_WARP_SIZE);
    size_t liveLanes = 0, waiting = 0;
    for (size_t i = first; i < end; ++i) {
      liveLanes += threads_[i].state != ThreadState::Done;
      waiting += threads_[i].state == ThreadState::AtWarpBarrier;
    }
    if (!waiting || waiting != liveLanes)
      continue;
    for (size_t i = first; i < end; ++i)
      if (threads_[i].state == ThreadState::AtWarpBarrier)
        threads_[i].state = ThreadState::Running;
    released = true;
  }
  return released;
}

kiln_status_t BlockRunner::run(const EmulatedLaunch &launch,
                               uint64_t blockIndex) {
  prepare(launch, blockIndex);
  if (!launch.cooperative) {
    for (EmulatedThread &thread : threads_)
      launch.entry(&thread.abi, launch.params);
    return nullptr;
  }
  for (EmulatedThread &thread : threads_)
    start(thread, launch);
  for (;;) {
    bool allDone = true;
    for (const EmulatedThread &thread : threads_)
      allDone &= thread.state == ThreadState::Done;
    if (allDone)
      return nullptr;
    if (!releaseBarriers()) {
      size_t atBlock = 0, atWarp = 0, done = 0;
      for (const EmulatedThread &thread : threads_) {
        atBlock += thread.state == ThreadState::AtBlockBarrier;
        atWarp += thread.state == ThreadState::AtWarpBarrier;
        done += thread.state == ThreadState::Done;
      }
      // Destroying the suspended fibers unwinds their stacks.
      threads_.clear();
      return makeStatus(
          KILN_STATUS_INTERNAL,
          std::string(launch.name) + " deadlocked in block " +
              std::to_string(blockIndex) + ": " + std::to_string(atBlock) +
              " threads wait at __syncthreads, " + std::to_string(atWarp) +
              " at a warp-wide operation, " + std::to_string(done) +
              " have returned");
    }
    for (EmulatedThread &thread : threads_)
      if (thread.state == ThreadState::Running)
        thread.fiber = std::move(thread.fiber).resume();
  }
}

BlockRunner &threadRunner() {
  thread_local BlockRunner runner;
  return runner;
}

} // namespace

kiln_status_t kiln::runtime::launchEmulated(const EmulatedLaunch &launch,
                                            ThreadTeam *team) {
  uint64_t blockThreads = uint64_t(launch.block[0]) * launch.block[1] *
                          launch.block[2];
  uint64_t blocks =
      uint64_t(launch.grid[0]) * launch.grid[1] * launch.grid[2];
  if (!launch.entry || blockThreads == 0 || blockThreads > kMaxBlockThreads ||
      blocks == 0)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      std::string(launch.name) + ": cannot launch " +
                          std::to_string(blocks) + " blocks of " +
                          std::to_string(blockThreads) +
                          " threads (a block has 1 to 1024 threads)");
  if (!team || team->size() == 1 || blocks == 1) {
    for (uint64_t block = 0; block < blocks; ++block)
      KILN_RETURN_IF_ERROR(threadRunner().run(launch, block));
    return nullptr;
  }
  // Blocks are independent: spread them over the team, first error wins.
  std::atomic<uint64_t> next{0};
  std::mutex mutex;
  kiln_status_t failure = nullptr;
  team->run([&](int) {
    BlockRunner &runner = threadRunner();
    for (uint64_t block = next++; block < blocks; block = next++) {
      kiln_status_t status = runner.run(launch, block);
      if (!status)
        continue;
      std::lock_guard<std::mutex> lock(mutex);
      if (failure)
        kiln_status_free(status);
      else
        failure = status;
      next = blocks;
    }
  });
  return failure;
}
