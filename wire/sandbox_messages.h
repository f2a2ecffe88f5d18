// Sandbox pool messages (lockstep-sandbox server <-> sandbox/client.h).
//   sandbox.run     header {id, language, limits{...}, has_expected}
//                   frames [source, stdin, expected (if has_expected)]
//   sandbox.result  header {id, result{status, exit_code, ... no outputs}}
//                   frames [stdout, stderr]
//   sandbox.stats   request: header only; reply header {stats{...}}
// Limits and results travel as JSON objects whose keys sandbox/ defines, so
// wire/ stays below sandbox/ in the dependency order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "wire/message.h"

namespace lockstep::wire {

inline constexpr char kSandboxRunType[] = "sandbox.run";
inline constexpr char kSandboxResultType[] = "sandbox.result";
inline constexpr char kSandboxStatsType[] = "sandbox.stats";

struct SandboxRunMessage {
  uint64_t id = 0;  // chosen by the client, echoed in the result
  std::string language;
  nlohmann::json limits = nlohmann::json::object();
  std::string source;
  std::string stdin_data;
  std::optional<std::string> expected_stdout;
};

struct SandboxResultMessage {
  uint64_t id = 0;
  nlohmann::json result = nlohmann::json::object();  // without stdout/stderr
  std::string stdout_data;
  std::string stderr_data;
};

Message Encode(const SandboxRunMessage& run);
absl::StatusOr<SandboxRunMessage> DecodeSandboxRun(const Message& message);
Message Encode(const SandboxResultMessage& result);
absl::StatusOr<SandboxResultMessage> DecodeSandboxResult(const Message& message);

}  // namespace lockstep::wire
