// Where program rewards run their programs: an in-process sandbox Runner
// (sandbox/runner.h) on a few threads, or a remote `lockstep sandbox serve`
// pool (sandbox/client.h). Both return one result per request, in order, and
// never drop one: a failure to reach the pool becomes sandbox_error results,
// which rewards report as infrastructure failures, never as wrong answers.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "sandbox/client.h"
#include "sandbox/runner.h"

namespace lockstep::rewards {

class ProgramExecutor {
 public:
  virtual ~ProgramExecutor() = default;
  // Thread-safe.
  virtual std::vector<sandbox::RunResult> RunBatch(std::span<const sandbox::RunRequest> requests) = 0;
  // "local runner (N threads)" / "pool tcp://...".
  virtual std::string Describe() const = 0;
};

// Runs the requests of one batch on up to `threads` threads of the caller.
class LocalExecutor : public ProgramExecutor {
 public:
  LocalExecutor(sandbox::Runner* runner, int threads) : runner_(runner), threads_(threads) {}
  std::vector<sandbox::RunResult> RunBatch(std::span<const sandbox::RunRequest> requests) override;
  std::string Describe() const override;

 private:
  sandbox::Runner* runner_;
  int threads_;
};

// Sends each batch to a pool server; one ZeroMQ client per concurrent caller.
class PoolExecutor : public ProgramExecutor {
 public:
  PoolExecutor(std::string endpoint, std::chrono::milliseconds batch_timeout)
      : endpoint_(std::move(endpoint)), timeout_(batch_timeout) {}
  std::vector<sandbox::RunResult> RunBatch(std::span<const sandbox::RunRequest> requests) override;
  std::string Describe() const override { return "pool " + endpoint_; }

 private:
  std::string endpoint_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;  // guards idle_
  std::vector<std::unique_ptr<sandbox::SandboxClient>> idle_;
};

}  // namespace lockstep::rewards
