// The one thread that owns the RolloutEngine. HTTP handler threads Submit jobs;
// the loop admits each job's sequences as one engine request apiece, steps the
// engine while anything runs (so sequences of concurrent requests share every
// step: continuous batching), and hands each step's new tokens (the engine's
// on_token observer) to incremental jobs (streaming, or stop strings) at once;
// other jobs hear of a sequence only when it finishes. A sequence a job no
// longer wants (stop string found, client gone) is cancelled in the engine.
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
  EngineOptions engine;  // its on_token is the loop's own
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
  // A sequence waiting to enter the engine, or inside it.
  struct Active {
    std::shared_ptr<GenerationJob> job;
    size_t index = 0;
    std::vector<int32_t> tokens;
    std::vector<float> logprobs;
  };
  using Key = std::pair<uint32_t, uint32_t>;  // (request_id, sample_index)

  void Run();
  void AdmitReady();
  absl::Status StepOnce();
  void OnToken(uint32_t request_id, uint32_t sample_index, int32_t token, float logprob);
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
  std::vector<Key> stepped_;          // keys that got a token in the current step
  std::thread thread_;
};

}  // namespace lockstep::serve
