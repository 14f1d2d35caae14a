//===- BufferCache.cpp - the buffers generated code allocates -------------===//

#include "runtime/src/BufferCache.h"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>

namespace {

/// Each block starts with its capacity; the caller's bytes follow, 16-byte
/// aligned like malloc's.
constexpr size_t kHeaderBytes = 16;
/// Free bytes kept for reuse; beyond, blocks go back to the system.
constexpr size_t kMaxCachedBytes = size_t(1) << 30;
/// A cached block serves a request at least this fraction of its size, so
/// that a small tensor does not hold a large block.
constexpr size_t kMaxWasteFactor = 2;

struct Cache {
  std::mutex mutex;
  /// Free blocks by capacity.
  std::multimap<size_t, void *> free;
  size_t cachedBytes = 0;

  ~Cache() {
    for (auto &[capacity, block] : free)
      std::free(block);
  }
};

Cache &cache() {
  static Cache *instance = new Cache; // never destroyed: code may free late
  return *instance;
}

size_t &capacityOf(void *block) { return *static_cast<size_t *>(block); }

} // namespace

void *kiln::runtime::allocateBuffer(size_t bytes) {
  Cache &c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto fit = c.free.lower_bound(bytes);
    if (fit != c.free.end() && fit->first / kMaxWasteFactor <= bytes) {
      void *block = fit->second;
      c.cachedBytes -= fit->first;
      c.free.erase(fit);
      return static_cast<uint8_t *>(block) + kHeaderBytes;
    }
  }
  void *block = std::malloc(kHeaderBytes + (bytes ? bytes : 1));
  if (!block)
    return nullptr;
  capacityOf(block) = bytes;
  return static_cast<uint8_t *>(block) + kHeaderBytes;
}

void kiln::runtime::releaseBuffer(void *buffer) {
  if (!buffer)
    return;
  void *block = static_cast<uint8_t *>(buffer) - kHeaderBytes;
  size_t capacity = capacityOf(block);
  Cache &c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.cachedBytes + capacity <= kMaxCachedBytes) {
      c.free.emplace(capacity, block);
      c.cachedBytes += capacity;
      return;
    }
  }
  std::free(block);
}
