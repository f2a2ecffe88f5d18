// The one thread that owns the RolloutEngine. HTTP handler threads Submit jobs;
// the loop admits their sequences, steps the engine while anything runs (so
// sequences of concurrent requests share every step: continuous batching), and
// reports each finished engine sequence to its job.
//
// The engine reports a sequence only when it finishes, so an incremental job
// (streaming, or stop strings) is generated in segments of 1, 2, 4, ... up to
// `max_segment_tokens` new tokens: each segment is a new engine request whose
// prompt is the prompt plus the tokens so far, with the same sampling key, so
// the tokens are the ones one uninterrupted request gives (sampling is keyed
// by position and every op is batch-invariant). The price is re-reading the
// sequence (a prefill) at each segment boundary.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <condition_variable>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "model/transformer.h"
#include "rollout/engine.h"
#include "serve/generation_job.h"

namespace lockstep::serve {

struct EngineLoopOptions {
  EngineOptions engine;
  int max_segment_tokens = 64;  // largest segment of an incremental sequence
};

class EngineLoop {
 public:
  EngineLoop(const Transformer& model, EngineLoopOptions options);
  ~EngineLoop();  // Shutdown()
  EngineLoop(const EngineLoop&) = delete;
  EngineLoop& operator=(const EngineLoop&) = delete;

  // Queues every sequence of `job`. Unavailable once shutting down.
  absl::Status Submit(std::shared_ptr<GenerationJob> job);
  // Fails every unfinished job (Unavailable: shutting down) and joins the thread.
  void Shutdown();

  // Engine steps run so far (for tests and the log).
  int64_t steps() const;

 private:
  // A sequence between segments or inside the engine.
  struct Active {
    std::shared_ptr<GenerationJob> job;
    size_t index = 0;
    std::vector<int32_t> tokens;
    std::vector<float> logprobs;
    int next_segment = 1;
  };
  using Key = std::pair<uint32_t, uint32_t>;  // (request_id, sample_index)

  void Run();
  void AdmitReady();
  absl::Status StepOnce();
  void FailAll(const absl::Status& status);

  const Transformer& model_;
  EngineLoopOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<GenerationJob>> incoming_;
  bool stopping_ = false;
  int64_t steps_ = 0;
  // Engine thread only.
  std::unique_ptr<RolloutEngine> engine_;
  std::deque<Active> ready_;          // waiting to enter the engine
  std::map<Key, Active> in_engine_;   // at most one sequence per sampling key
  std::thread thread_;
};

}  // namespace lockstep::serve
