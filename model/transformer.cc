#include "model/transformer.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/cpu_backend.h"
#include "numerics/status_macros.h"

namespace lockstep {
namespace {

using WS = ForwardWorkspace;

// A rank-1 (or empty) host tensor as the (1, n) view PrepareLinear / RmsNorm take; the
// empty view (rows == 0) when absent.
ConstMatrixView RowOrNone(const Tensor& t) {
  return t.numel() > 0 ? t.AsMatrix() : ConstMatrixView();
}

}  // namespace

Transformer::Transformer(const ModelWeights& weights, Backend& backend)
    : weights_(weights),
      backend_(&backend),
      rope_(weights.config.head_dim,
            RopeInverseFrequencies(weights.config.head_dim, weights.config.rope_theta,
                                   weights.config.rope_scaling),
            weights.config.max_position_embeddings) {}

AttentionShape Transformer::attention_shape() const {
  const ModelConfig& c = weights_.config;
  return AttentionShape{.num_heads = c.num_heads,
                        .num_kv_heads = c.num_kv_heads,
                        .head_dim = c.head_dim,
                        .scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim))};
}

absl::StatusOr<std::unique_ptr<Transformer>> Transformer::Create(const ModelWeights& weights) {
  return Create(weights, cpu::ProcessCpuBackend());
}

absl::StatusOr<std::unique_ptr<Transformer>> Transformer::Create(const ModelWeights& weights,
                                                                 Backend& backend) {
  LOCKSTEP_RETURN_IF_ERROR(weights.config.Validate());
  if (static_cast<int>(weights.layers.size()) != weights.config.num_layers) {
    return absl::InvalidArgumentError(
        "the model weights have a different number of layers than their config says");
  }
  std::unique_ptr<Transformer> model(new Transformer(weights, backend));
  LOCKSTEP_RETURN_IF_ERROR(model->Upload(weights));
  return model;
}

