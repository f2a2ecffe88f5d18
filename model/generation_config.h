// HF generation_config.json: the end-of-sequence ids and default sampling
// settings a checkpoint ships with. Absent keys keep HF's defaults; a wrong
// type is an error naming the file and the key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace lockstep {

struct GenerationConfig {
  std::vector<int32_t> eos_token_ids;  // eos_token_id: one id or a list
  std::optional<int32_t> bos_token_id;
  std::optional<int32_t> pad_token_id;
  bool do_sample = false;
  double temperature = 1.0;
  double top_p = 1.0;
  int top_k = 50;
  std::optional<int> max_new_tokens;
  double repetition_penalty = 1.0;

  // `source` names the file in errors.
  static absl::StatusOr<GenerationConfig> FromHfJson(
      const nlohmann::json& json, const std::string& source = "generation_config.json");
  nlohmann::json ToHfJson() const;
};

// DIR/generation_config.json, or std::nullopt when the directory has none.
absl::StatusOr<std::optional<GenerationConfig>> ReadGenerationConfig(const std::string& dir);

}  // namespace lockstep
