// A counter-based hash (splitmix64 of seed and index) that host and device code compute
// identically, so test data filled on the device can be re-derived on the host element by
// element (the linear self-check's exact reference). Plain integer arithmetic: no Abseil,
// safe for nvcc. Not a sampler: sampling uses numerics/philox.h.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define LOCKSTEP_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define LOCKSTEP_HOST_DEVICE inline
#endif

namespace lockstep::cuda::internal {

LOCKSTEP_HOST_DEVICE uint64_t SplitMix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

LOCKSTEP_HOST_DEVICE uint64_t CounterHash(uint64_t seed, int64_t index) {
  return SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(index)));
}

// Uniform in [-1, 1): a multiple of 2^-23, exact in fp32.
LOCKSTEP_HOST_DEVICE float UniformAt(uint64_t seed, int64_t index) {
  const auto top24 = static_cast<int32_t>(CounterHash(seed, index) >> 40);
  return static_cast<float>(top24 - (1 << 23)) * 0x1p-23f;
}

// An integer in [-range, range], exact in every storage dtype for range <= 256.
LOCKSTEP_HOST_DEVICE int SmallIntegerAt(uint64_t seed, int64_t index, int range) {
  return static_cast<int>(CounterHash(seed, index) % static_cast<uint64_t>(2 * range + 1)) - range;
}

}  // namespace lockstep::cuda::internal
