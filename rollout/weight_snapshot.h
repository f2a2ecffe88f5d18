// A weight set as the client publishes it: every tensor's bytes copied once
// (hashed during the copy) into memory the snapshot owns, grouped into buckets
// of about `bucket_bytes`, with the set hash both ends compute. The trainer may
// change or free its weights as soon as the snapshot is taken; ZeroMQ sends
// straight from the snapshot, which lives until the last frame has left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/weights.h"
#include "wire/bulk_frames.h"
#include "wire/rollout_messages.h"

namespace lockstep::rollout {

struct WeightBucket {
  wire::WeightsBucket header;
  std::vector<wire::BorrowedFrame> frames;  // one per tensor, into the snapshot's storage
  size_t bytes = 0;
};

struct WeightSnapshot {
  int64_t version = 0;
  uint64_t set_hash = 0;
  size_t total_bytes = 0;
  std::vector<WeightBucket> buckets;
  std::vector<std::unique_ptr<std::byte[]>> storage;  // one block per tensor

  // Tensors go into buckets in NamedTensors order; a bucket closes when the
  // next tensor would take it past `bucket_bytes` (a larger tensor gets its own).
  // When nothing else holds `previous` any more (ZeroMQ released its frames),
  // its memory is reused: fresh pages cost more than the copy itself.
  static std::shared_ptr<WeightSnapshot> Take(int64_t version, const ModelWeights& weights,
                                              size_t bucket_bytes,
                                              std::shared_ptr<WeightSnapshot> previous = nullptr);
};

}  // namespace lockstep::rollout
