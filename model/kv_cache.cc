#include "model/kv_cache.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace lockstep {

PagedKvCache::PagedKvCache(const ModelConfig& config, DType dtype, KvCacheOptions options)
    : options_(options),
      dtype_(dtype),
      row_elems_(int64_t{config.num_kv_heads} * config.head_dim) {
  const int64_t rows = int64_t{options_.num_blocks} * options_.block_size;
  for (int l = 0; l < config.num_layers; ++l) {
    k_pools_.emplace_back(dtype, std::vector<int64_t>{rows, row_elems_});
    v_pools_.emplace_back(dtype, std::vector<int64_t>{rows, row_elems_});
  }
  // Hand out low block ids first: pop_back takes from the end.
  for (int b = options_.num_blocks - 1; b >= 0; --b) free_blocks_.push_back(b);
}

int PagedKvCache::BlocksFor(int64_t length) const {
  return static_cast<int>((length + options_.block_size - 1) / options_.block_size);
}

absl::Status PagedKvCache::Reserve(int64_t id, int64_t length) {
  std::vector<int32_t>& table = tables_[id];
  const int needed = BlocksFor(length) - static_cast<int>(table.size());
  if (needed > static_cast<int>(free_blocks_.size())) {
    return absl::ResourceExhaustedError(
        absl::StrCat("KV cache full: sequence ", id, " needs ", needed, " more blocks, ",
                     free_blocks_.size(), " free (raise kv num_blocks)"));
  }
  for (int i = 0; i < needed; ++i) {
    table.push_back(free_blocks_.back());
    free_blocks_.pop_back();
  }
  return absl::OkStatus();
}

void PagedKvCache::Release(int64_t id) {
  auto it = tables_.find(id);
  if (it == tables_.end()) return;
  for (auto b = it->second.rbegin(); b != it->second.rend(); ++b) free_blocks_.push_back(*b);
  tables_.erase(it);
}

absl::Status PagedKvCache::WriteRow(int layer, int64_t id, int64_t position, ConstMatrixView k_row,
                                    ConstMatrixView v_row) {
  auto it = tables_.find(id);
  if (it == tables_.end() || position >= int64_t{static_cast<int64_t>(it->second.size())} *
                                              options_.block_size) {
    return absl::OutOfRangeError(
        absl::StrCat("KV cache: position ", position, " of sequence ", id, " not reserved"));
  }
  if (k_row.cols != row_elems_ || v_row.cols != row_elems_ || k_row.dtype != dtype_ ||
      v_row.dtype != dtype_) {
    return absl::InvalidArgumentError("KV cache: row shape or dtype mismatch");
  }
  const int64_t physical =
      int64_t{it->second[position / options_.block_size]} * options_.block_size +
      position % options_.block_size;
  const size_t bytes = static_cast<size_t>(row_elems_) * DTypeSize(dtype_);
  std::memcpy(k_pools_[layer].AsMatrix().RowPtr(physical), k_row.RowPtr(0), bytes);
  std::memcpy(v_pools_[layer].AsMatrix().RowPtr(physical), v_row.RowPtr(0), bytes);
  return absl::OkStatus();
}

cpu::KvRowSource PagedKvCache::Source(int layer, int64_t id) const {
  cpu::KvRowSource source;
  source.dtype = dtype_;
  source.k_base = k_pools_[layer].data();
  source.v_base = v_pools_[layer].data();
  source.row_stride = row_elems_;
  source.block_table = tables_.at(id).data();
  source.block_size = options_.block_size;
  return source;
}

}  // namespace lockstep
