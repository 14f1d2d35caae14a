//===- ThreadTeamTest.cpp - the runtime's thread team ---------------------===//

#include "runtime/src/ParallelRuntime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

using kiln::runtime::ThreadTeam;

namespace {

TEST(ThreadTeam, RunsEveryMemberOnce) {
  ThreadTeam team(4);
  for (int round = 0; round < 100; ++round) {
    std::atomic<int> mask{0};
    team.run([&](int index) { mask.fetch_or(1 << index); });
    EXPECT_EQ(mask.load(), 0xF);
  }
}

TEST(ThreadTeam, BarrierSeparatesPhases) {
  ThreadTeam team(3);
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> before{0};
    std::atomic<bool> early{false};
    team.run([&](int) {
      before.fetch_add(1);
      team.barrier();
      if (before.load() != 3)
        early = true;
      team.barrier();
    });
    EXPECT_FALSE(early.load());
  }
}

// Members spin at a barrier, then sleep: a member arriving long after the
// spinning ends (milliseconds) still releases the others, and back-to-back
// barriers (the spinning path) keep their phases apart.
TEST(ThreadTeam, BarrierWaitsForALateMember) {
  ThreadTeam team(3);
  std::atomic<int> before{0};
  std::atomic<bool> early{false};
  team.run([&](int index) {
    if (index == 2)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    before.fetch_add(1);
    team.barrier();
    if (before.load() != 3)
      early = true;
    for (int round = 0; round < 1000; ++round)
      team.barrier();
  });
  EXPECT_FALSE(early.load());
}

TEST(ThreadTeam, ASizeOfOneRunsOnTheCaller) {
  ThreadTeam team(0);
  EXPECT_EQ(team.size(), 1);
  int runs = 0;
  team.run([&](int index) {
    EXPECT_EQ(index, 0);
    ++runs;
  });
  EXPECT_EQ(runs, 1);
}

} // namespace