absl::Status Transformer::Upload(const ModelWeights& weights) {
  Backend& b = *backend_;
  const ConstMatrixView none;
  auto upload_row = [&](const Tensor& t, DeviceTensor* out) -> absl::Status {
    if (t.numel() == 0) return absl::OkStatus();
    LOCKSTEP_ASSIGN_OR_RETURN(*out, b.Upload(t.AsMatrix()));
    return absl::OkStatus();
  };
  LOCKSTEP_ASSIGN_OR_RETURN(embed_tokens_, b.Upload(weights.embed_tokens.AsMatrix()));
  LOCKSTEP_RETURN_IF_ERROR(upload_row(weights.norm, &final_norm_));
  for (const LayerWeights& w : weights.layers) {
    PreparedLayer layer;
    LOCKSTEP_RETURN_IF_ERROR(upload_row(w.input_layernorm, &layer.input_layernorm));
    LOCKSTEP_RETURN_IF_ERROR(upload_row(w.post_attention_layernorm, &layer.post_attention_layernorm));
    LOCKSTEP_RETURN_IF_ERROR(upload_row(w.q_norm, &layer.q_norm));
    LOCKSTEP_RETURN_IF_ERROR(upload_row(w.k_norm, &layer.k_norm));
    LOCKSTEP_ASSIGN_OR_RETURN(layer.q, b.PrepareLinear(w.q_proj.AsMatrix(), RowOrNone(w.q_bias)));
    LOCKSTEP_ASSIGN_OR_RETURN(layer.k, b.PrepareLinear(w.k_proj.AsMatrix(), RowOrNone(w.k_bias)));
    LOCKSTEP_ASSIGN_OR_RETURN(layer.v, b.PrepareLinear(w.v_proj.AsMatrix(), RowOrNone(w.v_bias)));
    LOCKSTEP_ASSIGN_OR_RETURN(layer.o, b.PrepareLinear(w.o_proj.AsMatrix(), none));
    LOCKSTEP_ASSIGN_OR_RETURN(layer.gate, b.PrepareLinear(w.gate_proj.AsMatrix(), none));
    LOCKSTEP_ASSIGN_OR_RETURN(layer.up, b.PrepareLinear(w.up_proj.AsMatrix(), none));
    LOCKSTEP_ASSIGN_OR_RETURN(layer.down, b.PrepareLinear(w.down_proj.AsMatrix(), none));
    layers_.push_back(std::move(layer));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(lm_head_, b.PrepareLinear(weights.OutputEmbedding().AsMatrix(), none));
  LOCKSTEP_ASSIGN_OR_RETURN(rope_prepared_, b.PrepareRope(rope_));
  return absl::OkStatus();
}

absl::Status Transformer::CheckPositions(std::span<const int32_t> positions) const {
  for (int32_t p : positions) {
    if (p < 0 || p >= rope_.max_positions()) {
      return absl::OutOfRangeError(absl::StrCat("position ", p, " beyond max_position_embeddings ",
                                                rope_.max_positions()));
    }
  }
  return absl::OkStatus();
}

absl::Status Transformer::ToHost(ConstMatrixView src, Tensor* dst) const {
  *dst = Tensor(src.dtype, {src.rows, src.cols});
  return backend_->CopyToHost(src, dst->AsMatrix());
}

absl::Status Transformer::UploadRows(ForwardWorkspace& ws, Int32View* tokens,
                                     Int32View* positions) const {
  LOCKSTEP_RETURN_IF_ERROR(CheckPositions(ws.positions));
  LOCKSTEP_ASSIGN_OR_RETURN(*tokens, ws.Put(WS::kTokens, ws.tokens));
  LOCKSTEP_ASSIGN_OR_RETURN(*positions, ws.Put(WS::kPositions, ws.positions));
  return absl::OkStatus();
}

absl::Status Transformer::RunLayers(ForwardWorkspace& ws, Int32View tokens, Int32View positions,
                                    const AttendFn& attend, MatrixView* hidden,
                                    ForwardActivations* record) const {
  const ModelConfig& c = weights_.config;
  const DType dt = weights_.dtype;
  Backend& b = *backend_;
  const int64_t rows = tokens.size;
  const int64_t q_cols = int64_t{c.num_heads} * c.head_dim;
  const int64_t kv_cols = int64_t{c.num_kv_heads} * c.head_dim;
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView x, ws.Get(WS::kHidden, dt, rows, c.hidden_size));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView normed, ws.Get(WS::kNormed, dt, rows, c.hidden_size));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView q, ws.Get(WS::kQ, dt, rows, q_cols));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView k, ws.Get(WS::kK, dt, rows, kv_cols));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView v, ws.Get(WS::kV, dt, rows, kv_cols));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView attn, ws.Get(WS::kAttn, dt, rows, q_cols));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView proj, ws.Get(WS::kProj, dt, rows, c.hidden_size));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView gate,
                            ws.Get(WS::kGate, dt, rows, c.intermediate_size));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView up, ws.Get(WS::kUp, dt, rows, c.intermediate_size));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView act, ws.Get(WS::kAct, dt, rows, c.intermediate_size));
  LOCKSTEP_RETURN_IF_ERROR(b.Embedding(embed_tokens_.view(), tokens, x));

  for (int l = 0; l < c.num_layers; ++l) {
    const PreparedLayer& w = layers_[l];
    LayerActivations* saved = record ? &record->layers[l] : nullptr;
    if (saved) LOCKSTEP_RETURN_IF_ERROR(ToHost(x, &saved->x_in));

    // Attention block: x += o_proj(attention(rope(norm(q)), rope(norm(k)), v)).
    LOCKSTEP_RETURN_IF_ERROR(b.RmsNorm(x, w.input_layernorm.view(), c.rms_norm_eps, normed));
    LOCKSTEP_RETURN_IF_ERROR(b.Linear(normed, *w.q, q));
    LOCKSTEP_RETURN_IF_ERROR(b.Linear(normed, *w.k, k));
    LOCKSTEP_RETURN_IF_ERROR(b.Linear(normed, *w.v, v));
    if (saved) {
      LOCKSTEP_RETURN_IF_ERROR(ToHost(normed, &saved->normed_attn));
      LOCKSTEP_RETURN_IF_ERROR(ToHost(q, &saved->q_proj));
      LOCKSTEP_RETURN_IF_ERROR(ToHost(k, &saved->k_proj));
    }
    if (c.qk_norm) {
      // Qwen3: RMSNorm over each head's head_dim slice, before RoPE.
      const MatrixView q_heads{dt, q.data, rows * c.num_heads, c.head_dim, c.head_dim, q.device};
      const MatrixView k_heads{dt, k.data, rows * c.num_kv_heads, c.head_dim, c.head_dim,
                               k.device};
      LOCKSTEP_RETURN_IF_ERROR(b.RmsNorm(q_heads, w.q_norm.view(), c.rms_norm_eps, q_heads));
      LOCKSTEP_RETURN_IF_ERROR(b.RmsNorm(k_heads, w.k_norm.view(), c.rms_norm_eps, k_heads));
    }
    LOCKSTEP_RETURN_IF_ERROR(b.ApplyRope(q, c.num_heads, positions, *rope_prepared_));
    LOCKSTEP_RETURN_IF_ERROR(b.ApplyRope(k, c.num_kv_heads, positions, *rope_prepared_));
    LOCKSTEP_RETURN_IF_ERROR(attend(l, q, k, v, attn));
    LOCKSTEP_RETURN_IF_ERROR(b.Linear(attn, *w.o, proj));
    if (saved) {
      LOCKSTEP_RETURN_IF_ERROR(ToHost(q, &saved->q));
      LOCKSTEP_RETURN_IF_ERROR(ToHost(k, &saved->k));
      LOCKSTEP_RETURN_IF_ERROR(ToHost(v, &saved->v));
      LOCKSTEP_RETURN_IF_ERROR(ToHost(attn, &saved->attn));
    }
    LOCKSTEP_RETURN_IF_ERROR(b.AddResidual(x, proj, x));
    if (saved) LOCKSTEP_RETURN_IF_ERROR(ToHost(x, &saved->x_mid));

    // MLP block: x += down(swiglu(gate(norm(x)), up(norm(x)))).
    LOCKSTEP_RETURN_IF_ERROR(
        b.RmsNorm(x, w.post_attention_layernorm.view(), c.rms_norm_eps, normed));
    LOCKSTEP_RETURN_IF_ERROR(b.Linear(normed, *w.gate, gate));
    LOCKSTEP_RETURN_IF_ERROR(b.Linear(normed, *w.up, up));
    LOCKSTEP_RETURN_IF_ERROR(b.SwiGlu(gate, up, act));
    if (saved) {
      LOCKSTEP_RETURN_IF_ERROR(ToHost(normed, &saved->normed_mlp));
      LOCKSTEP_RETURN_IF_ERROR(ToHost(gate, &saved->gate));
      LOCKSTEP_RETURN_IF_ERROR(ToHost(up, &saved->up));
      LOCKSTEP_RETURN_IF_ERROR(ToHost(act, &saved->act));
    }
    LOCKSTEP_RETURN_IF_ERROR(b.Linear(act, *w.down, proj));
    LOCKSTEP_RETURN_IF_ERROR(b.AddResidual(x, proj, x));
  }
  *hidden = x;
  return absl::OkStatus();
}

