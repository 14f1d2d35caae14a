//===- TeamPool.cpp - the thread teams every session of a process shares --===//

#include "runtime/src/TeamPool.h"

#include <mutex>
#include <vector>

using namespace kiln::runtime;

namespace {

struct Pool {
  std::mutex mutex;
  std::vector<std::unique_ptr<ThreadTeam>> idle;
  size_t total = 0;
};

/// Never destroyed: its threads may still be parked when the process
/// exits, and no static destructor should wait for them.
Pool &pool() {
  static Pool *instance = new Pool();
  return *instance;
}

} // namespace

TeamLease::~TeamLease() {
  if (!team_)
    return;
  Pool &shared = pool();
  std::lock_guard<std::mutex> lock(shared.mutex);
  shared.idle.push_back(std::move(team_));
}

TeamLease kiln::runtime::borrowTeam(int threads) {
  if (threads <= 1)
    return TeamLease();
  Pool &shared = pool();
  {
    std::lock_guard<std::mutex> lock(shared.mutex);
    for (auto it = shared.idle.begin(); it != shared.idle.end(); ++it)
      if ((*it)->size() == threads) {
        std::unique_ptr<ThreadTeam> team = std::move(*it);
        shared.idle.erase(it);
        return TeamLease(std::move(team));
      }
    ++shared.total;
  }
  return TeamLease(std::make_unique<ThreadTeam>(threads));
}

size_t kiln::runtime::pooledTeamCount() {
  Pool &shared = pool();
  std::lock_guard<std::mutex> lock(shared.mutex);
  return shared.total;
}
