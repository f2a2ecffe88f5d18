// Run-directory bookkeeping shared by the training jobs: the newest complete
// checkpoint of a run, and cutting a run's JSONL logs back to a checkpoint so a
// resumed run's files read as if it had never stopped.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace lockstep::jobs {

// The largest N with RUN/checkpoints/step_N/ complete (a step_N.partial left by
// a crash does not count). NotFound, naming the directory, when there is none.
absl::StatusOr<int64_t> NewestCheckpointStep(const std::string& checkpoints_dir);

// Keeps the lines of a JSONL file whose "step" is <= `last_step` (and objects
// without one), dropping the rest and any line that is not a JSON object (one
// a crash cut short); written to a temporary file and renamed.
// A missing file is fine (nothing to cut).
absl::Status TruncateJsonlAfterStep(const std::string& path, int64_t last_step);

}  // namespace lockstep::jobs
