#include "model/weights.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <tuple>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/safetensors.h"
#include "nlohmann/json.hpp"
#include "tests/model/temp_dir.h"

namespace lockstep {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing_util::ScopedTempDir;

ModelConfig SmallConfig(ModelFamily family) {
  ModelConfig c;
  c.family = family;
  c.hidden_size = 48;
  c.num_layers = 2;
  c.num_heads = 6;
  c.num_kv_heads = 2;
  c.head_dim = 10;
  c.intermediate_size = 37;
  c.vocab_size = 29;
  c.attention_bias = family == ModelFamily::kQwen2;
  c.qk_norm = family == ModelFamily::kQwen3;
  c.tie_word_embeddings = family == ModelFamily::kQwen3;
  return c;
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

void ExpectBitwiseEqual(const ModelWeights& a, const ModelWeights& b) {
  auto ta = a.NamedTensors();
  auto tb = b.NamedTensors();
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].first, tb[i].first);
    EXPECT_TRUE(SameBytes(*ta[i].second, *tb[i].second)) << ta[i].first;
  }
}

std::set<std::string> Names(const ModelWeights& w) {
  std::set<std::string> names;
  for (const auto& [name, t] : w.NamedTensors()) names.insert(name);
  return names;
}

TEST(WeightsTest, HfNamesAndShapesPerFamily) {
  absl::StatusOr<ModelWeights> llama =
      AllocateWeights(SmallConfig(ModelFamily::kLlama), DType::kF16);
  ASSERT_TRUE(llama.ok()) << llama.status();
  EXPECT_EQ(llama->NamedTensors().size(), 1u + 2 * 9 + 2);
  const std::set<std::string> names = Names(*llama);
  for (const char* want :
       {"model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
        "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
        "model.layers.1.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
        "model.layers.1.post_attention_layernorm.weight", "model.layers.0.mlp.gate_proj.weight",
        "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
        "model.norm.weight", "lm_head.weight"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
  const LayerWeights& l = llama->layers[1];
  EXPECT_EQ(l.q_proj.shape(), (std::vector<int64_t>{60, 48}));
  EXPECT_EQ(l.k_proj.shape(), (std::vector<int64_t>{20, 48}));
  EXPECT_EQ(l.o_proj.shape(), (std::vector<int64_t>{48, 60}));
  EXPECT_EQ(l.gate_proj.shape(), (std::vector<int64_t>{37, 48}));
  EXPECT_EQ(l.down_proj.shape(), (std::vector<int64_t>{48, 37}));
  EXPECT_EQ(llama->lm_head.shape(), (std::vector<int64_t>{29, 48}));
  EXPECT_EQ(&llama->OutputEmbedding(), &llama->lm_head);
  EXPECT_EQ(l.q_bias.numel(), 0);
  EXPECT_EQ(l.q_norm.numel(), 0);

  absl::StatusOr<ModelWeights> qwen2 =
      AllocateWeights(SmallConfig(ModelFamily::kQwen2), DType::kBF16);
  ASSERT_TRUE(qwen2.ok()) << qwen2.status();
  EXPECT_TRUE(Names(*qwen2).count("model.layers.1.self_attn.k_proj.bias"));
  EXPECT_EQ(qwen2->layers[0].v_bias.shape(), (std::vector<int64_t>{20}));
  EXPECT_EQ(qwen2->NamedTensors().size(), 1u + 2 * 12 + 2);

  absl::StatusOr<ModelWeights> qwen3 =
      AllocateWeights(SmallConfig(ModelFamily::kQwen3), DType::kBF16);
  ASSERT_TRUE(qwen3.ok()) << qwen3.status();
  const std::set<std::string> qwen3_names = Names(*qwen3);
  EXPECT_TRUE(qwen3_names.count("model.layers.0.self_attn.q_norm.weight"));
  EXPECT_TRUE(qwen3_names.count("model.layers.0.self_attn.k_norm.weight"));
  EXPECT_FALSE(qwen3_names.count("lm_head.weight"));  // tied
  EXPECT_EQ(qwen3->layers[0].k_norm.shape(), (std::vector<int64_t>{10}));
  EXPECT_EQ(&qwen3->OutputEmbedding(), &qwen3->embed_tokens);
  EXPECT_EQ(qwen3->NamedTensors().size(), 1u + 2 * 11 + 1);

  // Mutable and const views list the same tensors in the same order.
  auto mut = qwen3->MutableNamedTensors();
  auto con = qwen3->NamedTensors();
  ASSERT_EQ(mut.size(), con.size());
  for (size_t i = 0; i < mut.size(); ++i) {
    EXPECT_EQ(mut[i].first, con[i].first);
    EXPECT_EQ(mut[i].second, con[i].second);
  }
}

TEST(WeightsTest, AllocateValidatesConfig) {
  ModelConfig c = SmallConfig(ModelFamily::kLlama);
  c.num_kv_heads = 4;
  absl::StatusOr<ModelWeights> w = AllocateWeights(c, DType::kF32);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("num_kv_heads"));
  EXPECT_FALSE(RandomInitWeights(c, DType::kF32, 1).ok());
  EXPECT_FALSE(RandomInitWeights(SmallConfig(ModelFamily::kLlama), DType::kF32, 1, -1.0f).ok());
}

TEST(WeightsTest, RandomInitIsAPureFunctionOfConfigDtypeSeed) {
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    SCOPED_TRACE(std::string(DTypeName(dtype)));
    const ModelConfig c = SmallConfig(ModelFamily::kQwen2);
    absl::StatusOr<ModelWeights> a = RandomInitWeights(c, dtype, 42);
    absl::StatusOr<ModelWeights> b = RandomInitWeights(c, dtype, 42);
    absl::StatusOr<ModelWeights> other = RandomInitWeights(c, dtype, 43);
    ASSERT_TRUE(a.ok() && b.ok() && other.ok());
    ExpectBitwiseEqual(*a, *b);
    for (const auto& [name, t] : a->NamedTensors()) {
      if (name.ends_with("norm.weight")) continue;
      const Tensor* o = nullptr;
      for (const auto& [n2, t2] : other->NamedTensors()) {
        if (n2 == name) o = t2;
      }
      ASSERT_NE(o, nullptr);
      EXPECT_FALSE(SameBytes(*t, *o)) << name << " does not depend on the seed";
    }
    // Every draw is already representable in the storage dtype.
    for (float v : a->layers[0].q_proj.ToFloats()) EXPECT_EQ(v, RoundToDType(v, dtype));
  }
}

