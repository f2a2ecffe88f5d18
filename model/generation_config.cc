#include "model/generation_config.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"

namespace lockstep {
namespace {

absl::Status KeyError(const std::string& source, const std::string& key,
                      const nlohmann::json& value, const std::string& expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": field '", key, "' must be ", expected, ", got ", value.dump()));
}

bool Present(const nlohmann::json& json, const char* key) {
  return json.contains(key) && !json[key].is_null();
}

absl::StatusOr<int32_t> ReadTokenId(const nlohmann::json& v, const std::string& source,
                                    const std::string& key) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
      v.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
    return KeyError(source, key, v, "a non-negative token id");
  }
  return static_cast<int32_t>(v.get<int64_t>());
}

absl::StatusOr<double> ReadNumber(const nlohmann::json& json, const std::string& source,
                                  const char* key, double fallback) {
  if (!Present(json, key)) return fallback;
  if (!json[key].is_number()) return KeyError(source, key, json[key], "a number");
  return json[key].get<double>();
}

}  // namespace

absl::StatusOr<GenerationConfig> GenerationConfig::FromHfJson(const nlohmann::json& json,
                                                              const std::string& source) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": expected a JSON object"));
  }
  GenerationConfig g;
  if (Present(json, "eos_token_id")) {
    const nlohmann::json& eos = json["eos_token_id"];
    if (eos.is_array()) {
      for (const nlohmann::json& id : eos) {
        LOCKSTEP_ASSIGN_OR_RETURN(int32_t v, ReadTokenId(id, source, "eos_token_id"));
        g.eos_token_ids.push_back(v);
      }
    } else {
      LOCKSTEP_ASSIGN_OR_RETURN(int32_t v, ReadTokenId(eos, source, "eos_token_id"));
      g.eos_token_ids.push_back(v);
    }
  }
  if (Present(json, "bos_token_id")) {
    LOCKSTEP_ASSIGN_OR_RETURN(g.bos_token_id,
                              ReadTokenId(json["bos_token_id"], source, "bos_token_id"));
  }
  if (Present(json, "pad_token_id")) {
    LOCKSTEP_ASSIGN_OR_RETURN(g.pad_token_id,
                              ReadTokenId(json["pad_token_id"], source, "pad_token_id"));
  }
  if (Present(json, "do_sample")) {
    if (!json["do_sample"].is_boolean()) {
      return KeyError(source, "do_sample", json["do_sample"], "true or false");
    }
    g.do_sample = json["do_sample"].get<bool>();
  }
  LOCKSTEP_ASSIGN_OR_RETURN(g.temperature, ReadNumber(json, source, "temperature", 1.0));
  LOCKSTEP_ASSIGN_OR_RETURN(g.top_p, ReadNumber(json, source, "top_p", 1.0));
  LOCKSTEP_ASSIGN_OR_RETURN(g.repetition_penalty,
                            ReadNumber(json, source, "repetition_penalty", 1.0));
  if (Present(json, "top_k")) {
    if (!json["top_k"].is_number_integer() || json["top_k"].get<int64_t>() < 0 ||
        json["top_k"].get<int64_t>() > std::numeric_limits<int>::max()) {
      return KeyError(source, "top_k", json["top_k"], "a non-negative integer");
    }
    g.top_k = json["top_k"].get<int>();
  }
  if (Present(json, "max_new_tokens")) {
    if (!json["max_new_tokens"].is_number_integer() || json["max_new_tokens"].get<int64_t>() < 0 ||
        json["max_new_tokens"].get<int64_t>() > std::numeric_limits<int>::max()) {
      return KeyError(source, "max_new_tokens", json["max_new_tokens"], "a non-negative integer");
    }
    g.max_new_tokens = json["max_new_tokens"].get<int>();
  }
  if (!(g.temperature >= 0.0)) return KeyError(source, "temperature", json["temperature"], ">= 0");
  if (!(g.top_p > 0.0 && g.top_p <= 1.0)) {
    return KeyError(source, "top_p", json["top_p"], "in (0, 1]");
  }
  return g;
}

nlohmann::json GenerationConfig::ToHfJson() const {
  nlohmann::json j = nlohmann::json::object();
  if (eos_token_ids.size() == 1) {
    j["eos_token_id"] = eos_token_ids[0];
  } else if (!eos_token_ids.empty()) {
    j["eos_token_id"] = eos_token_ids;
  }
  if (bos_token_id) j["bos_token_id"] = *bos_token_id;
  if (pad_token_id) j["pad_token_id"] = *pad_token_id;
  j["do_sample"] = do_sample;
  j["temperature"] = temperature;
  j["top_p"] = top_p;
  j["top_k"] = top_k;
  if (max_new_tokens) j["max_new_tokens"] = *max_new_tokens;
  if (repetition_penalty != 1.0) j["repetition_penalty"] = repetition_penalty;
  return j;
}

absl::StatusOr<std::optional<GenerationConfig>> ReadGenerationConfig(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "generation_config.json").string();
  std::ifstream in(path);
  if (!in) return std::optional<GenerationConfig>();
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON: ", e.what()));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(GenerationConfig g, GenerationConfig::FromHfJson(json, path));
  return std::optional<GenerationConfig>(std::move(g));
}

}  // namespace lockstep
