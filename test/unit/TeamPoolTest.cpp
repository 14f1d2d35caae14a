//===- TeamPoolTest.cpp - the thread teams sessions share -----------------===//

#include "runtime/src/TeamPool.h"

#include <gtest/gtest.h>

#include <atomic>

using namespace kiln::runtime;

namespace {

TEST(TeamPool, OneThreadNeedsNoTeam) {
  EXPECT_EQ(borrowTeam(1).get(), nullptr);
  EXPECT_EQ(borrowTeam(0).get(), nullptr);
}

TEST(TeamPool, RunsOneAfterAnotherShareATeam) {
  ThreadTeam *first;
  {
    TeamLease lease = borrowTeam(3);
    first = lease.get();
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->size(), 3);
  }
  size_t teams = pooledTeamCount();
  for (int run = 0; run < 10; ++run) {
    TeamLease lease = borrowTeam(3);
    EXPECT_EQ(lease.get(), first);
    std::atomic<int> members{0};
    lease.get()->run([&](int) { members.fetch_add(1); });
    EXPECT_EQ(members.load(), 3);
  }
  EXPECT_EQ(pooledTeamCount(), teams);
}

TEST(TeamPool, OverlappingRunsGetDifferentTeams) {
  TeamLease a = borrowTeam(2);
  TeamLease b = borrowTeam(2);
  ASSERT_NE(a.get(), nullptr);
  ASSERT_NE(b.get(), nullptr);
  EXPECT_NE(a.get(), b.get());
  TeamLease other = borrowTeam(4);
  EXPECT_EQ(other.get()->size(), 4);
}

} // namespace