TEST(WeightsTest, RandomInitPinnedValues) {
  // Checkpoints and recorded results depend on these exact bits: a change to
  // the generator must be deliberate. F32 shows every bit of the draw.
  absl::StatusOr<ModelWeights> w =
      RandomInitWeights(SmallConfig(ModelFamily::kLlama), DType::kF32, 1234);
  ASSERT_TRUE(w.ok());
  const uint32_t kExpected[4] = {0xbc8f3ba7, 0xbc846d98, 0xbc3ed08b, 0x3d1ac706};
  for (int i = 0; i < 4; ++i) {
    const float v = w->embed_tokens.GetFloat(i);
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    EXPECT_EQ(bits, kExpected[i]) << "element " << i << " = " << v;
  }
}

TEST(WeightsTest, RandomInitStatisticsAndNorms) {
  ModelConfig c = SmallConfig(ModelFamily::kQwen3);
  c.vocab_size = 1000;
  c.hidden_size = 200;
  absl::StatusOr<ModelWeights> w = RandomInitWeights(c, DType::kF32, 7, 0.5f);
  ASSERT_TRUE(w.ok()) << w.status();
  // 200,000 N(0, 0.25) draws: mean within ~5 standard errors, std within 1%.
  double sum = 0, sum_sq = 0;
  int beyond_3_sigma = 0;
  const std::vector<float> v = w->embed_tokens.ToFloats();
  for (float x : v) {
    sum += x;
    sum_sq += double{x} * x;
    if (std::abs(x) > 1.5f) ++beyond_3_sigma;
  }
  const double n = static_cast<double>(v.size());
  const double mean = sum / n;
  const double stddev = std::sqrt(sum_sq / n - mean * mean);
  EXPECT_LT(std::abs(mean), 5 * 0.5 / std::sqrt(n));
  EXPECT_NEAR(stddev, 0.5, 0.005);
  // A normal has 0.27% of its mass beyond 3 sigma; a uniform or clipped one would not.
  EXPECT_NEAR(beyond_3_sigma / n, 0.0027, 0.0006);

  for (const auto& [name, t] : w->NamedTensors()) {
    if (!name.ends_with("norm.weight")) continue;
    for (float x : t->ToFloats()) ASSERT_EQ(x, 1.0f) << name;
  }
  // Biases are small and nonzero, so the bias path is exercised.
  absl::StatusOr<ModelWeights> q2 =
      RandomInitWeights(SmallConfig(ModelFamily::kQwen2), DType::kF32, 7);
  ASSERT_TRUE(q2.ok());
  float max_abs = 0;
  for (float x : q2->layers[0].q_bias.ToFloats()) max_abs = std::max(max_abs, std::abs(x));
  EXPECT_GT(max_abs, 0.0f);
  EXPECT_LT(max_abs, 0.2f);
}

