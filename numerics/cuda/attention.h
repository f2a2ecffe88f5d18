// Causal grouped-query attention over a paged KV cache on the CUDA backend, for prefill
// (many queries per sequence) and decode (one query per sequence) in one packed batch.
// Guarantee: a query's output bits depend only on that query and its keys 0..position; the
// batch, the number of sequences, the page table layout and prefill-vs-decode cannot change
// them (each (query, head) runs the same fp32 operation sequence: keys in chunks of
// cpu::kAttentionKeyChunk from position 0, online softmax in a fixed combine order). Not
// bitwise equal to cpu::AttentionOverKv (CUDA's expf vs glibc's; the tests state the gap).
// Pointers are DEVICE memory; work is enqueued on `stream`, not synchronised.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "absl/status/status.h"
#include "numerics/cpu/attention.h"
#include "numerics/tensor.h"

namespace lockstep::cuda {

// The KV pool: row p = page * block_size + slot of k_pool / v_pool starts at p * row_stride
// elements and holds num_kv_heads * head_dim elements of `dtype`.
struct PagedKvPool {
  DType dtype = DType::kBF16;
  const void* k_pool = nullptr;
  const void* v_pool = nullptr;
  int64_t row_stride = 0;  // >= num_kv_heads * head_dim
  int block_size = 0;      // keys per page
  int64_t num_pages = 0;   // pages in the pool; page ids are checked against it on the device
};

// A packed batch (flashinfer's indptr style), every array in device memory:
// sequence s owns query rows [query_indptr[s], query_indptr[s+1]) of q and the pages
// page_indices[page_indptr[s] .. page_indptr[s+1]) (logical page k holds keys
// k*block_size ..); query i attends keys 0..positions[i] of its sequence. query_indptr
// must start at 0, be non-decreasing and end at q.rows.
struct PagedAttentionBatch {
  int num_sequences = 0;
  const int32_t* query_indptr = nullptr;  // num_sequences + 1
  const int32_t* page_indptr = nullptr;   // num_sequences + 1
  const int32_t* page_indices = nullptr;
  const int32_t* positions = nullptr;     // q.rows
};

// q, out: (queries, num_heads*head_dim) in kv.dtype (fp32, fp16 or bf16); head_dim <= 256.
// The device arrays are checked on the device, without a host round trip: a query outside
// every sequence, a position < 0 or beyond its pages, or a page id outside the pool makes
// that query's row NaN and lowers *bad_query (device int32, if not null; set it to
// INT32_MAX first) to the query's index.
absl::Status PagedAttention(ConstMatrixView q, const PagedKvPool& kv,
                            const PagedAttentionBatch& batch, const cpu::AttentionShape& shape,
                            MatrixView out, int32_t* bad_query, cudaStream_t stream);

}  // namespace lockstep::cuda
