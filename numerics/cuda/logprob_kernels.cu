// Log-softmax / token log-probability over the vocabulary on the GPU. One block of
// kLogprobThreads threads owns one row; every reduction over the vocabulary runs in an
// order fixed by V alone (strided per-thread sums in increasing id, then a fixed halving
// tree), so a row's bits never depend on the batch it is launched in.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "numerics/cuda/element_access.cuh"
#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda::internal {
namespace {

constexpr int kLogprobThreads = 256;  // a power of two: the halving tree below needs it

// Halving tree over partial[0..kLogprobThreads): step w adds partial[t + w] into
// partial[t] for t < w, w = 128, 64, ..., 1. Returns partial[0] to every thread.
template <typename Combine>
__device__ float BlockReduce(float* partial, float value, Combine combine) {
  partial[threadIdx.x] = value;
  __syncthreads();
  for (int width = kLogprobThreads / 2; width >= 1; width /= 2) {
    if (static_cast<int>(threadIdx.x) < width) {
      partial[threadIdx.x] = combine(partial[threadIdx.x], partial[threadIdx.x + width]);
    }
    __syncthreads();
  }
  const float result = partial[0];
  __syncthreads();  // partial is reused by the next reduction
  return result;
}

template <typename T>
__global__ void __launch_bounds__(kLogprobThreads)
    TokenLogprobKernel(const T* logits, int64_t stride, int64_t vocab, const int32_t* tokens,
                       float temperature, float* logprobs, float* logsumexp, int32_t* bad_row) {
  __shared__ float partial[kLogprobThreads];
  const int64_t row = blockIdx.x;
  const T* x = logits + row * stride;

  float local_max = -INFINITY;
  for (int64_t i = threadIdx.x; i < vocab; i += kLogprobThreads) {
    local_max = fmaxf(local_max, __fdiv_rn(ToFloat(x[i]), temperature));
  }
  const float m = BlockReduce(partial, local_max, [](float a, float b) { return fmaxf(a, b); });

  float local_sum = 0.0f;
  for (int64_t i = threadIdx.x; i < vocab; i += kLogprobThreads) {
    local_sum = __fadd_rn(local_sum, expf(__fsub_rn(__fdiv_rn(ToFloat(x[i]), temperature), m)));
  }
  const float s =
      BlockReduce(partial, local_sum, [](float a, float b) { return __fadd_rn(a, b); });

  if (threadIdx.x != 0) return;
  const float log_s = logf(s);
  if (logsumexp != nullptr) logsumexp[row] = __fadd_rn(m, log_s);
  const int32_t token = tokens[row];
  if (token < 0 || token >= vocab) {
    logprobs[row] = NAN;
    if (bad_row != nullptr) atomicMin(bad_row, static_cast<int32_t>(row));
    return;
  }
  const float z = __fdiv_rn(ToFloat(x[token]), temperature);
  logprobs[row] = __fsub_rn(__fsub_rn(z, m), log_s);
}

}  // namespace

cudaError_t LaunchTokenLogprobs(DeviceRows logits, const int32_t* tokens, float temperature,
                                float* logprobs, float* logsumexp, int32_t* bad_row,
                                cudaStream_t stream) {
  return DispatchStorageType(logits.type, [&](auto element) {
    using T = decltype(element);
    TokenLogprobKernel<T><<<static_cast<unsigned>(logits.rows), kLogprobThreads, 0, stream>>>(
        static_cast<const T*>(logits.data), logits.row_stride, logits.cols, tokens, temperature,
        logprobs, logsumexp, bad_row);
    return cudaGetLastError();
  });
}

}  // namespace lockstep::cuda::internal
