#include "model/transformer.h"

#include <cmath>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/attention.h"
#include "numerics/cpu/elementwise.h"
#include "numerics/cpu/rmsnorm.h"
#include "numerics/status_macros.h"

namespace lockstep {
namespace {

cpu::LinearWeight Prepare(const Tensor& weight, const Tensor& bias) {
  return cpu::PrepareLinearWeight(weight.AsMatrix(), bias.numel() > 0 ? bias.data() : nullptr);
}

Tensor Rows(DType dtype, int64_t rows, int64_t cols) { return Tensor(dtype, {rows, cols}); }

}  // namespace

Transformer::Transformer(const ModelWeights& weights)
    : weights_(weights),
      rope_(weights.config.head_dim, weights.config.rope_theta,
            weights.config.max_position_embeddings) {}

cpu::AttentionShape Transformer::attention_shape() const {
  const ModelConfig& c = weights_.config;
  return cpu::AttentionShape{.num_heads = c.num_heads,
                             .num_kv_heads = c.num_kv_heads,
                             .head_dim = c.head_dim,
                             .scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim))};
}

absl::StatusOr<std::unique_ptr<Transformer>> Transformer::Create(const ModelWeights& weights) {
  LOCKSTEP_RETURN_IF_ERROR(weights.config.Validate());
  if (static_cast<int>(weights.layers.size()) != weights.config.num_layers) {
    return absl::InvalidArgumentError(
        "the model weights have a different number of layers than their config says");
  }
  std::unique_ptr<Transformer> model(new Transformer(weights));
  const Tensor none;
  for (const LayerWeights& layer : weights.layers) {
    model->layers_.push_back(PreparedLayer{
        .q = Prepare(layer.q_proj, layer.q_bias),
        .k = Prepare(layer.k_proj, layer.k_bias),
        .v = Prepare(layer.v_proj, layer.v_bias),
        .o = Prepare(layer.o_proj, none),
        .gate = Prepare(layer.gate_proj, none),
        .up = Prepare(layer.up_proj, none),
        .down = Prepare(layer.down_proj, none),
    });
  }
  model->lm_head_ = Prepare(weights.OutputEmbedding(), none);
  return model;
}

