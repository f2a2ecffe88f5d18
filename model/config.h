// Model configuration for the Llama / Qwen2 / Qwen3 decoder family, read from
// and written to HF config.json. Validate() names the offending field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "numerics/rope_table.h"

namespace lockstep {

enum class ModelFamily { kLlama, kQwen2, kQwen3 };

struct ModelConfig {
  ModelFamily family = ModelFamily::kLlama;
  int hidden_size = 256;
  int num_layers = 4;
  int num_heads = 8;
  int num_kv_heads = 2;
  int head_dim = 32;
  int intermediate_size = 512;
  int vocab_size = 128;
  double rope_theta = 10000.0;
  float rms_norm_eps = 1e-6f;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v projection bias (Qwen2)
  bool qk_norm = false;         // per-head RMSNorm on q and k before RoPE (Qwen3)
  int max_position_embeddings = 2048;
  // rope_scaling {rope_type: "llama3", factor, low_freq_factor, high_freq_factor,
  // original_max_position_embeddings}; absent: plain RoPE. The RopeTable is
  // built from RopeInverseFrequencies(head_dim, rope_theta, rope_scaling).
  std::optional<RopeLlama3Scaling> rope_scaling;

  absl::Status Validate() const;

  // HF config.json: model_type (llama, qwen2, qwen3), hidden_size, num_hidden_layers,
  // num_attention_heads, num_key_value_heads, head_dim, intermediate_size,
  // vocab_size, rope_theta, rms_norm_eps, tie_word_embeddings, attention_bias,
  // max_position_embeddings. `source` names the file in errors.
  static absl::StatusOr<ModelConfig> FromHfJson(const nlohmann::json& json,
                                                const std::string& source = "config.json");
  nlohmann::json ToHfJson() const;
};

std::string ModelFamilyName(ModelFamily family);  // "llama", "qwen2", "qwen3"

}  // namespace lockstep
