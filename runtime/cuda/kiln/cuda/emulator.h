//===- emulator.h - CUDA device code as host C++ ----------------*- C++ -*-===//
//
// Included (through kiln/cuda/device.h) when device code is compiled by the
// host compiler instead of nvcc. It supplies what a kernel sees on a GPU —
// the built-in indices, __shared__, barriers, warp shuffles and votes,
// atomics — on top of the runtime's fiber scheduler, so that the same source
// runs unchanged on the CPU.
//
// Each emulated thread runs on its own fiber; all threads of a block share
// one OS thread, so `__shared__` variables are thread_local statics. A
// barrier hands control back to the scheduler, which resumes the waiting
// threads once every live thread of the block (or warp) has arrived.
// Threads that have returned count as arrived, as on current GPUs.
//
// Warp-wide operations require the warp's live lanes to call them together
// (converged), which is what all Kiln kernels do.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CUDA_EMULATOR_H
#define KILN_CUDA_EMULATOR_H

#include "kiln/cuda/emulator_abi.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
using std::signbit;
// One copy per OS thread, and the scheduler keeps a block on one OS thread.
#define __shared__ static thread_local

struct dim3 {
  unsigned int x = 1, y = 1, z = 1;
  constexpr dim3(unsigned int x = 1, unsigned int y = 1, unsigned int z = 1)
      : x(x), y(y), z(z) {}
};
using uint3 = kiln_emu_uint3;