absl::Status Transformer::RunLayers(std::span<const int32_t> tokens,
                                    std::span<const int32_t> positions, const AttendFn& attend,
                                    Tensor* hidden, ForwardActivations* record) const {
  const ModelConfig& c = weights_.config;
  const DType dt = weights_.dtype;
  const int64_t rows = static_cast<int64_t>(tokens.size());
  for (int32_t p : positions) {
    if (p < 0 || p >= rope_.max_positions()) {
      return absl::OutOfRangeError(absl::StrCat("position ", p, " beyond max_position_embeddings ",
                                                rope_.max_positions()));
    }
  }
  const int64_t q_cols = int64_t{c.num_heads} * c.head_dim;
  const int64_t kv_cols = int64_t{c.num_kv_heads} * c.head_dim;
  *hidden = Rows(dt, rows, c.hidden_size);
  LOCKSTEP_RETURN_IF_ERROR(
      cpu::Embedding(weights_.embed_tokens.AsMatrix(), tokens, hidden->AsMatrix()));

  Tensor normed = Rows(dt, rows, c.hidden_size);
  Tensor q = Rows(dt, rows, q_cols), k = Rows(dt, rows, kv_cols), v = Rows(dt, rows, kv_cols);
  Tensor attn = Rows(dt, rows, q_cols), proj = Rows(dt, rows, c.hidden_size);
  Tensor gate = Rows(dt, rows, c.intermediate_size), up = Rows(dt, rows, c.intermediate_size);
  Tensor act = Rows(dt, rows, c.intermediate_size);

  for (int l = 0; l < c.num_layers; ++l) {
    const LayerWeights& w = weights_.layers[l];
    const PreparedLayer& pl = layers_[l];
    MatrixView x = hidden->AsMatrix();
    LayerActivations* saved = record ? &record->layers[l] : nullptr;
    if (saved) saved->x_in = *hidden;

    // Attention block: x += o_proj(attention(rope(norm(q)), rope(norm(k)), v)).
    LOCKSTEP_RETURN_IF_ERROR(
        cpu::RmsNorm(x, w.input_layernorm.AsMatrix(), c.rms_norm_eps, normed.AsMatrix()));
    LOCKSTEP_RETURN_IF_ERROR(cpu::Linear(normed.AsMatrix(), pl.q, q.AsMatrix()));
    LOCKSTEP_RETURN_IF_ERROR(cpu::Linear(normed.AsMatrix(), pl.k, k.AsMatrix()));
    LOCKSTEP_RETURN_IF_ERROR(cpu::Linear(normed.AsMatrix(), pl.v, v.AsMatrix()));
    if (saved) {
      saved->normed_attn = normed;
      saved->q_proj = q;
      saved->k_proj = k;
    }
    if (c.qk_norm) {
      // Qwen3: RMSNorm over each head's head_dim slice, before RoPE.
      MatrixView q_heads{dt, q.data(), rows * c.num_heads, c.head_dim, c.head_dim};
      MatrixView k_heads{dt, k.data(), rows * c.num_kv_heads, c.head_dim, c.head_dim};
      LOCKSTEP_RETURN_IF_ERROR(cpu::RmsNorm(q_heads, w.q_norm.AsMatrix(), c.rms_norm_eps, q_heads));
      LOCKSTEP_RETURN_IF_ERROR(cpu::RmsNorm(k_heads, w.k_norm.AsMatrix(), c.rms_norm_eps, k_heads));
    }
    LOCKSTEP_RETURN_IF_ERROR(cpu::ApplyRope(q.AsMatrix(), c.num_heads, positions, rope_));
    LOCKSTEP_RETURN_IF_ERROR(cpu::ApplyRope(k.AsMatrix(), c.num_kv_heads, positions, rope_));
    LOCKSTEP_RETURN_IF_ERROR(attend(l, q.AsMatrix(), k.AsMatrix(), v.AsMatrix(), attn.AsMatrix()));
    LOCKSTEP_RETURN_IF_ERROR(cpu::Linear(attn.AsMatrix(), pl.o, proj.AsMatrix()));
    LOCKSTEP_RETURN_IF_ERROR(cpu::AddResidual(x, proj.AsMatrix(), x));
    if (saved) {
      saved->q = q;
      saved->k = k;
      saved->v = v;
      saved->attn = attn;
      saved->x_mid = *hidden;
    }

    // MLP block: x += down(swiglu(gate(norm(x)), up(norm(x)))).
    LOCKSTEP_RETURN_IF_ERROR(cpu::RmsNorm(x, w.post_attention_layernorm.AsMatrix(),
                                          c.rms_norm_eps, normed.AsMatrix()));
    LOCKSTEP_RETURN_IF_ERROR(cpu::Linear(normed.AsMatrix(), pl.gate, gate.AsMatrix()));
    LOCKSTEP_RETURN_IF_ERROR(cpu::Linear(normed.AsMatrix(), pl.up, up.AsMatrix()));
    LOCKSTEP_RETURN_IF_ERROR(cpu::SwiGlu(gate.AsMatrix(), up.AsMatrix(), act.AsMatrix()));
    if (saved) {
      saved->normed_mlp = normed;
      saved->gate = gate;
      saved->up = up;
      saved->act = act;
    }
    LOCKSTEP_RETURN_IF_ERROR(cpu::Linear(act.AsMatrix(), pl.down, proj.AsMatrix()));
    LOCKSTEP_RETURN_IF_ERROR(cpu::AddResidual(x, proj.AsMatrix(), x));
  }
  return absl::OkStatus();
}

absl::Status Transformer::Logits(ConstMatrixView hidden_rows, Tensor* logits,
                                 Tensor* normed_out) const {
  const ModelConfig& c = weights_.config;
  Tensor normed = Rows(weights_.dtype, hidden_rows.rows, c.hidden_size);
  LOCKSTEP_RETURN_IF_ERROR(
      cpu::RmsNorm(hidden_rows, weights_.norm.AsMatrix(), c.rms_norm_eps, normed.AsMatrix()));
  *logits = Rows(weights_.dtype, hidden_rows.rows, c.vocab_size);
  LOCKSTEP_RETURN_IF_ERROR(cpu::Linear(normed.AsMatrix(), lm_head_, logits->AsMatrix()));
  if (normed_out != nullptr) *normed_out = std::move(normed);
  return absl::OkStatus();
}

