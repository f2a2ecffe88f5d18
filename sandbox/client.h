// C++ client of a lockstep-sandbox pool server (sandbox/pool_server.h), for
// rewards/ and evals: submit a batch of runs, get every result back, in the
// order submitted, or an error naming the endpoint and how many came back.
// One client is used by one thread at a time; make one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "sandbox/runner.h"
#include "wire/sandbox_messages.h"

namespace lockstep::sandbox {

// Conversions between runner types and their wire messages.
wire::SandboxRunMessage RequestToWire(const RunRequest& request, uint64_t id);
absl::StatusOr<RunRequest> RequestFromWire(const wire::SandboxRunMessage& message);
wire::SandboxResultMessage ResultToWire(const RunResult& result, uint64_t id);
absl::StatusOr<RunResult> ResultFromWire(const wire::SandboxResultMessage& message);

class SandboxClient {
 public:
  // Connects lazily (ZeroMQ): an unreachable endpoint shows up as a timeout.
  static absl::StatusOr<std::unique_ptr<SandboxClient>> Connect(const std::string& endpoint);
  ~SandboxClient();
  SandboxClient(const SandboxClient&) = delete;
  SandboxClient& operator=(const SandboxClient&) = delete;

  // Sends every request (the server's bounded queue may slow the sending
  // down, never drop one) and waits for all results until `timeout`.
  absl::StatusOr<std::vector<RunResult>> RunBatch(std::span<const RunRequest> requests,
                                                  std::chrono::milliseconds timeout);
  // Queue depth, in-flight runs, completed runs, throughput (pool_server.h).
  absl::StatusOr<nlohmann::json> Stats(std::chrono::milliseconds timeout);

 private:
  SandboxClient(std::string endpoint, void* context, void* socket);
  std::string endpoint_;
  void* context_;
  void* socket_;
  uint64_t next_id_ = 1;  // ids are unique per client, so late results of an
                          // abandoned batch are recognised and dropped
};

}  // namespace lockstep::sandbox
