#include "sandbox/status.h"

#include <csignal>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace lockstep::sandbox {
namespace {

constexpr std::pair<RunStatus, std::string_view> kStatusNames[] = {
    {RunStatus::kOk, "ok"},
    {RunStatus::kWrongAnswer, "wrong_answer"},
    {RunStatus::kCompileError, "compile_error"},
    {RunStatus::kRuntimeError, "runtime_error"},
    {RunStatus::kSignal, "signal"},
    {RunStatus::kTimeLimit, "time_limit"},
    {RunStatus::kMemoryLimit, "memory_limit"},
    {RunStatus::kOutputLimit, "output_limit"},
    {RunStatus::kToolchainUnavailable, "toolchain_unavailable"},
    {RunStatus::kSandboxError, "sandbox_error"},
};

}  // namespace

std::string_view RunStatusName(RunStatus status) {
  for (const auto& [value, name] : kStatusNames) {
    if (value == status) return name;
  }
  return "sandbox_error";
}

absl::StatusOr<RunStatus> ParseRunStatus(std::string_view name) {
  for (const auto& [value, known] : kStatusNames) {
    if (known == name) return value;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown run status '", std::string(name), "'"));
}

std::string_view TimeLimitKindName(TimeLimitKind kind) {
  return kind == TimeLimitKind::kCpu ? "cpu" : "wall";
}

absl::StatusOr<TimeLimitKind> ParseTimeLimitKind(std::string_view name) {
  if (name == "cpu") return TimeLimitKind::kCpu;
  if (name == "wall") return TimeLimitKind::kWall;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown time limit kind '", std::string(name), "' (expected cpu or wall)"));
}

std::string SignalName(int signal_number) {
  switch (signal_number) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGSYS: return "SIGSYS";
    default: return absl::StrCat("SIG", signal_number);
  }
}

}  // namespace lockstep::sandbox
