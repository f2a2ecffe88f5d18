// `lockstep eval passk`: gathers samples from one source (driver/eval_sources.h),
// scores them with program rewards in the sandbox, and writes RUN/config.toml,
// RUN/samples.jsonl (every sample with status, reward, detail), RUN/passk.json,
// RUN/passk.md and RUN/passk.html. The outputs are written only after every
// sample was scored, each to a temporary name renamed into place, so a failed
// run never leaves a report that looks complete.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "rewards/passk_eval.h"

namespace lockstep::driver {

struct PassKEvalSummary {
  int64_t samples = 0;
  double score_seconds = 0;  // wall time of the scoring phase
  rewards::PassKReport report;
};

// Reads the eval.*, sandbox.*, prompt.*, engine.* and endpoint.* keys
// (configs/eval-passk-*.toml document them), then CheckNoUnknownKeys.
// `samples_file` (the --samples flag) overrides eval.samples with "file".
// Progress lines go to `progress` (nullptr: quiet).
absl::StatusOr<PassKEvalSummary> RunPassKEval(config::Config& config, const std::string& run_dir,
                                              const std::string& samples_file, std::FILE* progress);

}  // namespace lockstep::driver
