// The decoder forward pass shared by the trainer and the rollout engine.
// Both entry points run the same per-row ops from numerics/cpu in the same
// order; they differ only in where attention finds its keys (the sequence's
// own K/V for the trainer, the paged KV cache for the rollout). Guarantee:
// the logits of a token depend only on the weights and on that token's
// sequence prefix — not on the batch, the schedule, or which entry point ran.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "numerics/cpu/attention.h"
#include "numerics/cpu/linear.h"
#include "numerics/cpu/rope.h"

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
  // Prepares the weights for repeated use; `weights` must outlive the Transformer.
  static absl::StatusOr<std::unique_ptr<Transformer>> Create(const ModelWeights& weights);

  const ModelConfig& config() const { return weights_.config; }
  DType dtype() const { return weights_.dtype; }
  int max_positions() const { return rope_.max_positions(); }

  // Trainer side: full-sequence causal forward of several sequences at once.
  // logits: (Σ len, vocab) in the storage dtype, rows in sequence order.
  // With `record`, also saves every activation the backward pass needs (the
  // logits are the same bits either way).
  absl::Status ForwardSequences(std::span<const std::span<const int32_t>> sequences,
                                Tensor* logits, ForwardActivations* record = nullptr) const;

  // The prepared weights, for the backward pass.
  const ModelWeights& weights() const { return weights_; }
  const cpu::LinearWeight& q_proj(int layer) const { return layers_[layer].q; }
  const cpu::LinearWeight& k_proj(int layer) const { return layers_[layer].k; }
  const cpu::LinearWeight& v_proj(int layer) const { return layers_[layer].v; }
  const cpu::LinearWeight& o_proj(int layer) const { return layers_[layer].o; }
  const cpu::LinearWeight& gate_proj(int layer) const { return layers_[layer].gate; }
  const cpu::LinearWeight& up_proj(int layer) const { return layers_[layer].up; }
  const cpu::LinearWeight& down_proj(int layer) const { return layers_[layer].down; }
  const cpu::LinearWeight& lm_head() const { return lm_head_; }
  const cpu::RopeTable& rope() const { return rope_; }
  // Heads, head_dim and the 1/sqrt(head_dim) scale every attention call uses.
  cpu::AttentionShape attention_shape() const;

  // Rollout side: one engine step. Writes every new token's K/V into `cache`
  // (which must have room reserved) and returns the logits of the LAST new
  // token of each entry: (entries, vocab).
  absl::Status ForwardStep(std::span<const StepEntry> entries, PagedKvCache& cache,
                           Tensor* last_logits) const;

 private:
  struct PreparedLayer {
    cpu::LinearWeight q, k, v, o, gate, up, down;
  };
  // A packed batch of rows: which sequence each row range belongs to and where.
  struct RowRange {
    int64_t row_begin = 0;
    int64_t count = 0;
  };
  // Attention of one layer over the packed rows: (layer, q, k, v, out), with
  // q/k/v after RoPE. The trainer and the rollout pass different sources.
  using AttendFn = std::function<absl::Status(int layer, ConstMatrixView q, ConstMatrixView k,
                                              ConstMatrixView v, MatrixView out)>;

  explicit Transformer(const ModelWeights& weights);
  absl::Status RunLayers(std::span<const int32_t> tokens, std::span<const int32_t> positions,
                         const AttendFn& attend, Tensor* hidden,
                         ForwardActivations* record) const;
  absl::Status Logits(ConstMatrixView hidden_rows, Tensor* logits,
                      Tensor* normed_out = nullptr) const;

  const ModelWeights& weights_;
  std::vector<PreparedLayer> layers_;
  cpu::LinearWeight lm_head_;
  cpu::RopeTable rope_;
};

}  // namespace lockstep
