// HF model directories: sharded safetensors with an index (save, load, and
// every way an index can disagree with its shards), generation_config.json,
// and the config.json features refused by name.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/generation_config.h"
#include "model/safetensors.h"
#include "model/sharded_safetensors.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "tests/model/temp_dir.h"

namespace lockstep {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing_util::ScopedTempDir;
namespace fs = std::filesystem;

ModelConfig TinyConfig(ModelFamily family) {
  ModelConfig c;
  c.family = family;
  c.hidden_size = 32;
  c.num_layers = 3;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.intermediate_size = 40;
  c.vocab_size = 50;
  c.attention_bias = family == ModelFamily::kQwen2;
  c.qk_norm = family == ModelFamily::kQwen3;
  c.tie_word_embeddings = family != ModelFamily::kLlama;
  return c;
}

void ExpectSameWeights(const ModelWeights& a, const ModelWeights& b) {
  auto ta = a.NamedTensors();
  auto tb = b.NamedTensors();
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].first, tb[i].first);
    ASSERT_EQ(ta[i].second->nbytes(), tb[i].second->nbytes()) << ta[i].first;
    EXPECT_EQ(0, std::memcmp(ta[i].second->data(), tb[i].second->data(), ta[i].second->nbytes()))
        << ta[i].first;
  }
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

class ShardedRoundTrip : public ::testing::TestWithParam<ModelFamily> {};

TEST_P(ShardedRoundTrip, ShardsAboveTheThresholdAndLoadsBitwise) {
  ScopedTempDir tmp;
  auto w = RandomInitWeights(TinyConfig(GetParam()), DType::kBF16, 7);
  ASSERT_TRUE(w.ok()) << w.status();
  SaveModelOptions options;
  options.max_shard_bytes = 8000;  // a few tensors per shard
  ASSERT_TRUE(SaveModelDir(*w, tmp.path().string(), options).ok());

  EXPECT_FALSE(fs::exists(tmp.File("model.safetensors")));
  const nlohmann::json index = ReadJson(tmp.File("model.safetensors.index.json"));
  std::set<std::string> shards;
  for (const auto& [name, shard] : index["weight_map"].items()) shards.insert(shard);
  EXPECT_GT(shards.size(), 2u);
  int64_t total = 0;
  for (const auto& [name, t] : w->NamedTensors()) {
    total += static_cast<int64_t>(t->nbytes());
    EXPECT_TRUE(index["weight_map"].contains(name)) << name;
  }
  EXPECT_EQ(index["metadata"]["total_size"].get<int64_t>(), total);
  const std::string n = std::to_string(shards.size());
  EXPECT_TRUE(shards.count("model-00001-of-0000" + n + ".safetensors"));
  for (const std::string& shard : shards) {
    auto file = ReadSafetensors(tmp.File(shard));
    ASSERT_TRUE(file.ok()) << file.status();
    int64_t bytes = 0;
    for (const auto& [name, t] : file->tensors) bytes += static_cast<int64_t>(t.nbytes());
    // A shard exceeds the limit only when it is one tensor larger than it.
    EXPECT_TRUE(bytes <= 8000 || file->tensors.size() == 1) << shard;
    EXPECT_EQ(file->metadata.at("format"), "pt");
  }

  auto loaded = LoadModelDir(tmp.path().string(), DType::kBF16);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameWeights(*w, *loaded);

  // Saving again below the threshold replaces the shards by one file.
  ASSERT_TRUE(SaveModelDir(*w, tmp.path().string()).ok());
  EXPECT_TRUE(fs::exists(tmp.File("model.safetensors")));
  EXPECT_FALSE(fs::exists(tmp.File("model.safetensors.index.json")));
  for (const std::string& shard : shards) EXPECT_FALSE(fs::exists(tmp.File(shard))) << shard;
  auto again = LoadModelDir(tmp.path().string(), DType::kBF16);
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectSameWeights(*w, *again);
}

INSTANTIATE_TEST_SUITE_P(Families, ShardedRoundTrip,
                         ::testing::Values(ModelFamily::kLlama, ModelFamily::kQwen2,
                                           ModelFamily::kQwen3));