TEST(WeightsTest, TensorValuesDoNotDependOnOtherTensors) {
  ModelConfig tied = SmallConfig(ModelFamily::kLlama);
  tied.tie_word_embeddings = true;
  ModelConfig untied = tied;
  untied.tie_word_embeddings = false;
  absl::StatusOr<ModelWeights> a = RandomInitWeights(tied, DType::kBF16, 9);
  absl::StatusOr<ModelWeights> b = RandomInitWeights(untied, DType::kBF16, 9);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(SameBytes(a->embed_tokens, b->embed_tokens));
  EXPECT_TRUE(SameBytes(a->layers[1].down_proj, b->layers[1].down_proj));
  EXPECT_FALSE(SameBytes(b->lm_head, b->embed_tokens));
}

class ModelDirRoundTrip : public ::testing::TestWithParam<std::tuple<ModelFamily, DType>> {};

TEST_P(ModelDirRoundTrip, SaveThenLoadIsBitwise) {
  const auto [family, dtype] = GetParam();
  ScopedTempDir dir;
  const std::string model_dir = (dir.path() / "nested" / "model").string();
  absl::StatusOr<ModelWeights> w = RandomInitWeights(SmallConfig(family), dtype, 11);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(SaveModelDir(*w, model_dir).ok());

  std::ifstream config_in(model_dir + "/config.json");
  const nlohmann::json config = nlohmann::json::parse(config_in);
  static const char* kTorch[] = {"float32", "float16", "bfloat16"};
  EXPECT_EQ(config.at("torch_dtype"), kTorch[static_cast<int>(dtype)]);
  absl::StatusOr<SafetensorsFile> raw = ReadSafetensors(model_dir + "/model.safetensors");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->metadata.at("format"), "pt");

  absl::StatusOr<ModelWeights> back = LoadModelDir(model_dir, dtype);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->dtype, dtype);
  EXPECT_EQ(back->config.ToHfJson(), w->config.ToHfJson());
  ExpectBitwiseEqual(*w, *back);
}

INSTANTIATE_TEST_SUITE_P(
    FamiliesAndDTypes, ModelDirRoundTrip,
    ::testing::Combine(::testing::Values(ModelFamily::kLlama, ModelFamily::kQwen2,
                                         ModelFamily::kQwen3),
                       ::testing::Values(DType::kF32, DType::kF16, DType::kBF16)),
    [](const auto& info) {
      return ModelFamilyName(std::get<0>(info.param)) + "_" +
             std::string(DTypeName(std::get<1>(info.param)));
    });

