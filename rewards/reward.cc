#include "rewards/reward.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"

namespace lockstep::rewards {
namespace {

constexpr std::array<std::pair<RewardStatus, std::string_view>, 12> kNames = {{
    {RewardStatus::kOk, "ok"},
    {RewardStatus::kWrongAnswer, "wrong_answer"},
    {RewardStatus::kNoAnswer, "no_answer"},
    {RewardStatus::kFormatError, "format_error"},
    {RewardStatus::kCompileError, "compile_error"},
    {RewardStatus::kRuntimeError, "runtime_error"},
    {RewardStatus::kSignal, "signal"},
    {RewardStatus::kTimeLimit, "time_limit"},
    {RewardStatus::kMemoryLimit, "memory_limit"},
    {RewardStatus::kOutputLimit, "output_limit"},
    {RewardStatus::kToolchainUnavailable, "toolchain_unavailable"},
    {RewardStatus::kSandboxError, "sandbox_error"},
}};

}  // namespace

std::string_view RewardStatusName(RewardStatus status) {
  for (const auto& [s, name] : kNames) {
    if (s == status) return name;
  }
  return "unknown";
}

absl::StatusOr<RewardStatus> ParseRewardStatus(std::string_view name) {
  for (const auto& [s, n] : kNames) {
    if (n == name) return s;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown reward status '", std::string(name), "'"));
}

bool IsInfrastructureFailure(RewardStatus status) {
  return status == RewardStatus::kToolchainUnavailable || status == RewardStatus::kSandboxError;
}

RewardStatus FromRunStatus(sandbox::RunStatus status) {
  using sandbox::RunStatus;
  switch (status) {
    case RunStatus::kOk: return RewardStatus::kOk;
    case RunStatus::kWrongAnswer: return RewardStatus::kWrongAnswer;
    case RunStatus::kCompileError: return RewardStatus::kCompileError;
    case RunStatus::kRuntimeError: return RewardStatus::kRuntimeError;
    case RunStatus::kSignal: return RewardStatus::kSignal;
    case RunStatus::kTimeLimit: return RewardStatus::kTimeLimit;
    case RunStatus::kMemoryLimit: return RewardStatus::kMemoryLimit;
    case RunStatus::kOutputLimit: return RewardStatus::kOutputLimit;
    case RunStatus::kToolchainUnavailable: return RewardStatus::kToolchainUnavailable;
    case RunStatus::kSandboxError: return RewardStatus::kSandboxError;
  }
  return RewardStatus::kSandboxError;
}

}  // namespace lockstep::rewards
