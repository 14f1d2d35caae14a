//===- TeamPool.h - the thread teams every session of a process shares -*- C++ -*-===//
//
// A session does not own threads: each run borrows a team of the size it
// asks for from one process-wide pool and gives it back when it ends, so
// that many sessions (or a session made per request) do not each keep a
// set of threads spinning. Runs that overlap in time get different teams;
// the pool makes a new one only when every team of that size is busy.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TEAMPOOL_H
#define KILN_RUNTIME_TEAMPOOL_H

#include "runtime/src/ParallelRuntime.h"

#include <memory>

namespace kiln::runtime {

/// A team borrowed from the pool for one run; returned when destroyed.
class TeamLease {
public:
  TeamLease() = default;
  explicit TeamLease(std::unique_ptr<ThreadTeam> team) : team_(std::move(team)) {}
  TeamLease(TeamLease &&) = default;
  TeamLease &operator=(TeamLease &&) = default;
  ~TeamLease();

  /// Null for a single-threaded run.
  ThreadTeam *get() const { return team_.get(); }

private:
  std::unique_ptr<ThreadTeam> team_;
};

/// A team of `threads` threads (the caller's included), or an empty lease
/// for one thread. Safe to call from any thread.
TeamLease borrowTeam(int threads);

/// Teams the pool holds, busy or idle (for tests).
size_t pooledTeamCount();

} // namespace kiln::runtime

#endif // KILN_RUNTIME_TEAMPOOL_H
