//===- ParallelAbi.h - how generated code reaches the runtime's threads -*- C++ -*-===//
//
// The CPU code runs its parallel loops through the OpenMP runtime entry
// points that MLIR's OpenMP lowering calls. The code does not link an
// OpenMP library: the compiler turns each such call into an indirect call
// through a table of function pointers that the code exports, and the
// runtime fills that table with its own implementations
// (runtime/src/ParallelRuntime.cpp) when it loads the code.
//
// The same table carries the profiler's two entry points, which the code
// calls around each kernel with the kernel's index in the manifest, and the
// allocator of the buffers whose size is known only at run time (the
// compiler renames the code's malloc and free to them), which reuses
// freed blocks (runtime/src/BufferCache.h).
//
// Shared by the compiler and the runtime; the order is the ABI.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_FORMAT_PARALLELABI_H
#define KILN_RUNTIME_FORMAT_PARALLELABI_H

#include <cstddef>

namespace kiln::parallel_abi {

/// `void *kiln_parallel_runtime[kFunctionCount]`, exported by the code.
inline constexpr const char *kTableSymbol = "kiln_parallel_runtime";

inline constexpr const char *kFunctions[] = {
    "__kmpc_global_thread_num", "__kmpc_fork_call",
    "__kmpc_for_static_init_4", "__kmpc_for_static_init_4u",
    "__kmpc_for_static_init_8", "__kmpc_for_static_init_8u",
    "__kmpc_for_static_fini",   "__kmpc_barrier",
    "kiln_kernel_begin",        "kiln_kernel_end",
    "kiln_buffer_alloc",        "kiln_buffer_free",
};

/// What the code's malloc and free become.
inline constexpr const char *kAllocate = "kiln_buffer_alloc";
inline constexpr const char *kRelease = "kiln_buffer_free";

/// Calls into the runtime whose prefix marks them as entries of the table.
inline constexpr const char *kPrefixes[] = {"__kmpc_", "kiln_kernel_",
                                            "kiln_buffer_"};
inline constexpr size_t kFunctionCount = std::size(kFunctions);

} // namespace kiln::parallel_abi

#endif // KILN_RUNTIME_FORMAT_PARALLELABI_H
