// Paged KV cache for incremental decode: a fixed pool of pages of `block_size` token rows
// per layer, allocated once on a Backend, and a block table per sequence kept on the host.
// All pool memory is allocated up front, so a decode step never allocates on the device.
// Rows are stored in the model's storage dtype, exactly as the full-sequence forward holds
// its K and V, so attention reads identical values from either. One page past the pool is
// never given to a sequence: the scratch page the dummy rows of a padded decode step write
// to and read from (model/decode_graphs.h), so they touch no sequence's keys. For one step
// the cache turns the block tables into the packed arrays Backend::WriteKv and
// Backend::PagedAttention read (built on the host; the caller copies them to the device).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/config.h"
#include "numerics/backend.h"
#include "numerics/tensor.h"

namespace lockstep {

struct KvCacheOptions {
  int block_size = 16;
  int num_blocks = 1024;
  // 0: the pool is num_blocks. In (0, 1): num_blocks is ignored and the pool takes this
  // fraction of the backend's free memory when the cache is created (after the weights are
  // loaded), at least one max_position_embeddings sequence (model/kv_cache_sizing.h).
  double memory_fraction = 0.0;
};

// One sequence's new rows in a step: `count` tokens at start_position, start_position+1, ...
struct KvStepRows {
  int64_t sequence_id = 0;
  int64_t start_position = 0;
  int64_t count = 0;
};

// The host index arrays of one step, in PagedBatchView's layout (numerics/backend.h) plus
// the pool row every new token's K/V goes to. Reused across steps (cleared, not freed).
struct KvStepIndices {
  std::vector<int32_t> query_indptr;  // sequences + 1
  std::vector<int32_t> page_indptr;   // sequences + 1
  std::vector<int32_t> page_indices;
  std::vector<int32_t> positions;     // one per new row
  std::vector<int32_t> slots;         // one per new row: page * block_size + offset
};

class PagedKvCache {
 public:
  // Allocates (num_blocks + 1) * block_size rows per layer for K and for V on `backend`
  // (num_blocks for sequences, one scratch page; with memory_fraction set, num_blocks comes
  // from ResolveKvCacheOptions first).
  static absl::StatusOr<std::unique_ptr<PagedKvCache>> Create(Backend& backend,
                                                              const ModelConfig& config,
                                                              DType dtype, KvCacheOptions options);
  // The same on the process-wide CPU backend; a failed allocation is reported by status()
  // and by every Reserve.
  PagedKvCache(const ModelConfig& config, DType dtype, KvCacheOptions options);

  absl::Status status() const { return status_; }
  Backend& backend() const { return *backend_; }
  int block_size() const { return options_.block_size; }
  int num_blocks() const { return options_.num_blocks; }
  int free_blocks() const { return static_cast<int>(free_blocks_.size()); }
  // Bytes of the pages sequences can use (K and V, every layer); the scratch page adds one
  // more block.
  int64_t pool_bytes() const;
  // "KV cache: 4096 blocks x 16 tokens = 65536 tokens, 2.00 GiB (...)" (DescribeKvPool).
  const std::string& Describe() const { return description_; }
  // Blocks a sequence of `length` tokens occupies.
  int BlocksFor(int64_t length) const;

  // Makes room for sequence `id` to hold `length` tokens (allocating blocks as
  // needed; new ids start empty). ResourceExhausted if the pool is full.
  absl::Status Reserve(int64_t id, int64_t length);
  // Returns a sequence's blocks to the pool.
  void Release(int64_t id);
  bool Contains(int64_t id) const { return tables_.count(id) != 0; }

  // The packed arrays of one step over `rows` (in order). FailedPrecondition for a sequence
  // with no reservation, OutOfRange for a position past its reserved blocks.
  absl::Status BuildStep(std::span<const KvStepRows> rows, KvStepIndices* out) const;
  // Appends `count` dummy sequences of one row each to `out` (after a BuildStep): position 0,
  // written to and attending only the scratch page, so a decode step padded with them reads
  // and writes no sequence's pages.
  void AppendScratchRows(int count, KvStepIndices* out) const;
  // The page no sequence is given (page id num_blocks()).
  int32_t scratch_page() const { return options_.num_blocks; }
  // Layer `layer`'s pool on the backend (written through by Backend::WriteKv); its
  // num_pages counts the scratch page.
  KvPoolView pool(int layer);

 private:
  PagedKvCache(Backend& backend, const ModelConfig& config, DType dtype, KvCacheOptions options);
  absl::Status AllocatePools(int num_layers);

  Backend* backend_;
  KvCacheOptions options_;
  DType dtype_;
  std::string description_;  // DescribeKvPool
  int64_t block_bytes_;  // KvBlockBytes
  int64_t row_elems_;
  absl::Status status_;
  std::vector<DeviceTensor> k_pools_;  // per layer: (num_blocks*block_size, row_elems)
  std::vector<DeviceTensor> v_pools_;
  std::vector<int32_t> free_blocks_;
  std::unordered_map<int64_t, std::vector<int32_t>> tables_;
};

}  // namespace lockstep
