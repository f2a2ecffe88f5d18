// Paged KV cache for incremental decode: a fixed pool of blocks of
// `block_size` token rows per layer, and a block table per sequence. All
// memory is allocated up front, so a decode step never allocates. Rows are
// stored in the model's storage dtype, exactly as the full-sequence forward
// holds its K and V, so attention reads identical values from either.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "model/config.h"
#include "numerics/cpu/attention.h"
#include "numerics/tensor.h"

namespace lockstep {

struct KvCacheOptions {
  int block_size = 16;
  int num_blocks = 1024;
};

class PagedKvCache {
 public:
  PagedKvCache(const ModelConfig& config, DType dtype, KvCacheOptions options);

  int block_size() const { return options_.block_size; }
  int free_blocks() const { return static_cast<int>(free_blocks_.size()); }
  // Blocks a sequence of `length` tokens occupies.
  int BlocksFor(int64_t length) const;

  // Makes room for sequence `id` to hold `length` tokens (allocating blocks as
  // needed; new ids start empty). ResourceExhausted if the pool is full.
  absl::Status Reserve(int64_t id, int64_t length);
  // Returns a sequence's blocks to the pool.
  void Release(int64_t id);
  bool Contains(int64_t id) const { return tables_.count(id) != 0; }

  // Copies one token's key and value rows (num_kv_heads*head_dim elements each) at `position`.
  absl::Status WriteRow(int layer, int64_t id, int64_t position, ConstMatrixView k_row,
                        ConstMatrixView v_row);
  // The paged view of sequence `id` in `layer`, for cpu::AttentionOverKv.
  cpu::KvRowSource Source(int layer, int64_t id) const;

 private:
  KvCacheOptions options_;
  DType dtype_;
  int64_t row_elems_;
  std::vector<Tensor> k_pools_;  // per layer: (num_blocks*block_size, row_elems)
  std::vector<Tensor> v_pools_;
  std::vector<int32_t> free_blocks_;
  std::unordered_map<int64_t, std::vector<int32_t>> tables_;
};

}  // namespace lockstep
