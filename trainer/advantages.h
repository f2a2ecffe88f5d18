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

absl::StatusOr<AdvantageEstimator> ParseAdvantageEstimator(const std::string& name);  // grpo, dr_grpo, rloo
std::string AdvantageEstimatorName(AdvantageEstimator estimator);

// rewards.size() must be a multiple of group_size (>= 1; RLOO needs >= 2).
// GRPO: (r - mean) / (std + eps), std the population std of the group (as TRL/verl).
absl::StatusOr<std::vector<float>> ComputeAdvantages(std::span<const float> rewards,
                                                     int group_size, AdvantageEstimator estimator,
                                                     double eps = 1e-6);

}  // namespace lockstep::trainer
