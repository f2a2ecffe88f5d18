#include "model/config.h"

#include <bit>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lockstep {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

void ExpectSameConfig(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.family, b.family);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.num_layers, b.num_layers);
  EXPECT_EQ(a.num_heads, b.num_heads);
  EXPECT_EQ(a.num_kv_heads, b.num_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.intermediate_size, b.intermediate_size);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(std::bit_cast<uint64_t>(a.rope_theta), std::bit_cast<uint64_t>(b.rope_theta));
  EXPECT_EQ(std::bit_cast<uint32_t>(a.rms_norm_eps), std::bit_cast<uint32_t>(b.rms_norm_eps));
  EXPECT_EQ(a.tie_word_embeddings, b.tie_word_embeddings);
  EXPECT_EQ(a.attention_bias, b.attention_bias);
  EXPECT_EQ(a.qk_norm, b.qk_norm);
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
}

ModelConfig Qwen3Config() {
  ModelConfig c;
  c.family = ModelFamily::kQwen3;
  c.hidden_size = 320;
  c.num_layers = 3;
  c.num_heads = 6;
  c.num_kv_heads = 3;
  c.head_dim = 64;  // heads × head_dim ≠ hidden on purpose, as in real Qwen3 models
  c.intermediate_size = 999;
  c.vocab_size = 151;
  c.rope_theta = 1000000.0;
  c.rms_norm_eps = 3.3e-7f;
  c.tie_word_embeddings = true;
  c.qk_norm = true;
  c.max_position_embeddings = 40960;
  return c;
}

TEST(ModelConfigTest, DefaultIsValid) { EXPECT_TRUE(ModelConfig{}.Validate().ok()); }

TEST(ModelConfigTest, FamilyNames) {
  EXPECT_EQ(ModelFamilyName(ModelFamily::kLlama), "llama");
  EXPECT_EQ(ModelFamilyName(ModelFamily::kQwen2), "qwen2");
  EXPECT_EQ(ModelFamilyName(ModelFamily::kQwen3), "qwen3");
}

TEST(ModelConfigTest, HfJsonRoundTripEveryFamily) {
  ModelConfig llama;
  llama.rms_norm_eps = 1e-5f;
  ModelConfig qwen2;
  qwen2.family = ModelFamily::kQwen2;
  qwen2.attention_bias = true;
  qwen2.tie_word_embeddings = true;
  qwen2.rope_theta = 12345.678;
  for (const ModelConfig& c : {llama, qwen2, Qwen3Config()}) {
    SCOPED_TRACE(ModelFamilyName(c.family));
    ASSERT_TRUE(c.Validate().ok()) << c.Validate();
    const nlohmann::json j = c.ToHfJson();
    EXPECT_EQ(j.at("model_type"), ModelFamilyName(c.family));
    // Through text, as it travels in config.json.
    absl::StatusOr<ModelConfig> back = ModelConfig::FromHfJson(nlohmann::json::parse(j.dump()));
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectSameConfig(c, *back);
  }
}

TEST(ModelConfigTest, EpsIsWrittenAsShortestDecimal) {
  ModelConfig c;
  c.rms_norm_eps = 1e-6f;
  EXPECT_EQ(c.ToHfJson().at("rms_norm_eps").get<double>(), 1e-6);
}

TEST(ModelConfigTest, ReadsQwen2StyleConfigWithHfDefaults) {
  // Shaped like Qwen2.5-0.5B's config.json: no head_dim, no attention_bias key.
  const nlohmann::json j = nlohmann::json::parse(R"({
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
    "hidden_size": 896, "intermediate_size": 4864, "num_attention_heads": 14,
    "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "tie_word_embeddings": true, "vocab_size": 151936,
    "max_position_embeddings": 32768, "use_sliding_window": false, "sliding_window": 32768,
    "rope_scaling": null, "torch_dtype": "bfloat16"})");
  absl::StatusOr<ModelConfig> c = ModelConfig::FromHfJson(j);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->family, ModelFamily::kQwen2);
  EXPECT_EQ(c->head_dim, 64);  // 896 / 14
  EXPECT_TRUE(c->attention_bias);
  EXPECT_FALSE(c->qk_norm);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->num_kv_heads, 2);
  EXPECT_EQ(c->rms_norm_eps, 1e-6f);
  EXPECT_EQ(c->rope_theta, 1e6);
}