absl::Status Transformer::Logits(ForwardWorkspace& ws, ConstMatrixView hidden_rows,
                                 ConstMatrixView* logits, Tensor* normed_out) const {
  const ModelConfig& c = weights_.config;
  LOCKSTEP_ASSIGN_OR_RETURN(
      const MatrixView normed,
      ws.Get(WS::kFinalNormed, weights_.dtype, hidden_rows.rows, c.hidden_size));
  LOCKSTEP_RETURN_IF_ERROR(
      backend_->RmsNorm(hidden_rows, final_norm_.view(), c.rms_norm_eps, normed));
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView out,
                            ws.Get(WS::kLogits, weights_.dtype, hidden_rows.rows, c.vocab_size));
  LOCKSTEP_RETURN_IF_ERROR(backend_->Linear(normed, *lm_head_, out));
  if (normed_out != nullptr) LOCKSTEP_RETURN_IF_ERROR(ToHost(normed, normed_out));
  *logits = out;
  return absl::OkStatus();
}

absl::Status Transformer::ForwardSequences(std::span<const std::span<const int32_t>> sequences,
                                           ForwardWorkspace& ws, ConstMatrixView* logits,
                                           ForwardActivations* record) const {
  if (&ws.backend() != backend_) {
    return absl::InvalidArgumentError("ForwardSequences: the workspace is on another backend");
  }
  ws.tokens.clear();
  ws.positions.clear();
  std::vector<int32_t> sequence_indptr = {0};
  for (const auto& seq : sequences) {
    for (size_t i = 0; i < seq.size(); ++i) {
      ws.tokens.push_back(seq[i]);
      ws.positions.push_back(static_cast<int32_t>(i));
    }
    sequence_indptr.push_back(static_cast<int32_t>(ws.tokens.size()));
  }
  const AttentionShape shape = attention_shape();
  // The trainer's keys: each sequence's own K/V rows, contiguous.
  const AttendFn attend = [&](int, ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                              MatrixView out) {
    return backend_->CausalAttention(q, k, v, sequence_indptr, shape, out);
  };
  if (record != nullptr) {
    *record = ForwardActivations{};
    record->tokens = ws.tokens;
    record->positions = ws.positions;
    record->sequence_begin.assign(sequence_indptr.begin(), sequence_indptr.end());
    record->layers.resize(static_cast<size_t>(weights_.config.num_layers));
  }
  Int32View tokens, positions;
  LOCKSTEP_RETURN_IF_ERROR(UploadRows(ws, &tokens, &positions));
  MatrixView hidden;
  LOCKSTEP_RETURN_IF_ERROR(RunLayers(ws, tokens, positions, attend, &hidden, record));
  if (record != nullptr) {
    LOCKSTEP_RETURN_IF_ERROR(ToHost(hidden, &record->x_final));
    return Logits(ws, hidden, logits, &record->normed_final);
  }
  return Logits(ws, hidden, logits);
}

