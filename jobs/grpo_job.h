// The GRPO loop that runs inside the `lockstep-trainer` process. Per step:
// prompts (a pure function of the step) → rollout engines in other processes
// (rollout/client.h) → rewards (jobs/grpo_task.h; programs in the sandbox
// pool) → advantages → one optimizer step whose old policy is the rollout's
// own log-probabilities → new weights published to every engine, hashes checked.
// The trainer never generates. Writes into RUN/: metrics.jsonl (one line per
// step), rollouts.jsonl (one line per sample), checkpoints/step_N/ (exact
// resume: same prompts, same RNG, same bytes), summary.json, report.html.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "jobs/grpo_options.h"

namespace lockstep::jobs {

struct GrpoEndpoints {
  std::vector<std::string> rollout;  // one per engine
  std::string sandbox;               // empty when the task needs none
};

struct GrpoRunSummary {
  int64_t steps_done = 0;
  bool interrupted = false;  // stopped by a signal (a checkpoint was written)
  double eval_accuracy_before = -1.0, eval_accuracy_after = -1.0;  // -1: not run
  double reward_first_fifth = 0.0, reward_last_fifth = 0.0;
  int64_t mismatch_tokens = 0, mismatch_bitwise_equal = 0;  // over all steps of this run dir
  std::string report_path;
};

// `stop` is polled between phases (set it from a SIGINT/SIGTERM handler): the
// job then writes a checkpoint of the last finished step and returns.
absl::StatusOr<GrpoRunSummary> RunGrpoTrainer(const GrpoOptions& options,
                                              const std::string& run_dir,
                                              const GrpoEndpoints& endpoints, bool resume,
                                              const std::atomic<bool>* stop);

// Reads RUN/summary.json and RUN/metrics.jsonl into a summary (what the driver prints).
absl::StatusOr<GrpoRunSummary> ReadGrpoRunSummary(const std::string& run_dir);
std::string FormatGrpoSummary(const GrpoRunSummary& summary, const std::string& run_dir);

}  // namespace lockstep::jobs
