// One HTTP request's generation, shared by the handler thread that waits on it
// and the engine thread that advances it: its sequences (prompt x n), each
// choice's text (serve/choice_text.h), and the events a streaming or waiting
// handler reads. The engine thread reports tokens; the handler reads events.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "numerics/sampling_params.h"
#include "serve/choice_text.h"

namespace lockstep::serve {

// One sequence for the engine. (request_id, sample_index, seed) is the sampling key.
struct SequenceSpec {
  std::vector<int32_t> prompt;
  int max_tokens = 16;
  SamplingParams sampling;
  uint64_t seed = 0;
  uint32_t request_id = 0;
  uint32_t sample_index = 0;
  std::vector<int32_t> stop_tokens;
};

// New output of one choice since its last event.
struct ChoiceEvent {
  int choice = 0;
  std::string delta;
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  bool finished = false;
  std::string finish_reason;  // "stop" or "length" once finished
};

class GenerationJob {
 public:
  // `incremental`: hear of every new token (OnProgress after each engine step)
  // so text can be streamed and stop strings end generation early; otherwise
  // OnProgress comes once, when a sequence finishes.
  GenerationJob(std::vector<SequenceSpec> sequences, const ChoiceText::Decoder& decode,
                const std::vector<std::string>& stop, bool incremental);

  const std::vector<SequenceSpec>& sequences() const { return sequences_; }
  bool incremental() const { return incremental_; }

  // Engine thread. `tokens`/`logprobs`: everything sequence `index` generated
  // so far; `engine_finished`: it hit a stop token or max_tokens. Returns
  // whether to keep generating it.
  bool OnProgress(size_t index, const std::vector<int32_t>& tokens,
                  const std::vector<float>& logprobs, bool engine_finished, bool stop_token);
  // Ends the job with an error (engine failure, shutdown).
  void Fail(const absl::Status& status);
  bool cancelled() const;

  // Handler thread: the client went away; the engine stops extending it.
  void Cancel();
  struct Poll {
    std::vector<ChoiceEvent> events;
    bool done = false;    // every choice finished, or failed
    absl::Status error;   // set when failed
  };
  // Blocks until there are new events or the job ended.
  Poll Wait();

 private:
  std::vector<SequenceSpec> sequences_;
  bool incremental_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ChoiceText> texts_;
  std::vector<size_t> sent_tokens_;
  std::vector<ChoiceEvent> pending_;
  size_t finished_ = 0;
  absl::Status error_;
  bool cancelled_ = false;
};

}  // namespace lockstep::serve
