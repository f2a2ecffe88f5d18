// Checks of SamplingParams shared by every backend and every entry point.
#include "numerics/sampling_params.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace lockstep {

absl::Status ValidateSamplingParams(const SamplingParams& params) {
  if (!(params.temperature >= 0.0f) || std::isinf(params.temperature)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampling: temperature must be a finite number >= 0 (0 = greedy), got ",
                     params.temperature));
  }
  if (params.top_k < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampling: top_k must be >= 0 (0 = off), got ", params.top_k));
  }
  if (!(params.top_p > 0.0f && params.top_p <= 1.0f)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampling: top_p must be in (0, 1] (1 = off), got ", params.top_p));
  }
  return absl::OkStatus();
}

}  // namespace lockstep
