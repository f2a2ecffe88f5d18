// Picks a few completions per step from a run's rollouts.jsonl (one JSON object
// per sample) for the report's table, reading the file as a stream: memory stays
// bounded by the samples kept, however large the file, and only the samples kept
// are parsed in full (the others get a structural check, see jsonl_scan.h). Texts
// are kept truncated; malformed lines are errors naming file:line.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lockstep::report {

struct SampleSelection {
  int per_step = 4;              // samples shown per chosen step (the first ones in the file)
  int first_steps = 2;           // the first steps of the run ...
  int middle_steps = 2;          // ... some evenly spaced in between ...
  int last_steps = 2;            // ... and the last ones.
  size_t max_text_chars = 2000;  // prompt and completion are cut after this many bytes
};

struct RolloutSample {
  int64_t step = 0;
  int64_t line = 0;                               // in rollouts.jsonl
  std::string prompt, completion;                 // possibly truncated (see *_chars)
  size_t prompt_chars = 0, completion_chars = 0;  // full lengths in bytes
  double reward = 0.0;                            // NaN when absent or null
  std::string reward_status, reward_detail, finish_reason, request_id;
  std::optional<int64_t> weight_version, staleness, sample_index;
};

// The steps to show out of `steps` (ascending, distinct): first, middle and last as
// `selection` says; all of them when there are no more than that.
std::vector<int64_t> ChooseSteps(const std::vector<int64_t>& steps,
                                 const SampleSelection& selection);

class RolloutSampler {
 public:
  // `known_steps`: the run's steps (from metrics.jsonl) to choose from; when empty
  // the steps are those seen in rollouts.jsonl. `source` names the file in errors.
  RolloutSampler(SampleSelection selection, const std::vector<int64_t>& known_steps,
                 std::string source);

  absl::Status AddLine(std::string_view line, int64_t line_number);

  // The kept samples of the chosen steps, by step, then file order.
  std::vector<RolloutSample> Selected() const;
  int64_t samples_read() const { return samples_read_; }
  size_t steps_seen() const { return steps_seen_.size(); }

 private:
  bool Wanted(int64_t step) const;

  SampleSelection selection_;
  std::string source_;
  std::optional<std::set<int64_t>> wanted_;  // unset: keep per_step of every step
  std::map<int64_t, std::vector<RolloutSample>> kept_;
  std::set<int64_t> steps_seen_;
  int64_t samples_read_ = 0;
};

// Streams `path` through a sampler. A missing file gives no samples.
absl::StatusOr<RolloutSampler> SampleRolloutsFile(const std::string& path,
                                                  const SampleSelection& selection,
                                                  const std::vector<int64_t>& known_steps);

}  // namespace lockstep::report