absl::Status Transformer::ForwardSequences(std::span<const std::span<const int32_t>> sequences,
                                           Tensor* logits, ForwardActivations* record) const {
  ForwardWorkspace ws(*backend_);
  ConstMatrixView device_logits;
  LOCKSTEP_RETURN_IF_ERROR(ForwardSequences(sequences, ws, &device_logits, record));
  return ToHost(device_logits, logits);
}

absl::Status Transformer::BuildStepIndices(std::span<const StepEntry> entries,
                                           const PagedKvCache& cache, ForwardWorkspace& ws) const {
  ws.tokens.clear();
  ws.last_rows.clear();
  ws.step_rows.clear();
  for (const StepEntry& e : entries) {
    if (e.tokens.empty()) return absl::InvalidArgumentError("a forward step entry has no tokens");
    ws.step_rows.push_back({.sequence_id = e.sequence_id,
                            .start_position = e.start_position,
                            .count = static_cast<int64_t>(e.tokens.size())});
    ws.tokens.insert(ws.tokens.end(), e.tokens.begin(), e.tokens.end());
    ws.last_rows.push_back(static_cast<int32_t>(ws.tokens.size()) - 1);
  }
  LOCKSTEP_RETURN_IF_ERROR(cache.BuildStep(ws.step_rows, &ws.step_indices));
  ws.positions.assign(ws.step_indices.positions.begin(), ws.step_indices.positions.end());
  return CheckPositions(ws.positions);
}

