#include "rollout/engine.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"

namespace lockstep {

std::string FinishReasonName(FinishReason reason) {
  return reason == FinishReason::kStop ? "stop" : "length";
}

RolloutEngine::RolloutEngine(const Transformer& model, EngineOptions options)
    : model_(model),
      options_(options),
      cache_(model.config(), model.dtype(), options.kv_cache) {}

absl::Status RolloutEngine::Submit(GenerationRequest request) {
  LOCKSTEP_RETURN_IF_ERROR(Validate(request));
  waiting_.push_back(std::move(request));
  return absl::OkStatus();
}

absl::Status RolloutEngine::Validate(const GenerationRequest& request) const {
  if (request.prompt.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request ", request.request_id, ": empty prompt"));
  }
  if (request.max_new_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("request ", request.request_id, ": max_new_tokens must be >= 1"));
  }
  const int64_t total = static_cast<int64_t>(request.prompt.size()) + request.max_new_tokens;
  if (total > model_.max_positions()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request ", request.request_id, ": prompt + max_new_tokens = ", total,
        " exceeds the model's max_position_embeddings ", model_.max_positions()));
  }
  if (cache_.BlocksFor(total) > options_.kv_cache.num_blocks) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request ", request.request_id, ": needs ", cache_.BlocksFor(total),
        " KV blocks, the whole cache has ", options_.kv_cache.num_blocks));
  }
  for (int32_t t : request.prompt) {
    if (t < 0 || t >= model_.config().vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("request ", request.request_id, ": token id ", t, " outside vocabulary"));
    }
  }
  return cpu::ValidateSamplingParams(request.sampling);
}

absl::StatusOr<std::vector<GenerationResult>> RolloutEngine::Step() {
  // Admission: in arrival order, while the batch has room and the cache can
  // hold the whole sequence (prompt + max_new_tokens), so a running sequence
  // never has to be preempted.
  int64_t prefill_tokens = 0;
  while (!waiting_.empty() &&
         static_cast<int>(running_.size()) < options_.max_batch_sequences) {
    const GenerationRequest& next = waiting_.front();
    const int64_t prompt_len = static_cast<int64_t>(next.prompt.size());
    const int64_t total = prompt_len + next.max_new_tokens;
    if (prefill_tokens > 0 && prefill_tokens + prompt_len > options_.max_prefill_tokens) break;
    if (cache_.BlocksFor(total) > cache_.free_blocks()) break;
    Running r{.sequence_id = next_sequence_id_++, .request = next, .result = {}, .length = 0};
    LOCKSTEP_RETURN_IF_ERROR(cache_.Reserve(r.sequence_id, total));
    r.result.request_id = next.request_id;
    r.result.sample_index = next.sample_index;
    r.result.prompt = next.prompt;
    r.result.admitted_step = step_;
    prefill_tokens += prompt_len;
    running_.push_back(std::move(r));
    waiting_.pop_front();
  }
  std::vector<GenerationResult> finished;
  if (running_.empty()) {
    ++step_;
    return finished;
  }

  // One packed forward: whole prompts for new sequences, the last sampled
  // token for running ones.
  std::vector<StepEntry> entries;
  entries.reserve(running_.size());
  for (Running& r : running_) {
    StepEntry e{.sequence_id = r.sequence_id, .start_position = r.length, .tokens = {}};
    if (!r.prefilled) {
      e.tokens = r.request.prompt;
    } else {
      e.tokens = std::span<const int32_t>(&r.result.tokens.back(), 1);
    }
    entries.push_back(e);
  }
  Tensor logits;
  LOCKSTEP_RETURN_IF_ERROR(model_.ForwardStep(entries, cache_, &logits));

  std::vector<Running> still_running;
  for (size_t i = 0; i < running_.size(); ++i) {
    Running& r = running_[i];
    r.length += static_cast<int64_t>(entries[i].tokens.size());
    r.prefilled = true;
    // The sampled token will sit at position r.length of the sequence.
    const cpu::SampledToken sampled = cpu::SampleToken(
        logits.AsMatrix().RowRange(static_cast<int64_t>(i), 1), r.request.sampling,
        r.request.seed, r.request.request_id, r.request.sample_index,
        static_cast<uint32_t>(r.length));
    r.result.tokens.push_back(sampled.token);
    r.result.logprobs.push_back(sampled.logprob);
    const bool stop = std::find(r.request.stop_tokens.begin(), r.request.stop_tokens.end(),
                                sampled.token) != r.request.stop_tokens.end();
    const bool length =
        static_cast<int>(r.result.tokens.size()) >= r.request.max_new_tokens;
    if (stop || length) {
      r.result.finish_reason = stop ? FinishReason::kStop : FinishReason::kLength;
      r.result.finished_step = step_;
      cache_.Release(r.sequence_id);
      finished.push_back(std::move(r.result));
    } else {
      still_running.push_back(std::move(r));
    }
  }
  running_ = std::move(still_running);
  ++step_;
  return finished;
}

absl::StatusOr<std::vector<GenerationResult>> RolloutEngine::RunToCompletion() {
  std::vector<GenerationResult> all;
  while (!Idle()) {
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<GenerationResult> done, Step());
    for (GenerationResult& r : done) all.push_back(std::move(r));
  }
  return all;
}

}  // namespace lockstep