TEST(ShardedLoad, ConvertsDTypeOnLoad) {
  ScopedTempDir tmp;
  auto w = RandomInitWeights(TinyConfig(ModelFamily::kQwen2), DType::kF32, 3);
  ASSERT_TRUE(w.ok());
  SaveModelOptions options;
  options.max_shard_bytes = 10000;
  ASSERT_TRUE(SaveModelDir(*w, tmp.path().string(), options).ok());
  auto bf16 = LoadModelDir(tmp.path().string(), DType::kBF16);
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  EXPECT_EQ(bf16->dtype, DType::kBF16);
  const Tensor& src = w->layers[1].q_proj;
  const Tensor& dst = bf16->layers[1].q_proj;
  ASSERT_EQ(dst.dtype(), DType::kBF16);
  Tensor expected(DType::kBF16, src.shape());
  for (int64_t i = 0; i < src.numel(); ++i) expected.SetFloat(i, src.GetFloat(i));
  EXPECT_EQ(0, std::memcmp(expected.data(), dst.data(), dst.nbytes()));
}

// A sharded checkpoint on disk to break in one way per test.
class BadIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = RandomInitWeights(TinyConfig(ModelFamily::kLlama), DType::kF32, 1);
    ASSERT_TRUE(w.ok());
    SaveModelOptions options;
    options.max_shard_bytes = 20000;
    ASSERT_TRUE(SaveModelDir(*w, dir(), options).ok());
    index_ = ReadJson(tmp_.File("model.safetensors.index.json"));
  }
  std::string dir() const { return tmp_.path().string(); }
  void WriteIndex() { WriteText(tmp_.File("model.safetensors.index.json"), index_.dump(1)); }
  std::string ShardOf(const std::string& tensor) {
    return index_["weight_map"][tensor].get<std::string>();
  }
  absl::Status LoadStatus() { return LoadModelDir(dir(), DType::kF32).status(); }

  ScopedTempDir tmp_;
  nlohmann::json index_;
};

TEST_F(BadIndexTest, MissingShardNamesTheShardAndATensor) {
  const std::string shard = ShardOf("model.norm.weight");
  fs::remove(tmp_.File(shard));
  absl::Status s = LoadStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(shard), HasSubstr("does not exist"),
                                 HasSubstr("model.safetensors.index.json")));
}

TEST_F(BadIndexTest, TensorListedTwiceInTheIndexText) {
  // Valid JSON with a repeated key: a plain JSON reader would keep the last silently.
  std::string text = index_.dump(1);
  const std::string entry = "\"model.norm.weight\": \"" + ShardOf("model.norm.weight") + "\"";
  const size_t at = text.find(entry);
  ASSERT_NE(at, std::string::npos);
  text.insert(at, entry + ",\n");
  WriteText(tmp_.File("model.safetensors.index.json"), text);
  EXPECT_THAT(LoadStatus().message(),
              AllOf(HasSubstr("model.norm.weight"), HasSubstr("listed twice")));
}

TEST_F(BadIndexTest, TensorInTwoShards) {
  // The index points norm at another shard, which does not hold it, while its
  // real shard holds it unlisted.
  const std::string real = ShardOf("model.norm.weight");
  const std::string other = ShardOf("model.embed_tokens.weight");
  ASSERT_NE(real, other);
  index_["weight_map"]["model.norm.weight"] = other;
  WriteIndex();
  absl::Status s = LoadStatus();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("model.norm.weight"), HasSubstr(other)));
}

TEST_F(BadIndexTest, TensorMissingFromTheIndex) {
  index_["weight_map"].erase("model.layers.1.mlp.up_proj.weight");
  WriteIndex();
  absl::Status s = LoadStatus();
  EXPECT_THAT(s.message(), HasSubstr("model.layers.1.mlp.up_proj.weight"));
}

TEST_F(BadIndexTest, IndexedTensorMissingFromItsShard) {
  index_["weight_map"]["model.layers.9.mlp.up_proj.weight"] = ShardOf("model.norm.weight");
  WriteIndex();
  absl::Status s = LoadStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("model.layers.9.mlp.up_proj.weight"),
                    HasSubstr(ShardOf("model.norm.weight")), HasSubstr("missing tensor")));
}

TEST_F(BadIndexTest, MalformedIndex) {
  WriteText(tmp_.File("model.safetensors.index.json"), "{\"weight_map\": [1, 2]}");
  EXPECT_THAT(LoadStatus().message(),
              AllOf(HasSubstr("model.safetensors.index.json"), HasSubstr("weight_map")));
  WriteText(tmp_.File("model.safetensors.index.json"),
            "{\"weight_map\": {\"model.norm.weight\": \"../x.safetensors\"}}");
  EXPECT_THAT(LoadStatus().message(), HasSubstr("is not a file in the directory"));
}

TEST(ModelDirFiles, NoWeightsAtAll) {
  ScopedTempDir tmp;
  auto w = RandomInitWeights(TinyConfig(ModelFamily::kQwen3), DType::kF32, 1);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(SaveModelDir(*w, tmp.path().string()).ok());
  fs::remove(tmp.File("model.safetensors"));
  absl::Status s = LoadModelDir(tmp.path().string(), DType::kF32).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("model.safetensors"), HasSubstr("index.json")));
}

