#include "rollout/engine.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"

namespace lockstep {

std::string FinishReasonName(FinishReason reason) {
  return reason == FinishReason::kStop ? "stop" : "length";
}

RolloutEngine::RolloutEngine(const Transformer& model, EngineOptions options)
    : model_(model), options_(options), workspace_(model.backend()) {
  workspace_.decode_graphs().set_enabled(options.cuda_graphs);
  // Decode steps pad up to a bucket, never past the largest batch this engine runs.
  workspace_.decode_graphs().set_max_batch(options.max_batch_sequences);
  absl::StatusOr<std::unique_ptr<PagedKvCache>> cache =
      PagedKvCache::Create(model.backend(), model.config(), model.dtype(), options.kv_cache);
  if (!cache.ok()) {
    init_status_ = cache.status();
    return;
  }
  cache_ = *std::move(cache);
  if (options_.kv_cache.memory_fraction > 0.0) {
    // Sized from free memory: say what that came to (the one line the operator needs).
    std::fprintf(stderr, "%s on %s (memory_fraction %g of its free memory)\n",
                 cache_->Describe().c_str(), model.backend().Describe().c_str(),
                 options_.kv_cache.memory_fraction);
  }
  // From here on the options say the resolved size (Validate, kv_cache_options()).
  options_.kv_cache.num_blocks = cache_->num_blocks();
  options_.kv_cache.memory_fraction = 0.0;
}

absl::StatusOr<std::unique_ptr<RolloutEngine>> RolloutEngine::Create(const Transformer& model,
                                                                     EngineOptions options) {
  auto engine = std::make_unique<RolloutEngine>(model, options);
  LOCKSTEP_RETURN_IF_ERROR(engine->status());
  return engine;
}

absl::Status RolloutEngine::Submit(GenerationRequest request) {
  LOCKSTEP_RETURN_IF_ERROR(Validate(request));
  waiting_.push_back(std::move(request));
  return absl::OkStatus();
}

absl::Status RolloutEngine::Validate(const GenerationRequest& request) const {
  LOCKSTEP_RETURN_IF_ERROR(init_status_);
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
  if (cache_->BlocksFor(total) > options_.kv_cache.num_blocks) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request ", request.request_id, ": needs ", cache_->BlocksFor(total),
        " KV blocks, the whole cache has ", options_.kv_cache.num_blocks));
  }
  for (int32_t t : request.prompt) {
    if (t < 0 || t >= model_.config().vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("request ", request.request_id, ": token id ", t, " outside vocabulary"));
    }
  }
  return ValidateSamplingParams(request.sampling);
}

absl::StatusOr<std::vector<GenerationResult>> RolloutEngine::Step() {
  LOCKSTEP_RETURN_IF_ERROR(init_status_);
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
    if (cache_->BlocksFor(total) > cache_->free_blocks()) break;
    Running r{.sequence_id = next_sequence_id_++, .request = next, .result = {}, .length = 0};
    LOCKSTEP_RETURN_IF_ERROR(cache_->Reserve(r.sequence_id, total));
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
  ConstMatrixView logits;
  LOCKSTEP_RETURN_IF_ERROR(model_.ForwardStep(entries, *cache_, workspace_, &logits));

  // One sampling call for the whole step; row i's key is its request's
  // (seed, request, sample index) and the position the sampled token will sit at.
  specs_.clear();
  for (size_t i = 0; i < running_.size(); ++i) {
    const Running& r = running_[i];
    const int64_t next_position = r.length + static_cast<int64_t>(entries[i].tokens.size());
    specs_.push_back(SampleSpec{.params = r.request.sampling,
                                .seed = r.request.seed,
                                .request = r.request.request_id,
                                .sample_index = r.request.sample_index,
                                .position = static_cast<uint32_t>(next_position)});
  }
  sampled_.resize(specs_.size());
  LOCKSTEP_RETURN_IF_ERROR(model_.backend().SampleTokens(logits, specs_, sampled_));

  std::vector<Running> still_running;
  for (size_t i = 0; i < running_.size(); ++i) {
    Running& r = running_[i];
    r.length += static_cast<int64_t>(entries[i].tokens.size());
    r.prefilled = true;
    const SampledToken sampled = sampled_[i];
    r.result.tokens.push_back(sampled.token);
    r.result.logprobs.push_back(sampled.logprob);
    if (options_.on_token) {
      options_.on_token(r.request.request_id, r.request.sample_index, sampled.token,
                        sampled.logprob);
    }
    const bool stop = std::find(r.request.stop_tokens.begin(), r.request.stop_tokens.end(),
                                sampled.token) != r.request.stop_tokens.end();
    const bool length =
        static_cast<int>(r.result.tokens.size()) >= r.request.max_new_tokens;
    if (stop || length) {
      r.result.finish_reason = stop ? FinishReason::kStop : FinishReason::kLength;
      r.result.finished_step = step_;
      cache_->Release(r.sequence_id);
      finished.push_back(std::move(r.result));
    } else {
      still_running.push_back(std::move(r));
    }
  }
  running_ = std::move(still_running);
  ++step_;
  return finished;
}

bool RolloutEngine::Cancel(uint32_t request_id, uint32_t sample_index) {
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->request_id == request_id && it->sample_index == sample_index) {
      waiting_.erase(it);
      return true;
    }
  }
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (it->request.request_id == request_id && it->request.sample_index == sample_index) {
      cache_->Release(it->sequence_id);
      running_.erase(it);
      return true;
    }
  }
  return false;
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
