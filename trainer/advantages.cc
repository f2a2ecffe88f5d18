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

absl::StatusOr<StdNormalization> ParseStdNormalization(const std::string& name) {
  if (name == "unbiased") return StdNormalization::kUnbiased;
  if (name == "population") return StdNormalization::kPopulation;
  return absl::InvalidArgumentError(
      absl::StrCat("algorithm.std_normalization: unknown convention '", name,
                   "' (expected unbiased (as torch.std, TRL, verl) or population)"));
}

std::string StdNormalizationName(StdNormalization normalization) {
  switch (normalization) {
    case StdNormalization::kUnbiased: return "unbiased";
    case StdNormalization::kPopulation: return "population";
  }
  return "unknown";
}

namespace {

// The group's standard deviation about `mean`; 0 for a group of one (see the header).
double GroupStd(std::span<const float> group, double mean, StdNormalization normalization) {
  const size_t g = group.size();
  if (g < 2) return 0.0;
  double squares = 0.0;
  for (float r : group) squares += (r - mean) * (r - mean);
  const size_t divisor = normalization == StdNormalization::kUnbiased ? g - 1 : g;
  return std::sqrt(squares / static_cast<double>(divisor));
}

}  // namespace

absl::StatusOr<std::vector<float>> ComputeAdvantages(std::span<const float> rewards,
                                                     int group_size,
                                                     const AdvantageOptions& options) {
  if (group_size < 1 || rewards.size() % static_cast<size_t>(group_size) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("advantages: ", rewards.size(),
                                                   " rewards do not form groups of ", group_size));
  }
  if (options.estimator == AdvantageEstimator::kRloo && group_size < 2) {
    return absl::InvalidArgumentError("advantages: RLOO needs a group size of at least 2");
  }
  std::vector<float> out(rewards.size());
  const size_t g = static_cast<size_t>(group_size);
  for (size_t begin = 0; begin < rewards.size(); begin += g) {
    const std::span<const float> group = rewards.subspan(begin, g);
    double sum = 0.0;
    for (float r : group) sum += r;
    const double mean = sum / static_cast<double>(g);
    const double stddev = options.estimator == AdvantageEstimator::kGrpo
                              ? GroupStd(group, mean, options.std_normalization)
                              : 0.0;
    for (size_t i = 0; i < g; ++i) {
      const double r = group[i];
      double a = 0.0;
      switch (options.estimator) {
        case AdvantageEstimator::kGrpo: a = (r - mean) / (stddev + options.eps); break;
        case AdvantageEstimator::kDrGrpo: a = r - mean; break;
        case AdvantageEstimator::kRloo: a = r - (sum - r) / static_cast<double>(g - 1); break;
      }
      out[begin + i] = static_cast<float>(a);
    }
  }
  return out;
}

absl::StatusOr<std::vector<float>> ComputeAdvantages(std::span<const float> rewards,
                                                     int group_size, AdvantageEstimator estimator,
                                                     double eps) {
  return ComputeAdvantages(rewards, group_size,
                           AdvantageOptions{.estimator = estimator,
                                            .std_normalization = StdNormalization::kUnbiased,
                                            .eps = eps});
}

}  // namespace lockstep::trainer
