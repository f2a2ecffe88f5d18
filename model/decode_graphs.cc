// DecodeGraphCache (model/decode_graphs.h): graphs per batch-size bucket, keyed by what they
// point at, with a least-recently-used cap; and the bucket sizes.
#include "model/decode_graphs.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace lockstep::model {
namespace {

int RoundUp(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

}  // namespace

int DecodeBatchBucket(int batch, int max_batch) {
  if (batch <= 0) return batch;
  int bucket;
  if (batch <= 4) {
    bucket = static_cast<int>(std::bit_ceil(static_cast<unsigned>(batch)));
  } else if (batch <= 256) {
    bucket = RoundUp(batch, 8);
  } else {
    bucket = RoundUp(batch, 32);
  }
  if (max_batch > 0 && batch <= max_batch) bucket = std::min(bucket, max_batch);
  return bucket;
}

bool GraphsAllowedByEnvironment() {
  const char* env = std::getenv("LOCKSTEP_CUDA_GRAPHS");
  return env == nullptr || std::strcmp(env, "0") != 0;
}

DecodeGraphCache::DecodeGraphCache(int max_graphs)
    : max_graphs_(std::max(1, max_graphs)), enabled_(GraphsAllowedByEnvironment()) {}

void DecodeGraphCache::set_enabled(bool enabled) {
  enabled_ = enabled && GraphsAllowedByEnvironment();
  if (!enabled_) entries_.clear();
}

void DecodeGraphCache::Validate(const GraphKey& key) {
  if (key == key_) return;
  const bool any_graph = std::any_of(entries_.begin(), entries_.end(),
                                     [](const auto& e) { return e.second.graph != nullptr; });
  if (any_graph) ++stats_.invalidations;
  entries_.clear();
  key_ = key;
}

std::vector<int> DecodeGraphCache::captured_batches() const {
  std::vector<int> out;
  for (const auto& [batch, entry] : entries_) {
    if (entry.graph != nullptr) out.push_back(batch);
  }
  return out;
}

DecodeGraphCache::Entry* DecodeGraphCache::Find(int batch) {
  auto it = entries_.find(batch);
  if (it == entries_.end()) return nullptr;
  it->second.last_used = ++clock_;
  return &it->second;
}

DecodeGraphCache::Entry& DecodeGraphCache::Insert(int batch) {
  entries_.erase(batch);
  while (static_cast<int>(entries_.size()) >= max_graphs_) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; });
    if (oldest->second.graph != nullptr) ++stats_.evictions;
    entries_.erase(oldest);
  }
  Entry& entry = entries_[batch];
  entry.last_used = ++clock_;
  return entry;
}

void DecodeGraphCache::DisableAfterFailure(const absl::Status& why) {
  ++stats_.capture_failures;
  failed_ = true;
  entries_.clear();
  static std::atomic<bool> said{false};
  if (!said.exchange(true)) {
    std::fprintf(stderr,
                 "lockstep: CUDA graph capture of a decode step failed, decode steps run "
                 "eagerly from now on (same bits, slower): %s\n",
                 std::string(why.message()).c_str());
  }
}

}  // namespace lockstep::model