namespace kiln::emu {

/// The emulated thread running on this OS thread. Each kernel entry sets
/// it, and every call that may switch fibers restores it on return.
inline thread_local kiln_emu_thread *self = nullptr;

/// The emulated thread's cp.async copies that have not landed yet. They
/// land at the latest moment the PTX ISA allows — the cp.async.wait that
/// covers their group — so a kernel that reads staged data before waiting
/// for it fails here as it may on a GPU.
class AsyncCopies {
public:
  void issue(void *shared, const void *global) {
    if (count_ == kCapacity)
      land(count_); // more in flight than any kernel of ours issues
    copies_[count_++] = {shared, global, openGroup_};
  }
  /// cp.async.commit_group: the copies issued so far form a group.
  void commit() { ++openGroup_; }
  /// cp.async.wait_group `newest`: every committed group but the `newest`
  /// most recent ones has landed.
  void wait(unsigned newest) {
    unsigned landed = 0;
    while (landed < count_ && copies_[landed].group + newest < openGroup_)
      ++landed;
    land(landed);
  }
  /// cp.async.wait_all: everything has landed, committed or not.
  void waitAll() {
    land(count_);
    ++openGroup_;
  }

private:
  struct Copy {
    void *shared;
    const void *global;
    unsigned group;
  };
  static constexpr unsigned kCapacity = 64;
  /// Lands the `n` oldest copies.
  void land(unsigned n) {
    for (unsigned i = 0; i < n; ++i)
      std::memcpy(copies_[i].shared, copies_[i].global, 16);
    std::memmove(copies_, copies_ + n, (count_ - n) * sizeof(Copy));
    count_ -= n;
  }
  Copy copies_[kCapacity];
  unsigned count_ = 0, openGroup_ = 0;
};

/// The running emulated thread's copies in flight (set with `self`).
inline thread_local AsyncCopies *asyncCopies = nullptr;

inline void syncBlock() {
  kiln_emu_thread *me = self;
  AsyncCopies *copies = asyncCopies;
  me->api->sync_block(me);
  self = me;
  asyncCopies = copies;
}

inline void syncWarp() {
  kiln_emu_thread *me = self;
  AsyncCopies *copies = asyncCopies;
  me->api->sync_warp(me);
  self = me;
  asyncCopies = copies;
}

inline uint32_t *slot(kiln_emu_thread *thread, unsigned lane) {
  return thread->warp_slots + lane * KILN_EMU_SLOT_WORDS;
}

/// Every lane publishes `value`; each gets the value lane `source` published
/// (its own where `source` is not a live lane).
template <typename T> T exchange(T value, unsigned source) {
  static_assert(sizeof(T) <= KILN_EMU_SLOT_WORDS * 4, "value too large");
  kiln_emu_thread *me = self;
  std::memcpy(slot(me, me->lane), &value, sizeof(T));
  syncWarp();
  T result = value;
  if (source < me->warp_width)
    std::memcpy(&result, slot(me, source), sizeof(T));
  syncWarp();
  return result;
}

/// The lanes of the warp whose predicate is true, as a bit mask.
inline unsigned ballot(bool predicate) {
  kiln_emu_thread *me = self;
  *slot(me, me->lane) = predicate;
  syncWarp();
  unsigned mask = 0;
  for (unsigned lane = 0; lane < me->warp_width; ++lane)
    mask |= (*slot(me, lane) ? 1u : 0u) << lane;
  syncWarp();
  return mask;
}

template <typename T, typename Update> T atomicUpdate(T *address, Update update) {
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(address, &old, update(old), true,
                                      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
  }
  return old;
}

template <typename T, typename Update>
T atomicUpdateFloat(T *address, Update update) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  auto *bits = reinterpret_cast<Bits *>(address);
  Bits old = __atomic_load_n(bits, __ATOMIC_RELAXED);
  for (;;) {
    T oldValue, newValue;
    std::memcpy(&oldValue, &old, sizeof(T));
    newValue = update(oldValue);
    Bits desired;
    std::memcpy(&desired, &newValue, sizeof(T));
    if (__atomic_compare_exchange_n(bits, &old, desired, true,
                                    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
      return oldValue;
  }
}

} // namespace kiln::emu

#define threadIdx (::kiln::emu::self->thread_idx)
#define blockIdx (::kiln::emu::self->block_idx)
#define blockDim (::kiln::emu::self->block_dim)
#define gridDim (::kiln::emu::self->grid_dim)
#define warpSize KILN_EMU_WARP_SIZE

inline void __syncthreads() { kiln::emu::syncBlock(); }
inline void __syncwarp(unsigned = 0xffffffffu) { kiln::emu::syncWarp(); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

inline unsigned __activemask() {
  unsigned width = kiln::emu::self->warp_width;
  return width == 32 ? 0xffffffffu : (1u << width) - 1;
}

// Shuffles: lanes form segments of `width` lanes; a source outside the
// caller's segment yields the caller's own value, as on the GPU.
template <typename T>
T __shfl_sync(unsigned, T value, int source, int width = warpSize) {
  unsigned lane = kiln::emu::self->lane;
  unsigned base = lane & ~unsigned(width - 1);
  return kiln::emu::exchange(value, base + (unsigned(source) & (width - 1)));
}
template <typename T>
T __shfl_xor_sync(unsigned, T value, int laneMask, int width = warpSize) {
  unsigned lane = kiln::emu::self->lane;
  unsigned source = lane ^ unsigned(laneMask);
  unsigned base = lane & ~unsigned(width - 1);
  return kiln::emu::exchange(value, source >= base + width ? lane : source);
}
template <typename T>
T __shfl_down_sync(unsigned, T value, unsigned delta, int width = warpSize) {
  unsigned lane = kiln::emu::self->lane;
  bool inside = (lane & unsigned(width - 1)) + delta < unsigned(width);
  return kiln::emu::exchange(value, inside ? lane + delta : lane);
}
template <typename T>
T __shfl_up_sync(unsigned, T value, unsigned delta, int width = warpSize) {
  unsigned lane = kiln::emu::self->lane;
  bool inside = (lane & unsigned(width - 1)) >= delta;
  return kiln::emu::exchange(value, inside ? lane - delta : lane);
}

inline unsigned __ballot_sync(unsigned, int predicate) {
  return kiln::emu::ballot(predicate != 0);
}
inline int __all_sync(unsigned, int predicate) {
  return kiln::emu::ballot(predicate != 0) == __activemask();
}
inline int __any_sync(unsigned, int predicate) {
  return kiln::emu::ballot(predicate != 0) != 0;
}

// Atomics: blocks run on several OS threads at once, so these are real
// atomic read-modify-writes.
template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
T atomicAdd(T *address, T value) {
  return __atomic_fetch_add(address, value, __ATOMIC_SEQ_CST);
}
inline float atomicAdd(float *address, float value) {
  return kiln::emu::atomicUpdateFloat(address,
                                      [&](float old) { return old + value; });
}
inline double atomicAdd(double *address, double value) {
  return kiln::emu::atomicUpdateFloat(address,
                                      [&](double old) { return old + value; });
}
template <typename T> T atomicMax(T *address, T value) {
  return kiln::emu::atomicUpdate(
      address, [&](T old) { return old < value ? value : old; });
}
template <typename T> T atomicMin(T *address, T value) {
  return kiln::emu::atomicUpdate(
      address, [&](T old) { return value < old ? value : old; });
}
template <typename T> T atomicExch(T *address, T value) {
  return __atomic_exchange_n(address, value, __ATOMIC_SEQ_CST);
}
template <typename T> T atomicCAS(T *address, T compare, T value) {
  __atomic_compare_exchange_n(address, &compare, value, false,
                              __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return compare;
}

inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }

/// Defines the function the scheduler starts each thread of `kernel` with;
/// the generated code calls it once per kernel, after the kernel.
#define KILN_EMU_ENTRY(kernel, entry)                                          \
  extern "C" void entry(kiln_emu_thread *self, void **params) {                \
    ::kiln::emu::AsyncCopies copies;                                           \
    ::kiln::emu::self = self;                                                  \
    ::kiln::emu::asyncCopies = &copies;                                        \
    ::kiln::emu::invoke(kernel, params);                                       \
  }

namespace kiln::emu {
template <typename... Params, size_t... I>
void invokeWith(void (*kernel)(Params...), void **params,
                std::index_sequence<I...>) {
  kernel(*static_cast<std::remove_reference_t<Params> *>(params[I])...);
}
/// Calls `kernel` with parameters given the way cuLaunchKernel takes them.
template <typename... Params>
void invoke(void (*kernel)(Params...), void **params) {
  invokeWith(kernel, params, std::index_sequence_for<Params...>{});
}
} // namespace kiln::emu

#endif // KILN_CUDA_EMULATOR_H
