// Format checks on a completion, as a reward: 1 when every enabled check
// passes, else 0 with status format_error and the failed check named. Used
// alone (a format bonus) or as a gate in front of an answer reward.
#pragma once

#include <cstdint>
#include <string>

#include "rewards/reward.h"

namespace lockstep::rewards {

struct FormatRewardOptions {
  bool require_boxed = false;      // a \boxed{...} with balanced braces
  bool require_code_block = false; // a fenced block in sample.language (or bare)
  int64_t max_chars = 0;           // 0: no length limit
  bool forbid_text_after_answer = false;  // nothing but whitespace after the last \boxed{} / block
};

class FormatReward : public Reward {
 public:
  explicit FormatReward(FormatRewardOptions options) : options_(options) {}
  RewardResult Score(const RewardSample& sample) const override;

 private:
  FormatRewardOptions options_;
};

}  // namespace lockstep::rewards
