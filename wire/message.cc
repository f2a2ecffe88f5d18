#include "wire/message.h"

#include <zmq.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace lockstep::wire {

std::vector<std::string> EncodeMessage(const Message& message) {
  nlohmann::json header = message.header;
  header["version"] = kWireVersion;
  std::vector<std::string> frames;
  frames.reserve(message.frames.size() + 1);
  frames.push_back(header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  frames.insert(frames.end(), message.frames.begin(), message.frames.end());
  return frames;
}

absl::StatusOr<Message> DecodeMessage(std::vector<std::string> frames) {
  if (frames.empty()) return absl::InvalidArgumentError("empty message: no header frame");
  absl::StatusOr<nlohmann::json> header = DecodeHeader(frames[0]);
  if (!header.ok()) return header.status();
  Message message;
  message.header = std::move(*header);
  message.frames.assign(std::make_move_iterator(frames.begin() + 1),
                        std::make_move_iterator(frames.end()));
  return message;
}

absl::StatusOr<nlohmann::json> DecodeHeader(std::string_view header_frame) {
  nlohmann::json header = nlohmann::json::parse(header_frame, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) {
    return absl::InvalidArgumentError("message header is not a JSON object");
  }
  if (!header.contains("type") || !header["type"].is_string()) {
    return absl::InvalidArgumentError("message header has no string field 'type'");
  }
  if (!header.contains("version") || !header["version"].is_number_integer()) {
    return absl::InvalidArgumentError("message header has no integer field 'version'");
  }
  const int version = header["version"].get<int>();
  if (version != kWireVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("wire version ", version, " from the peer, this build speaks ",
                     kWireVersion, "; run the same lockstep build on both ends"));
  }
  return header;
}

absl::Status SendFrames(void* socket, const std::vector<std::string>& frames, bool dont_wait) {
  if (frames.empty()) return absl::InvalidArgumentError("no frames to send");
  for (size_t i = 0; i < frames.size(); ++i) {
    int flags = i + 1 < frames.size() ? ZMQ_SNDMORE : 0;
    // Only the first frame may refuse: ZeroMQ queues the rest of a multipart
    // message once its first frame is accepted.
    if (dont_wait && i == 0) flags |= ZMQ_DONTWAIT;
    for (;;) {
      if (zmq_send(socket, frames[i].data(), frames[i].size(), flags) >= 0) break;
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return absl::UnavailableError("send queue full");
      if (errno == EHOSTUNREACH) return absl::NotFoundError("peer is gone");
      return absl::InternalError(absl::StrCat("zmq_send: ", zmq_strerror(errno)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ReceiveFrames(void* socket, bool dont_wait) {
  std::vector<std::string> frames;
  for (;;) {
    zmq_msg_t part;
    zmq_msg_init(&part);
    const int flags = dont_wait && frames.empty() ? ZMQ_DONTWAIT : 0;
    if (zmq_msg_recv(&part, socket, flags) < 0) {
      const int err = errno;
      zmq_msg_close(&part);
      if (err == EINTR) continue;
      if (err == EAGAIN) return absl::UnavailableError("no message ready");
      return absl::InternalError(absl::StrCat("zmq_msg_recv: ", zmq_strerror(err)));
    }
    frames.emplace_back(static_cast<const char*>(zmq_msg_data(&part)), zmq_msg_size(&part));
    const bool more = zmq_msg_more(&part);
    zmq_msg_close(&part);
    if (!more) return frames;
  }
}

}  // namespace lockstep::wire
