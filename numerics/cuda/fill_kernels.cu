// Reproducible pseudo-random fill on the device (splitmix64 of seed and index), so the
// linear self-check gets test data of any size without a host round trip. Not a sampler:
// sampling uses numerics/philox.h.
#include <cuda_runtime.h>

#include <cstdint>

#include "numerics/cuda/element_access.cuh"
#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda::internal {
namespace {

constexpr int kFillThreads = 256;
constexpr int64_t kMaxFillBlocks = 65536;  // grid-stride beyond this

__device__ __forceinline__ uint64_t SplitMix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

template <typename T>
__global__ void __launch_bounds__(kFillThreads) FillUniformKernel(T* out, int64_t n, uint64_t seed) {
  const int64_t stride = int64_t{gridDim.x} * kFillThreads;
  for (int64_t i = int64_t{blockIdx.x} * kFillThreads + threadIdx.x; i < n; i += stride) {
    const uint64_t bits = SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(i)));
    // 24 random bits -> a multiple of 2^-23 in [-1, 1): exact in fp32.
    const float u = static_cast<float>(static_cast<int32_t>(bits >> 40) - (1 << 23)) * 0x1p-23f;
    out[i] = FromFloat<T>(u);
  }
}

}  // namespace

cudaError_t LaunchFillUniform(StorageType type, void* out, int64_t n, uint64_t seed,
                              cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const int64_t blocks = (n + kFillThreads - 1) / kFillThreads;
  const auto grid = static_cast<unsigned int>(blocks < kMaxFillBlocks ? blocks : kMaxFillBlocks);
  return DispatchStorageType(type, [&](auto tag) {
    using T = decltype(tag);
    FillUniformKernel<T><<<grid, kFillThreads, 0, stream>>>(static_cast<T*>(out), n, seed);
    return cudaGetLastError();
  });
}

}  // namespace lockstep::cuda::internal
