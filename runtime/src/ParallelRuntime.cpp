//===- ParallelRuntime.cpp - the threads a session's runs use -------------===//
//
// The generated code's parallel loops are OpenMP worksharing loops; this
// file implements the handful of OpenMP runtime entry points they call
// (listed in ParallelAbi.h) on a ThreadTeam: fork a region over the team,
// split a loop statically among its members, and a barrier. The functions
// are internal to the runtime and reach the code through its table, so
// they never clash with an OpenMP library the application uses.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/ParallelRuntime.h"
#include "runtime/src/BufferCache.h"
#include "runtime/src/Profiler.h"

#include "runtime/format/ParallelAbi.h"

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <dlfcn.h>

using namespace kiln::runtime;

//===----------------------------------------------------------------------===//
// ThreadTeam

ThreadTeam::ThreadTeam(int size) : size_(std::max(size, 1)) {
  for (int index = 1; index < size_; ++index)
    workers_.emplace_back([this, index] { work(index); });
}

ThreadTeam::~ThreadTeam() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread &worker : workers_)
    worker.join();
}

namespace {

/// Spins about this many rounds (tens of microseconds) before sleeping.
constexpr int kSpinRounds = 20000;

inline void pause() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

} // namespace

void ThreadTeam::work(int index) {
  unsigned long seen = 0;
  while (true) {
    for (int round = 0; round < kSpinRounds &&
                        generation_.load(std::memory_order_acquire) == seen &&
                        !stopping_.load(std::memory_order_relaxed);
         ++round)
      pause();
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        return stopping_.load() || generation_.load() != seen;
      });
    }
    if (stopping_.load())
      return;
    seen = generation_.load(std::memory_order_acquire);
    (*task_)(index);
    if (running_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

void ThreadTeam::run(const std::function<void(int)> &task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    running_.store(size_ - 1, std::memory_order_relaxed);
    arrived_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  task(0);
  for (int round = 0;
       round < kSpinRounds && running_.load(std::memory_order_acquire) != 0;
       ++round)
    pause();
  if (running_.load(std::memory_order_acquire) != 0) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return running_.load() == 0; });
  }
}

void ThreadTeam::barrier() {
  // Every parallel loop ends in a barrier: waiting for it in the kernel
  // would cost a sleep and a wake-up per loop, so members spin first. Its
  // fetch_add, a locked instruction on x86, also drains the member's
  // non-temporal stores (kiln-lower-strided-copies' streaming chunks)
  // before another thread reads what they wrote.
  unsigned long phase = barrierPhase_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == size_) {
    arrived_.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      barrierPhase_.fetch_add(1, std::memory_order_release);
    }
    barrierWake_.notify_all();
    return;
  }
  for (int round = 0; round < kSpinRounds &&
                      barrierPhase_.load(std::memory_order_acquire) == phase;
       ++round)
    pause();
  if (barrierPhase_.load(std::memory_order_acquire) != phase)
    return;
  std::unique_lock<std::mutex> lock(mutex_);
  barrierWake_.wait(lock, [&] {
    return barrierPhase_.load(std::memory_order_acquire) != phase;
  });
}

//===----------------------------------------------------------------------===//
// The OpenMP entry points

