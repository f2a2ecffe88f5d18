#include "wire/bulk_frames.h"

#include <zmq.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace lockstep::wire {

struct ReceivedFrames::Part {
  zmq_msg_t message;
  Part() { zmq_msg_init(&message); }
  ~Part() { zmq_msg_close(&message); }
  Part(const Part&) = delete;
  Part& operator=(const Part&) = delete;
};

ReceivedFrames::ReceivedFrames() = default;
ReceivedFrames::ReceivedFrames(ReceivedFrames&&) noexcept = default;
ReceivedFrames& ReceivedFrames::operator=(ReceivedFrames&&) noexcept = default;
ReceivedFrames::~ReceivedFrames() = default;

absl::StatusOr<ReceivedFrames> ReceivedFrames::Receive(void* socket, bool dont_wait) {
  ReceivedFrames frames;
  for (;;) {
    auto part = std::make_unique<Part>();
    const int flags = dont_wait && frames.parts_.empty() ? ZMQ_DONTWAIT : 0;
    if (zmq_msg_recv(&part->message, socket, flags) < 0) {
      const int err = errno;
      if (err == EINTR && !frames.parts_.empty()) continue;  // mid-message: finish it
      if (err == EAGAIN || err == EINTR) return absl::UnavailableError("no message ready");
      return absl::InternalError(absl::StrCat("zmq_msg_recv: ", zmq_strerror(err)));
    }
    const bool more = zmq_msg_more(&part->message);
    frames.parts_.push_back(std::move(part));
    if (!more) return frames;
  }
}

std::string_view ReceivedFrames::operator[](size_t i) const {
  zmq_msg_t* message = &parts_[i]->message;
  return std::string_view(static_cast<const char*>(zmq_msg_data(message)), zmq_msg_size(message));
}

std::vector<std::string_view> ReceivedFrames::Views(size_t first) const {
  std::vector<std::string_view> views;
  for (size_t i = first; i < parts_.size(); ++i) views.push_back((*this)[i]);
  return views;
}

namespace {

absl::Status SendPart(void* socket, zmq_msg_t* message, bool more) {
  for (;;) {
    if (zmq_msg_send(message, socket, more ? ZMQ_SNDMORE : 0) >= 0) return absl::OkStatus();
    if (errno == EINTR) continue;
    const int err = errno;
    zmq_msg_close(message);
    if (err == EHOSTUNREACH) return absl::NotFoundError("peer is gone");
    return absl::InternalError(absl::StrCat("zmq_msg_send: ", zmq_strerror(err)));
  }
}

// ZeroMQ calls this from its I/O thread when it no longer needs a borrowed frame.
void ReleaseOwner(void* /*data*/, void* hint) {
  delete static_cast<std::shared_ptr<const void>*>(hint);
}

}  // namespace

absl::Status SendFramesBorrowing(void* socket, const std::vector<std::string>& copied,
                                 std::span<const BorrowedFrame> borrowed,
                                 std::shared_ptr<const void> owner) {
  const size_t total = copied.size() + borrowed.size();
  if (total == 0) return absl::InvalidArgumentError("no frames to send");
  size_t index = 0;
  for (const std::string& frame : copied) {
    zmq_msg_t message;
    zmq_msg_init_size(&message, frame.size());
    if (!frame.empty()) std::memcpy(zmq_msg_data(&message), frame.data(), frame.size());
    if (absl::Status s = SendPart(socket, &message, ++index < total); !s.ok()) return s;
  }
  for (const BorrowedFrame& frame : borrowed) {
    zmq_msg_t message;
    if (frame.size == 0) {  // ZeroMQ never calls the release function for empty data
      zmq_msg_init(&message);
      if (absl::Status s = SendPart(socket, &message, ++index < total); !s.ok()) return s;
      continue;
    }
    auto* hint = new std::shared_ptr<const void>(owner);
    // zmq_msg_init_data needs a non-const pointer; ZeroMQ only reads it.
    if (zmq_msg_init_data(&message, const_cast<void*>(frame.data), frame.size, ReleaseOwner,
                          hint) != 0) {
      delete hint;
      return absl::InternalError(absl::StrCat("zmq_msg_init_data: ", zmq_strerror(errno)));
    }
    if (absl::Status s = SendPart(socket, &message, ++index < total); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace lockstep::wire
