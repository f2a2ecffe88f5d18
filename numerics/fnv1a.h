// 64-bit FNV-1a over bytes: a stable, dependency-free fingerprint (not a defence against
// anyone choosing the input). It names exact texts (chat templates), keys per-tensor random
// streams, and digests sampled bits; callers chain calls by passing the previous hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lockstep {

inline constexpr uint64_t kFnv1a64Offset = 0xCBF29CE484222325ull;

inline uint64_t Fnv1a64(const void* data, size_t size, uint64_t hash = kFnv1a64Offset) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001B3ull;
  }
  return hash;
}

inline uint64_t Fnv1a64(std::string_view text, uint64_t hash = kFnv1a64Offset) {
  return Fnv1a64(text.data(), text.size(), hash);
}

}  // namespace lockstep
