// Reproducible pseudo-random fills on the device (counter_hash.h), so the linear
// self-check gets test data of any size without a host round trip, and the host can
// re-derive any element.
#include <cuda_runtime.h>

#include <cstdint>

#include "numerics/cuda/counter_hash.h"
#include "numerics/cuda/element_access.cuh"
#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda::internal {
namespace {

constexpr int kFillThreads = 256;
constexpr int64_t kMaxFillBlocks = 65536;  // grid-stride beyond this

template <typename T>
__global__ void __launch_bounds__(kFillThreads)
    FillUniformKernel(T* out, int64_t n, uint64_t seed) {
  const int64_t stride = int64_t{gridDim.x} * kFillThreads;
  for (int64_t i = int64_t{blockIdx.x} * kFillThreads + threadIdx.x; i < n; i += stride) {
    out[i] = FromFloat<T>(UniformAt(seed, i));
  }
}

template <typename T>
__global__ void __launch_bounds__(kFillThreads)
    FillSmallIntegersKernel(T* out, int64_t n, uint64_t seed, int range) {
  const int64_t stride = int64_t{gridDim.x} * kFillThreads;
  for (int64_t i = int64_t{blockIdx.x} * kFillThreads + threadIdx.x; i < n; i += stride) {
    out[i] = FromFloat<T>(static_cast<float>(SmallIntegerAt(seed, i, range)));
  }
}

unsigned int FillBlocks(int64_t n) {
  const int64_t blocks = (n + kFillThreads - 1) / kFillThreads;
  return static_cast<unsigned int>(blocks < kMaxFillBlocks ? blocks : kMaxFillBlocks);
}

}  // namespace

cudaError_t LaunchFillUniform(StorageType type, void* out, int64_t n, uint64_t seed,
                              cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return DispatchStorageType(type, [&](auto tag) {
    using T = decltype(tag);
    FillUniformKernel<T><<<FillBlocks(n), kFillThreads, 0, stream>>>(static_cast<T*>(out), n, seed);
    return cudaGetLastError();
  });
}

cudaError_t LaunchFillSmallIntegers(StorageType type, void* out, int64_t n, uint64_t seed,
                                    int range, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  return DispatchStorageType(type, [&](auto tag) {
    using T = decltype(tag);
    FillSmallIntegersKernel<T>
        <<<FillBlocks(n), kFillThreads, 0, stream>>>(static_cast<T*>(out), n, seed, range);
    return cudaGetLastError();
  });
}

}  // namespace lockstep::cuda::internal
