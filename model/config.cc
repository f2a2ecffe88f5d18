#include "model/config.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace lockstep {
namespace {

absl::Status FieldError(const std::string& field, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat("ModelConfig.", field, " ", problem));
}

absl::Status CheckPositive(const std::string& field, int64_t value) {
  if (value > 0) return absl::OkStatus();
  return FieldError(field, absl::StrCat("= ", value, " must be positive"));
}

// The largest dimension we accept. Products of two such sizes (e.g. vocab ×
// hidden) then fit easily in int64 element counts, and every size fits in int.
constexpr int64_t kMaxDim = int64_t{1} << 24;

absl::Status CheckDim(const std::string& field, int64_t value) {
  if (absl::Status s = CheckPositive(field, value); !s.ok()) return s;
  if (value > kMaxDim) {
    return FieldError(field, absl::StrCat("= ", value, " is larger than the supported ", kMaxDim));
  }
  return absl::OkStatus();
}

// ---- config.json reading helpers: every error names the file and the key. ----

absl::Status JsonFieldError(const std::string& source, const std::string& key,
                            const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": field '", key, "' ", problem));
}

// Present and not null. HF writes `null` for unset optional keys (e.g. head_dim).
bool HasValue(const nlohmann::json& json, const std::string& key) {
  auto it = json.find(key);
  return it != json.end() && !it->is_null();
}

absl::StatusOr<int> ReadInt(const nlohmann::json& json, const std::string& source,
                            const std::string& key) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) {
    return JsonFieldError(source, key, "is missing (required)");
  }
  if (!it->is_number_integer()) {
    return JsonFieldError(source, key, absl::StrCat("must be an integer, got ", it->dump()));
  }
  // is_number_integer() covers both signed and unsigned storage; read as the
  // wider of the two that can hold the value before narrowing to int.
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
      return JsonFieldError(source, key, absl::StrCat("= ", v, " is out of range"));
    }
    return static_cast<int>(v);
  }
  const int64_t v = it->get<int64_t>();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    return JsonFieldError(source, key, absl::StrCat("= ", v, " is out of range"));
  }
  return static_cast<int>(v);
}

absl::StatusOr<int> ReadIntOr(const nlohmann::json& json, const std::string& source,
                              const std::string& key, int fallback) {
  if (!HasValue(json, key)) return fallback;
  return ReadInt(json, source, key);
}

absl::StatusOr<double> ReadNumberOr(const nlohmann::json& json, const std::string& source,
                                    const std::string& key, double fallback) {
  if (!HasValue(json, key)) return fallback;
  const nlohmann::json& v = json.at(key);
  if (!v.is_number()) {
    return JsonFieldError(source, key, absl::StrCat("must be a number, got ", v.dump()));
  }
  return v.get<double>();
}

absl::StatusOr<bool> ReadBoolOr(const nlohmann::json& json, const std::string& source,
                                const std::string& key, bool fallback) {
  if (!HasValue(json, key)) return fallback;
  const nlohmann::json& v = json.at(key);
  if (!v.is_boolean()) {
    return JsonFieldError(source, key, absl::StrCat("must be true or false, got ", v.dump()));
  }
  return v.get<bool>();
}

// The shortest decimal that reads back as `value` when parsed as a double and
// narrowed to float, so config.json shows 1e-06 rather than 9.99999997e-07 and
// still round-trips bit for bit.
double FloatForJson(float value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec == std::errc()) {
    double shortest = 0.0;
    auto [_, ec2] = std::from_chars(buf, end, shortest);
    if (ec2 == std::errc() && static_cast<float>(shortest) == value) return shortest;
  }
  return static_cast<double>(value);  // exact, just longer
}

// HF's class name, which transformers uses to pick the model implementation.
std::string ArchitectureName(ModelFamily family) {
  switch (family) {
    case ModelFamily::kLlama:
      return "LlamaForCausalLM";
    case ModelFamily::kQwen2:
      return "Qwen2ForCausalLM";
    case ModelFamily::kQwen3:
      return "Qwen3ForCausalLM";
  }
  return "unknown";
}