absl::Status Transformer::UploadStepIndices(ForwardWorkspace& ws, StepIndexViews* views) const {
  const KvStepIndices& idx = ws.step_indices;
  LOCKSTEP_ASSIGN_OR_RETURN(views->tokens, ws.Put(WS::kTokens, ws.tokens));
  LOCKSTEP_ASSIGN_OR_RETURN(views->batch.positions, ws.Put(WS::kPositions, ws.positions));
  views->batch.num_sequences = static_cast<int>(ws.last_rows.size());
  LOCKSTEP_ASSIGN_OR_RETURN(views->batch.query_indptr, ws.Put(WS::kQueryIndptr, idx.query_indptr));
  LOCKSTEP_ASSIGN_OR_RETURN(views->batch.page_indptr, ws.Put(WS::kPageIndptr, idx.page_indptr));
  LOCKSTEP_ASSIGN_OR_RETURN(views->batch.page_indices, ws.Put(WS::kPageIndices, idx.page_indices));
  LOCKSTEP_ASSIGN_OR_RETURN(views->slots, ws.Put(WS::kSlots, idx.slots));
  LOCKSTEP_ASSIGN_OR_RETURN(views->last_rows, ws.Put(WS::kLastRows, ws.last_rows));
  return absl::OkStatus();
}

absl::Status Transformer::EnqueueStep(ForwardWorkspace& ws, PagedKvCache& cache,
                                      const StepIndexViews& views,
                                      ConstMatrixView* last_logits) const {
  const AttentionShape shape = attention_shape();
  // The rollout's keys: the paged cache, after this step's rows are written.
  const AttendFn attend = [&](int layer, ConstMatrixView q, ConstMatrixView k, ConstMatrixView v,
                              MatrixView out) -> absl::Status {
    const KvPoolView pool = cache.pool(layer);
    LOCKSTEP_RETURN_IF_ERROR(backend_->WriteKv(k, v, views.slots, pool));
    return backend_->PagedAttention(q, pool, views.batch, shape, out);
  };
  MatrixView hidden;
  LOCKSTEP_RETURN_IF_ERROR(
      RunLayers(ws, views.tokens, views.batch.positions, attend, &hidden, nullptr));
  // Only the last new row of each entry needs logits (the next token's distribution).
  LOCKSTEP_ASSIGN_OR_RETURN(const MatrixView last_hidden,
                            ws.Get(WS::kLastHidden, weights_.dtype, views.last_rows.size,
                                   weights_.config.hidden_size));
  LOCKSTEP_RETURN_IF_ERROR(backend_->GatherRows(hidden, views.last_rows, last_hidden));
  return Logits(ws, last_hidden, last_logits);
}

absl::Status Transformer::EagerStep(ForwardWorkspace& ws, PagedKvCache& cache,
                                    ConstMatrixView* last_logits) const {
  StepIndexViews views;
  LOCKSTEP_RETURN_IF_ERROR(UploadStepIndices(ws, &views));
  return EnqueueStep(ws, cache, views, last_logits);
}

absl::Status Transformer::ForwardStep(std::span<const StepEntry> entries, PagedKvCache& cache,
                                      ForwardWorkspace& ws, ConstMatrixView* last_logits) const {
  if (&ws.backend() != backend_ || &cache.backend() != backend_) {
    return absl::InvalidArgumentError(
        "ForwardStep: the KV cache and the workspace must be on the model's backend");
  }
  LOCKSTEP_RETURN_IF_ERROR(BuildStepIndices(entries, cache, ws));
  const bool decode_only = !entries.empty() && ws.tokens.size() == entries.size();
  if (decode_only && backend_->SupportsGraphs() && ws.decode_graphs().enabled()) {
    return GraphedDecodeStep(ws, cache, last_logits);
  }
  return EagerStep(ws, cache, last_logits);
}

