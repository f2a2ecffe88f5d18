// Multipart ZeroMQ messages shared by every lockstep process: frame 0 is a
// small JSON header {"type", "version", ...fields}; later frames are raw bytes
// (sources, outputs, tensors) that are never JSON-escaped. Decoding checks the
// header parses, names a type, and carries the version this build speaks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace lockstep::wire {

inline constexpr int kWireVersion = 1;

struct Message {
  nlohmann::json header;            // always has "type" and "version" once encoded
  std::vector<std::string> frames;  // raw payload frames, in order
};

// Frames as sent: the header (with "version" set) followed by the payloads.
std::vector<std::string> EncodeMessage(const Message& message);
absl::StatusOr<Message> DecodeMessage(std::vector<std::string> frames);
// Parses and checks a header frame alone (type and version), for receivers
// that keep the payload frames where ZeroMQ put them (bulk_frames.h).
absl::StatusOr<nlohmann::json> DecodeHeader(std::string_view header_frame);

// Sends every frame of one multipart message on a ZeroMQ socket (void* from
// zmq_socket). With dont_wait, a full queue returns Unavailable and sends nothing.
absl::Status SendFrames(void* socket, const std::vector<std::string>& frames, bool dont_wait);
// Receives one whole multipart message. With dont_wait, Unavailable if none is ready.
absl::StatusOr<std::vector<std::string>> ReceiveFrames(void* socket, bool dont_wait);

}  // namespace lockstep::wire