// rope_scaling: absent, null or the "default" type are plain RoPE; "llama3"
// (Llama 3.1+) is read into RopeLlama3Scaling. Other scaled variants (linear,
// dynamic, yarn, ...) change the frequencies in ways lockstep does not
// implement, so they are refused by name rather than computed wrongly.
absl::StatusOr<std::optional<RopeLlama3Scaling>> ReadRopeScaling(const nlohmann::json& json,
                                                                  const std::string& source) {
  // Newer transformers write rope_parameters ({rope_type, rope_theta, ...}) instead.
  const char* key = HasValue(json, "rope_scaling")      ? "rope_scaling"
                    : HasValue(json, "rope_parameters") ? "rope_parameters"
                                                        : nullptr;
  if (key == nullptr) return std::optional<RopeLlama3Scaling>();
  const nlohmann::json& scaling = json.at(key);
  std::string type = "(no rope_type)";
  if (scaling.is_object()) {
    for (const char* type_key : {"rope_type", "type"}) {
      if (scaling.contains(type_key) && scaling[type_key].is_string()) {
        type = scaling[type_key].get<std::string>();
      }
    }
  }
  if (type == "default" || (std::string(key) == "rope_parameters" && type == "(no rope_type)")) {
    return std::optional<RopeLlama3Scaling>();
  }
  if (type != "llama3") {
    return JsonFieldError(
        source, key,
        absl::StrCat("has rope_type \"", type, "\", which is not supported ",
                     "(lockstep implements plain RoPE and llama3 scaling): ", scaling.dump()));
  }
  RopeLlama3Scaling out;
  const std::string where = absl::StrCat(source, " ", key);
  struct Field {
    const char* name;
    double* value;
  };
  for (const Field& f : {Field{"factor", &out.factor}, Field{"low_freq_factor", &out.low_freq_factor},
                         Field{"high_freq_factor", &out.high_freq_factor},
                         Field{"original_max_position_embeddings",
                               &out.original_max_position_embeddings}}) {
    if (!scaling.contains(f.name)) {
      return JsonFieldError(source, key,
                            absl::StrCat("has rope_type \"llama3\" but no '", f.name,
                                         "' (llama3 scaling needs factor, low_freq_factor, "
                                         "high_freq_factor and original_max_position_embeddings)"));
    }
    absl::StatusOr<double> v = ReadNumberOr(scaling, where, f.name, 0.0);
    if (!v.ok()) return v.status();
    if (!(std::isfinite(*v) && *v > 0.0)) {
      return JsonFieldError(where, f.name, absl::StrCat("= ", *v, " must be a finite positive number"));
    }
    *f.value = *v;
  }
  if (!(out.high_freq_factor > out.low_freq_factor)) {
    return JsonFieldError(where, "high_freq_factor",
                          absl::StrCat("= ", out.high_freq_factor, " must exceed low_freq_factor = ",
                                       out.low_freq_factor));
  }
  return std::optional<RopeLlama3Scaling>(out);
}

