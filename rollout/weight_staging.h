// Stages one weight update as its rollout.weights_bucket messages arrive and
// hands over a complete ModelWeights on commit. Each tensor is hashed while it
// is copied in and checked against its name, dtype, shape and xxh64; a commit
// succeeds only when every tensor of the model arrived intact and the set hash
// matches the sender's, so a partly updated or corrupted set is never handed out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/weights.h"
#include "wire/rollout_messages.h"

namespace lockstep::rollout {

struct CommittedWeights {
  int64_t version = 0;
  uint64_t set_hash = 0;  // wire::WeightSetHash over the model's tensors in NamedTensors order
  std::unique_ptr<ModelWeights> weights;
};

class WeightStaging {
 public:
  // Copies one bucket's tensors in (frames as DecodeWeightsBucket checked
  // them). Bucket 0 carries the model config and starts the version; a bucket
  // sent again replaces what it staged before. Not ok names the tensor at fault.
  wire::WeightsBucketAck AddBucket(const wire::WeightsBucket& bucket,
                                   std::span<const std::string_view> frames);
  // The staged set, if it is `commit.weight_version`, complete, and hashes to
  // `commit.set_hash`; staging is empty after a successful commit.
  absl::StatusOr<CommittedWeights> Commit(const wire::WeightsCommit& commit);
  // Weights no longer served: the next version with the same shapes is
  // staged into them instead of into freshly allocated (and faulted-in) memory.
  void Recycle(std::unique_ptr<ModelWeights> weights) { spare_ = std::move(weights); }

 private:
  struct Staged {
    int64_t version = 0;
    uint32_t num_buckets = 0;
    nlohmann::json model_config;
    std::string dtype;
    std::unique_ptr<ModelWeights> weights;
    std::vector<std::pair<std::string, Tensor*>> tensors;  // NamedTensors order
    std::unordered_map<std::string, size_t> index;         // name -> position in `tensors`
    std::vector<std::optional<uint64_t>> hashes;           // verified hash per tensor
    std::vector<bool> bucket_ok;
  };
  absl::Status Start(const wire::WeightsBucket& bucket);
  absl::Status StageTensor(const wire::TensorEntry& entry, std::string_view bytes);

  std::optional<Staged> staged_;
  std::unique_ptr<ModelWeights> spare_;
};

}  // namespace lockstep::rollout
