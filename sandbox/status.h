// Outcome of one sandboxed run. Every distinct way a run can end has its own
// status; statuses are never folded together (a wall-clock timeout is not a
// wrong answer, a missing compiler is not a compile error).
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"

namespace lockstep::sandbox {

enum class RunStatus {
  kOk,                    // exited 0 and stdout matched (or nothing to match)
  kWrongAnswer,           // exited 0, stdout differs from the expected output
  kCompileError,          // the compile step failed (its output is in the result)
  kRuntimeError,          // exited with a non-zero code
  kSignal,                // killed by a signal the program did not cause by a limit
  kTimeLimit,             // CPU or wall-clock limit hit (TimeLimitKind says which)
  kMemoryLimit,           // address-space limit hit (see runner.h for how it is detected)
  kOutputLimit,           // stdout or stderr exceeded the output cap; the run was killed
  kToolchainUnavailable,  // the language's compiler or interpreter is not installed
  kSandboxError,          // the sandbox itself failed; says nothing about the program
};

enum class TimeLimitKind { kCpu, kWall };

// Stable snake_case names used in JSON and on the wire ("ok", "wrong_answer", ...).
std::string_view RunStatusName(RunStatus status);
absl::StatusOr<RunStatus> ParseRunStatus(std::string_view name);

std::string_view TimeLimitKindName(TimeLimitKind kind);  // "cpu" | "wall"
absl::StatusOr<TimeLimitKind> ParseTimeLimitKind(std::string_view name);

// "SIGSEGV" for 11, "SIG42" for numbers without a name.
std::string SignalName(int signal_number);

}  // namespace lockstep::sandbox