// `architectures`, when present, must be the causal-LM class of the family:
// a checkpoint of another head (e.g. ...ForSequenceClassification) has other tensors.
absl::Status CheckArchitectures(const nlohmann::json& json, const std::string& source,
                                const std::string& model_type) {
  if (!HasValue(json, "architectures")) return absl::OkStatus();
  const nlohmann::json& archs = json.at("architectures");
  const std::string expected = model_type == "llama"   ? "LlamaForCausalLM"
                               : model_type == "qwen2" ? "Qwen2ForCausalLM"
                                                       : "Qwen3ForCausalLM";
  if (!archs.is_array()) {
    return JsonFieldError(source, "architectures", "must be a list of class names");
  }
  for (const nlohmann::json& a : archs) {
    if (!a.is_string() || a.get<std::string>() != expected) {
      return JsonFieldError(source, "architectures",
                            absl::StrCat("= ", archs.dump(), " is not supported (expected [\"",
                                         expected, "\"] for model_type ", model_type, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string ModelFamilyName(ModelFamily family) {
  switch (family) {
    case ModelFamily::kLlama:
      return "llama";
    case ModelFamily::kQwen2:
      return "qwen2";
    case ModelFamily::kQwen3:
      return "qwen3";
  }
  return "unknown";
}

absl::Status ModelConfig::Validate() const {
  if (family != ModelFamily::kLlama && family != ModelFamily::kQwen2 &&
      family != ModelFamily::kQwen3) {
    return FieldError("family",
                      absl::StrCat("= ", static_cast<int>(family), " is not a known family"));
  }
  if (absl::Status s = CheckDim("hidden_size", hidden_size); !s.ok()) return s;
  if (absl::Status s = CheckDim("num_layers (num_hidden_layers)", num_layers); !s.ok()) return s;
  if (absl::Status s = CheckDim("num_heads (num_attention_heads)", num_heads); !s.ok()) return s;
  if (absl::Status s = CheckDim("num_kv_heads (num_key_value_heads)", num_kv_heads); !s.ok()) {
    return s;
  }
  if (num_heads % num_kv_heads != 0) {
    return FieldError("num_kv_heads (num_key_value_heads)",
                      absl::StrCat("= ", num_kv_heads, " does not divide num_heads = ", num_heads,
                                   " (grouped-query attention needs whole groups)"));
  }
  if (absl::Status s = CheckDim("head_dim", head_dim); !s.ok()) return s;
  if (head_dim % 2 != 0) {
    return FieldError("head_dim", absl::StrCat("= ", head_dim,
                                               " must be even (RoPE rotates pairs of dimensions)"));
  }
  if (static_cast<int64_t>(num_heads) * head_dim > kMaxDim) {
    return FieldError("num_heads (num_attention_heads)",
                      absl::StrCat("× head_dim = ", static_cast<int64_t>(num_heads) * head_dim,
                                   " is larger than the supported ", kMaxDim));
  }
  if (absl::Status s = CheckDim("intermediate_size", intermediate_size); !s.ok()) return s;
  if (absl::Status s = CheckDim("vocab_size", vocab_size); !s.ok()) return s;
  if (absl::Status s = CheckDim("max_position_embeddings", max_position_embeddings); !s.ok()) {
    return s;
  }
  if (!(std::isfinite(rope_theta) && rope_theta > 0.0)) {
    return FieldError("rope_theta",
                      absl::StrCat("= ", rope_theta, " must be a finite positive number"));
  }
  if (!(std::isfinite(rms_norm_eps) && rms_norm_eps > 0.0f)) {
    return FieldError("rms_norm_eps",
                      absl::StrCat("= ", rms_norm_eps, " must be a finite positive number"));
  }
  // config.json has no key for q/k norm: it is implied by model_type. A config
  // where the two disagree could not be saved and loaded back faithfully.
  if (qk_norm != (family == ModelFamily::kQwen3)) {
    return FieldError("qk_norm", absl::StrCat("= ", qk_norm ? "true" : "false",
                                              " does not match family ", ModelFamilyName(family),
                                              " (q/k RMSNorm exists exactly in qwen3 models)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> ModelConfig::FromHfJson(const nlohmann::json& json,
                                                    const std::string& source) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": expected a JSON object, got ", json.type_name()));
  }
  ModelConfig c;
  auto mt = json.find("model_type");
  if (mt == json.end() || mt->is_null()) {
    return JsonFieldError(source, "model_type", "is missing (expected llama, qwen2 or qwen3)");
  }
  if (!mt->is_string()) {
    return JsonFieldError(source, "model_type", absl::StrCat("must be a string, got ", mt->dump()));
  }
  const std::string model_type = mt->get<std::string>();
  if (model_type == "llama") {
    c.family = ModelFamily::kLlama;
  } else if (model_type == "qwen2") {
    c.family = ModelFamily::kQwen2;
  } else if (model_type == "qwen3") {
    c.family = ModelFamily::kQwen3;
  } else {
    return JsonFieldError(
        source, "model_type",
        absl::StrCat("= \"", model_type, "\" is not supported (expected llama, qwen2 or qwen3)"));
  }

  // Features of these families that lockstep's forward does not implement.
  // Loading such a checkpoint anyway would compute something else silently.
  absl::StatusOr<std::optional<RopeLlama3Scaling>> rope_scaling = ReadRopeScaling(json, source);
  if (!rope_scaling.ok()) return rope_scaling.status();
  c.rope_scaling = *rope_scaling;
  if (absl::Status s = CheckArchitectures(json, source, model_type); !s.ok()) return s;
  absl::StatusOr<bool> mlp_bias = ReadBoolOr(json, source, "mlp_bias", false);
  if (!mlp_bias.ok()) return mlp_bias.status();
  if (*mlp_bias) {
    return JsonFieldError(source, "mlp_bias",
                          "= true is not supported (lockstep's MLP projections have no bias)");
  }
  if (HasValue(json, "layer_types")) {
    for (const nlohmann::json& type : json.at("layer_types")) {
      if (type != "full_attention") {
        return JsonFieldError(source, "layer_types",
                              absl::StrCat("contains ", type.dump(),
                                           ", which is not supported (lockstep implements only "
                                           "full_attention layers)"));
      }
    }
  }
  if (HasValue(json, "hidden_act")) {
    const nlohmann::json& act = json.at("hidden_act");
    if (!act.is_string() || act.get<std::string>() != "silu") {
      return JsonFieldError(
          source, "hidden_act",
          absl::StrCat("= ", act.dump(), " is not supported (expected \"silu\")"));
    }
  }
  absl::StatusOr<bool> sliding = ReadBoolOr(json, source, "use_sliding_window", false);
  if (!sliding.ok()) return sliding.status();
  if (*sliding) {
    return JsonFieldError(source, "use_sliding_window",
                          "= true is not supported (lockstep attends to all positions)");
  }

  // Reads into `dst`, returning early from FromHfJson on error.
#define LOCKSTEP_READ(dst, expr)                  \
  do {                                            \
    auto value_or = (expr);                       \
    if (!value_or.ok()) return value_or.status(); \
    dst = *value_or;                              \
  } while (0)

  LOCKSTEP_READ(c.hidden_size, ReadInt(json, source, "hidden_size"));
  LOCKSTEP_READ(c.num_layers, ReadInt(json, source, "num_hidden_layers"));
  LOCKSTEP_READ(c.num_heads, ReadInt(json, source, "num_attention_heads"));
  LOCKSTEP_READ(c.num_kv_heads, ReadIntOr(json, source, "num_key_value_heads", c.num_heads));
  if (!HasValue(json, "head_dim")) {
    // HF's default: hidden_size / num_attention_heads, which must then divide.
    if (c.num_heads <= 0 || c.hidden_size % c.num_heads != 0) {
      return JsonFieldError(
          source, "head_dim",
          absl::StrCat("is missing and hidden_size = ", c.hidden_size,
                       " is not a multiple of num_attention_heads = ", c.num_heads));
    }
    c.head_dim = c.hidden_size / c.num_heads;
  } else {
    LOCKSTEP_READ(c.head_dim, ReadInt(json, source, "head_dim"));
  }
  LOCKSTEP_READ(c.intermediate_size, ReadInt(json, source, "intermediate_size"));
  LOCKSTEP_READ(c.vocab_size, ReadInt(json, source, "vocab_size"));
  LOCKSTEP_READ(c.rope_theta, ReadNumberOr(json, source, "rope_theta", 10000.0));
  if (!HasValue(json, "rope_theta") && HasValue(json, "rope_parameters") &&
      json.at("rope_parameters").is_object()) {
    LOCKSTEP_READ(c.rope_theta, ReadNumberOr(json.at("rope_parameters"),
                                             source + " rope_parameters", "rope_theta", 10000.0));
  }
  double eps = 1e-6;
  LOCKSTEP_READ(eps, ReadNumberOr(json, source, "rms_norm_eps", 1e-6));
  c.rms_norm_eps = static_cast<float>(eps);
  LOCKSTEP_READ(c.tie_word_embeddings, ReadBoolOr(json, source, "tie_word_embeddings", false));
  // Qwen2 always has q/k/v biases (HF's Qwen2Config has no key for it); Llama
  // and Qwen3 read `attention_bias`, default false.
  LOCKSTEP_READ(c.attention_bias,
                ReadBoolOr(json, source, "attention_bias", c.family == ModelFamily::kQwen2));
  LOCKSTEP_READ(c.max_position_embeddings,
                ReadIntOr(json, source, "max_position_embeddings", 2048));
#undef LOCKSTEP_READ
  c.qk_norm = c.family == ModelFamily::kQwen3;

  if (absl::Status s = c.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", s.message()));
  }
  return c;
}

nlohmann::json ModelConfig::ToHfJson() const {
  nlohmann::json j;
  j["architectures"] = nlohmann::json::array({ArchitectureName(family)});
  j["model_type"] = ModelFamilyName(family);
  j["hidden_act"] = "silu";
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_layers;
  j["num_attention_heads"] = num_heads;
  j["num_key_value_heads"] = num_kv_heads;
  j["head_dim"] = head_dim;
  j["intermediate_size"] = intermediate_size;
  j["vocab_size"] = vocab_size;
  j["rope_theta"] = rope_theta;
  j["rms_norm_eps"] = FloatForJson(rms_norm_eps);
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["attention_bias"] = attention_bias;
  j["max_position_embeddings"] = max_position_embeddings;
  if (rope_scaling) {
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", rope_scaling->factor},
                         {"low_freq_factor", rope_scaling->low_freq_factor},
                         {"high_freq_factor", rope_scaling->high_freq_factor},
                         {"original_max_position_embeddings",
                          static_cast<int64_t>(rope_scaling->original_max_position_embeddings)}};
  }
  return j;
}

}  // namespace lockstep
