#include "wire/sandbox_messages.h"

#include "absl/strings/str_cat.h"

namespace lockstep::wire {
namespace {

absl::Status ExpectType(const Message& message, const char* type, size_t min_frames) {
  const std::string got = message.header.value("type", "");
  if (got != type) {
    return absl::InvalidArgumentError(absl::StrCat("expected a ", type, " message, got '", got, "'"));
  }
  if (message.frames.size() < min_frames) {
    return absl::InvalidArgumentError(absl::StrCat(type, " message has ", message.frames.size(),
                                                   " payload frames, needs ", min_frames));
  }
  if (!message.header.contains("id") || !message.header["id"].is_number_unsigned()) {
    return absl::InvalidArgumentError(absl::StrCat(type, " message has no unsigned 'id'"));
  }
  return absl::OkStatus();
}

}  // namespace

Message Encode(const SandboxRunMessage& run) {
  Message message;
  message.header = {{"type", kSandboxRunType},
                    {"id", run.id},
                    {"language", run.language},
                    {"limits", run.limits},
                    {"has_expected", run.expected_stdout.has_value()}};
  message.frames = {run.source, run.stdin_data};
  if (run.expected_stdout) message.frames.push_back(*run.expected_stdout);
  return message;
}

absl::StatusOr<SandboxRunMessage> DecodeSandboxRun(const Message& message) {
  if (absl::Status status = ExpectType(message, kSandboxRunType, 2); !status.ok()) return status;
  SandboxRunMessage run;
  run.id = message.header["id"].get<uint64_t>();
  if (!message.header.contains("language") || !message.header["language"].is_string()) {
    return absl::InvalidArgumentError("sandbox.run message has no string 'language'");
  }
  run.language = message.header["language"].get<std::string>();
  if (message.header.contains("limits") && message.header["limits"].is_object()) {
    run.limits = message.header["limits"];
  }
  run.source = message.frames[0];
  run.stdin_data = message.frames[1];
  if (message.header.value("has_expected", false)) {
    if (message.frames.size() < 3) {
      return absl::InvalidArgumentError("sandbox.run says has_expected but has no third frame");
    }
    run.expected_stdout = message.frames[2];
  }
  return run;
}

Message Encode(const SandboxResultMessage& result) {
  Message message;
  message.header = {{"type", kSandboxResultType}, {"id", result.id}, {"result", result.result}};
  message.frames = {result.stdout_data, result.stderr_data};
  return message;
}

absl::StatusOr<SandboxResultMessage> DecodeSandboxResult(const Message& message) {
  if (absl::Status status = ExpectType(message, kSandboxResultType, 2); !status.ok()) {
    return status;
  }
  SandboxResultMessage result;
  result.id = message.header["id"].get<uint64_t>();
  if (!message.header.contains("result") || !message.header["result"].is_object()) {
    return absl::InvalidArgumentError("sandbox.result message has no object 'result'");
  }
  result.result = message.header["result"];
  result.stdout_data = message.frames[0];
  result.stderr_data = message.frames[1];
  return result;
}

}  // namespace lockstep::wire