// ---- Decode steps through captured graphs (model/decode_graphs.h)
//
// A graphed step runs B' = bucket rows (B entries, then B' - B dummies) and reads its
// indices from one device array per graph, packed as [tokens B' | positions B' | slots B' |
// last_rows B' | query_indptr B'+1 | page_indptr B'+1 | page_indices, room for every page
// of the KV pool plus one scratch page per row]: one host copy per step, and the page list
// can grow to the whole pool without the buffer moving.

namespace {

int64_t PackedIndicesSize(int64_t batch, int64_t page_capacity) {
  return 6 * batch + 2 + page_capacity;
}

// Page ids a step of `bucket` rows can list: each of the pool's pages at most once (a page
// belongs to one sequence) and the scratch page once per row.
int64_t PageCapacity(const PagedKvCache& cache, int bucket) {
  return int64_t{cache.num_blocks()} + bucket;
}

}  // namespace

void Transformer::PadDecodeStep(ForwardWorkspace& ws, const PagedKvCache& cache,
                                int bucket) const {
  const int dummies = bucket - static_cast<int>(ws.tokens.size());
  if (dummies <= 0) return;
  for (int i = 0; i < dummies; ++i) {
    ws.tokens.push_back(0);  // any id in the vocabulary; its logits are dropped
    ws.last_rows.push_back(static_cast<int32_t>(ws.tokens.size()) - 1);
  }
  cache.AppendScratchRows(dummies, &ws.step_indices);
  ws.positions.assign(ws.step_indices.positions.begin(), ws.step_indices.positions.end());
  ws.decode_graphs().mutable_stats().padded_rows += dummies;
}

model::GraphKey Transformer::GraphKeyFor(const ForwardWorkspace& ws,
                                         const PagedKvCache& cache) const {
  return model::GraphKey{.model = this,
                         .kv_cache = &cache,
                         .workspace_generation = ws.buffer_generation(),
                         .scratch_generation = backend_->ScratchGeneration()};
}

absl::Status Transformer::CopyPackedIndices(ForwardWorkspace& ws, int64_t page_capacity,
                                            DeviceInt32s& device) const {
  const KvStepIndices& idx = ws.step_indices;
  if (static_cast<int64_t>(idx.page_indices.size()) > page_capacity) {
    return absl::InternalError(absl::StrCat(
        "graphed decode step: ", idx.page_indices.size(), " page ids for room of ",
        page_capacity, " (the pool's pages and a scratch page per row; a page appears in "
        "two sequences' block tables?)"));
  }
  std::vector<int32_t>& packed = ws.packed_indices;
  packed.clear();
  packed.insert(packed.end(), ws.tokens.begin(), ws.tokens.end());
  packed.insert(packed.end(), ws.positions.begin(), ws.positions.end());
  packed.insert(packed.end(), idx.slots.begin(), idx.slots.end());
  packed.insert(packed.end(), ws.last_rows.begin(), ws.last_rows.end());
  packed.insert(packed.end(), idx.query_indptr.begin(), idx.query_indptr.end());
  packed.insert(packed.end(), idx.page_indptr.begin(), idx.page_indptr.end());
  packed.insert(packed.end(), idx.page_indices.begin(), idx.page_indices.end());
  MutableInt32View used = device.mutable_view();
  used.size = static_cast<int64_t>(packed.size());
  return backend_->CopyInt32FromHost(packed, used);
}

Transformer::StepIndexViews Transformer::PackedViews(const DeviceInt32s& device, int64_t batch,
                                                     int64_t page_capacity) {
  const Int32View all = device.view();
  StepIndexViews views;
  views.tokens = all.Slice(0, batch);
  views.batch.positions = all.Slice(batch, batch);
  views.slots = all.Slice(2 * batch, batch);
  views.last_rows = all.Slice(3 * batch, batch);
  views.batch.num_sequences = static_cast<int>(batch);
  views.batch.query_indptr = all.Slice(4 * batch, batch + 1);
  views.batch.page_indptr = all.Slice(5 * batch + 1, batch + 1);
  views.batch.page_indices = all.Slice(6 * batch + 2, page_capacity);
  return views;
}

