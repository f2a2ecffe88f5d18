// The thread pool: full coverage of the range, nesting, concurrent callers.
#include "numerics/cpu/parallel.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace lockstep::cpu {
namespace {

TEST(ParallelForTest, CoversEveryIndexExactlyOnce) {
  const int original = NumThreads();
  for (int threads : {1, 2, 4}) {
    SetNumThreadsForTesting(threads);
    for (int64_t n : {0, 1, 7, 99, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      ParallelFor(n, 3, [&](int64_t b, int64_t e) {
        ASSERT_LT(b, e);
        for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << n << " " << i;
    }
  }
  SetNumThreadsForTesting(original);
  EXPECT_EQ(NumThreads(), original);
}

TEST(ParallelForTest, NestedAndConcurrentCallsComplete) {
  const int original = NumThreads();
  SetNumThreadsForTesting(3);
  std::atomic<int64_t> total{0};
  auto work = [&] {
    for (int rep = 0; rep < 20; ++rep) {
      ParallelFor(10, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          ParallelFor(10, 1, [&](int64_t b2, int64_t e2) { total.fetch_add(e2 - b2); });
        }
      });
    }
  };
  std::thread other(work);
  work();
  other.join();
  EXPECT_EQ(total.load(), 2 * 20 * 10 * 10);
  SetNumThreadsForTesting(original);
}

}  // namespace
}  // namespace lockstep::cpu