TEST(ModelDirTest, LoadConvertsDTypesWithRoundToNearestEven) {
  ScopedTempDir dir;
  const std::string model_dir = dir.File("m");
  absl::StatusOr<ModelWeights> f32 =
      RandomInitWeights(SmallConfig(ModelFamily::kQwen2), DType::kF32, 5);
  ASSERT_TRUE(f32.ok());
  // A value exactly halfway between two bf16 and two fp16 neighbours: RNE picks
  // the even one, truncation or round-half-up would not.
  f32->embed_tokens.SetFloat(0, 1.0f + 0x1.0p-8f + 0x1.0p-7f);  // bf16 tie -> 1 + 2^-6
  f32->embed_tokens.SetFloat(1, 1.0f + 0x1.0p-11f);             // fp16 tie -> 1.0
  ASSERT_TRUE(SaveModelDir(*f32, model_dir).ok());

  for (DType target : {DType::kF16, DType::kBF16}) {
    SCOPED_TRACE(std::string(DTypeName(target)));
    absl::StatusOr<ModelWeights> w = LoadModelDir(model_dir, target);
    ASSERT_TRUE(w.ok()) << w.status();
    auto src = f32->NamedTensors();
    auto dst = w->NamedTensors();
    ASSERT_EQ(src.size(), dst.size());
    for (size_t i = 0; i < src.size(); ++i) {
      ASSERT_EQ(dst[i].second->dtype(), target);
      for (int64_t j = 0; j < src[i].second->numel(); ++j) {
        ASSERT_EQ(dst[i].second->GetFloat(j), RoundToDType(src[i].second->GetFloat(j), target))
            << src[i].first << "[" << j << "]";
      }
    }
  }
  absl::StatusOr<ModelWeights> bf16 = LoadModelDir(model_dir, DType::kBF16);
  ASSERT_TRUE(bf16.ok());
  EXPECT_EQ(bf16->embed_tokens.GetFloat(0), 1.0f + 0x1.0p-6f);
  absl::StatusOr<ModelWeights> f16 = LoadModelDir(model_dir, DType::kF16);
  ASSERT_TRUE(f16.ok());
  EXPECT_EQ(f16->embed_tokens.GetFloat(1), 1.0f);

  // Widening is exact: bf16 saved, loaded as fp32, gives the same values.
  const std::string bf16_dir = dir.File("bf16");
  ASSERT_TRUE(SaveModelDir(*bf16, bf16_dir).ok());
  absl::StatusOr<ModelWeights> wide = LoadModelDir(bf16_dir, DType::kF32);
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide->layers[1].up_proj.ToFloats(), bf16->layers[1].up_proj.ToFloats());
}

class ModelDirErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<ModelWeights> w =
        RandomInitWeights(SmallConfig(ModelFamily::kLlama), DType::kBF16, 3);
    ASSERT_TRUE(w.ok());
    weights_ = std::move(*w);
    ASSERT_TRUE(SaveModelDir(weights_, model_dir_).ok());
  }
  // Rewrites model.safetensors with the model's tensors, edited by `edit`.
  void RewriteTensors(
      const std::function<void(std::vector<std::pair<std::string, const Tensor*>>&)>& edit) {
    auto tensors = weights_.NamedTensors();
    edit(tensors);
    ASSERT_TRUE(WriteSafetensors(weights_path_, tensors).ok());
  }
  std::string LoadError() {
    absl::StatusOr<ModelWeights> w = LoadModelDir(model_dir_, DType::kBF16);
    EXPECT_FALSE(w.ok());
    return w.ok() ? "" : std::string(w.status().message());
  }
  ScopedTempDir dir_;
  std::string model_dir_ = dir_.File("model");
  std::string weights_path_ = model_dir_ + "/model.safetensors";
  ModelWeights weights_;
};

TEST_F(ModelDirErrorTest, MissingTensor) {
  RewriteTensors([](auto& t) { t.erase(t.begin() + 3); });
  EXPECT_THAT(LoadError(), AllOf(HasSubstr(weights_path_), HasSubstr("missing"),
                                 HasSubstr("'model.layers.0.self_attn.k_proj.weight'")));
}

