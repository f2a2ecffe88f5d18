#include "rollout/weight_snapshot.h"

#include <string>
#include <utility>

#include "wire/weight_hash.h"

namespace lockstep::rollout {

std::shared_ptr<WeightSnapshot> WeightSnapshot::Take(int64_t version, const ModelWeights& weights,
                                                     size_t bucket_bytes,
                                                     std::shared_ptr<WeightSnapshot> previous) {
  std::vector<std::unique_ptr<std::byte[]>> reusable;
  std::vector<size_t> reusable_bytes;
  if (previous && previous.use_count() == 1) {
    reusable = std::move(previous->storage);
    for (const WeightBucket& b : previous->buckets) {
      for (const wire::BorrowedFrame& f : b.frames) reusable_bytes.push_back(f.size);
    }
  }
  previous.reset();
  auto snapshot = std::make_shared<WeightSnapshot>();
  snapshot->version = version;
  const std::string dtype(DTypeName(weights.dtype));
  std::vector<std::pair<std::string, uint64_t>> hashes;
  WeightBucket bucket;
  auto close_bucket = [&] {
    bucket.header.bucket_index = static_cast<uint32_t>(snapshot->buckets.size());
    snapshot->buckets.push_back(std::move(bucket));
    bucket = WeightBucket{};
  };
  for (const auto& [name, tensor] : weights.NamedTensors()) {
    const size_t bytes = tensor->nbytes();
    if (!bucket.frames.empty() && bucket.bytes + bytes > bucket_bytes) close_bucket();
    const size_t i = snapshot->storage.size();
    auto block = i < reusable.size() && reusable_bytes[i] == bytes
                     ? std::move(reusable[i])
                     : std::make_unique_for_overwrite<std::byte[]>(bytes);
    const uint64_t hash = wire::CopyAndHash(
        std::string_view(static_cast<const char*>(tensor->data()), bytes), block.get());
    bucket.header.tensors.push_back(
        wire::TensorEntry{.name = name, .dtype = dtype, .shape = tensor->shape(), .xxh64 = hash});
    bucket.frames.push_back(wire::BorrowedFrame{.data = block.get(), .size = bytes});
    bucket.bytes += bytes;
    snapshot->total_bytes += bytes;
    snapshot->storage.push_back(std::move(block));
    hashes.emplace_back(name, hash);
  }
  if (!bucket.frames.empty()) close_bucket();
  const uint32_t num_buckets = static_cast<uint32_t>(snapshot->buckets.size());
  for (WeightBucket& b : snapshot->buckets) {
    b.header.weight_version = version;
    b.header.num_buckets = num_buckets;
    b.header.dtype = dtype;
  }
  snapshot->buckets.front().header.model_config = weights.config.ToHfJson();
  snapshot->set_hash = wire::WeightSetHash(hashes);
  return snapshot;
}

}  // namespace lockstep::rollout
