// The decoder forward pass shared by the trainer and the rollout engine, on one Backend
// (numerics/backend.h): this file is the one place that sequences the model's ops. Both
// entry points run the same packed-batch ops in the same order; they differ only in where
// attention finds its keys (each sequence's own K/V for the trainer, the paged KV cache for
// the rollout). Guarantee: the logits of a token depend only on the weights and on that
// token's sequence prefix — not on the batch, the schedule, or which entry point ran.
// Weights live on the backend (uploaded once by Create); activations live in a
// ForwardWorkspace; only the convenience overloads that return host Tensors copy to the host.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/forward_workspace.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "numerics/attention_shape.h"
#include "numerics/backend.h"
#include "numerics/rope_table.h"

namespace lockstep {

// One sequence's share of a rollout step: `tokens` are appended at positions
// start_position, start_position+1, ... (a whole prompt, or one decoded token).
struct StepEntry {
  int64_t sequence_id = 0;
  int64_t start_position = 0;
  std::span<const int32_t> tokens;
};

// Activations of one layer, saved by the trainer's forward for the backward
// pass (each (rows, features) in the storage dtype, exactly what the ops read).
struct LayerActivations {
  Tensor x_in;            // residual stream entering the layer
  Tensor normed_attn;     // input_layernorm(x_in)
  Tensor q_proj, k_proj;  // projections before q/k norm and RoPE
  Tensor q, k, v;         // what attention read (after q/k norm and RoPE)
  Tensor attn;            // attention output, before o_proj
  Tensor x_mid;           // residual stream after the attention block
  Tensor normed_mlp;      // post_attention_layernorm(x_mid)
  Tensor gate, up, act;   // MLP intermediates
};

struct ForwardActivations {
  std::vector<int32_t> tokens;          // packed rows
  std::vector<int32_t> positions;
  std::vector<int64_t> sequence_begin;  // first row of each sequence (+ total at the end)
  std::vector<LayerActivations> layers;
  Tensor x_final;       // residual stream before the final norm
  Tensor normed_final;  // the LM head's input
};

class Transformer {
 public:
  // Uploads the weights to `backend` (embedding table, norms, prepared linears, rope
  // factors); `weights` and `backend` must outlive the Transformer.
  static absl::StatusOr<std::unique_ptr<Transformer>> Create(const ModelWeights& weights,
                                                             Backend& backend);
  // The same on the process-wide CPU backend (cpu::ProcessCpuBackend()).
  static absl::StatusOr<std::unique_ptr<Transformer>> Create(const ModelWeights& weights);

  const ModelConfig& config() const { return weights_.config; }
  DType dtype() const { return weights_.dtype; }
  int max_positions() const { return rope_.max_positions(); }
  Backend& backend() const { return *backend_; }

  // Trainer side: full-sequence causal forward of several sequences at once.
  // logits: (Σ len, vocab) in the storage dtype, rows in sequence order, in `workspace`
  // on the backend (valid until the workspace's next use).
  // With `record`, also saves (on the host) every activation the backward pass needs (the
  // logits are the same bits either way).
  absl::Status ForwardSequences(std::span<const std::span<const int32_t>> sequences,
                                ForwardWorkspace& workspace, ConstMatrixView* logits,
                                ForwardActivations* record = nullptr) const;
  // The same with a one-off workspace, logits copied to a host Tensor.
  absl::Status ForwardSequences(std::span<const std::span<const int32_t>> sequences,
                                Tensor* logits, ForwardActivations* record = nullptr) const;

  // Rollout side: one engine step. Writes every new token's K/V into `cache` (which must be
  // on this model's backend and have room reserved) and returns the logits of the LAST new
  // token of each entry: (entries, vocab), in `workspace` on the backend.
  // Decode-only steps (one token per entry) on a backend that SupportsGraphs, with the
  // workspace's decode_graphs() enabled, run as captured graphs per batch-size bucket: B
  // entries run as DecodeBatchBucket(B) rows (model/decode_graphs.h), the extra rows dummies
  // at position 0 on the cache's scratch page; the first step at a bucket runs eagerly, the
  // second captures and replays, later ones copy their indices and replay. Every op is
  // batch-invariant, so the entries' logits and KV rows have the same bits either way and
  // the dummies' are dropped (*last_logits has B rows). In NumericsMode::kFast (not
  // batch-invariant) the bucket is B itself: graphs per exact batch size, no padding.
  absl::Status ForwardStep(std::span<const StepEntry> entries, PagedKvCache& cache,
                           ForwardWorkspace& workspace, ConstMatrixView* last_logits) const;
  // The same with a one-off workspace, logits copied to a host Tensor.
  absl::Status ForwardStep(std::span<const StepEntry> entries, PagedKvCache& cache,
                           Tensor* last_logits) const;

