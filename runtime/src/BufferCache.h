//===- BufferCache.h - the buffers generated code allocates -----*- C++ -*-===//
//
// Tensors whose size is known only at run time (symbolic dimensions) are
// allocated by the code during a run and freed by it, or by the runtime
// once a result is released. Large allocations from malloc are fresh pages
// every time, and touching them costs more than the kernels that fill them
// (LRASPP at 512x1024: about half the run). The code allocates through
// this cache instead: freed blocks are kept, up to a bound, and handed to
// the next allocation they fit, already mapped.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_BUFFERCACHE_H
#define KILN_RUNTIME_BUFFERCACHE_H

#include <cstddef>

namespace kiln::runtime {

/// A block of at least `bytes` bytes, 16-byte aligned (as malloc's); null
/// when memory is exhausted. Thread-safe.
void *allocateBuffer(size_t bytes);

/// Returns a block from allocateBuffer (null is ignored). Thread-safe.
void releaseBuffer(void *buffer);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_BUFFERCACHE_H
