// The handler/engine hand-off of one request (serve/generation_job.h).
#include "serve/generation_job.h"

namespace lockstep::serve {

GenerationJob::GenerationJob(std::vector<SequenceSpec> sequences, const ChoiceText::Decoder& decode,
                             const std::vector<std::string>& stop, bool incremental)
    : sequences_(std::move(sequences)), incremental_(incremental) {
  for (size_t i = 0; i < sequences_.size(); ++i) texts_.emplace_back(decode, stop);
  sent_tokens_.assign(sequences_.size(), 0);
}

bool GenerationJob::OnProgress(size_t index, const std::vector<int32_t>& tokens,
                               const std::vector<float>& logprobs, bool engine_finished,
                               bool stop_token) {
  // Decoding happens outside the lock: only this (engine) thread touches texts_.
  const ChoiceText::Update update = texts_[index].Advance(tokens, engine_finished);
  const bool finished = engine_finished || update.stopped;
  ChoiceEvent event;
  event.choice = static_cast<int>(index);
  event.delta = update.delta;
  const size_t kept = static_cast<size_t>(update.kept_tokens);
  event.tokens.assign(tokens.begin() + sent_tokens_[index], tokens.begin() + kept);
  event.logprobs.assign(logprobs.begin() + sent_tokens_[index], logprobs.begin() + kept);
  sent_tokens_[index] = kept;
  event.finished = finished;
  if (finished) event.finish_reason = (update.stopped || stop_token) ? "stop" : "length";
  std::lock_guard<std::mutex> lock(mutex_);
  if (!error_.ok()) return false;
  if (finished) ++finished_;
  if (finished || !event.delta.empty() || !event.tokens.empty()) pending_.push_back(std::move(event));
  changed_.notify_all();
  return !finished && !cancelled_;
}

void GenerationJob::Fail(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_.ok()) error_ = status;
  changed_.notify_all();
}

bool GenerationJob::cancelled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cancelled_ || !error_.ok();
}

void GenerationJob::Cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelled_ = true;
  changed_.notify_all();
}

GenerationJob::Poll GenerationJob::Wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] {
    return !pending_.empty() || finished_ == sequences_.size() || !error_.ok();
  });
  Poll poll;
  poll.events.swap(pending_);
  poll.error = error_;
  poll.done = finished_ == sequences_.size() || !error_.ok();
  return poll;
}

}  // namespace lockstep::serve