  // The prepared weights, for the backward pass (trainer/model_backward.cc reads the CPU
  // backend's through cpu::AsCpuLinearWeight).
  const ModelWeights& weights() const { return weights_; }
  const PreparedLinear& q_proj(int layer) const { return *layers_[layer].q; }
  const PreparedLinear& k_proj(int layer) const { return *layers_[layer].k; }
  const PreparedLinear& v_proj(int layer) const { return *layers_[layer].v; }
  const PreparedLinear& o_proj(int layer) const { return *layers_[layer].o; }
  const PreparedLinear& gate_proj(int layer) const { return *layers_[layer].gate; }
  const PreparedLinear& up_proj(int layer) const { return *layers_[layer].up; }
  const PreparedLinear& down_proj(int layer) const { return *layers_[layer].down; }
  const PreparedLinear& lm_head() const { return *lm_head_; }
  const RopeTable& rope() const { return rope_; }  // the host table the backend's came from
  // Heads, head_dim and the 1/sqrt(head_dim) scale every attention call uses.
  AttentionShape attention_shape() const;

 private:
  struct PreparedLayer {
    DeviceTensor input_layernorm, post_attention_layernorm, q_norm, k_norm;  // (1, n)
    std::unique_ptr<PreparedLinear> q, k, v, o, gate, up, down;
  };
  // Attention of one layer over the packed rows: (layer, q, k, v, out), with
  // q/k/v after RoPE. The trainer and the rollout pass different sources.
  using AttendFn = std::function<absl::Status(int layer, ConstMatrixView q, ConstMatrixView k,
                                              ConstMatrixView v, MatrixView out)>;

  // Device views of one step's index arrays (batch.positions: one per new row).
  struct StepIndexViews {
    Int32View tokens, slots, last_rows;
    PagedBatchView batch;
  };

  Transformer(const ModelWeights& weights, Backend& backend);
  // ForwardStep's parts: host index arrays into ws (checked); their upload into ws's index
  // buffers; the device work over given views; the two together.
  absl::Status BuildStepIndices(std::span<const StepEntry> entries, const PagedKvCache& cache,
                                ForwardWorkspace& ws) const;
  absl::Status UploadStepIndices(ForwardWorkspace& ws, StepIndexViews* views) const;
  absl::Status EnqueueStep(ForwardWorkspace& ws, PagedKvCache& cache,
                           const StepIndexViews& views, ConstMatrixView* last_logits) const;
  absl::Status EagerStep(ForwardWorkspace& ws, PagedKvCache& cache,
                         ConstMatrixView* last_logits) const;
  // A decode-only step through ws.decode_graphs() (eager, capture or replay), padded to its
  // bucket.
  absl::Status GraphedDecodeStep(ForwardWorkspace& ws, PagedKvCache& cache,
                                 ConstMatrixView* last_logits) const;
  // Appends dummy rows to ws's host indices (built by BuildStepIndices) until the step has
  // `bucket` entries (PagedKvCache::AppendScratchRows).
  void PadDecodeStep(ForwardWorkspace& ws, const PagedKvCache& cache, int bucket) const;
  model::GraphKey GraphKeyFor(const ForwardWorkspace& ws, const PagedKvCache& cache) const;
  // Packs ws's host indices and copies them into a graph's index array (layout in
  // transformer.cc); PackedViews are the device views into it.
  absl::Status CopyPackedIndices(ForwardWorkspace& ws, int64_t page_capacity,
                                 DeviceInt32s& device) const;
  static StepIndexViews PackedViews(const DeviceInt32s& device, int64_t batch,
                                    int64_t page_capacity);
  absl::Status Upload(const ModelWeights& weights);
  absl::Status CheckPositions(std::span<const int32_t> positions) const;
  // Checks ws.positions and copies ws.tokens / ws.positions to the device.
  absl::Status UploadRows(ForwardWorkspace& ws, Int32View* tokens, Int32View* positions) const;
  // Runs the layers over the packed rows; the residual stream ends in *hidden (a workspace
  // buffer).
  absl::Status RunLayers(ForwardWorkspace& ws, Int32View tokens, Int32View positions,
                         const AttendFn& attend, MatrixView* hidden,
                         ForwardActivations* record) const;
  // Final norm + LM head of `hidden_rows` into the workspace's logits buffer.
  absl::Status Logits(ForwardWorkspace& ws, ConstMatrixView hidden_rows, ConstMatrixView* logits,
                      Tensor* normed_out = nullptr) const;
  absl::Status ToHost(ConstMatrixView src, Tensor* dst) const;

  const ModelWeights& weights_;
  Backend* backend_;
  RopeTable rope_;
  std::unique_ptr<PreparedRope> rope_prepared_;
  DeviceTensor embed_tokens_;  // (vocab, hidden)
  DeviceTensor final_norm_;    // (1, hidden)
  std::vector<PreparedLayer> layers_;
  std::unique_ptr<PreparedLinear> lm_head_;
};

}  // namespace lockstep
