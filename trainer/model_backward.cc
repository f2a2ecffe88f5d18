#include "trainer/model_backward.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/cpu_backend.h"
#include "numerics/status_macros.h"

namespace lockstep::trainer {
namespace {

std::string LayerName(int l, const char* suffix) {
  return absl::StrCat("model.layers.", l, ".", suffix);
}

// The (rows*heads, head_dim) view used by Qwen3's per-head q/k norm.
ConstMatrixView Heads(const Tensor& t, int heads, int head_dim) {
  return ConstMatrixView(t.dtype(), t.data(), t.dim(0) * heads, head_dim, head_dim);
}

// The backward ops run on the host: they read the CPU backend's prepared weights.
const cpu::LinearWeight& Host(const PreparedLinear& prepared) {
  return *cpu::AsCpuLinearWeight(prepared);
}

void AddInto(std::vector<float>& into, const std::vector<float>& from) {
  for (size_t i = 0; i < into.size(); ++i) into[i] += from[i];
}

}  // namespace

ModelGradients::ModelGradients(const ModelWeights& weights) {
  for (const auto& [name, tensor] : weights.NamedTensors()) {
    names_.push_back(name);
    grads_.emplace_back(static_cast<size_t>(tensor->numel()), 0.0f);
  }
}

void ModelGradients::SetZero() {
  for (auto& g : grads_) std::fill(g.begin(), g.end(), 0.0f);
}

std::vector<std::pair<std::string, std::vector<float>*>> ModelGradients::Named() {
  std::vector<std::pair<std::string, std::vector<float>*>> out;
  for (size_t i = 0; i < names_.size(); ++i) out.emplace_back(names_[i], &grads_[i]);
  return out;
}

std::vector<float>* ModelGradients::Find(const std::string& name) {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return &grads_[i];
  }
  return nullptr;
}

