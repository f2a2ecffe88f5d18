// A fixed pool of std::threads. One ParallelFor runs at a time (others wait on
// a mutex); a ParallelFor issued from inside a running one executes inline, so
// nesting cannot deadlock. Chunks are claimed dynamically, which is safe for
// results because every caller writes disjoint outputs that do not depend on
// which thread computes them.
#include "numerics/cpu/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lockstep::cpu {
namespace {

int ThreadsFromEnvironment() {
  if (const char* env = std::getenv("LOCKSTEP_CPU_THREADS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long value = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && value >= 1 && value <= 1024) return static_cast<int>(value);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// How long a thread spins on an atomic before sleeping on a condition
// variable. Waking a sleeping thread costs tens of microseconds, as much as a
// whole decode-sized Linear, so workers stay hot briefly between jobs.
constexpr std::chrono::microseconds kSpinTime{50};

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until pred() or kSpinTime passes; returns pred().
template <typename Pred>
bool SpinUntil(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (int i = 0;; ++i) {
    if (pred()) return true;
    CpuRelax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return pred();
  }
}

// The claim-word index of a closed job: larger than any chunk count, so no chunk is claimed.
constexpr uint64_t kClosedIndex = 0xFFFFFFFFu;

// True on any thread currently executing a ParallelFor body (workers and the caller).
thread_local bool tls_in_parallel_region = false;

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads) { Start(num_threads); }
  ~ThreadPool() { Stop(); }

  int num_threads() const { return num_threads_; }

  // Replaces the workers; waits for any running ParallelFor first.
  void Resize(int num_threads) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    Stop();
    Start(num_threads);
  }

  // The caller claims chunks too and only waits for chunks that were claimed,
  // never for a worker to show up: a descheduled worker (2 busy cores) cannot
  // stall a job it did not join.
  void Run(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    const int64_t num_chunks = (n + chunk - 1) / chunk;
    uint32_t job;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const uint32_t previous = generation_.load(std::memory_order_relaxed);
      // Close the previous job's claim word BEFORE its fields change. Without this a worker
      // still inside DrainChunks for that job could hold the exhausted claim (previous <<
      // 32 | its num_chunks), read the NEW, larger num_chunks_, and win the compare-
      // exchange before the new claim word is stored: it then ran a chunk of the new job
      // that the new job runs again, and counted it twice (a CI run hung in
      // done_cv_.wait with done_chunks_ 7 of 6). The release store of num_chunks_ below
      // orders this store before any worker that reads the new count (acquire).
      claim_.store((uint64_t{previous} << 32) | kClosedIndex, std::memory_order_seq_cst);
      fn_.store(&fn, std::memory_order_relaxed);
      n_.store(n, std::memory_order_relaxed);
      chunk_.store(chunk, std::memory_order_relaxed);
      num_chunks_.store(num_chunks, std::memory_order_release);
      done_chunks_.store(0, std::memory_order_relaxed);
      job = previous + 1;
      claim_.store(uint64_t{job} << 32, std::memory_order_release);
      generation_.store(job, std::memory_order_release);
    }
    work_cv_.notify_all();
    DrainChunks(job);
    auto all_done = [&] { return done_chunks_.load(std::memory_order_acquire) == num_chunks; };
    if (!SpinUntil(all_done)) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_cv_.wait(lock, all_done);
    }
  }

 private:
  void Start(int num_threads) {
    num_threads_ = std::max(1, num_threads);
    stop_.store(false);
    for (int i = 0; i + 1 < num_threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true);
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  // Claims and runs chunks of job `job` until none is left. A chunk is claimed
  // by a compare-exchange on (job << 32 | next chunk), so a late thread can
  // never run a chunk of a job other than the one it was woken for; the job's
  // fields are read only after a successful claim, while the job is pinned by
  // that unfinished chunk.
  void DrainChunks(uint32_t job) {
    const bool was_inside = tls_in_parallel_region;
    tls_in_parallel_region = true;
    uint64_t claim = claim_.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<uint32_t>(claim >> 32) != job) break;
      const int64_t index = static_cast<int64_t>(claim & 0xFFFFFFFFu);
      // Acquire: a count of a newer job comes with the closed claim word (see Run).
      if (index >= num_chunks_.load(std::memory_order_acquire)) break;
      if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        continue;  // `claim` now holds the current value
      }
      const int64_t n = n_.load(std::memory_order_relaxed);
      const int64_t chunk = chunk_.load(std::memory_order_relaxed);
      const int64_t num_chunks = num_chunks_.load(std::memory_order_relaxed);
      (*fn_.load(std::memory_order_relaxed))(index * chunk, std::min(n, (index + 1) * chunk));
      if (done_chunks_.fetch_add(1, std::memory_order_acq_rel) + 1 == num_chunks) {
        std::lock_guard<std::mutex> lock(mutex_);  // pairs with the caller's wait
        done_cv_.notify_one();
      }
      claim = claim_.load(std::memory_order_acquire);
    }
    tls_in_parallel_region = was_inside;
  }

  void WorkerLoop() {
    uint32_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      auto has_news = [&] {
        return stop_.load(std::memory_order_acquire) ||
               generation_.load(std::memory_order_acquire) != seen;
      };
      if (!SpinUntil(has_news)) {
        std::unique_lock<std::mutex> lock(mutex_);
        work_cv_.wait(lock, has_news);
      }
      if (stop_.load(std::memory_order_acquire)) return;
      seen = generation_.load(std::memory_order_acquire);
      DrainChunks(seen);
    }
  }

  int num_threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one job at a time
  std::mutex mutex_;      // publishes jobs and guards the condition variables
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> generation_{0};  // the current job's id
  std::atomic<uint64_t> claim_{0};       // job id << 32 | next unclaimed chunk
  std::atomic<int64_t> done_chunks_{0};
  // The current job. Atomics only so that a late reader is race-free; the
  // claim protocol above is what makes the values it uses consistent.
  std::atomic<const std::function<void(int64_t, int64_t)>*> fn_{nullptr};
  std::atomic<int64_t> n_{0};
  std::atomic<int64_t> chunk_{1};
  std::atomic<int64_t> num_chunks_{0};
};

ThreadPool& Pool() {
  // Leaked on purpose: worker threads must not be joined during static
  // destruction while another static still calls ParallelFor.
  static ThreadPool* pool = new ThreadPool(ThreadsFromEnvironment());
  return *pool;
}

}  // namespace

int NumThreads() { return Pool().num_threads(); }

void SetNumThreadsForTesting(int num_threads) { Pool().Resize(num_threads); }

void ParallelFor(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  min_chunk = std::max<int64_t>(1, min_chunk);
  ThreadPool& pool = Pool();
  const int threads = pool.num_threads();
  if (threads == 1 || n <= min_chunk || tls_in_parallel_region) {
    fn(0, n);
    return;
  }
  // About four chunks per thread balance uneven work without much overhead.
  const int64_t target_chunks = int64_t{threads} * 4;
  const int64_t chunk = std::max(min_chunk, (n + target_chunks - 1) / target_chunks);
  pool.Run(n, chunk, fn);
}

}  // namespace lockstep::cpu
