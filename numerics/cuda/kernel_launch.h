// Plain-C++ launchers for the kernels in *.cu (internal to numerics/cuda).
// This header and the .cu files stay free of Abseil so nvcc never parses it;
// the Status-returning API (rowwise_ops.h, convert.h) validates shapes and
// calls these. Each launcher enqueues on `stream` and returns the launch error.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace lockstep::cuda::internal {

// Mirrors lockstep::DType value for value (checked by static_assert in the .cc files).
enum class StorageType : uint8_t { kF32 = 0, kF16 = 1, kBF16 = 2 };

// A (rows, cols) device matrix; element (r, c) at data + r*row_stride + c elements.
struct DeviceRows {
  StorageType type;
  const void* data;
  int64_t rows;
  int64_t cols;
  int64_t row_stride;
};
struct MutableDeviceRows {
  StorageType type;
  void* data;
  int64_t rows;
  int64_t cols;
  int64_t row_stride;
};

// out[r, :] = round((x[r, :] * inv_r) * w), inv_r = 1 / sqrt(sumsq_r / H + eps),
// sumsq_r in the 16-lane fixed order of numerics/cpu/fixed_order.h. rows >= 1.
cudaError_t LaunchRmsNorm(DeviceRows x, DeviceRows weight, float eps, MutableDeviceRows out,
                          cudaStream_t stream);

// out = round(a + b). rows >= 1.
cudaError_t LaunchAddResidual(DeviceRows a, DeviceRows b, MutableDeviceRows out,
                              cudaStream_t stream);

// out[t, :] = table[ids[t], :]; an id outside [0, table.rows) makes row t NaN
// and lowers *bad_row (if not null) to t. out.rows >= 1.
cudaError_t LaunchEmbedding(DeviceRows table, const int32_t* ids, MutableDeviceRows out,
                            int32_t* bad_row, cudaStream_t stream);

// Rotates x in place (HF rotate-half) with the fp32 factors cos/sin, each
// (max_positions, head_dim/2) row-major. A position outside [0, max_positions)
// makes row t NaN and lowers *bad_row (if not null) to t. x.rows >= 1.
cudaError_t LaunchRope(MutableDeviceRows x, int num_heads, int head_dim, const int32_t* positions,
                       const float* cos, const float* sin, int max_positions, int32_t* bad_row,
                       cudaStream_t stream);

// out[i] = round_to(type, in[i]) for i < n.
cudaError_t LaunchConvertFromFloat(const float* in, StorageType type, void* out, int64_t n,
                                   cudaStream_t stream);
// out[i] = float(in[i]) (exact) for i < n.
cudaError_t LaunchConvertToFloat(const void* in, StorageType type, float* out, int64_t n,
                                 cudaStream_t stream);

// out[i] = round_to(type, UniformAt(seed, i)) (counter_hash.h): reproducible test data
// made on the device (the linear self-check's inputs).
cudaError_t LaunchFillUniform(StorageType type, void* out, int64_t n, uint64_t seed,
                              cudaStream_t stream);
// out[i] = SmallIntegerAt(seed, i, range) (counter_hash.h), exact in every dtype.
cudaError_t LaunchFillSmallIntegers(StorageType type, void* out, int64_t n, uint64_t seed,
                                    int range, cudaStream_t stream);

// ---- Log-softmax over the vocabulary (logprob_kernels.cu)
// Row r of logits (M, V): z = float(logit) / temperature (rounded division, as the CPU);
// m = max z; s = Σ exp(z - m) in the order fixed by V alone (thread t of 256 sums ids
// t, t+256, ... in increasing id, then a fixed halving tree over the 256 partials);
// logprobs[r] = (z[tokens[r]] - m) - log(s); logsumexp[r] = m + log(s). One block per row.
// A token outside [0, V) gives NaN and lowers *bad_row (if not null) to r. temperature > 0.
// logsumexp may be null.
cudaError_t LaunchTokenLogprobs(DeviceRows logits, const int32_t* tokens, float temperature,
                                float* logprobs, float* logsumexp, int32_t* bad_row,
                                cudaStream_t stream);

// ---- Causal GQA attention over a paged KV cache (attention_kernels.cu)
// The pool: row p of k_pool / v_pool (p = page * block_size + slot) starts at
// p * row_stride elements and holds num_kv_heads * head_dim elements of `type`.
struct DevicePagedPool {
  StorageType type;
  const void* k_pool;
  const void* v_pool;
  int64_t row_stride;
  int block_size;
  int64_t num_pages;
};
// The batch, flashinfer-style: sequence s owns query rows [query_indptr[s],
// query_indptr[s+1]) of q and pages page_indices[page_indptr[s] .. page_indptr[s+1]);
// query i attends keys 0..positions[i] of its sequence. All device arrays.
struct DeviceAttentionBatch {
  int num_sequences;
  const int32_t* query_indptr;
  const int32_t* page_indptr;
  const int32_t* page_indices;
  const int32_t* positions;
};
struct AttentionDims {
  int num_heads;
  int num_kv_heads;
  int head_dim;  // <= kMaxAttentionHeadDim
  float scale;
};
inline constexpr int kMaxAttentionHeadDim = 256;
inline constexpr int kAttentionChunkKeys = 64;  // == cpu::kAttentionKeyChunk
// One warp per (query, head): keys in chunks of kAttentionChunkKeys from 0, the CPU's
// per-query arithmetic (16-lane dot, online softmax, values added in key order), with
// CUDA's expf. q, out: (queries, num_heads*head_dim) of pool.type. A query whose position,
// sequence or pages are out of range gets NaN and lowers *bad_query (if not null).
cudaError_t LaunchPagedAttention(DeviceRows q, DevicePagedPool pool, DeviceAttentionBatch batch,
                                 AttentionDims dims, MutableDeviceRows out, int32_t* bad_query,
                                 cudaStream_t stream);

}  // namespace lockstep::cuda::internal
