// The lockstep-rollout server: a ZeroMQ ROUTER that serves rollout.generate
// with a continuous-batching RolloutEngine and takes weight updates in
// buckets (wire/rollout_messages.h). One thread: it polls for messages and,
// while sequences are queued or running, runs one engine step between polls.
// Guarantees: every result names the weight version that produced all of its
// tokens; a committed set replaces the serving one only when every sequence of
// the old version has finished (requests for the new version wait); a set
// that is incomplete or fails a hash is never used; a generate for a version
// that is neither serving nor committed gets a stale_weights error.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "numerics/backend.h"
#include "rollout/engine.h"

namespace lockstep::rollout {

struct RolloutServerOptions {
  std::string bind;  // "ipc:///path" or "tcp://host:port"
  EngineOptions engine;
  // Where the engines run (cpu or cuda, invariant or fast); Bind fails if it cannot be made.
  BackendOptions backend;
};

class RolloutServer {
 public:
  // Binds the endpoint. An endpoint another live server holds is an error
  // (ipc:// included, which ZeroMQ alone would silently take over).
  static absl::StatusOr<std::unique_ptr<RolloutServer>> Bind(RolloutServerOptions options);
  ~RolloutServer();  // closes the socket
  RolloutServer(const RolloutServer&) = delete;
  RolloutServer& operator=(const RolloutServer&) = delete;

  // Serves until `stop` becomes true (seen within 50 ms, or after the engine
  // step in progress). Errors only if the engine itself fails.
  absl::Status Serve(const std::atomic<bool>& stop);

  const std::string& endpoint() const;
  const std::string& instance_id() const;  // random per server, reported by rollout.status

  struct State;

 private:
  explicit RolloutServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace lockstep::rollout
