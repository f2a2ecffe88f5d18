// How many KV blocks fit in a memory budget: the per-block byte formula (written once here),
// the caps int32 page indices and slots put on a pool, and the "fraction of free memory"
// resolution every entry point (rollout engine, lockstep serve) goes through.
// Guarantees: a resolved pool holds at least one sequence of min_sequence_tokens and never
// more blocks than an int32 slot (page * block_size + offset) can address.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "numerics/backend.h"
#include "numerics/dtype.h"

namespace lockstep {

// Bytes one block takes over the whole model: K and V, every layer,
// 2 * num_layers * block_size * num_kv_heads * head_dim * sizeof(dtype).
int64_t KvBlockBytes(const ModelConfig& config, DType dtype, int block_size);

// The most blocks a pool of `block_size`-token blocks may have: every slot
// (page * block_size + offset) and page index must fit in an int32.
int64_t MaxKvBlocks(int block_size);

// OK for 0 (size by block count) and for (0, 1); InvalidArgument naming `source` (the flag
// or config key) and the accepted range otherwise (NaN, <= 0 other than 0, >= 1).
absl::Status ValidateKvMemoryFraction(double fraction, const std::string& source);

// Blocks for `fraction` of `free_bytes`: floor(fraction * free_bytes / KvBlockBytes),
// capped at MaxKvBlocks. ResourceExhausted, with the numbers, when that is fewer blocks than
// one sequence of min_sequence_tokens needs.
absl::StatusOr<int> KvBlocksForMemory(const ModelConfig& config, DType dtype, int block_size,
                                      double fraction, int64_t free_bytes,
                                      int64_t min_sequence_tokens);

// `options` with num_blocks set from backend.MemoryInfo()'s free bytes when memory_fraction
// is set (and memory_fraction then 0, so resolving again keeps the size); unchanged otherwise.
// The sequence floor is config.max_position_embeddings.
absl::StatusOr<KvCacheOptions> ResolveKvCacheOptions(const Backend& backend,
                                                     const ModelConfig& config, DType dtype,
                                                     KvCacheOptions options);

// One line for logs: "KV cache: 4096 blocks x 16 tokens = 65536 tokens, 2.00 GiB (bf16,
// 24 layers, 512.0 KiB per block)".
std::string DescribeKvPool(const ModelConfig& config, DType dtype, const KvCacheOptions& options);

// "1.50 GiB" / "12.0 MiB" / "512 B": bytes for log lines and errors.
std::string FormatBytes(int64_t bytes);

}  // namespace lockstep
