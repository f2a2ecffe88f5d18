// Bounded, thread-safe LRU caches for the sandbox: compiled artefacts and run
// results, keyed by an XXH3-128 digest of (language, source, stdin, limits, ...).
// Fields are length-prefixed before hashing, so ("ab","c") and ("a","bc") differ.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace lockstep::sandbox {

// 32 hex characters.
std::string CacheKey(std::initializer_list<std::string_view> fields);

template <typename Value>
class ResultCache {
 public:
  explicit ResultCache(size_t capacity) : capacity_(capacity) {}

  std::optional<Value> Get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    entries_.splice(entries_.begin(), entries_, it->second);  // most recent first
    return it->second->second;
  }

  void Put(const std::string& key, Value value) {
    if (capacity_ == 0) return;
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->second = std::move(value);
      entries_.splice(entries_.begin(), entries_, it->second);
      return;
    }
    entries_.emplace_front(key, std::move(value));
    index_[key] = entries_.begin();
    while (entries_.size() > capacity_) {
      index_.erase(entries_.back().first);
      entries_.pop_back();
    }
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  using Entry = std::pair<std::string, Value>;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

}  // namespace lockstep::sandbox
