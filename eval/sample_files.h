// Samples that need no model: the puzzle set's reference solutions, and JSONL
// files of completions made anywhere (read for `--samples`, written as
// RUN/samples.jsonl with each sample's status, reward and detail).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rewards/passk_eval.h"
#include "rewards/problem_set.h"

namespace lockstep::eval {

// One fenced block per (problem, language) that has a solution.<ext>,
// model "reference". An empty `languages` means every language with a solution.
std::vector<rewards::EvalSample> ReferenceSamples(const rewards::ProblemSet& problems,
                                                  const std::vector<std::string>& languages);

// One JSON object per line: "problem", "language", "completion" (strings,
// required), "model" (optional; `default_model` otherwise). Blank lines are
// skipped; any other malformed line is an error naming FILE:LINE.
absl::StatusOr<std::vector<rewards::EvalSample>> ReadSamplesJsonl(const std::string& path,
                                                                  const std::string& default_model);

// Writes samples (with their results, when given) as JSONL.
absl::Status WriteSamplesJsonl(const std::string& path,
                               const std::vector<rewards::EvalSample>& samples,
                               const std::vector<rewards::RewardResult>* results);

}  // namespace lockstep::eval