TEST_F(ModelDirErrorTest, UnexpectedTensor) {
  Tensor extra(DType::kF32, {3});
  RewriteTensors([&](auto& t) { t.emplace_back("model.layers.0.mlp.extra.weight", &extra); });
  EXPECT_THAT(LoadError(), AllOf(HasSubstr(weights_path_), HasSubstr("unexpected"),
                                 HasSubstr("'model.layers.0.mlp.extra.weight'")));
}

TEST_F(ModelDirErrorTest, ShapeMismatch) {
  Tensor wrong(DType::kBF16, {29, 47});
  RewriteTensors([&](auto& t) { t.front().second = &wrong; });
  EXPECT_THAT(LoadError(), AllOf(HasSubstr(weights_path_), HasSubstr("'model.embed_tokens.weight'"),
                                 HasSubstr("[29, 47]"), HasSubstr("[29, 48]")));
}

TEST_F(ModelDirErrorTest, BadConfigAndMissingFiles) {
  {
    std::ofstream out(model_dir_ + "/config.json", std::ios::trunc);
    out << "{\"model_type\": \"mamba\"}";
  }
  EXPECT_THAT(LoadError(), AllOf(HasSubstr("config.json"), HasSubstr("model_type")));
  {
    std::ofstream out(model_dir_ + "/config.json", std::ios::trunc);
    out << "{ broken";
  }
  EXPECT_THAT(LoadError(), AllOf(HasSubstr("config.json"), HasSubstr("JSON")));
  std::filesystem::remove(model_dir_ + "/config.json");
  EXPECT_THAT(LoadError(), HasSubstr("config.json"));
  EXPECT_FALSE(LoadModelDir(dir_.File("nowhere"), DType::kF16).ok());
}

TEST_F(ModelDirErrorTest, TiedCheckpointMayCarryAnIdenticalLmHead) {
  ModelConfig tied = SmallConfig(ModelFamily::kLlama);
  tied.tie_word_embeddings = true;
  absl::StatusOr<ModelWeights> w = RandomInitWeights(tied, DType::kBF16, 3);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(SaveModelDir(*w, model_dir_).ok());
  auto tensors = w->NamedTensors();
  tensors.emplace_back("lm_head.weight", &w->embed_tokens);
  ASSERT_TRUE(WriteSafetensors(weights_path_, tensors).ok());
  absl::StatusOr<ModelWeights> back = LoadModelDir(model_dir_, DType::kBF16);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectBitwiseEqual(*w, *back);

  Tensor other = RandomInitWeights(tied, DType::kBF16, 4)->embed_tokens;
  tensors.back().second = &other;
  ASSERT_TRUE(WriteSafetensors(weights_path_, tensors).ok());
  EXPECT_THAT(LoadError(), AllOf(HasSubstr(weights_path_), HasSubstr("'lm_head.weight'"),
                                 HasSubstr("tie_word_embeddings")));
}

TEST(ModelDirTest, SaveRejectsWeightsThatDoNotMatchTheirConfig) {
  ScopedTempDir dir;
  absl::StatusOr<ModelWeights> w =
      RandomInitWeights(SmallConfig(ModelFamily::kLlama), DType::kF16, 1);
  ASSERT_TRUE(w.ok());
  w->layers[1].up_proj = Tensor(DType::kF16, {36, 48});
  EXPECT_THAT(SaveModelDir(*w, dir.File("m")).message(),
              AllOf(HasSubstr("model.layers.1.mlp.up_proj.weight"), HasSubstr("[36, 48]")));
  w->layers[1].up_proj = Tensor(DType::kBF16, {37, 48});
  EXPECT_THAT(SaveModelDir(*w, dir.File("m")).message(),
              HasSubstr("model.layers.1.mlp.up_proj.weight"));
}

}  // namespace
}  // namespace lockstep
