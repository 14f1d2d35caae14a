//===- Emulator.h - runs CUDA kernels on the CPU ----------------*- C++ -*-===//
//
// The scheduler of the SIMT emulator. A kernel compiled against
// kiln/cuda/emulator.h is launched here like cuLaunchKernel would launch it:
// each block's threads run as fibers on one OS thread (switching only at
// barriers, warp shuffles and the other warp-wide intrinsics), and blocks
// are spread over the session's threads.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_EMULATOR_H
#define KILN_RUNTIME_CUDA_EMULATOR_H

#include "kiln/cuda/emulator_abi.h"
#include "runtime/src/Status.h"

#include <cstdint>

namespace kiln::runtime {

class ThreadTeam;

struct EmulatedLaunch {
  kiln_emu_entry entry = nullptr;
  void **params = nullptr;
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t dynamicSharedBytes = 0;
  /// False only for kernels known to never wait for other threads (no
  /// barrier, shuffle, vote or warp-wide intrinsic): each thread then runs
  /// straight through on the OS thread's stack, with no fiber at all.
  bool cooperative = true;
  /// For messages.
  const char *name = "kernel";
};

/// Runs every block of the launch and returns when all have finished. Fails
/// (without running anything) on an impossible shape, and reports a kernel
/// whose threads wait at barriers that can never complete.
kiln_status_t launchEmulated(const EmulatedLaunch &launch, ThreadTeam *team);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_CUDA_EMULATOR_H
