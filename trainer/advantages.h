// Advantages from grouped rewards (G samples per prompt, consecutive):
// GRPO (group mean and std), Dr. GRPO (group mean only), RLOO (leave-one-out
// mean). Pure functions of the rewards, computed in double in a fixed order.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lockstep::trainer {

enum class AdvantageEstimator { kGrpo, kDrGrpo, kRloo };

// Names: grpo, dr_grpo, rloo.
absl::StatusOr<AdvantageEstimator> ParseAdvantageEstimator(const std::string& name);
std::string AdvantageEstimatorName(AdvantageEstimator estimator);

// Which standard deviation GRPO divides by. For a group r_1..r_G with mean m:
//   kUnbiased:   s = sqrt(Σ (r_i - m)² / (G - 1))   (Bessel's correction; torch.std's
//                default, and what TRL and verl use; the default here)
//   kPopulation: s = sqrt(Σ (r_i - m)² / G)         (numpy.std's default)
// They differ by the factor sqrt(G / (G - 1)): 1.155 at G = 4, 1.069 at G = 8, so
// unbiased advantages are that much smaller.
// A group of one (G = 1) has no spread to normalise by: its std is taken as 0 under
// both conventions (the unbiased one is 0/0 there), so its GRPO advantage is
// (r - r) / (0 + eps) = 0, as is its Dr. GRPO advantage. (verl instead uses mean 0
// and std 1 for a lone sample, i.e. the raw reward; TRL requires G >= 2.)
enum class StdNormalization { kUnbiased, kPopulation };

// Names: unbiased, population.
absl::StatusOr<StdNormalization> ParseStdNormalization(const std::string& name);
std::string StdNormalizationName(StdNormalization normalization);

struct AdvantageOptions {
  AdvantageEstimator estimator = AdvantageEstimator::kGrpo;
  StdNormalization std_normalization = StdNormalization::kUnbiased;  // GRPO only
  double eps = 1e-6;  // GRPO: (r - mean) / (std + eps), as verl (TRL uses 1e-4)
};

// rewards.size() must be a multiple of group_size (>= 1; RLOO needs >= 2).
// GRPO: (r - mean) / (std + eps), std as options.std_normalization says.
// Dr. GRPO: r - mean. RLOO: r - mean of the other G - 1 rewards.
absl::StatusOr<std::vector<float>> ComputeAdvantages(std::span<const float> rewards,
                                                     int group_size,
                                                     const AdvantageOptions& options);

// The same with the default (unbiased) std normalization.
absl::StatusOr<std::vector<float>> ComputeAdvantages(std::span<const float> rewards,
                                                     int group_size, AdvantageEstimator estimator,
                                                     double eps = 1e-6);

}  // namespace lockstep::trainer
