// A fixed CPU thread pool for the reference backend. Work is split over
// independent output elements only, so results never depend on the number of
// threads or on how the range is split.
#pragma once

#include <cstdint>
#include <functional>

namespace lockstep::cpu {

// Number of worker threads (LOCKSTEP_CPU_THREADS, else hardware concurrency).
int NumThreads();

// Rebuilds the pool with `num_threads` threads (the caller counts as one).
// For tests proving results do not depend on the thread count; waits for a
// running ParallelFor to finish.
void SetNumThreadsForTesting(int num_threads);

// Calls fn(begin, end) over disjoint chunks covering [0, n), possibly in
// parallel; returns when all are done. `min_chunk` bounds the smallest chunk.
void ParallelFor(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace lockstep::cpu
