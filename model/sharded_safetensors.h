// A model's tensors as HF stores them in a directory: one model.safetensors,
// or shards model-0000i-of-0000N.safetensors listed by model.safetensors.index.json.
// Reading checks the index against the shards (every listed shard exists, every
// tensor is listed once and is in the shard the index names, no shard holds an
// unlisted tensor); errors name the file and the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "numerics/tensor.h"

namespace lockstep {

inline constexpr char kSingleWeightsFile[] = "model.safetensors";
inline constexpr char kWeightsIndexFile[] = "model.safetensors.index.json";

// Like transformers: model.safetensors if present, else the index and its shards.
// The map is keyed by tensor name; `source` (if given) gets the file each came from.
absl::StatusOr<std::map<std::string, Tensor>> ReadModelTensors(
    const std::string& dir, std::map<std::string, std::string>* source = nullptr);

// Writes one model.safetensors when the tensors total at most `max_shard_bytes`,
// else shards of at most that size (a tensor larger than it gets a shard of its
// own) plus the index. Files of the other layout left by an earlier save are
// removed, so the directory never holds two disagreeing copies.
absl::Status WriteModelTensors(const std::string& dir,
                               const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                               int64_t max_shard_bytes);

}  // namespace lockstep
