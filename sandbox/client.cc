#include "sandbox/client.h"

#include <zmq.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "wire/message.h"

namespace lockstep::sandbox {

using Clock = std::chrono::steady_clock;

wire::SandboxRunMessage RequestToWire(const RunRequest& request, uint64_t id) {
  wire::SandboxRunMessage message;
  message.id = id;
  message.language = request.language;
  message.limits = LimitsToJson(request.limits);
  message.source = request.source;
  message.stdin_data = request.stdin_data;
  message.expected_stdout = request.expected_stdout;
  return message;
}

absl::StatusOr<RunRequest> RequestFromWire(const wire::SandboxRunMessage& message) {
  RunRequest request;
  request.language = message.language;
  auto limits = LimitsFromJson(message.limits);
  if (!limits.ok()) return limits.status();
  request.limits = *limits;
  request.source = message.source;
  request.stdin_data = message.stdin_data;
  request.expected_stdout = message.expected_stdout;
  return request;
}

wire::SandboxResultMessage ResultToWire(const RunResult& result, uint64_t id) {
  wire::SandboxResultMessage message;
  message.id = id;
  message.result = ResultToJson(result, /*include_output=*/false);
  message.stdout_data = result.run.stdout_data;
  message.stderr_data = result.run.stderr_data;
  return message;
}

absl::StatusOr<RunResult> ResultFromWire(const wire::SandboxResultMessage& message) {
  auto result = ResultFromJson(message.result);
  if (!result.ok()) return result.status();
  result->run.stdout_data = message.stdout_data;
  result->run.stderr_data = message.stderr_data;
  return result;
}

absl::StatusOr<std::unique_ptr<SandboxClient>> SandboxClient::Connect(const std::string& endpoint) {
  void* context = zmq_ctx_new();
  if (context == nullptr) return absl::InternalError("zmq_ctx_new failed");
  void* socket = zmq_socket(context, ZMQ_DEALER);
  const int linger = 0;
  zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof(linger));
  if (zmq_connect(socket, endpoint.c_str()) != 0) {
    const std::string error = zmq_strerror(errno);
    zmq_close(socket);
    zmq_ctx_term(context);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot connect to sandbox server '", endpoint, "': ", error,
                     " (expected ipc:///path or tcp://host:port)"));
  }
  return std::unique_ptr<SandboxClient>(new SandboxClient(endpoint, context, socket));
}

SandboxClient::SandboxClient(std::string endpoint, void* context, void* socket)
    : endpoint_(std::move(endpoint)), context_(context), socket_(socket) {}

SandboxClient::~SandboxClient() {
  zmq_close(socket_);
  zmq_ctx_term(context_);
}

absl::StatusOr<std::vector<RunResult>> SandboxClient::RunBatch(
    std::span<const RunRequest> requests, std::chrono::milliseconds timeout) {
  const uint64_t base = next_id_;
  next_id_ += requests.size();
  const auto deadline = Clock::now() + timeout;
  std::vector<std::optional<RunResult>> results(requests.size());
  size_t sent = 0, received = 0;
  while (received < requests.size()) {
    const auto now = Clock::now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "sandbox server ", endpoint_, " returned ", received, " of ", requests.size(),
          " results within ", timeout.count(), " ms (", sent,
          " sent); is `lockstep sandbox serve` running there?"));
    }
    zmq_pollitem_t item{socket_, 0, static_cast<short>(ZMQ_POLLIN | (sent < requests.size() ? ZMQ_POLLOUT : 0)), 0};
    const long wait_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    if (zmq_poll(&item, 1, wait_ms) < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("zmq_poll: ", zmq_strerror(errno)));
    }
    while ((item.revents & ZMQ_POLLOUT) && sent < requests.size()) {
      const auto frames = wire::EncodeMessage(wire::Encode(RequestToWire(requests[sent], base + sent)));
      absl::Status status = wire::SendFrames(socket_, frames, /*dont_wait=*/true);
      if (absl::IsUnavailable(status)) break;  // back-pressure: the server's queue is full
      if (!status.ok()) return status;
      ++sent;
    }
    for (;;) {
      auto frames = wire::ReceiveFrames(socket_, /*dont_wait=*/true);
      if (absl::IsUnavailable(frames.status())) break;
      if (!frames.ok()) return frames.status();
      auto message = wire::DecodeMessage(std::move(*frames));
      if (!message.ok()) return message.status();
      auto decoded = wire::DecodeSandboxResult(*message);
      if (!decoded.ok()) continue;  // a stats reply or another batch's leftovers
      if (decoded->id < base || decoded->id >= base + requests.size()) continue;
      auto& slot = results[decoded->id - base];
      if (slot) continue;
      auto result = ResultFromWire(*decoded);
      if (!result.ok()) return result.status();
      slot = std::move(*result);
      ++received;
    }
  }
  std::vector<RunResult> out;
  out.reserve(results.size());
  for (auto& result : results) out.push_back(std::move(*result));
  return out;
}

absl::StatusOr<nlohmann::json> SandboxClient::Stats(std::chrono::milliseconds timeout) {
  const uint64_t id = next_id_++;
  wire::Message request;
  request.header = {{"type", wire::kSandboxStatsType}, {"id", id}};
  const auto deadline = Clock::now() + timeout;
  if (absl::Status status = wire::SendFrames(socket_, wire::EncodeMessage(request), false);
      !status.ok()) {
    return status;
  }
  while (Clock::now() < deadline) {
    zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
    const long wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - Clock::now()).count() + 1;
    zmq_poll(&item, 1, wait_ms);
    if (!(item.revents & ZMQ_POLLIN)) continue;
    auto frames = wire::ReceiveFrames(socket_, true);
    if (!frames.ok()) continue;
    auto message = wire::DecodeMessage(std::move(*frames));
    if (!message.ok()) return message.status();
    if (message->header.value("type", "") == wire::kSandboxStatsType &&
        message->header.value("id", uint64_t{0}) == id) {
      return message->header.value("stats", nlohmann::json::object());
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no stats reply from sandbox server ", endpoint_, " within ", timeout.count(),
                   " ms"));
}

}  // namespace lockstep::sandbox
