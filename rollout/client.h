// The trainer's side of lockstep-rollout (rollout/server.h): publishes weight
// sets to every engine and spreads generate requests over them. One thread.
// Guarantees: PublishWeights returns OK only when every engine acknowledged
// the whole set with our set hash; every request of a batch is answered
// exactly once (results deduplicated by (request_id, sample_index)), by
// weights of the version asked for; an engine that restarts (new instance id)
// or falls silent for `engine_timeout` gets the current weights again when it
// answers, and its outstanding requests are re-issued; past `total_timeout`
// the call fails with an error naming the engines that did not answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/weights.h"
#include "numerics/cpu/logprob.h"
#include "rollout/engine.h"

namespace lockstep::rollout {

struct RolloutRequest {
  uint32_t request_id = 0;
  uint32_t sample_index = 0;
  std::vector<int32_t> prompt;
  int max_new_tokens = 64;
  SamplingParams sampling;
  uint64_t seed = 0;
  std::vector<int32_t> stop_tokens;
};

struct RolloutResult {
  uint32_t request_id = 0;
  uint32_t sample_index = 0;
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  FinishReason finish_reason = FinishReason::kLength;
  int64_t weight_version = 0;  // the weights that produced every token
  int engine_index = 0;        // position of the engine in Connect's endpoints
};

struct ClientOptions {
  size_t bucket_bytes = size_t{64} << 20;  // weight bucket size (a larger tensor goes alone)
  std::chrono::milliseconds ping_interval{200};
  // An engine silent this long is presumed dead; make it longer than one engine step.
  std::chrono::milliseconds engine_timeout{30000};
  // PublishWeights and Wait give up after this long.
  std::chrono::milliseconds total_timeout{600000};
  int max_bucket_resends = 3;  // per bucket and engine, per publish
  // Test hook: the first time bucket k is sent, one byte of its first tensor is
  // flipped (the hash in its header is the true one), so the engine must reject it.
  int corrupt_bucket_on_first_send = -1;
};

struct ClientStats {
  int64_t restarts_seen = 0;  // engines seen with a new instance id
  int64_t engines_reset = 0;  // engines presumed dead after engine_timeout
  int64_t requests_reissued = 0;
  int64_t buckets_resent = 0;
  int64_t bytes_sent = 0;              // weight bytes, every engine and resend counted
  double weight_sync_seconds = 0;      // inside PublishWeights, all of it
  double weight_snapshot_seconds = 0;  // of which copying + hashing our side
  double weight_commit_seconds = 0;    // commit sent -> acknowledged (the engine builds its
                                       // model then), summed over engines
};

class RolloutClient {
 public:
  // Connects lazily (ZeroMQ): an engine that is not up yet is waited for.
  static absl::StatusOr<std::unique_ptr<RolloutClient>> Connect(std::vector<std::string> endpoints,
                                                                ClientOptions options = {});
  ~RolloutClient();
  RolloutClient(const RolloutClient&) = delete;
  RolloutClient& operator=(const RolloutClient&) = delete;

  // Sends `weights` as `version` to every engine (buckets of ~bucket_bytes,
  // each acknowledged; a rejected bucket is sent again, at most
  // max_bucket_resends times), commits, and checks each engine's set hash
  // against ours. `weights` may change as soon as this returns. Call it with
  // no batch outstanding.
  absl::Status PublishWeights(int64_t version, const ModelWeights& weights);

  // Generates every request with weights `weight_version` (the version last
  // published). Requests go to engines round robin by position; results come
  // back sorted by (request_id, sample_index).
  absl::StatusOr<std::vector<RolloutResult>> Generate(const std::vector<RolloutRequest>& requests,
                                                      int64_t weight_version);
  // The same in two halves, so a trainer can work while rollouts run.
  absl::StatusOr<uint64_t> Submit(const std::vector<RolloutRequest>& requests,
                                  int64_t weight_version);
  absl::StatusOr<std::vector<RolloutResult>> Wait(uint64_t ticket);

  ClientStats stats() const;
  int num_engines() const;

  struct State;

 private:
  explicit RolloutClient(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace lockstep::rollout
