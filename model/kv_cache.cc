// PagedKvCache (model/kv_cache.h): host block tables over pools allocated once on a backend,
// and the packed per-step index arrays built from them.
#include "model/kv_cache.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "model/kv_cache_sizing.h"
#include "numerics/cpu/cpu_backend.h"
#include "numerics/status_macros.h"

namespace lockstep {

PagedKvCache::PagedKvCache(Backend& backend, const ModelConfig& config, DType dtype,
                           KvCacheOptions options)
    : backend_(&backend),
      options_(options),
      dtype_(dtype),
      description_(DescribeKvPool(config, dtype, options)),
      block_bytes_(KvBlockBytes(config, dtype, options.block_size)),
      row_elems_(int64_t{config.num_kv_heads} * config.head_dim) {
  // Hand out low block ids first: pop_back takes from the end.
  for (int b = options_.num_blocks - 1; b >= 0; --b) free_blocks_.push_back(b);
}

PagedKvCache::PagedKvCache(const ModelConfig& config, DType dtype, KvCacheOptions options)
    : PagedKvCache(cpu::ProcessCpuBackend(), config, dtype, options) {
  status_ = options.memory_fraction == 0.0
                ? AllocatePools(config.num_layers)
                : absl::InvalidArgumentError(
                      "KV cache: memory_fraction needs PagedKvCache::Create (it reads the "
                      "backend's free memory)");
}

absl::StatusOr<std::unique_ptr<PagedKvCache>> PagedKvCache::Create(Backend& backend,
                                                                   const ModelConfig& config,
                                                                   DType dtype,
                                                                   KvCacheOptions options) {
  LOCKSTEP_ASSIGN_OR_RETURN(options, ResolveKvCacheOptions(backend, config, dtype, options));
  if (options.block_size < 1 || options.num_blocks < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "KV cache: block_size ", options.block_size, " and num_blocks ", options.num_blocks,
        " must both be >= 1"));
  }
  // + 1: the scratch page's slots must be addressable too.
  if (options.num_blocks + int64_t{1} > MaxKvBlocks(options.block_size)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "KV cache: ", options.num_blocks, " blocks of ", options.block_size,
        " tokens and the scratch page exceed the ", MaxKvBlocks(options.block_size),
        " an int32 slot index can address; use fewer blocks"));
  }
  std::unique_ptr<PagedKvCache> cache(new PagedKvCache(backend, config, dtype, options));
  LOCKSTEP_RETURN_IF_ERROR(cache->AllocatePools(config.num_layers));
  return cache;
}

absl::Status PagedKvCache::AllocatePools(int num_layers) {
  const int64_t rows = (int64_t{options_.num_blocks} + 1) * options_.block_size;  // + scratch
  for (int l = 0; l < num_layers; ++l) {
    LOCKSTEP_ASSIGN_OR_RETURN(DeviceTensor k, backend_->Allocate(dtype_, rows, row_elems_));
    LOCKSTEP_ASSIGN_OR_RETURN(DeviceTensor v, backend_->Allocate(dtype_, rows, row_elems_));
    k_pools_.push_back(std::move(k));
    v_pools_.push_back(std::move(v));
  }
  return absl::OkStatus();
}

int64_t PagedKvCache::pool_bytes() const { return block_bytes_ * options_.num_blocks; }

int PagedKvCache::BlocksFor(int64_t length) const {
  return static_cast<int>((length + options_.block_size - 1) / options_.block_size);
}

absl::Status PagedKvCache::Reserve(int64_t id, int64_t length) {
  LOCKSTEP_RETURN_IF_ERROR(status_);
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

absl::Status PagedKvCache::BuildStep(std::span<const KvStepRows> rows, KvStepIndices* out) const {
  out->query_indptr.assign(1, 0);
  out->page_indptr.assign(1, 0);
  out->page_indices.clear();
  out->positions.clear();
  out->slots.clear();
  for (const KvStepRows& r : rows) {
    auto it = tables_.find(r.sequence_id);
    if (it == tables_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("sequence ", r.sequence_id,
                       " has no KV cache reservation (reserve before the step)"));
    }
    const std::vector<int32_t>& table = it->second;
    const int64_t end = r.start_position + r.count;
    if (r.start_position < 0 || end > int64_t{static_cast<int64_t>(table.size())} *
                                          options_.block_size) {
      return absl::OutOfRangeError(absl::StrCat("KV cache: positions ", r.start_position, "..",
                                                end - 1, " of sequence ", r.sequence_id,
                                                " not reserved"));
    }
    // Only the pages that hold keys 0..end-1: what this step's queries can attend.
    const int pages = BlocksFor(end);
    out->page_indices.insert(out->page_indices.end(), table.begin(), table.begin() + pages);
    out->page_indptr.push_back(static_cast<int32_t>(out->page_indices.size()));
    for (int64_t p = r.start_position; p < end; ++p) {
      out->positions.push_back(static_cast<int32_t>(p));
      out->slots.push_back(table[p / options_.block_size] * options_.block_size +
                           static_cast<int32_t>(p % options_.block_size));
    }
    out->query_indptr.push_back(static_cast<int32_t>(out->positions.size()));
  }
  return absl::OkStatus();
}

void PagedKvCache::AppendScratchRows(int count, KvStepIndices* out) const {
  const int32_t slot = scratch_page() * options_.block_size;
  for (int i = 0; i < count; ++i) {
    out->page_indices.push_back(scratch_page());
    out->page_indptr.push_back(static_cast<int32_t>(out->page_indices.size()));
    out->positions.push_back(0);
    out->slots.push_back(slot);
    out->query_indptr.push_back(static_cast<int32_t>(out->positions.size()));
  }
}

KvPoolView PagedKvCache::pool(int layer) {
  return KvPoolView{.dtype = dtype_,
                    .k_pool = k_pools_[layer].view().data,
                    .v_pool = v_pools_[layer].view().data,
                    .row_stride = row_elems_,
                    .block_size = options_.block_size,
                    .num_pages = options_.num_blocks + int64_t{1},  // + the scratch page
                    .device = backend_->device()};
}

}  // namespace lockstep