absl::Status Transformer::GraphedDecodeStep(ForwardWorkspace& ws, PagedKvCache& cache,
                                            ConstMatrixView* last_logits) const {
  model::DecodeGraphCache& graphs = ws.decode_graphs();
  model::DecodeGraphStats& stats = graphs.mutable_stats();
  const int batch = static_cast<int>(ws.tokens.size());
  // Padding is only bit-safe when every op is batch-invariant.
  const int bucket =
      backend_->mode() == NumericsMode::kBatchInvariant ? graphs.BucketFor(batch) : batch;
  PadDecodeStep(ws, cache, bucket);
  // The entries' rows come first; the dummies' logits are never returned.
  auto real_rows = [batch](ConstMatrixView logits) { return logits.RowRange(0, batch); };
  const model::GraphKey key = GraphKeyFor(ws, cache);
  graphs.Validate(key);
  model::DecodeGraphCache::Entry* entry = graphs.Find(bucket);
  if (entry == nullptr) {
    // First step at this bucket: eager, which also grows every buffer (and the backend's
    // scratch) to the bucket, so the capture next time allocates nothing. It may move
    // buffers other graphs point at: Validate again after it.
    ++stats.eager_steps;
    ConstMatrixView logits;
    LOCKSTEP_RETURN_IF_ERROR(EagerStep(ws, cache, &logits));
    *last_logits = real_rows(logits);
    graphs.Validate(GraphKeyFor(ws, cache));
    graphs.Insert(bucket);
    return absl::OkStatus();
  }
  const int64_t page_capacity = PageCapacity(cache, bucket);
  if (entry->indices.size() == 0) {
    LOCKSTEP_ASSIGN_OR_RETURN(entry->indices,
                              ws.AllocateIndices(PackedIndicesSize(bucket, page_capacity)));
  }
  LOCKSTEP_RETURN_IF_ERROR(CopyPackedIndices(ws, page_capacity, entry->indices));
  if (entry->graph == nullptr) {
    const StepIndexViews views = PackedViews(entry->indices, bucket, page_capacity);
    LOCKSTEP_RETURN_IF_ERROR(backend_->BeginCapture());
    const absl::Status enqueued = EnqueueStep(ws, cache, views, &entry->logits);
    absl::StatusOr<std::unique_ptr<CapturedGraph>> graph = backend_->EndCapture();
    absl::Status failure = !enqueued.ok() ? enqueued : graph.status();
    if (failure.ok() && !(GraphKeyFor(ws, cache) == key)) {
      failure = absl::InternalError("a buffer moved while the decode step was being captured");
    }
    if (!failure.ok()) {
      // Nothing ran: the capture only recorded. Run this step, and every later one, eagerly
      // (an error in the step's arguments comes back from the eager run).
      graphs.DisableAfterFailure(failure);
      ConstMatrixView logits;
      LOCKSTEP_RETURN_IF_ERROR(EagerStep(ws, cache, &logits));
      *last_logits = real_rows(logits);
      return absl::OkStatus();
    }
    entry->graph = *std::move(graph);
    ++stats.captures;
  } else {
    ++stats.replays;
  }
  LOCKSTEP_RETURN_IF_ERROR(backend_->Replay(*entry->graph));
  *last_logits = real_rows(entry->logits);
  return absl::OkStatus();
}

absl::Status Transformer::ForwardStep(std::span<const StepEntry> entries, PagedKvCache& cache,
                                      Tensor* last_logits) const {
  ForwardWorkspace ws(*backend_);
  ConstMatrixView device_logits;
  LOCKSTEP_RETURN_IF_ERROR(ForwardStep(entries, cache, ws, &device_logits));
  return ToHost(device_logits, last_logits);
}

}  // namespace lockstep
