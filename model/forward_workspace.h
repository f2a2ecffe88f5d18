// The activation and index buffers of one caller's forward passes on a Backend (a rollout
// engine's steps, a trainer's micro-batches). Buffers are reused from step to step and only
// reallocated, geometrically larger, when a bigger batch arrives, so steady-state steps make
// no device allocation (on CUDA one is a cudaMalloc, and it would break graph capture).
// Index arrays are built on the host in the reusable vectors below and copied into the
// device buffers once per step. It also keeps the captured decode-step graphs
// (model/decode_graphs.h), which point into its activation buffers: buffer_generation()
// changes whenever one of those moves. Not thread-safe: one workspace per concurrent caller.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "model/decode_graphs.h"
#include "model/kv_cache.h"
#include "numerics/backend.h"

namespace lockstep {

class ForwardWorkspace {
 public:
  // Activations: one buffer each, (rows, features) in the model's storage dtype.
  enum Matrix : int {
    kHidden, kNormed, kQ, kK, kV, kAttn, kProj, kGate, kUp, kAct,
    kLastHidden, kFinalNormed, kLogits, kScoredLogits, kNumMatrices
  };
  // Index arrays copied from the host once per step.
  enum Indices : int {
    kTokens, kPositions, kQueryIndptr, kPageIndptr, kPageIndices, kSlots, kLastRows,
    kScoredRows, kNumIndices
  };

  explicit ForwardWorkspace(Backend& backend) : backend_(&backend) {}

  Backend& backend() const { return *backend_; }
  // A dense (rows, cols) matrix of `dtype` in buffer `which`; its contents are whatever the
  // last user left. Reallocates only when the buffer is too small (to at least twice its rows).
  absl::StatusOr<MatrixView> Get(Matrix which, DType dtype, int64_t rows, int64_t cols);
  // Copies `host` into buffer `which` (grown like Get) and returns the device view of it.
  absl::StatusOr<Int32View> Put(Indices which, std::span<const int32_t> host);
  // A device int32 array of `size` owned by the caller (a graph's packed indices); counted
  // in allocations().
  absl::StatusOr<DeviceInt32s> AllocateIndices(int64_t size);
  // Device allocations made so far (tests check steady-state steps add none).
  int64_t allocations() const { return allocations_; }
  // Changes whenever an activation (Matrix) buffer is reallocated.
  int64_t buffer_generation() const { return buffer_generation_; }
  model::DecodeGraphCache& decode_graphs() { return decode_graphs_; }
  const model::DecodeGraphCache& decode_graphs() const { return decode_graphs_; }

  // Host scratch for building one step's index arrays, reused to avoid host allocations.
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;
  std::vector<int32_t> last_rows;
  std::vector<KvStepRows> step_rows;
  KvStepIndices step_indices;
  std::vector<int32_t> packed_indices;  // a graphed decode step's indices, one copy

 private:
  Backend* backend_;
  std::array<DeviceTensor, kNumMatrices> matrices_;
  std::array<DeviceInt32s, kNumIndices> indices_;
  int64_t allocations_ = 0;
  int64_t buffer_generation_ = 0;
  // Declared last: its graphs are destroyed before the buffers they point into.
  model::DecodeGraphCache decode_graphs_;
};

}  // namespace lockstep
