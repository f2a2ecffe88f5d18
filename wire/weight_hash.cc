#include "wire/weight_hash.h"

#define XXH_STATIC_LINKING_ONLY  // XXH64_state_t on the stack
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace lockstep::wire {
namespace {

// Small enough that a chunk is still in L2 when memcpy reads it after hashing.
constexpr size_t kChunkBytes = size_t{128} << 10;

}  // namespace

uint64_t TensorHash(std::string_view bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

uint64_t CopyAndHash(std::string_view src, void* dst) {
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  char* out = static_cast<char*>(dst);
  for (size_t offset = 0; offset < src.size(); offset += kChunkBytes) {
    const size_t n = std::min(kChunkBytes, src.size() - offset);
    XXH64_update(&state, src.data() + offset, n);
    std::memcpy(out + offset, src.data() + offset, n);
  }
  return XXH64_digest(&state);
}

std::string HashToHex(uint64_t hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) hex[i] = kDigits[hash & 0xf];
  return hex;
}

absl::StatusOr<uint64_t> HashFromHex(std::string_view hex) {
  if (hex.size() != 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("hash '", std::string(hex), "' must be 16 hex digits"));
  }
  uint64_t value = 0;
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("hash '", std::string(hex), "' must be lower-case hex digits"));
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return value;
}

uint64_t WeightSetHash(std::span<const std::pair<std::string, uint64_t>> tensors) {
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  for (const auto& [name, hash] : tensors) {
    const std::string hex = HashToHex(hash);
    XXH64_update(&state, name.data(), name.size());
    XXH64_update(&state, "", 1);  // the '\0' separator
    XXH64_update(&state, hex.data(), hex.size());
  }
  return XXH64_digest(&state);
}

}  // namespace lockstep::wire
