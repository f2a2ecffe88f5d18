// KV pool sizing (model/kv_cache_sizing.h): the per-block formula, the int32 caps and the
// fraction-of-free-memory resolution.
#include "model/kv_cache_sizing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"

namespace lockstep {

int64_t KvBlockBytes(const ModelConfig& config, DType dtype, int block_size) {
  return int64_t{2} * config.num_layers * block_size * config.num_kv_heads * config.head_dim *
         static_cast<int64_t>(DTypeSize(dtype));
}

int64_t MaxKvBlocks(int block_size) {
  return std::numeric_limits<int32_t>::max() / std::max(block_size, 1);
}

absl::Status ValidateKvMemoryFraction(double fraction, const std::string& source) {
  if (fraction == 0.0 || (fraction > 0.0 && fraction < 1.0)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      source, " = ", fraction,
      ": must be in (0, 1), the share of the device's free memory the KV cache takes "
      "(e.g. 0.4), or 0 to size it by block count"));
}

absl::StatusOr<int> KvBlocksForMemory(const ModelConfig& config, DType dtype, int block_size,
                                      double fraction, int64_t free_bytes,
                                      int64_t min_sequence_tokens) {
  LOCKSTEP_RETURN_IF_ERROR(ValidateKvMemoryFraction(fraction, "KV cache memory_fraction"));
  if (fraction == 0.0 || block_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "KV cache: sizing from memory needs memory_fraction in (0, 1) and block_size >= 1 (got ",
        fraction, ", ", block_size, ")"));
  }
  const int64_t block_bytes = KvBlockBytes(config, dtype, block_size);
  const double budget = fraction * static_cast<double>(std::max<int64_t>(free_bytes, 0));
  const double fit = std::floor(budget / static_cast<double>(block_bytes));
  const int64_t blocks = static_cast<int64_t>(std::min(fit, static_cast<double>(MaxKvBlocks(block_size))));
  const int64_t needed = (min_sequence_tokens + block_size - 1) / block_size;
  if (blocks < std::max<int64_t>(needed, 1)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "KV cache: memory_fraction ", fraction, " of ", FormatBytes(free_bytes), " free = ",
        FormatBytes(static_cast<int64_t>(budget)), " holds ", blocks, " blocks of ", block_size,
        " tokens (", FormatBytes(block_bytes), " each), fewer than the ", needed, " blocks"
        " one sequence of ", min_sequence_tokens,
        " tokens (max_position_embeddings) needs; raise the fraction, free device memory, or "
        "size the cache by block count"));
  }
  return static_cast<int>(blocks);
}

absl::StatusOr<KvCacheOptions> ResolveKvCacheOptions(const Backend& backend,
                                                     const ModelConfig& config, DType dtype,
                                                     KvCacheOptions options) {
  if (options.memory_fraction == 0.0) return options;
  LOCKSTEP_RETURN_IF_ERROR(ValidateKvMemoryFraction(options.memory_fraction,
                                                    "KV cache memory_fraction"));
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceMemoryInfo memory, backend.MemoryInfo());
  LOCKSTEP_ASSIGN_OR_RETURN(
      options.num_blocks,
      KvBlocksForMemory(config, dtype, options.block_size, options.memory_fraction,
                        memory.free_bytes, config.max_position_embeddings));
  options.memory_fraction = 0.0;
  return options;
}

std::string DescribeKvPool(const ModelConfig& config, DType dtype, const KvCacheOptions& options) {
  const int64_t block_bytes = KvBlockBytes(config, dtype, options.block_size);
  return absl::StrCat("KV cache: ", options.num_blocks, " blocks x ", options.block_size,
                      " tokens = ", int64_t{options.num_blocks} * options.block_size, " tokens, ",
                      FormatBytes(block_bytes * options.num_blocks), " (",
                      std::string(DTypeName(dtype)), ", ", config.num_layers, " layers, ",
                      FormatBytes(block_bytes), " per block)");
}

std::string FormatBytes(int64_t bytes) {
  constexpr double kKiB = 1024.0;
  const double b = static_cast<double>(bytes);
  char text[32];
  if (b >= kKiB * kKiB * kKiB) {
    std::snprintf(text, sizeof(text), "%.2f GiB", b / (kKiB * kKiB * kKiB));
  } else if (b >= kKiB * kKiB) {
    std::snprintf(text, sizeof(text), "%.1f MiB", b / (kKiB * kKiB));
  } else if (b >= kKiB) {
    std::snprintf(text, sizeof(text), "%.1f KiB", b / kKiB);
  } else {
    return absl::StrCat(bytes, " B");
  }
  return text;
}

}  // namespace lockstep
