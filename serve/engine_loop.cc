// The engine thread of `lockstep serve` (serve/engine_loop.h).
#include "serve/engine_loop.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace lockstep::serve {

EngineLoop::EngineLoop(const Transformer& model, EngineLoopOptions options)
    : model_(model), options_(options) {
  engine_ = std::make_unique<RolloutEngine>(model_, options_.engine);
  thread_ = std::thread([this] { Run(); });
}

EngineLoop::~EngineLoop() { Shutdown(); }

absl::Status EngineLoop::Submit(std::shared_ptr<GenerationJob> job) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) return absl::UnavailableError("the server is shutting down");
  incoming_.push_back(std::move(job));
  wake_.notify_all();
  return absl::OkStatus();
}

void EngineLoop::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

int64_t EngineLoop::steps() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return steps_;
}

void EngineLoop::Run() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        return stopping_ || !incoming_.empty() || !ready_.empty() || !engine_->Idle();
      });
      if (stopping_) break;
      for (std::shared_ptr<GenerationJob>& job : incoming_) {
        for (size_t i = 0; i < job->sequences().size(); ++i) {
          Active a;
          a.job = job;
          a.index = i;
          a.next_segment = job->incremental() ? 1 : job->sequences()[i].max_tokens;
          ready_.push_back(std::move(a));
        }
      }
      incoming_.clear();
    }
    AdmitReady();
    if (engine_->Idle()) continue;
    if (absl::Status s = StepOnce(); !s.ok()) {
      // The engine's state is unknown after a failed step: fail what it held, start afresh.
      FailAll(absl::InternalError(absl::StrCat("engine step failed: ", s.message())));
      engine_ = std::make_unique<RolloutEngine>(model_, options_.engine);
    }
  }
  FailAll(absl::UnavailableError("the server is shutting down"));
}

// Submits the next segment of every ready sequence whose sampling key is free.
void EngineLoop::AdmitReady() {
  std::deque<Active> blocked;
  while (!ready_.empty()) {
    Active a = std::move(ready_.front());
    ready_.pop_front();
    if (a.job->cancelled()) continue;
    const SequenceSpec& spec = a.job->sequences()[a.index];
    const Key key{spec.request_id, spec.sample_index};
    if (in_engine_.count(key)) {
      blocked.push_back(std::move(a));
      continue;
    }
    GenerationRequest request;
    request.request_id = spec.request_id;
    request.sample_index = spec.sample_index;
    request.prompt = spec.prompt;
    request.prompt.insert(request.prompt.end(), a.tokens.begin(), a.tokens.end());
    const int remaining = spec.max_tokens - static_cast<int>(a.tokens.size());
    request.max_new_tokens = std::min(remaining, a.next_segment);
    request.sampling = spec.sampling;
    request.seed = spec.seed;
    request.stop_tokens = spec.stop_tokens;
    if (absl::Status s = engine_->Submit(std::move(request)); !s.ok()) {
      a.job->Fail(absl::InvalidArgumentError(std::string(s.message())));
      continue;
    }
    a.next_segment = std::min(a.next_segment * 2, std::max(options_.max_segment_tokens, 1));
    in_engine_.emplace(key, std::move(a));
  }
  ready_ = std::move(blocked);
}

absl::Status EngineLoop::StepOnce() {
  absl::StatusOr<std::vector<GenerationResult>> finished = engine_->Step();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++steps_;
  }
  if (!finished.ok()) return finished.status();
  for (GenerationResult& result : *finished) {
    auto it = in_engine_.find(Key{result.request_id, result.sample_index});
    if (it == in_engine_.end()) continue;  // cannot happen: every engine request is tracked
    Active a = std::move(it->second);
    in_engine_.erase(it);
    const SequenceSpec& spec = a.job->sequences()[a.index];
    a.tokens.insert(a.tokens.end(), result.tokens.begin(), result.tokens.end());
    a.logprobs.insert(a.logprobs.end(), result.logprobs.begin(), result.logprobs.end());
    const bool stop_token = result.finish_reason == FinishReason::kStop;
    const bool done = stop_token || static_cast<int>(a.tokens.size()) >= spec.max_tokens;
    if (a.job->OnProgress(a.index, a.tokens, a.logprobs, done, stop_token)) {
      ready_.push_back(std::move(a));
    }
  }
  return absl::OkStatus();
}

void EngineLoop::FailAll(const absl::Status& status) {
  for (auto& [key, a] : in_engine_) a.job->Fail(status);
  for (Active& a : ready_) a.job->Fail(status);
  in_engine_.clear();
  ready_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& job : incoming_) job->Fail(status);
  incoming_.clear();
}

}  // namespace lockstep::serve
