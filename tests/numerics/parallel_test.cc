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

// Back-to-back jobs whose chunk count grows from one job to the next: a worker still leaving
// job J must never claim a chunk of job J+1 with J's claim word (it once did, running a chunk
// twice and over-counting it, so the caller waited forever). Oversubscribed threads make the
// late worker likely; a failure shows as an index hit twice, or as a hang.
TEST(ParallelForTest, GrowingJobsBackToBackRunEveryChunkOnce) {
  const int original = NumThreads();
  for (int threads : {2, 5, 9}) {
    SetNumThreadsForTesting(threads);
    std::vector<std::atomic<int>> hits(512);
    for (int rep = 0; rep < 6000; ++rep) {
      const int64_t n = rep % 2 == 0 ? 6 : 512;
      for (int64_t i = 0; i < n; ++i) hits[i].store(0, std::memory_order_relaxed);
      ParallelFor(n, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1, std::memory_order_relaxed);
      });
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(hits[i].load(), 1) << "job " << rep << " of " << n << ", index " << i;
      }
    }
  }
  SetNumThreadsForTesting(original);
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
