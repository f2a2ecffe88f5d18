// Program rewards: the code extracted from a completion (rewards/code_extraction.h)
// is run by the sandbox on a problem's hidden stdin/stdout tests. The reward
// is the fraction of tests passed or all-or-nothing (configurable); status ok
// means every test passed. Any infrastructure failure on any test makes the
// whole sample sandbox_error / toolchain_unavailable (not judged), never a 0.
#pragma once

#include <memory>
#include <string>

#include "rewards/code_extraction.h"
#include "rewards/problem_set.h"
#include "rewards/program_executor.h"
#include "rewards/reward.h"
#include "sandbox/runner.h"

namespace lockstep::rewards {

enum class ProgramScoring { kFractionPassed, kAllOrNothing };

struct ProgramRewardOptions {
  ProgramScoring scoring = ProgramScoring::kAllOrNothing;
  ExtractionOptions extraction;
  sandbox::RunLimits limits;  // per test
};

class ProgramReward : public Reward {
 public:
  // `problems` and `executor` must outlive the reward.
  ProgramReward(const ProblemSet* problems, ProgramExecutor* executor, ProgramRewardOptions options)
      : problems_(problems), executor_(executor), options_(options) {}
  // sample.problem names the problem, sample.language the language.
  RewardResult Score(const RewardSample& sample) const override;
  // Scores already-extracted source code.
  RewardResult ScoreSource(const Problem& problem, const std::string& language,
                           const std::string& source) const;

 private:
  const ProblemSet* problems_;
  ProgramExecutor* executor_;
  ProgramRewardOptions options_;
};

}  // namespace lockstep::rewards
