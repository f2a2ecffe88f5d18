// The verifiable-reward interface used by GRPO jobs and evaluators: a Reward
// scores one sample and says how the score came about. An infrastructure
// failure (sandbox_error, toolchain_unavailable) is never folded into a 0: it
// has its own status, and IsInfrastructureFailure() tells callers to count it
// apart (evaluators drop such samples from pass@k denominators).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sandbox/status.h"

namespace lockstep::rewards {

enum class RewardStatus {
  kOk,                    // scored; every check passed (value is the full reward)
  kWrongAnswer,           // an answer was found and is wrong (or some tests failed)
  kNoAnswer,              // nothing to score: no \boxed{}/number, no code block
  kFormatError,           // a format check failed
  kCompileError,          // the program did not compile
  kRuntimeError,          // the program exited non-zero
  kSignal,                // the program was killed by a signal
  kTimeLimit,             // CPU or wall-clock limit (the program's fault)
  kMemoryLimit,
  kOutputLimit,
  kToolchainUnavailable,  // infrastructure: the language is not installed here
  kSandboxError,          // infrastructure: the sandbox failed, not the program
};

// Stable snake_case names ("ok", "wrong_answer", "no_answer", ...).
std::string_view RewardStatusName(RewardStatus status);
absl::StatusOr<RewardStatus> ParseRewardStatus(std::string_view name);
// True for toolchain_unavailable and sandbox_error: the sample was not judged.
bool IsInfrastructureFailure(RewardStatus status);
// The reward status of a sandbox run status (ok → ok, wrong_answer → wrong_answer, ...).
RewardStatus FromRunStatus(sandbox::RunStatus status);

struct RewardSample {
  std::string problem;     // problem id (program rewards: which tests)
  std::string language;    // program rewards: the language to run the code in
  std::string completion;  // the model's text
};

struct RewardResult {
  double value = 0.0;  // in [0, 1]; meaningless when IsInfrastructureFailure(status)
  RewardStatus status = RewardStatus::kSandboxError;
  std::string detail;  // why, in words ("2/5 tests passed; test 3: wrong_answer")
  bool passed() const { return status == RewardStatus::kOk; }
};

class Reward {
 public:
  virtual ~Reward() = default;
  // Thread-safe in every implementation in rewards/.
  virtual RewardResult Score(const RewardSample& sample) const = 0;
};

}  // namespace lockstep::rewards
