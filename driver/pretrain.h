// `lockstep pretrain CONFIG`: next-token training of a small base model on
// text lockstep generates itself (the arithmetic task) or on a text file,
// with the same Trainer the GRPO job uses. Writes RUN/config.toml,
// RUN/metrics.jsonl, RUN/checkpoints/step_N/ and RUN/final/ (an HF-layout
// model directory other jobs can `init_from`). Batches are a pure function of
// the step, so `--resume RUN` continues exactly where the last checkpoint was.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "config/config.h"
#include "config/run_dir.h"

namespace lockstep::driver {

struct PretrainSummary {
  int64_t steps = 0;
  double first_loss = 0.0;
  double last_loss = 0.0;  // mean over the last 10 steps
  double eval_accuracy = -1.0;  // greedy exact-match on held-out problems; -1 if not run
  std::string final_dir;
};

// `run_dir` exists (PrepareRunDir). With `resume`, continues from the newest
// checkpoint in run_dir/checkpoints.
absl::StatusOr<PretrainSummary> RunPretrain(config::Config& config, const std::string& run_dir,
                                            bool resume);

}  // namespace lockstep::driver
