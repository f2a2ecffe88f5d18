// The weights of one decoder model in a storage dtype, under HF tensor names
// (model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight, ...).
// Seeded random init is a pure function of (config, dtype, seed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/config.h"
#include "model/generation_config.h"
#include "numerics/tensor.h"

namespace lockstep {

struct LayerWeights {
  Tensor input_layernorm;           // (hidden)
  Tensor q_proj, k_proj, v_proj;    // (heads*head_dim, hidden), (kv_heads*head_dim, hidden) ×2
  Tensor q_bias, k_bias, v_bias;    // empty unless config.attention_bias
  Tensor q_norm, k_norm;            // (head_dim), empty unless config.qk_norm
  Tensor o_proj;                    // (hidden, heads*head_dim)
  Tensor post_attention_layernorm;  // (hidden)
  Tensor gate_proj, up_proj;        // (intermediate, hidden)
  Tensor down_proj;                 // (hidden, intermediate)
};

struct ModelWeights {
  ModelConfig config;
  DType dtype = DType::kBF16;
  Tensor embed_tokens;  // (vocab, hidden)
  std::vector<LayerWeights> layers;
  Tensor norm;     // (hidden)
  Tensor lm_head;  // (vocab, hidden); empty when config.tie_word_embeddings

  // Every present tensor with its HF name, in a fixed order.
  std::vector<std::pair<std::string, const Tensor*>> NamedTensors() const;
  std::vector<std::pair<std::string, Tensor*>> MutableNamedTensors();
  // The LM head matrix (lm_head, or embed_tokens when tied).
  const Tensor& OutputEmbedding() const;
};

// Zero tensors of the right shapes for `config`.
absl::StatusOr<ModelWeights> AllocateWeights(const ModelConfig& config, DType dtype);

// Seeded random init: linear weights ~ N(0, init_std), norms = 1, biases small.
absl::StatusOr<ModelWeights> RandomInitWeights(const ModelConfig& config, DType dtype,
                                               uint64_t seed, float init_std = 0.02f);

struct SaveModelOptions {
  // Above this many tensor bytes the weights are sharded (transformers' default is 5 GB).
  int64_t max_shard_bytes = 5'000'000'000;
  // Written as generation_config.json when set.
  std::optional<GenerationConfig> generation;
};

// A directory in HF layout: config.json + model.safetensors, or shards and
// model.safetensors.index.json above options.max_shard_bytes; loads in transformers.
absl::Status SaveModelDir(const ModelWeights& weights, const std::string& dir,
                          const SaveModelOptions& options = {});
// The files beside the weights that make a model directory usable on its own — the
// tokenizer (tokenizer.json, tokenizer_config.json with its chat template, vocab/merges,
// special tokens) and generation_config.json — copied from `from_dir` into `to_dir` where
// present there and absent here, each through a temporary name and a rename. Checkpoints
// of a run that started from an HF directory get them, so `lockstep serve` or `eval` can
// open a checkpoint as they open the original.
absl::Status CopyModelDirCompanions(const std::string& from_dir, const std::string& to_dir);
// Loads a directory written by SaveModelDir or by transformers' save_pretrained
// (single file or sharded), converting tensors to `dtype`. Missing/extra
// tensors, shape mismatches and a bad index are errors naming the file and tensor.
absl::StatusOr<ModelWeights> LoadModelDir(const std::string& dir, DType dtype);
// The config.json of such a directory alone (no tensors are read).
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& dir);

}  // namespace lockstep
