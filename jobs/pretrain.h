// `lockstep pretrain`: next-token training of a small base model on text
// lockstep generates itself (the arithmetic task) or on a text file, with the
// same Trainer the GRPO job uses. Writes RUN/metrics.jsonl,
// RUN/checkpoints/step_N/, RUN/final/ (an HF-layout model directory other
// jobs can `init_from`), TensorBoard event files (RUN/events.out.tfevents.*)
// and RUN/summary.json; RUN/config.toml is written before (config/config_job.h).
// Batches are a pure function of the step, so a resumed run continues exactly
// where its last checkpoint was and ends with the same bytes. A stop request
// (SIGINT/SIGTERM in the driver) ends the current step and checkpoints; a run
// with no checkpoint yet resumes from step 0; a finished run resumes to a no-op.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "jobs/job_sections.h"
#include "trainer/trainer.h"

namespace lockstep::jobs {

// [data]: where training text comes from.
struct PretrainData {
  std::string source = "arithmetic";  // "arithmetic" | "file"
  uint64_t seed = 7;
  int max_digits = 2;        // arithmetic
  std::string operators = "+";  // arithmetic
  std::string file;          // file: one example per line
  // The start of each sequence advances by this many corpus lines.
  int lines_per_sequence = 8;
};

struct PretrainOptions {
  int64_t steps = 300;
  int batch_sequences = 16;
  int seq_len = 64;
  int64_t log_every = 10;
  int64_t checkpoint_every = 100;
  // For preemptible slots: checkpoint and stop at this step; resuming with
  // --set train.stop_at_step=0 continues. 0 = run to `steps`.
  int64_t stop_at_step = 0;
  PretrainData data;
  ModelSpec model;  // unused on resume: the checkpoint holds the model
  trainer::TrainerConfig trainer;
  int eval_problems = 64;  // greedy exact-match after training (arithmetic only)
};

// Reads [train], [optim], [model], [data] and [eval]; builds and loads nothing.
absl::StatusOr<PretrainOptions> ReadPretrainOptions(const config::Config& config);

struct PretrainSummary {
  int64_t steps = 0;
  double first_loss = 0.0;
  double last_loss = 0.0;  // mean over the last 10 steps
  double eval_accuracy = -1.0;  // greedy exact-match on held-out problems; -1 if not run
  std::string final_dir;
  // Stopped on request before `steps`: the checkpoint it saved is checkpoint_dir.
  bool interrupted = false;
  std::string checkpoint_dir;
  // Resumed a run whose newest checkpoint is already at its last step:
  // nothing was trained or rewritten.
  bool already_finished = false;
  int64_t first_step = 0;  // the step this invocation started from
  int64_t last_step = 0;   // where the run ends: train.steps, or train.stop_at_step
};

// `run_dir` exists (config::PrepareJob). With `resume`, continues from the
// newest checkpoint in run_dir/checkpoints, or from step 0 (metrics.jsonl cut
// back) when the run stopped before its first one. When *stop_requested
// becomes true, the step in progress finishes, a checkpoint is saved and the
// summary says `interrupted` (final/ is not written). Progress lines go to stderr.
absl::StatusOr<PretrainSummary> RunPretrain(const PretrainOptions& options,
                                            const std::string& run_dir, bool resume,
                                            const std::atomic<bool>* stop_requested = nullptr);

}  // namespace lockstep::jobs