TEST(GenerationConfigTest, ReadsEosListsAndSampling) {
  auto g = GenerationConfig::FromHfJson(nlohmann::json::parse(R"({
    "bos_token_id": 151643, "eos_token_id": [151645, 151643], "pad_token_id": 151643,
    "do_sample": true, "temperature": 0.6, "top_p": 0.95, "top_k": 20,
    "transformers_version": "4.51.0"})"));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->eos_token_ids, (std::vector<int32_t>{151645, 151643}));
  EXPECT_EQ(g->bos_token_id, 151643);
  EXPECT_TRUE(g->do_sample);
  EXPECT_DOUBLE_EQ(g->temperature, 0.6);
  EXPECT_DOUBLE_EQ(g->top_p, 0.95);
  EXPECT_EQ(g->top_k, 20);

  auto single = GenerationConfig::FromHfJson(nlohmann::json::parse(R"({"eos_token_id": 2})"));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->eos_token_ids, (std::vector<int32_t>{2}));
  EXPECT_FALSE(single->do_sample);
  EXPECT_EQ(single->top_k, 50);  // HF's default

  auto bad = GenerationConfig::FromHfJson(nlohmann::json::parse(R"({"eos_token_id": "x"})"),
                                          "dir/generation_config.json");
  EXPECT_THAT(bad.status().message(),
              AllOf(HasSubstr("dir/generation_config.json"), HasSubstr("eos_token_id")));
  auto bad_p = GenerationConfig::FromHfJson(nlohmann::json::parse(R"({"top_p": 1.5})"));
  EXPECT_THAT(bad_p.status().message(), HasSubstr("top_p"));
}

TEST(GenerationConfigTest, SavedWithTheModelAndReadBack) {
  ScopedTempDir tmp;
  auto w = RandomInitWeights(TinyConfig(ModelFamily::kQwen3), DType::kBF16, 1);
  ASSERT_TRUE(w.ok());
  auto none = ReadGenerationConfig(tmp.path().string());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  SaveModelOptions options;
  options.generation = GenerationConfig{};
  options.generation->eos_token_ids = {7, 9};
  options.generation->do_sample = true;
  options.generation->temperature = 0.7;
  options.generation->top_k = 5;
  ASSERT_TRUE(SaveModelDir(*w, tmp.path().string(), options).ok());
  auto read = ReadGenerationConfig(tmp.path().string());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->eos_token_ids, (std::vector<int32_t>{7, 9}));
  EXPECT_TRUE((*read)->do_sample);
  EXPECT_DOUBLE_EQ((*read)->temperature, 0.7);
  EXPECT_EQ((*read)->top_k, 5);
}

nlohmann::json QwenConfigJson() {
  return nlohmann::json::parse(R"({
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 32,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
    "intermediate_size": 40, "vocab_size": 50, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
    "tie_word_embeddings": true, "rope_scaling": null, "use_sliding_window": false,
    "sliding_window": null, "max_window_layers": 28, "attention_dropout": 0.0,
    "layer_types": ["full_attention", "full_attention"]})");
}

TEST(HfConfigFeatures, AcceptsARealLookingQwen3Config) {
  auto c = ModelConfig::FromHfJson(QwenConfigJson());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->qk_norm);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);
  nlohmann::json j = QwenConfigJson();
  j["rope_scaling"] = {{"rope_type", "default"}};
  EXPECT_TRUE(ModelConfig::FromHfJson(j).ok());
  // transformers 5 writes rope_parameters and no rope_theta.
  j = QwenConfigJson();
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5e5}};
  auto v5 = ModelConfig::FromHfJson(j);
  ASSERT_TRUE(v5.ok()) << v5.status();
  EXPECT_DOUBLE_EQ(v5->rope_theta, 5e5);
  j["rope_parameters"]["rope_type"] = "llama3";
  EXPECT_THAT(ModelConfig::FromHfJson(j).status().message(),
              AllOf(HasSubstr("rope_parameters"), HasSubstr("llama3")));
}