absl::Status BackwardSequences(const Transformer& model, const ForwardActivations& acts,
                               const std::vector<float>& dlogits, ModelGradients* grads) {
  if (model.backend().device() != Device::kCpu) {
    return absl::FailedPreconditionError(
        "GPU training is not built yet; the trainer runs on device = cpu (the backward pass "
        "reads host activations and the CPU backend's weights)");
  }
  const ModelConfig& c = model.config();
  const int64_t rows = static_cast<int64_t>(acts.tokens.size());
  const int64_t hidden = c.hidden_size;
  const int64_t q_cols = int64_t{c.num_heads} * c.head_dim;
  const int64_t kv_cols = int64_t{c.num_kv_heads} * c.head_dim;
  const int64_t inter = c.intermediate_size;
  if (static_cast<int64_t>(dlogits.size()) != rows * c.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("BackwardSequences: dlogits has ",
                                                   dlogits.size(), " values, need ",
                                                   rows * c.vocab_size));
  }
  if (static_cast<int>(acts.layers.size()) != c.num_layers) {
    return absl::InvalidArgumentError("BackwardSequences: activations were not recorded");
  }
  auto grad = [&](const std::string& name) -> absl::StatusOr<float*> {
    std::vector<float>* g = grads->Find(name);
    if (g == nullptr) return absl::NotFoundError(absl::StrCat("no gradient for ", name));
    return g->data();
  };
  const AttentionShape shape = model.attention_shape();

  // LM head and final norm. With tied embeddings the head's gradient lands in
  // the embedding table (the same tensor).
  std::vector<float> d_normed(static_cast<size_t>(rows * hidden));
  LOCKSTEP_ASSIGN_OR_RETURN(float* d_head, grad(c.tie_word_embeddings ? "model.embed_tokens.weight"
                                                                      : "lm_head.weight"));
  LOCKSTEP_RETURN_IF_ERROR(cpu::LinearBackward(acts.normed_final.AsMatrix(), Host(model.lm_head()),
                                               dlogits.data(), d_normed.data(), d_head, nullptr));
  std::vector<float> dx(static_cast<size_t>(rows * hidden));  // d loss / d residual stream
  LOCKSTEP_ASSIGN_OR_RETURN(float* d_final_norm, grad("model.norm.weight"));
  LOCKSTEP_RETURN_IF_ERROR(cpu::RmsNormBackward(acts.x_final.AsMatrix(),
                                                model.weights().norm.AsMatrix(), c.rms_norm_eps,
                                                d_normed.data(), dx.data(), d_final_norm));

  std::vector<float> d_act(static_cast<size_t>(rows * inter)), d_gate(d_act.size()),
      d_up(d_act.size());
  std::vector<float> d_norm_a(static_cast<size_t>(rows * hidden)), d_norm_b(d_norm_a.size()),
      d_resid(d_norm_a.size());
  std::vector<float> d_attn(static_cast<size_t>(rows * q_cols)), dq(d_attn.size()),
      dq_pre(d_attn.size());
  std::vector<float> dk(static_cast<size_t>(rows * kv_cols)), dv(dk.size()), dk_pre(dk.size());

  for (int l = c.num_layers - 1; l >= 0; --l) {
    const LayerActivations& a = acts.layers[l];
    const LayerWeights& w = model.weights().layers[l];

    // MLP block: x_out = x_mid + down(swiglu(gate(n), up(n))), n = norm(x_mid).
    LOCKSTEP_ASSIGN_OR_RETURN(float* g_down, grad(LayerName(l, "mlp.down_proj.weight")));
    LOCKSTEP_RETURN_IF_ERROR(cpu::LinearBackward(a.act.AsMatrix(), Host(model.down_proj(l)), dx.data(),
                                                 d_act.data(), g_down, nullptr));
    LOCKSTEP_RETURN_IF_ERROR(cpu::SwiGluBackward(a.gate.AsMatrix(), a.up.AsMatrix(),
                                                 d_act.data(), d_gate.data(), d_up.data()));
    LOCKSTEP_ASSIGN_OR_RETURN(float* g_gate, grad(LayerName(l, "mlp.gate_proj.weight")));
    LOCKSTEP_ASSIGN_OR_RETURN(float* g_up, grad(LayerName(l, "mlp.up_proj.weight")));
    LOCKSTEP_RETURN_IF_ERROR(cpu::LinearBackward(a.normed_mlp.AsMatrix(), Host(model.gate_proj(l)),
                                                 d_gate.data(), d_norm_a.data(), g_gate, nullptr));
    LOCKSTEP_RETURN_IF_ERROR(cpu::LinearBackward(a.normed_mlp.AsMatrix(), Host(model.up_proj(l)),
                                                 d_up.data(), d_norm_b.data(), g_up, nullptr));
    AddInto(d_norm_a, d_norm_b);
    LOCKSTEP_ASSIGN_OR_RETURN(float* g_post_ln,
                              grad(LayerName(l, "post_attention_layernorm.weight")));
    LOCKSTEP_RETURN_IF_ERROR(cpu::RmsNormBackward(a.x_mid.AsMatrix(),
                                                  w.post_attention_layernorm.AsMatrix(),
                                                  c.rms_norm_eps, d_norm_a.data(), d_resid.data(),
                                                  g_post_ln));
    AddInto(dx, d_resid);  // dx is now d loss / d x_mid

    // Attention block: x_mid = x_in + o(attention(q, k, v)).
    LOCKSTEP_ASSIGN_OR_RETURN(float* g_o, grad(LayerName(l, "self_attn.o_proj.weight")));
    LOCKSTEP_RETURN_IF_ERROR(cpu::LinearBackward(a.attn.AsMatrix(), Host(model.o_proj(l)), dx.data(),
                                                 d_attn.data(), g_o, nullptr));
    for (size_t s = 0; s + 1 < acts.sequence_begin.size(); ++s) {
      const int64_t begin = acts.sequence_begin[s];
      const int64_t count = acts.sequence_begin[s + 1] - begin;
      if (count == 0) continue;
      LOCKSTEP_RETURN_IF_ERROR(cpu::CausalAttentionBackward(
          a.q.AsMatrix().RowRange(begin, count), a.k.AsMatrix().RowRange(begin, count),
          a.v.AsMatrix().RowRange(begin, count), shape, d_attn.data() + begin * q_cols,
          dq.data() + begin * q_cols, dk.data() + begin * kv_cols, dv.data() + begin * kv_cols));
    }
    LOCKSTEP_RETURN_IF_ERROR(
        cpu::RopeBackward(dq.data(), rows, c.num_heads, acts.positions, model.rope()));
    LOCKSTEP_RETURN_IF_ERROR(
        cpu::RopeBackward(dk.data(), rows, c.num_kv_heads, acts.positions, model.rope()));
    const float* dq_proj = dq.data();
    const float* dk_proj = dk.data();
    if (c.qk_norm) {
      LOCKSTEP_ASSIGN_OR_RETURN(float* g_qn, grad(LayerName(l, "self_attn.q_norm.weight")));
      LOCKSTEP_ASSIGN_OR_RETURN(float* g_kn, grad(LayerName(l, "self_attn.k_norm.weight")));
      LOCKSTEP_RETURN_IF_ERROR(cpu::RmsNormBackward(Heads(a.q_proj, c.num_heads, c.head_dim),
                                                    w.q_norm.AsMatrix(), c.rms_norm_eps,
                                                    dq.data(), dq_pre.data(), g_qn));
      LOCKSTEP_RETURN_IF_ERROR(cpu::RmsNormBackward(Heads(a.k_proj, c.num_kv_heads, c.head_dim),
                                                    w.k_norm.AsMatrix(), c.rms_norm_eps,
                                                    dk.data(), dk_pre.data(), g_kn));
      dq_proj = dq_pre.data();
      dk_proj = dk_pre.data();
    }
    float* g_qb = nullptr;
    float* g_kb = nullptr;
    float* g_vb = nullptr;
    if (c.attention_bias) {
      LOCKSTEP_ASSIGN_OR_RETURN(g_qb, grad(LayerName(l, "self_attn.q_proj.bias")));
      LOCKSTEP_ASSIGN_OR_RETURN(g_kb, grad(LayerName(l, "self_attn.k_proj.bias")));
      LOCKSTEP_ASSIGN_OR_RETURN(g_vb, grad(LayerName(l, "self_attn.v_proj.bias")));
    }
    LOCKSTEP_ASSIGN_OR_RETURN(float* g_q, grad(LayerName(l, "self_attn.q_proj.weight")));
    LOCKSTEP_ASSIGN_OR_RETURN(float* g_k, grad(LayerName(l, "self_attn.k_proj.weight")));
    LOCKSTEP_ASSIGN_OR_RETURN(float* g_v, grad(LayerName(l, "self_attn.v_proj.weight")));
    const ConstMatrixView n_attn = a.normed_attn.AsMatrix();
    LOCKSTEP_RETURN_IF_ERROR(
        cpu::LinearBackward(n_attn, Host(model.q_proj(l)), dq_proj, d_norm_a.data(), g_q, g_qb));
    LOCKSTEP_RETURN_IF_ERROR(
        cpu::LinearBackward(n_attn, Host(model.k_proj(l)), dk_proj, d_norm_b.data(), g_k, g_kb));
    AddInto(d_norm_a, d_norm_b);
    LOCKSTEP_RETURN_IF_ERROR(
        cpu::LinearBackward(n_attn, Host(model.v_proj(l)), dv.data(), d_norm_b.data(), g_v, g_vb));
    AddInto(d_norm_a, d_norm_b);
    LOCKSTEP_ASSIGN_OR_RETURN(float* g_in_ln, grad(LayerName(l, "input_layernorm.weight")));
    LOCKSTEP_RETURN_IF_ERROR(cpu::RmsNormBackward(a.x_in.AsMatrix(), w.input_layernorm.AsMatrix(),
                                                  c.rms_norm_eps, d_norm_a.data(), d_resid.data(),
                                                  g_in_ln));
    AddInto(dx, d_resid);  // dx is now d loss / d x_in
  }
  LOCKSTEP_ASSIGN_OR_RETURN(float* g_embed, grad("model.embed_tokens.weight"));
  return cpu::EmbeddingBackward(acts.tokens, dx.data(), hidden, c.vocab_size, g_embed);
}

}  // namespace lockstep::trainer