absl::Status Transformer::ForwardSequences(std::span<const std::span<const int32_t>> sequences,
                                           Tensor* logits, ForwardActivations* record) const {
  std::vector<int32_t> tokens, positions;
  std::vector<RowRange> ranges;
  for (const auto& seq : sequences) {
    ranges.push_back({static_cast<int64_t>(tokens.size()), static_cast<int64_t>(seq.size())});
    for (size_t i = 0; i < seq.size(); ++i) {
      tokens.push_back(seq[i]);
      positions.push_back(static_cast<int32_t>(i));
    }
  }
  const cpu::AttentionShape shape = attention_shape();
  // The trainer's keys: each sequence's own K/V rows, contiguous.
  AttendFn attend = [&](int, ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                        MatrixView out) -> absl::Status {
    for (const RowRange& r : ranges) {
      if (r.count == 0) continue;
      LOCKSTEP_RETURN_IF_ERROR(cpu::CausalAttention(
          q.RowRange(r.row_begin, r.count), k.RowRange(r.row_begin, r.count),
          v.RowRange(r.row_begin, r.count), shape, out.RowRange(r.row_begin, r.count)));
    }
    return absl::OkStatus();
  };
  Tensor hidden;
  if (record != nullptr) {
    *record = ForwardActivations{};
    record->tokens = tokens;
    record->positions = positions;
    for (const RowRange& r : ranges) record->sequence_begin.push_back(r.row_begin);
    record->sequence_begin.push_back(static_cast<int64_t>(tokens.size()));
    record->layers.resize(static_cast<size_t>(weights_.config.num_layers));
  }
  LOCKSTEP_RETURN_IF_ERROR(RunLayers(tokens, positions, attend, &hidden, record));
  if (record != nullptr) {
    record->x_final = hidden;
    LOCKSTEP_RETURN_IF_ERROR(Logits(hidden.AsMatrix(), logits, &record->normed_final));
    return absl::OkStatus();
  }
  return Logits(hidden.AsMatrix(), logits);
}

absl::Status Transformer::ForwardStep(std::span<const StepEntry> entries, PagedKvCache& cache,
                                      Tensor* last_logits) const {
  std::vector<int32_t> tokens, positions;
  std::vector<RowRange> ranges;
  for (const StepEntry& e : entries) {
    if (e.tokens.empty()) return absl::InvalidArgumentError("a forward step entry has no tokens");
    if (!cache.Contains(e.sequence_id)) {
      return absl::FailedPreconditionError(
          absl::StrCat("sequence ", e.sequence_id,
                       " has no KV cache reservation (reserve before the step)"));
    }
    ranges.push_back({static_cast<int64_t>(tokens.size()), static_cast<int64_t>(e.tokens.size())});
    for (size_t i = 0; i < e.tokens.size(); ++i) {
      tokens.push_back(e.tokens[i]);
      positions.push_back(static_cast<int32_t>(e.start_position + static_cast<int64_t>(i)));
    }
  }
  const cpu::AttentionShape shape = attention_shape();
  // The rollout's keys: the paged cache, after this step's rows are written.
  AttendFn attend = [&](int layer, ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                        MatrixView out) -> absl::Status {
    for (size_t e = 0; e < entries.size(); ++e) {
      const RowRange& r = ranges[e];
      for (int64_t i = 0; i < r.count; ++i) {
        LOCKSTEP_RETURN_IF_ERROR(cache.WriteRow(layer, entries[e].sequence_id,
                                                positions[r.row_begin + i],
                                                k.RowRange(r.row_begin + i, 1),
                                                v.RowRange(r.row_begin + i, 1)));
      }
      LOCKSTEP_RETURN_IF_ERROR(cpu::AttentionOverKv(
          q.RowRange(r.row_begin, r.count),
          std::span<const int32_t>(positions).subspan(r.row_begin, r.count),
          cache.Source(layer, entries[e].sequence_id), shape, out.RowRange(r.row_begin, r.count)));
    }
    return absl::OkStatus();
  };
  Tensor hidden;
  LOCKSTEP_RETURN_IF_ERROR(RunLayers(tokens, positions, attend, &hidden, nullptr));
  // Only the last new row of each entry needs logits (the next token's distribution).
  const int64_t hidden_size = weights_.config.hidden_size;
  Tensor last_hidden(weights_.dtype, {static_cast<int64_t>(entries.size()), hidden_size});
  const size_t row_bytes = static_cast<size_t>(hidden_size) * DTypeSize(weights_.dtype);
  for (size_t e = 0; e < entries.size(); ++e) {
    std::memcpy(last_hidden.AsMatrix().RowPtr(static_cast<int64_t>(e)),
                hidden.AsMatrix().RowPtr(ranges[e].row_begin + ranges[e].count - 1), row_bytes);
  }
  return Logits(last_hidden.AsMatrix(), last_logits);
}

}  // namespace lockstep