TEST(ModelConfigTest, ReadsLlamaAndQwen3Defaults) {
  absl::StatusOr<ModelConfig> llama = ModelConfig::FromHfJson(nlohmann::json::parse(R"({
    "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 50})"));
  ASSERT_TRUE(llama.ok()) << llama.status();
  EXPECT_EQ(llama->num_kv_heads, 4);  // defaults to num_attention_heads
  EXPECT_EQ(llama->head_dim, 16);
  EXPECT_FALSE(llama->attention_bias);
  EXPECT_FALSE(llama->tie_word_embeddings);
  EXPECT_EQ(llama->rope_theta, 10000.0);

  absl::StatusOr<ModelConfig> qwen3 = ModelConfig::FromHfJson(nlohmann::json::parse(R"({
    "model_type": "qwen3", "hidden_size": 64, "num_hidden_layers": 2, "head_dim": 32,
    "num_attention_heads": 4, "num_key_value_heads": 1, "intermediate_size": 128,
    "vocab_size": 50})"));
  ASSERT_TRUE(qwen3.ok()) << qwen3.status();
  EXPECT_TRUE(qwen3->qk_norm);
  EXPECT_FALSE(qwen3->attention_bias);
  EXPECT_EQ(qwen3->head_dim, 32);
}

struct ValidationCase {
  std::string label;
  std::function<void(ModelConfig&)> mutate;
  std::vector<std::string> expected;  // substrings of the error
};

TEST(ModelConfigTest, EveryValidationErrorNamesFieldAndValue) {
  const std::vector<ValidationCase> cases = {
      {"hidden", [](ModelConfig& c) { c.hidden_size = 0; }, {"hidden_size", "= 0"}},
      {"layers", [](ModelConfig& c) { c.num_layers = -3; }, {"num_layers", "= -3"}},
      {"heads", [](ModelConfig& c) { c.num_heads = 0; }, {"num_heads", "= 0"}},
      {"kv_heads", [](ModelConfig& c) { c.num_kv_heads = -1; }, {"num_kv_heads", "= -1"}},
      {"gqa", [](ModelConfig& c) { c.num_kv_heads = 3; }, {"num_kv_heads", "= 3", "num_heads = 8"}},
      {"head_dim", [](ModelConfig& c) { c.head_dim = 0; }, {"head_dim", "= 0"}},
      {"odd head_dim", [](ModelConfig& c) { c.head_dim = 33; }, {"head_dim", "= 33", "even"}},
      {"intermediate",
       [](ModelConfig& c) { c.intermediate_size = -1; },
       {"intermediate_size", "= -1"}},
      {"vocab", [](ModelConfig& c) { c.vocab_size = 0; }, {"vocab_size", "= 0"}},
      {"huge vocab", [](ModelConfig& c) { c.vocab_size = 1 << 30; }, {"vocab_size", "1073741824"}},
      {"max_pos",
       [](ModelConfig& c) { c.max_position_embeddings = 0; },
       {"max_position_embeddings", "= 0"}},
      {"theta", [](ModelConfig& c) { c.rope_theta = -1.0; }, {"rope_theta", "= -1"}},
      {"theta inf",
       [](ModelConfig& c) { c.rope_theta = std::numeric_limits<double>::infinity(); },
       {"rope_theta", "inf"}},
      {"eps", [](ModelConfig& c) { c.rms_norm_eps = 0.0f; }, {"rms_norm_eps", "= 0"}},
      {"qk_norm on llama",
       [](ModelConfig& c) { c.qk_norm = true; },
       {"qk_norm", "= true", "llama"}},
      {"qwen3 without qk_norm",
       [](ModelConfig& c) { c.family = ModelFamily::kQwen3; },
       {"qk_norm", "= false", "qwen3"}},
      {"family", [](ModelConfig& c) { c.family = static_cast<ModelFamily>(7); }, {"family", "= 7"}},
  };
  for (const ValidationCase& tc : cases) {
    SCOPED_TRACE(tc.label);
    ModelConfig c;
    tc.mutate(c);
    const absl::Status s = c.Validate();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    for (const std::string& want : tc.expected) EXPECT_THAT(s.message(), HasSubstr(want));
  }
}

nlohmann::json MinimalHfJson() {
  return nlohmann::json::parse(R"({
    "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 50})");
}

absl::Status FromJsonStatus(const nlohmann::json& j) {
  return ModelConfig::FromHfJson(j, "/ckpt/config.json").status();
}

TEST(ModelConfigTest, UnknownModelTypeNamesFileAndField) {
  nlohmann::json j = MinimalHfJson();
  j["model_type"] = "gpt2";
  EXPECT_THAT(FromJsonStatus(j).message(),
              AllOf(HasSubstr("/ckpt/config.json"), HasSubstr("model_type"), HasSubstr("gpt2")));
  j.erase("model_type");
  EXPECT_THAT(FromJsonStatus(j).message(),
              AllOf(HasSubstr("/ckpt/config.json"), HasSubstr("model_type"), HasSubstr("missing")));
}

