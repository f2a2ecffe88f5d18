// Multipart ZeroMQ messages whose bulk frames are never copied in user space:
// ReceivedFrames keeps every frame in ZeroMQ's own buffer, and
// SendFramesBorrowing sends frames straight from the caller's memory, which a
// shared owner keeps alive until ZeroMQ has sent (or dropped) each frame.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lockstep::wire {

class ReceivedFrames {
 public:
  // One whole multipart message. With dont_wait, Unavailable if none is ready.
  static absl::StatusOr<ReceivedFrames> Receive(void* socket, bool dont_wait);

  ReceivedFrames();
  ReceivedFrames(ReceivedFrames&&) noexcept;
  ReceivedFrames& operator=(ReceivedFrames&&) noexcept;
  ~ReceivedFrames();

  size_t size() const { return parts_.size(); }
  std::string_view operator[](size_t i) const;
  // Frames [first, size()) as views into this object.
  std::vector<std::string_view> Views(size_t first) const;

 private:
  struct Part;
  std::vector<std::unique_ptr<Part>> parts_;
};

struct BorrowedFrame {
  const void* data = nullptr;
  size_t size = 0;
};

// Sends `copied` frames (small ones: routing identity, header), then the
// `borrowed` frames without copying them; each borrowed frame holds a
// reference to `owner` until ZeroMQ's I/O thread releases it.
absl::Status SendFramesBorrowing(void* socket, const std::vector<std::string>& copied,
                                 std::span<const BorrowedFrame> borrowed,
                                 std::shared_ptr<const void> owner);

}  // namespace lockstep::wire
