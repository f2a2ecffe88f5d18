// The captured decode-step graphs of one ForwardWorkspace, one per batch-size bucket (a step
// of B live sequences runs the graph of DecodeBatchBucket(B) rows, the rest dummy rows that
// change no real row's bits), least recently used evicted past a cap. A graph bakes in the
// workspace's activation buffers, the KV pools, the backend's scratch and its own packed
// index buffer; the cache keeps the identity of all of them (GraphKey) and drops every graph
// when any one changes, so a replay never reads memory that moved. It only keeps state: the
// Transformer decides when to pad, run eagerly, capture or replay (model/transformer.cc).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "numerics/backend.h"
#include "numerics/device_tensor.h"
#include "numerics/tensor.h"

namespace lockstep::model {

// The rows a decode step of `batch` live sequences runs at, so that few graphs serve every
// batch size: 1, 2, 4, then multiples of 8 up to 256 and of 32 beyond (vLLM's 1, 2, 4,
// 8k sizes, coarser past 256 so that even a 1024-sequence engine needs 59 graphs, under
// DecodeGraphCache's default cap of 64). Dummy rows cost little: a decode GEMM at M <= 256
// reads the whole weight whatever M is, a dummy row attends one key, and past 64 rows the
// padding is under 12.5 %. With max_batch > 0 and batch <= max_batch the bucket is capped at
// max_batch (an engine's largest step runs unpadded; its workspace never grows past it).
// batch <= 0 is returned unchanged.
int DecodeBatchBucket(int batch, int max_batch);

// Counters a test or a benchmark reads (they never change numerics).
struct DecodeGraphStats {
  int64_t eager_steps = 0;  // decode-only steps run op by op (first at a B, fallbacks)
  int64_t captures = 0;
  int64_t replays = 0;
  int64_t invalidations = 0;     // times every graph was dropped (a buffer it points at moved)
  int64_t evictions = 0;         // graphs dropped for the cap (least recently used)
  int64_t capture_failures = 0;  // after one, this cache runs eagerly
  int64_t padded_rows = 0;       // dummy rows run to fill steps up to their bucket
};

// Everything a captured graph points at, beyond its own index buffer.
struct GraphKey {
  const void* model = nullptr;
  const void* kv_cache = nullptr;
  int64_t workspace_generation = 0;  // ForwardWorkspace::buffer_generation()
  int64_t scratch_generation = 0;    // Backend::ScratchGeneration()
  bool operator==(const GraphKey&) const = default;
};

class DecodeGraphCache {
 public:
  static constexpr int kDefaultMaxGraphs = 64;

  // One bucket (a padded batch size): seen eagerly under the current key (graph == nullptr),
  // or captured.
  struct Entry {
    std::unique_ptr<CapturedGraph> graph;
    DeviceInt32s indices;    // the packed index arrays the graph reads (layout: transformer.cc)
    ConstMatrixView logits;  // where the graph leaves its (bucket, vocab) logits
    int64_t last_used = 0;
  };

  // Enabled unless LOCKSTEP_CUDA_GRAPHS=0 is set in the environment.
  explicit DecodeGraphCache(int max_graphs = kDefaultMaxGraphs);

  // Whether decode steps may use graphs (the backend must also SupportsGraphs()).
  bool enabled() const { return enabled_ && !failed_; }
  // Turns graphs on or off for this cache; LOCKSTEP_CUDA_GRAPHS=0 keeps them off.
  void set_enabled(bool enabled);
  int max_graphs() const { return max_graphs_; }
  // The largest batch its owner steps (RolloutEngine: max_batch_sequences); buckets are
  // capped there. 0 (the default): no cap.
  void set_max_batch(int max_batch) { max_batch_ = max_batch; }
  int BucketFor(int batch) const { return DecodeBatchBucket(batch, max_batch_); }
  int size() const { return static_cast<int>(entries_.size()); }
  const DecodeGraphStats& stats() const { return stats_; }
  // The buckets that hold a captured graph now, ascending.
  std::vector<int> captured_batches() const;
  DecodeGraphStats& mutable_stats() { return stats_; }

  // Drops every entry when `key` differs from the one they were made under.
  void Validate(const GraphKey& key);
  // The entry for bucket `batch` (marked most recently used), or null.
  Entry* Find(int batch);
  // A new entry for bucket `batch` (replacing any), evicting the least recently used past
  // the cap.
  Entry& Insert(int batch);
  // After a failed capture: says so once per process on stderr, drops every graph and
  // turns this cache off (the steps run eagerly, with the same bits).
  void DisableAfterFailure(const absl::Status& why);

 private:
  int max_graphs_;
  int max_batch_ = 0;
  bool enabled_ = true;
  bool failed_ = false;
  GraphKey key_;
  int64_t clock_ = 0;
  std::map<int, Entry> entries_;
  DecodeGraphStats stats_;
};

// Whether LOCKSTEP_CUDA_GRAPHS leaves graphs on (unset, or anything but "0").
bool GraphsAllowedByEnvironment();

}  // namespace lockstep::model
