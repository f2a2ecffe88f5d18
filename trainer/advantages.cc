#include "trainer/advantages.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace lockstep::trainer {

absl::StatusOr<AdvantageEstimator> ParseAdvantageEstimator(const std::string& name) {
  if (name == "grpo") return AdvantageEstimator::kGrpo;
  if (name == "dr_grpo") return AdvantageEstimator::kDrGrpo;
  if (name == "rloo") return AdvantageEstimator::kRloo;
  return absl::InvalidArgumentError(
      absl::StrCat("algorithm.advantage: unknown estimator '", name,
                   "' (expected grpo, dr_grpo or rloo)"));
}

std::string AdvantageEstimatorName(AdvantageEstimator estimator) {
  switch (estimator) {
    case AdvantageEstimator::kGrpo: return "grpo";
    case AdvantageEstimator::kDrGrpo: return "dr_grpo";
    case AdvantageEstimator::kRloo: return "rloo";
  }
  return "unknown";
}

absl::StatusOr<std::vector<float>> ComputeAdvantages(std::span<const float> rewards,
                                                     int group_size, AdvantageEstimator estimator,
                                                     double eps) {
  if (group_size < 1 || rewards.size() % static_cast<size_t>(group_size) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("advantages: ", rewards.size(),
                                                   " rewards do not form groups of ", group_size));
  }
  if (estimator == AdvantageEstimator::kRloo && group_size < 2) {
    return absl::InvalidArgumentError("advantages: RLOO needs a group size of at least 2");
  }
  std::vector<float> out(rewards.size());
  const size_t g = static_cast<size_t>(group_size);
  for (size_t begin = 0; begin < rewards.size(); begin += g) {
    double sum = 0.0;
    for (size_t i = 0; i < g; ++i) sum += rewards[begin + i];
    const double mean = sum / static_cast<double>(g);
    double var = 0.0;
    for (size_t i = 0; i < g; ++i) var += (rewards[begin + i] - mean) * (rewards[begin + i] - mean);
    const double stddev = std::sqrt(var / static_cast<double>(g));
    for (size_t i = 0; i < g; ++i) {
      const double r = rewards[begin + i];
      double a = 0.0;
      switch (estimator) {
        case AdvantageEstimator::kGrpo: a = (r - mean) / (stddev + eps); break;
        case AdvantageEstimator::kDrGrpo: a = r - mean; break;
        case AdvantageEstimator::kRloo: a = r - (sum - r) / static_cast<double>(g - 1); break;
      }
      out[begin + i] = static_cast<float>(a);
    }
  }
  return out;
}

}  // namespace lockstep::trainer