namespace {

/// The team this thread's next parallel region may use (set by a session
/// run), and this thread's place in the region it is running.
thread_local ThreadTeam *availableTeam = nullptr;
struct Membership {
  ThreadTeam *team = nullptr;
  int32_t index = 0;
  int32_t size = 1;
  bool inRegion = false;
};
thread_local Membership member;

using Microtask = void (*)(int32_t *, int32_t *, ...);
constexpr int kMaxForkArguments = 8;

void callMicrotask(Microtask task, int32_t index, int argc, void **args) {
  int32_t global = index, bound = index;
  switch (argc) {
  case 0: return task(&global, &bound);
  case 1: return task(&global, &bound, args[0]);
  case 2: return task(&global, &bound, args[0], args[1]);
  case 3: return task(&global, &bound, args[0], args[1], args[2]);
  case 4: return task(&global, &bound, args[0], args[1], args[2], args[3]);
  case 5:
    return task(&global, &bound, args[0], args[1], args[2], args[3], args[4]);
  case 6:
    return task(&global, &bound, args[0], args[1], args[2], args[3], args[4],
                args[5]);
  case 7:
    return task(&global, &bound, args[0], args[1], args[2], args[3], args[4],
                args[5], args[6]);
  default:
    return task(&global, &bound, args[0], args[1], args[2], args[3], args[4],
                args[5], args[6], args[7]);
  }
}

int32_t globalThreadNum(void *) { return member.index; }

void forkCall(void *, int32_t argc, Microtask task, ...) {
  void *args[kMaxForkArguments] = {};
  va_list list;
  va_start(list, task);
  for (int i = 0; i < argc && i < kMaxForkArguments; ++i)
    args[i] = va_arg(list, void *);
  va_end(list);

  ThreadTeam *team = availableTeam;
  Membership saved = member;
  if (!team || team->size() == 1 || member.inRegion) {
    // Serially: no team, or a region inside a region.
    member = {nullptr, 0, 1, true};
    callMicrotask(task, 0, argc, args);
    member = saved;
    return;
  }
  team->run([&](int index) {
    Membership outer = member;
    member = {team, index, team->size(), true};
    callMicrotask(task, index, argc, args);
    member = outer;
  });
  member = saved;
}

/// kmp_sch_static: contiguous, nearly equal blocks, one per member.
constexpr int32_t kStatic = 34;
/// kmp_sch_static_chunked: `chunk` iterations round-robin.
constexpr int32_t kStaticChunked = 33;

template <typename T>
void staticInit(void *, int32_t, int32_t schedule, int32_t *last, T *lower,
                T *upper, T *stride, T increment, T chunk) {
  using Wide = int64_t;
  Wide lo = Wide(*lower), hi = Wide(*upper), step = Wide(increment);
  if (step == 0)
    step = 1;
  Wide trips = step > 0 ? (hi >= lo ? (hi - lo) / step + 1 : 0)
                        : (lo >= hi ? (lo - hi) / -step + 1 : 0);
  Wide size = member.size, index = member.index;
  if (schedule == kStaticChunked && chunk > 0) {
    Wide span = Wide(chunk) * step;
    *lower = T(lo + index * span);
    *upper = T(lo + index * span + span - step);
    *stride = T(span * size);
    if (last)
      *last = trips > 0 && ((trips - 1) / Wide(chunk)) % size == index;
    return;
  }
  if (trips <= size) {
    // One iteration each for the first `trips` members.
    if (index < trips) {
      *lower = *upper = T(lo + index * step);
    } else {
      *lower = T(hi + step);
      *upper = T(hi);
    }
    if (last)
      *last = index == trips - 1;
  } else {
    Wide each = trips / size, extra = trips % size;
    Wide first = index * each + std::min(index, extra);
    Wide count = each + (index < extra ? 1 : 0);
    *lower = T(lo + first * step);
    *upper = T(lo + (first + count - 1) * step);
    if (last)
      *last = index == size - 1;
  }
  *stride = T(trips * step);
}

void staticFini(void *, int32_t) {}

void barrier(void *, int32_t) {
  if (member.team)
    member.team->barrier();
}

} // namespace

ScopedTeam::ScopedTeam(ThreadTeam *team) : previous_(availableTeam) {
  availableTeam = team;
}

ScopedTeam::~ScopedTeam() { availableTeam = previous_; }

kiln_status_t kiln::runtime::bindParallelRuntime(void *handle) {
  namespace abi = kiln::parallel_abi;
  auto **table = static_cast<void **>(dlsym(handle, abi::kTableSymbol));
  if (!table)
    return makeStatus(KILN_STATUS_DATA_LOSS,
                      "the package's code has no parallel runtime table");
  void *entries[] = {
      reinterpret_cast<void *>(&globalThreadNum),
      reinterpret_cast<void *>(&forkCall),
      reinterpret_cast<void *>(&staticInit<int32_t>),
      reinterpret_cast<void *>(&staticInit<uint32_t>),
      reinterpret_cast<void *>(&staticInit<int64_t>),
      reinterpret_cast<void *>(&staticInit<uint64_t>),
      reinterpret_cast<void *>(&staticFini),
      reinterpret_cast<void *>(&barrier),
      reinterpret_cast<void *>(&kernelBegin),
      reinterpret_cast<void *>(&kernelEnd),
      reinterpret_cast<void *>(&allocateBuffer),
      reinterpret_cast<void *>(&releaseBuffer),
  };
  static_assert(std::size(entries) == abi::kFunctionCount,
                "one implementation per entry point of ParallelAbi.h");
  std::copy(std::begin(entries), std::end(entries), table);
  return nullptr;
}
