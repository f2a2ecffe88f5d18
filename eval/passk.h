// `lockstep eval passk`: gathers samples from one source (reference, JSONL
// file, engine, endpoint), scores them with program rewards in the sandbox,
// and writes RUN/samples.jsonl (every sample with status, reward, detail),
// RUN/passk.json, RUN/passk.md and RUN/passk.html. The outputs are written
// only after every sample was scored, each to a temporary name renamed into
// place, so a failed run never leaves a report that looks complete.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "eval/passk_options.h"
#include "rewards/passk_eval.h"

namespace lockstep::eval {

struct PassKEvalSummary {
  int64_t samples = 0;
  double score_seconds = 0;  // wall time of the scoring phase
  rewards::PassKReport report;
};

// `run_dir` exists (config::PrepareJob). Progress lines go to `progress`
// (nullptr: quiet).
absl::StatusOr<PassKEvalSummary> RunPassKEval(const PassKOptions& options,
                                              const std::string& run_dir, std::FILE* progress);

}  // namespace lockstep::eval
