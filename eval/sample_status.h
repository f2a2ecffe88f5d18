// The status names `eval passk` reports for a sample. They are the reward
// statuses (rewards/reward.h) except that a completion with no code block is
// "no_code": it was never executed (eval.raw_fallback = false by default), so
// calling it a wrong program or "no_answer" would misdescribe it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "rewards/passk_eval.h"
#include "rewards/reward.h"

namespace lockstep::eval {

inline constexpr char kNoCodeStatus[] = "no_code";

std::string SampleStatusName(rewards::RewardStatus status);

// Renames the reward-level "no_answer" to "no_code" in every status count of
// `report` (cells and their problems).
void UseEvalStatusNames(rewards::PassKReport* report);

// The same for a status -> count map (progress lines).
std::map<std::string, int64_t> WithEvalStatusNames(std::map<std::string, int64_t> statuses);

}  // namespace lockstep::eval
