// The lockstep-sandbox pool server: a ZeroMQ ROUTER that accepts sandbox.run
// requests from any number of clients, runs them on N worker threads (each
// run isolated by sandbox/runner.h), and returns every result to its sender.
// Guarantees: a request is never dropped (a bounded queue stops reading from
// the socket when full, so ZeroMQ pushes back on senders); a failure of a
// worker's own logic becomes a sandbox_error result for that request and the
// worker carries on; queue depth and throughput are reported on request
// (sandbox.stats) and in a periodic log line.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "sandbox/runner.h"

namespace lockstep::sandbox {

struct PoolServerOptions {
  std::string bind;        // "ipc:///path" or "tcp://host:port"
  int workers = 0;         // 0: one per CPU core
  size_t queue_capacity = 0;  // 0: 4 per worker
  double stats_log_interval_s = 10;  // 0: no periodic log line
  RunnerOptions runner;
  // Replaces Runner::Run (tests inject failures with it). May throw.
  std::function<RunResult(const RunRequest&)> job;
};

// `lockstep sandbox serve` / `lockstep-sandbox` arguments: --bind EP [--workers N]
// [--queue N] [--stats-interval S].
absl::StatusOr<PoolServerOptions> ParsePoolServerArgs(const std::vector<std::string>& args);

class PoolServer {
 public:
  // Binds the endpoint and starts the workers; fails if either fails.
  static absl::StatusOr<std::unique_ptr<PoolServer>> Start(PoolServerOptions options);
  ~PoolServer();  // stops: answers nothing more, joins every thread
  PoolServer(const PoolServer&) = delete;
  PoolServer& operator=(const PoolServer&) = delete;

  void Stop();
  // Blocks until `stop` becomes true (checked every 100 ms) or Stop() is called.
  void Wait(const std::atomic<bool>& stop);

  // {"queue_depth", "queue_capacity", "in_flight", "received", "completed",
  //  "worker_failures", "workers", "runs_per_s" (last 10 s), "uptime_s"}.
  nlohmann::json Stats() const;
  const std::string& endpoint() const { return options_.bind; }

  struct State;

 private:
  explicit PoolServer(PoolServerOptions options);
  void IoLoop();
  void WorkerLoop(int index);

  PoolServerOptions options_;
  std::unique_ptr<Runner> runner_;
  std::unique_ptr<State> state_;
  std::thread io_thread_;
  std::vector<std::thread> workers_;
};

}  // namespace lockstep::sandbox
