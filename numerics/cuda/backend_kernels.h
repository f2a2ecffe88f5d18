// Plain-C++ launchers for the kernels the CUDA backend adds on top of kernel_launch.h:
// SwiGLU, KV-pool scatter, row gather, the fixed-order fp32 linear, and token sampling /
// log-probabilities with top-k / top-p. Internal to numerics/cuda and free of Abseil (nvcc
// parses it); cuda_backend.cc checks shapes first. Each launcher enqueues on `stream`,
// allocates nothing, never synchronises, and returns the launch error.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda::internal {

// out = round(round(silu(gate)) * up), silu(g) = g / (1 + exp(-g)) in fp32 with exp
// computed in double and rounded once to fp32 (the CPU's glibc expf is a double-evaluated,
// once-rounded fp32 exp too; CUDA's expf is up to 2 ulp off). rows >= 1.
cudaError_t LaunchSwiGlu(DeviceRows gate, DeviceRows up, MutableDeviceRows out,
                         cudaStream_t stream);

// Row t of k and v goes to physical row slots[t] of k_pool / v_pool (row_stride elements
// apart; k.cols elements of k.type each). A slot outside [0, pool_rows) writes nothing and
// lowers *bad_row (if not null) to t. k.rows >= 1.
cudaError_t LaunchWriteKv(DeviceRows k, DeviceRows v, const int32_t* slots, void* k_pool,
                          void* v_pool, int64_t row_stride, int64_t pool_rows, int32_t* bad_row,
                          cudaStream_t stream);

// dst row i = src row rows[i] (one dtype). An index outside [0, src.rows) makes row i NaN
// and lowers *bad_row (if not null) to i. dst.rows >= 1.
cudaError_t LaunchGatherRows(DeviceRows src, const int32_t* rows, MutableDeviceRows dst,
                             int32_t* bad_row, cudaStream_t stream);

// out = x · Wᵀ (+ bias) with the CPU backend's arithmetic (numerics/cpu/linear.cc): each
// output is a 16-lane fixed-order fp32 dot over K, then + bias, rounded once. One thread
// per output: bitwise equal to cpu::Linear and batch-invariant, but not fast (the CUDA
// backend uses it for fp32 weights, which cuBLASLt plans do not take). bias: N elements of
// weight.type or null. x.rows >= 1.
cudaError_t LaunchFixedOrderLinear(DeviceRows x, DeviceRows weight, const void* bias,
                                   MutableDeviceRows out, cudaStream_t stream);

// ---- Sampling and log-probabilities (sampling_kernels.cu)

// One row's request. temperature 0 is greedy; top_k 0 / top_p 1 are off.
struct DeviceSamplingRow {
  float temperature;
  int32_t top_k;
  float top_p;
  int32_t token;  // scoring mode: the token whose logprob is wanted; sampling mode: unused
  uint64_t seed;  // sampling mode: the Philox key and counter of numerics/philox.h
  uint32_t request;
  uint32_t sample_index;
  uint32_t position;
  uint32_t unused;
};
struct DeviceSampledRow {
  int32_t token;
  float logprob;
};

// One block per row of logits (M, V). Both modes run one code path: the candidate set
// (top-k by a radix select on the ordered bits of z = logit / T, ties toward the lower id;
// then top-p by a radix select on the bits of p = exp(z - m) / Σ_top-k exp(z - m) with the
// prefix mass summed exactly in 2^-48 fixed point, ties toward the lower id), then m and
// Σ exp(z - m) over the candidates in an order fixed by V alone, then logprob = (z[token] -
// m) - log Σ (-inf outside the candidates). sample == 0 scores rows[r].token; sample != 0
// first draws a token by inverse CDF over the candidates in ascending id with the Philox
// uniform. out[r] gets the token and its logprob. Temperature 0: argmax (lowest id on
// ties), logprob 0 (scoring another token: -inf).
cudaError_t LaunchSampling(DeviceRows logits, const DeviceSamplingRow* rows, int sample,
                           DeviceSampledRow* out, cudaStream_t stream);

// out[i] = the Philox sampling uniform of rows[i] (bitwise lockstep::SamplingUniform), for
// tests. n >= 1.
cudaError_t LaunchSamplingUniforms(const DeviceSamplingRow* rows, int64_t n, float* out,
                                   cudaStream_t stream);

// out[i] = a[i] / b as the sampling kernel divides (z = logit / T, p = w / total), for
// tests that it is the correctly rounded fp32 quotient. b finite and > 0; n >= 1.
cudaError_t LaunchDivideForTest(const float* a, float b, int64_t n, float* out,
                                cudaStream_t stream);

}  // namespace lockstep::cuda::internal
