// The hashes a weight update is checked with, defined once for both ends:
// a tensor's hash is XXH64 (seed 0) of its raw bytes; the set hash is XXH64
// over, for each tensor in order, its name, a '\0' and its hash as 16
// lower-case hex digits. CopyAndHash gives the same hash as TensorHash.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lockstep::wire {

uint64_t TensorHash(std::string_view bytes);
// Copies `src` to `dst` (src.size() bytes) and returns TensorHash(src), in one
// pass over the bytes (chunks small enough to stay in cache between the two).
uint64_t CopyAndHash(std::string_view src, void* dst);

std::string HashToHex(uint64_t hash);  // 16 lower-case hex digits
absl::StatusOr<uint64_t> HashFromHex(std::string_view hex);

// (name, tensor hash) for every tensor of the set, in the set's order.
uint64_t WeightSetHash(std::span<const std::pair<std::string, uint64_t>> tensors);

}  // namespace lockstep::wire