TEST(ModelConfigTest, WrongJsonTypeNamesField) {
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"hidden_size", "64"},           {"hidden_size", 64.5},
      {"num_key_value_heads", true},   {"rope_theta", "big"},
      {"rms_norm_eps", nullptr},       {"tie_word_embeddings", 1},
      {"attention_bias", "yes"},       {"model_type", 3},
      {"max_position_embeddings", -1}, {"vocab_size", 1e12},
      {"hidden_size", 4294967296ull},
  };
  for (const auto& [key, value] : bad) {
    nlohmann::json j = MinimalHfJson();
    j[key] = value;
    SCOPED_TRACE(key + " = " + value.dump());
    const absl::Status s = FromJsonStatus(j);
    if (value.is_null()) {
      EXPECT_TRUE(s.ok()) << s;  // null means "use the default", as HF writes it
      continue;
    }
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.message(), AllOf(HasSubstr("/ckpt/config.json"), HasSubstr(key)));
  }
}

TEST(ModelConfigTest, MissingRequiredFieldAndBadHeadDivision) {
  nlohmann::json j = MinimalHfJson();
  j.erase("vocab_size");
  EXPECT_THAT(FromJsonStatus(j).message(), AllOf(HasSubstr("vocab_size"), HasSubstr("missing")));
  j = MinimalHfJson();
  j["num_attention_heads"] = 6;  // 64 / 6 is not whole and head_dim is absent
  EXPECT_THAT(FromJsonStatus(j).message(), AllOf(HasSubstr("head_dim"), HasSubstr("6")));
  j["head_dim"] = 16;
  EXPECT_TRUE(FromJsonStatus(j).ok());
}

// Llama 3.1's rope_scaling is read (and written back); an incomplete one names the missing key.
TEST(ModelConfigTest, ReadsLlama3RopeScaling) {
  nlohmann::json j = MinimalHfJson();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  auto c = ModelConfig::FromHfJson(j);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->rope_scaling.has_value());
  EXPECT_EQ(c->rope_scaling->factor, 8.0);
  EXPECT_EQ(c->rope_scaling->low_freq_factor, 1.0);
  EXPECT_EQ(c->rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(c->rope_scaling->original_max_position_embeddings, 8192.0);
  auto again = ModelConfig::FromHfJson(c->ToHfJson());
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(again->rope_scaling.has_value());
  EXPECT_EQ(again->rope_scaling->factor, 8.0);
  EXPECT_EQ(again->rope_scaling->original_max_position_embeddings, 8192.0);
  EXPECT_FALSE(ModelConfig::FromHfJson(MinimalHfJson())->rope_scaling.has_value());
  j["rope_scaling"].erase("high_freq_factor");
  EXPECT_THAT(FromJsonStatus(j).message(), AllOf(HasSubstr("rope_scaling"), HasSubstr("high_freq_factor")));
  j["rope_scaling"]["high_freq_factor"] = 0.5;  // must exceed low_freq_factor
  EXPECT_THAT(FromJsonStatus(j).message(), HasSubstr("high_freq_factor"));
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_THAT(FromJsonStatus(j).message(), AllOf(HasSubstr("yarn"), HasSubstr("not supported")));
}

TEST(ModelConfigTest, RejectsFeaturesTheForwardDoesNotImplement) {
  nlohmann::json j = MinimalHfJson();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  EXPECT_THAT(FromJsonStatus(j).message(), HasSubstr("rope_scaling"));
  j = MinimalHfJson();
  j["hidden_act"] = "gelu";
  EXPECT_THAT(FromJsonStatus(j).message(), AllOf(HasSubstr("hidden_act"), HasSubstr("gelu")));
  j = MinimalHfJson();
  j["use_sliding_window"] = true;
  EXPECT_THAT(FromJsonStatus(j).message(), HasSubstr("use_sliding_window"));
}

TEST(ModelConfigTest, ValidationErrorsFromJsonNameTheFile) {
  nlohmann::json j = MinimalHfJson();
  j["num_key_value_heads"] = 3;
  EXPECT_THAT(
      FromJsonStatus(j).message(),
      AllOf(HasSubstr("/ckpt/config.json"), HasSubstr("num_key_value_heads"), HasSubstr("= 3")));
  EXPECT_THAT(FromJsonStatus(nlohmann::json::array()).message(),
              AllOf(HasSubstr("/ckpt/config.json"), HasSubstr("object")));
}

}  // namespace
}  // namespace lockstep
