// Causal grouped-query attention on the CPU backend, for full sequences (the
// trainer's forward, prefill) and for queries over a paged KV cache (decode).
// Guarantee: one query row's output depends only on that query and on the
// (key, value) rows 0..position, processed in fixed chunks of
// kAttentionKeyChunk keys from position 0 upward with an online softmax whose
// combination order is fixed. Contiguous and paged sources therefore give
// identical bits for the same (query, keys) pair, whatever the batch.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "numerics/attention_shape.h"
#include "numerics/tensor.h"

namespace lockstep::cpu {

using lockstep::AttentionShape;  // backend-neutral (numerics/attention_shape.h)
using lockstep::kAttentionKeyChunk;

// Where the key and value rows of one sequence live. Each row holds
// num_kv_heads*head_dim elements of `dtype`.
//  - contiguous (block_table == nullptr): row j at base + j*row_stride
//  - paged: row j at base + (block_table[j / block_size]*block_size + j % block_size)*row_stride
struct KvRowSource {
  DType dtype = DType::kF32;
  const void* k_base = nullptr;
  const void* v_base = nullptr;
  int64_t row_stride = 0;  // elements between consecutive rows of the pool / matrix
  const int32_t* block_table = nullptr;
  int block_size = 0;

  int64_t PhysicalRow(int64_t j) const {
    if (block_table == nullptr) return j;
    return int64_t{block_table[j / block_size]} * block_size + j % block_size;
  }
  const void* KRow(int64_t j) const;
  const void* VRow(int64_t j) const;
};

// Queries of ONE sequence: q (n, num_heads*head_dim); query i sits at
// positions[i] and attends keys 0..positions[i] of `kv`. out: (n, num_heads*head_dim).
absl::Status AttentionOverKv(ConstMatrixView q, std::span<const int32_t> positions,
                             const KvRowSource& kv, const AttentionShape& shape, MatrixView out);

// Full-sequence causal attention: q (T, Hq*D), k and v (T, Hkv*D), query t
// attends keys 0..t. Same arithmetic as AttentionOverKv.
absl::Status CausalAttention(ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                             const AttentionShape& shape, MatrixView out);

}  // namespace lockstep::cpu
