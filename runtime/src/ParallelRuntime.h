//===- ParallelRuntime.h - the threads a session's runs use -----*- C++ -*-===//

#ifndef KILN_RUNTIME_PARALLELRUNTIME_H
#define KILN_RUNTIME_PARALLELRUNTIME_H

#include "runtime/src/Status.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::runtime {

/// A fixed team of threads: the thread that calls run() plus `size - 1`
/// workers that sleep between parallel regions.
class ThreadTeam {
public:
  explicit ThreadTeam(int size);
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam &) = delete;
  ThreadTeam &operator=(const ThreadTeam &) = delete;

  int size() const { return size_; }
  /// Runs task(i) for every member i; i = 0 on the calling thread. Returns
  /// when every member has finished.
  void run(const std::function<void(int)> &task);
  /// Blocks until every member of the running region has arrived.
  void barrier();

private:
  void work(int index);

  int size_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_, barrierWake_;
  const std::function<void(int)> *task_ = nullptr;
  /// Bumped for every region; workers spin on it briefly before sleeping,
  /// since regions often follow each other within microseconds.
  std::atomic<unsigned long> generation_{0};
  std::atomic<int> running_{0};
  std::atomic<bool> stopping_{false};
  /// The barrier: members arrived, and a phase bumped when all have; the
  /// others spin on it briefly before sleeping, as the workers do.
  std::atomic<int> arrived_{0};
  std::atomic<unsigned long> barrierPhase_{0};
};

/// Makes `team` the one the generated code's parallel loops use on this
/// thread while the scope lives (null: run them serially).
class ScopedTeam {
public:
  explicit ScopedTeam(ThreadTeam *team);
  ~ScopedTeam();

private:
  ThreadTeam *previous_;
};

/// Fills the table of runtime entry points the loaded code exports (see
/// ParallelAbi.h).
kiln_status_t bindParallelRuntime(void *handle);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_PARALLELRUNTIME_H
