// The engine thread of `lockstep serve` (serve/engine_loop.h).
#include "serve/engine_loop.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace lockstep::serve {

EngineLoop::EngineLoop(const Transformer& model, EngineLoopOptions options)
    : model_(model), options_(std::move(options)) {
  options_.engine.on_token = [this](uint32_t request_id, uint32_t sample_index, int32_t token,
                                    float logprob) {
    OnToken(request_id, sample_index, token, logprob);
  };
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
          ready_.push_back(Active{.job = job, .index = i, .tokens = {}, .logprobs = {}});
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

// Submits every ready sequence whose sampling key is free, as one engine request
// for all its max_tokens. (Two HTTP requests with the same seed share keys; the
// later waits, so the engine never holds two sequences of one key.)
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
    request.max_new_tokens = spec.max_tokens;
    request.sampling = spec.sampling;
    request.seed = spec.seed;
    request.stop_tokens = spec.stop_tokens;
    if (absl::Status s = engine_->Submit(std::move(request)); !s.ok()) {
      a.job->Fail(absl::InvalidArgumentError(std::string(s.message())));
      continue;
    }
    in_engine_.emplace(key, std::move(a));
  }
  ready_ = std::move(blocked);
}

// Inside RolloutEngine::Step: only records the token (the engine must not be
// touched from here); StepOnce reports it once the step is over.
void EngineLoop::OnToken(uint32_t request_id, uint32_t sample_index, int32_t token,
                         float logprob) {
  auto it = in_engine_.find(Key{request_id, sample_index});
  if (it == in_engine_.end()) return;  // cannot happen: every engine request is tracked
  it->second.tokens.push_back(token);
  it->second.logprobs.push_back(logprob);
  stepped_.push_back(it->first);
}

absl::Status EngineLoop::StepOnce() {
  stepped_.clear();
  absl::StatusOr<std::vector<GenerationResult>> finished = engine_->Step();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++steps_;
  }
  if (!finished.ok()) return finished.status();
  std::map<Key, bool> ended;  // finished in this step -> ended on a stop token
  for (const GenerationResult& result : *finished) {
    ended[Key{result.request_id, result.sample_index}] =
        result.finish_reason == FinishReason::kStop;
  }
  for (const Key& key : stepped_) {
    auto it = in_engine_.find(key);
    if (it == in_engine_.end()) continue;
    Active& a = it->second;
    const auto end = ended.find(key);
    const bool done = end != ended.end();
    bool keep = true;
    if (done || a.job->incremental()) {
      keep = a.job->OnProgress(a.index, a.tokens, a.logprobs, done, done && end->second);
    } else {
      keep = !a.job->cancelled();
    }
    if (done) {
      in_engine_.erase(it);
    } else if (!keep) {
      engine_->Cancel(key.first, key.second);
      in_engine_.erase(it);
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
