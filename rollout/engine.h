// In-process generation engine with continuous batching over a paged KV cache.
// Requests with different prompt lengths (and seeds) join and leave the running batch at
// different steps; each step prefills newly admitted prompts and decodes one
// token for every running sequence, in one packed forward. Sampling is keyed
// by (seed, request, sample index, position), and every op is batch-invariant,
// so a request's tokens and logprobs do not depend on what else is running.
// The engine runs on its model's Backend: the KV cache and the step workspace live there,
// and each step samples every row with one Backend::SampleTokens call.
// An optional observer (EngineOptions::on_token) sees every token as it is sampled,
// so a caller can stream; observing changes nothing the engine computes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/forward_workspace.h"
#include "model/kv_cache.h"
#include "model/transformer.h"
#include "numerics/sampling_params.h"

namespace lockstep {

struct GenerationRequest {
  uint32_t request_id = 0;
  uint32_t sample_index = 0;
  std::vector<int32_t> prompt;
  int max_new_tokens = 64;
  SamplingParams sampling;
  uint64_t seed = 0;                 // sampling key, with request_id, sample_index, position
  std::vector<int32_t> stop_tokens;  // e.g. <eos>; the stop token is kept in `tokens`
};

enum class FinishReason { kStop, kLength };
std::string FinishReasonName(FinishReason reason);  // "stop", "length"

struct GenerationResult {
  uint32_t request_id = 0;
  uint32_t sample_index = 0;
  std::vector<int32_t> prompt;
  std::vector<int32_t> tokens;   // generated tokens
  std::vector<float> logprobs;   // one per generated token
  FinishReason finish_reason = FinishReason::kLength;
  int64_t admitted_step = 0;     // engine step at which prefill ran
  int64_t finished_step = 0;
};

// Called by Step() for each token it samples, in row order, before Step() returns
// (the token is the one that will be in the request's GenerationResult::tokens).
// It runs on the stepping thread and must not call back into the engine.
using TokenObserver = std::function<void(uint32_t request_id, uint32_t sample_index,
                                         int32_t token, float logprob)>;

struct EngineOptions {
  int max_batch_sequences = 32;  // running sequences per step
  int max_prefill_tokens = 4096; // prompt tokens admitted per step (at least one prompt)
  KvCacheOptions kv_cache;
  // Decode-only steps as captured graphs per batch-size bucket (padded with dummy rows up to
  // 1, 2, 4, 8, 16, 24, ..., max_batch_sequences: model/decode_graphs.h), on a backend that
  // supports them (CUDA); the same bits either way. LOCKSTEP_CUDA_GRAPHS=0 turns them off
  // regardless.
  bool cuda_graphs = true;
  TokenObserver on_token;        // optional
};

class RolloutEngine {
 public:
  // Allocates the KV cache on model.backend(); a failure there is returned by Create, and
  // by every Validate/Submit/Step of an engine made with the constructor.
  static absl::StatusOr<std::unique_ptr<RolloutEngine>> Create(const Transformer& model,
                                                               EngineOptions options);
  RolloutEngine(const Transformer& model, EngineOptions options);

  absl::Status status() const { return init_status_; }
  // The KV cache as allocated: with kv_cache.memory_fraction set, num_blocks is what that
  // fraction came to and memory_fraction is 0 (reuse these to make an engine of equal size).
  const KvCacheOptions& kv_cache_options() const { return options_.kv_cache; }

  // Whether Submit would accept the request (it queues nothing).
  absl::Status Validate(const GenerationRequest& request) const;
  // Queues a request; it is admitted in arrival order when there is room.
  absl::Status Submit(GenerationRequest request);
  // Runs one engine step; returns the requests that finished in it.
  absl::StatusOr<std::vector<GenerationResult>> Step();
  // Drops the queued or running request (request_id, sample_index) and frees its KV
  // blocks; it is never reported by Step(). Returns whether there was one. Other
  // requests' tokens do not change (every op is batch-invariant). Not from on_token.
  bool Cancel(uint32_t request_id, uint32_t sample_index);
  // Steps until nothing is queued or running; results in completion order.
  absl::StatusOr<std::vector<GenerationResult>> RunToCompletion();

  bool Idle() const { return waiting_.empty() && running_.empty(); }
  int64_t steps() const { return step_; }
  int running() const { return static_cast<int>(running_.size()); }
  int waiting() const { return static_cast<int>(waiting_.size()); }
  // The step workspace: its device allocations and decode-graph counters, for tests and
  // benchmarks.
  const ForwardWorkspace& workspace() const { return workspace_; }

 private:
  struct Running {
    int64_t sequence_id;
    GenerationRequest request;
    GenerationResult result;
    int64_t length;  // tokens whose K/V are in the cache after this step
    bool prefilled = false;
  };

  const Transformer& model_;
  EngineOptions options_;
  absl::Status init_status_;
  std::unique_ptr<PagedKvCache> cache_;
  ForwardWorkspace workspace_;
  std::vector<SampleSpec> specs_;      // per step, reused
  std::vector<SampledToken> sampled_;  // per step, reused
  std::deque<GenerationRequest> waiting_;
  std::vector<Running> running_;
  int64_t step_ = 0;
  int64_t next_sequence_id_ = 0;
};

}  // namespace lockstep
