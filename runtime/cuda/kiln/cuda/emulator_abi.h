/*===- emulator_abi.h - between emulated kernels and the scheduler -*- C -*-===*
 *
 * Device code compiled for the SIMT emulator (kiln/cuda/emulator.h) and the
 * runtime's scheduler that runs it (runtime/src/cuda/Emulator.cpp) meet
 * here. The scheduler owns one kiln_emu_thread per emulated thread and hands
 * it to the kernel's entry; the device code reads its indices from it and
 * calls back into the scheduler for barriers. Plain C so that any compiler
 * building kernels for the emulator agrees on the layout.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_CUDA_EMULATOR_ABI_H
#define KILN_CUDA_EMULATOR_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Words each lane may publish to its warp in one exchange (shuffles, votes,
 * MMA fragments, ldmatrix row addresses). */
#define KILN_EMU_SLOT_WORDS 16
#define KILN_EMU_WARP_SIZE 32

typedef struct kiln_emu_uint3_s {
  unsigned int x, y, z;
} kiln_emu_uint3;

typedef struct kiln_emu_thread_s kiln_emu_thread;

typedef struct kiln_emu_api_s {
  /* __syncthreads(): returns once every live thread of the block arrived. */
  void (*sync_block)(kiln_emu_thread *self);
  /* __syncwarp(): returns once every live lane of the warp arrived. */
  void (*sync_warp)(kiln_emu_thread *self);
} kiln_emu_api;

struct kiln_emu_thread_s {
  kiln_emu_uint3 thread_idx;
  kiln_emu_uint3 block_idx;
  kiln_emu_uint3 block_dim;
  kiln_emu_uint3 grid_dim;
  /* The lane within the warp, and how many lanes the warp has (fewer than
   * 32 only in a block whose size is not a multiple of 32). */
  unsigned int lane;
  unsigned int warp_width;
  /* KILN_EMU_WARP_SIZE * KILN_EMU_SLOT_WORDS words shared by the warp. */
  uint32_t *warp_slots;
  /* The block's dynamic shared memory (extern __shared__). */
  unsigned char *dynamic_shared;
  const kiln_emu_api *api;
  /* The scheduler's bookkeeping for this thread. */
  void *scheduler;
};

/* A kernel as the emulator runs it: `entry` starts one thread, with the
 * kernel's parameters as cuLaunchKernel takes them (an array of pointers to
 * each parameter's value). */
typedef void (*kiln_emu_entry)(kiln_emu_thread *self, void **params);

#ifdef __cplusplus
}
#endif

#endif /* KILN_CUDA_EMULATOR_ABI_H */