TEST(HfConfigFeatures, UnsupportedFeaturesAreNamed) {
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* expect;
  };
  const Case cases[] = {
      {"rope_scaling", {{"rope_type", "linear"}, {"factor", 8.0}}, "linear"},
      {"rope_scaling", {{"type", "yarn"}, {"factor", 4.0}}, "yarn"},
      {"architectures", {"Qwen3ForSequenceClassification"}, "Qwen3ForSequenceClassification"},
      {"mlp_bias", true, "mlp_bias"},
      {"layer_types", {"full_attention", "sliding_attention"}, "sliding_attention"},
      {"use_sliding_window", true, "use_sliding_window"},
      {"model_type", "mistral", "mistral"},
  };
  for (const Case& c : cases) {
    nlohmann::json j = QwenConfigJson();
    j[c.key] = c.value;
    auto config = ModelConfig::FromHfJson(j, "m/config.json");
    ASSERT_FALSE(config.ok()) << c.key;
    EXPECT_THAT(config.status().message(), AllOf(HasSubstr("m/config.json"), HasSubstr(c.key),
                                                 HasSubstr(c.expect), HasSubstr("not supported")))
        << c.key;
  }
}

// config.json exactly as transformers 5.17 save_pretrained wrote it for the
// parity run (docs/parity/hf-parity-2026-11-29.txt): rope_parameters, dtype,
// layer_types, null pad ids.
TEST(HfConfigFeatures, ReadsTransformers5Configs) {
  const char* const kConfigs[] = {
      R"json({"architectures": ["LlamaForCausalLM"], "attention_bias": false, )json"
      R"json("attention_dropout": 0.0, "bos_token_id": 0, "dtype": "float32", )json"
      R"json("eos_token_id": 1, "head_dim": 16, "hidden_act": "silu", "hidden_size": 64, )json"
      R"json("initializer_range": 0.02, "intermediate_size": 112, )json"
      R"json("max_position_embeddings": 256, "mlp_bias": false, "model_type": "llama", )json"
      R"json("num_attention_heads": 4, "num_hidden_layers": 3, "num_key_value_heads": 2, )json"
      R"json("pad_token_id": null, "pretraining_tp": 1, "rms_norm_eps": 1e-06, )json"
      R"json("rope_parameters": {"rope_theta": 500000.0, "rope_type": "default"}, )json"
      R"json("tie_word_embeddings": false, "transformers_version": "5.17.0", )json"
      R"json("use_cache": true, "vocab_size": 211})json",
      R"json({"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, )json"
      R"json("bos_token_id": 0, "dtype": "float32", "eos_token_id": 1, "hidden_act": "silu", )json"
      R"json("hidden_size": 64, "initializer_range": 0.02, "intermediate_size": 112, )json"
      R"json("layer_types": ["full_attention", "full_attention", "full_attention"], )json"
      R"json("max_position_embeddings": 256, "max_window_layers": 28, "model_type": "qwen2", )json"
      R"json("num_attention_heads": 4, "num_hidden_layers": 3, "num_key_value_heads": 2, )json"
      R"json("pad_token_id": null, "rms_norm_eps": 1e-06, )json"
      R"json("rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"}, )json"
      R"json("sliding_window": null, "tie_word_embeddings": true, )json"
      R"json("transformers_version": "5.17.0", "use_cache": true, )json"
      R"json("use_sliding_window": false, "vocab_size": 211})json",
      R"json({"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, )json"
      R"json("attention_dropout": 0.0, "bos_token_id": 0, "dtype": "float32", )json"
      R"json("eos_token_id": 1, "head_dim": 24, "hidden_act": "silu", "hidden_size": 64, )json"
      R"json("initializer_range": 0.02, "intermediate_size": 112, )json"
      R"json("layer_types": ["full_attention", "full_attention", "full_attention"], )json"
      R"json("max_position_embeddings": 256, "max_window_layers": 28, "model_type": "qwen3", )json"
      R"json("num_attention_heads": 4, "num_hidden_layers": 3, "num_key_value_heads": 2, )json"
      R"json("pad_token_id": null, "rms_norm_eps": 1e-06, )json"
      R"json("rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"}, )json"
      R"json("sliding_window": null, "tie_word_embeddings": true, )json"
      R"json("transformers_version": "5.17.0", "use_cache": true, )json"
      R"json("use_sliding_window": false, "vocab_size": 211})json",
  };
  const double kThetas[] = {500000.0, 1000000.0, 1000000.0};
  const ModelFamily kFamilies[] = {ModelFamily::kLlama, ModelFamily::kQwen2, ModelFamily::kQwen3};
  for (int i = 0; i < 3; ++i) {
    auto c = ModelConfig::FromHfJson(nlohmann::json::parse(kConfigs[i]));
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->family, kFamilies[i]);
    EXPECT_DOUBLE_EQ(c->rope_theta, kThetas[i]);
    EXPECT_EQ(c->tie_word_embeddings, i != 0);
    EXPECT_EQ(c->attention_bias, i == 1);
    EXPECT_EQ(c->head_dim, i == 2 ? 24 : 16);
  }
}

}  // namespace
}  // namespace lockstep
