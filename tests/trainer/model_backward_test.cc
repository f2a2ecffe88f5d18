// Whole-model gradient check: the analytic backward of every weight tensor
// against central finite differences of the fp32 forward, for Llama (tied
// embeddings), Qwen2 (q/k/v bias) and Qwen3 (q/k norm). Also: the backward is
// deterministic (same bits twice) and micro-batches accumulate.
#include "trainer/model_backward.h"

#include <cmath>
#include <cstring>
#include <random>

#include "gtest/gtest.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/logprob.h"

namespace lockstep::trainer {
namespace {

ModelConfig TinyConfig(ModelFamily family) {
  ModelConfig c;
  c.family = family;
  c.hidden_size = 16;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 4;
  c.intermediate_size = 24;
  c.vocab_size = 11;
  c.attention_bias = family == ModelFamily::kQwen2;
  c.qk_norm = family == ModelFamily::kQwen3;
  c.tie_word_embeddings = family == ModelFamily::kLlama;
  c.max_position_embeddings = 64;
  return c;
}

const std::vector<std::vector<int32_t>> kSequences = {{1, 4, 7, 2, 9, 3}, {5, 5, 1}, {8, 0, 10, 6, 2}};
const SamplingParams kParams{.temperature = 0.9f, .top_k = 0, .top_p = 1.0f};

// Loss = -Σ over sequences and positions of logprob(next token) · weight(t) / kTokens,
// a mean, so |loss| is O(1) and the fp32 rounding noise of finite differences small.
constexpr double kTokens = 11.0;
double Loss(const ModelWeights& weights) {
  auto model = Transformer::Create(weights).value();
  std::vector<std::span<const int32_t>> spans(kSequences.begin(), kSequences.end());
  Tensor logits;
  EXPECT_TRUE(model->ForwardSequences(spans, &logits).ok());
  double loss = 0.0;
  int64_t row = 0;
  for (const auto& seq : kSequences) {
    for (size_t t = 0; t + 1 < seq.size(); ++t) {
      loss -= (1.0 + 0.1 * t) / kTokens *
              cpu::TokenLogprob(logits.AsMatrix().RowRange(row + t, 1), seq[t + 1], kParams);
    }
    row += static_cast<int64_t>(seq.size());
  }
  return loss;
}

void Gradients(const ModelWeights& weights, ModelGradients* grads) {
  auto model = Transformer::Create(weights).value();
  std::vector<std::span<const int32_t>> spans(kSequences.begin(), kSequences.end());
  Tensor logits;
  ForwardActivations acts;
  ASSERT_TRUE(model->ForwardSequences(spans, &logits, &acts).ok());
  const int64_t vocab = weights.config.vocab_size;
  std::vector<float> dlogits(static_cast<size_t>(logits.dim(0) * vocab), 0.0f);
  int64_t row = 0;
  for (const auto& seq : kSequences) {
    for (size_t t = 0; t + 1 < seq.size(); ++t) {
      cpu::TokenLogprobBackward(logits.AsMatrix().RowRange(row + t, 1), seq[t + 1], kParams,
                                static_cast<float>(-(1.0 + 0.1 * t) / kTokens),
                                dlogits.data() + (row + t) * vocab);
    }
    row += static_cast<int64_t>(seq.size());
  }
  ASSERT_TRUE(BackwardSequences(*model, acts, dlogits, grads).ok());
}

class ModelGradTest : public ::testing::TestWithParam<ModelFamily> {};

TEST_P(ModelGradTest, EveryTensorMatchesFiniteDifferences) {
  const ModelConfig config = TinyConfig(GetParam());
  ModelWeights weights = RandomInitWeights(config, DType::kF32, 5, 0.3f).value();
  // Norm weights away from exactly 1 so their gradients are generic.
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> jitter(0.7f, 1.3f);
  for (auto& [name, t] : weights.MutableNamedTensors()) {
    if (name.find("norm") != std::string::npos) {
      for (int64_t i = 0; i < t->numel(); ++i) t->SetFloat(i, jitter(rng));
    }
  }
  ModelGradients grads(weights);
  Gradients(weights, &grads);
  // Reference: Richardson-extrapolated central differences of the fp32
  // forward, (4·D(h/2) − D(h))/3 with h = 1e-2, whose truncation error is
  // O(h⁴). What remains is fp32 rounding noise, about 1e-6·|loss|/h ≈ 1e-4
  // per probe; hence the bound 2e-3 relative (normwise over 12 probed
  // entries) plus 5e-4 absolute.
  const float h = 1e-2f;
  for (auto& [name, t] : weights.MutableNamedTensors()) {
    const std::vector<float>& g = *grads.Find(name);
    double diff2 = 0.0, ref2 = 0.0;
    const int64_t n = t->numel();
    for (int64_t probe = 0; probe < std::min<int64_t>(n, 12); ++probe) {
      const int64_t i = (probe * 7919) % n;
      const float original = t->GetFloat(i);
      auto central = [&](float step) {
        t->SetFloat(i, original + step);
        const double up = Loss(weights);
        t->SetFloat(i, original - step);
        const double down = Loss(weights);
        t->SetFloat(i, original);
        return (up - down) /
               (static_cast<double>(original + step) - static_cast<double>(original - step));
      };
      const double numeric = (4.0 * central(h / 2) - central(h)) / 3.0;
      diff2 += (g[i] - numeric) * (g[i] - numeric);
      ref2 += numeric * numeric;
    }
    EXPECT_LE(std::sqrt(diff2), 2e-3 * std::sqrt(ref2) + 5e-4) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ModelGradTest,
                         ::testing::Values(ModelFamily::kLlama, ModelFamily::kQwen2,
                                           ModelFamily::kQwen3));

TEST(ModelBackward, DeterministicAndAccumulating) {
  const ModelConfig config = TinyConfig(ModelFamily::kQwen2);
  const ModelWeights weights = RandomInitWeights(config, DType::kBF16, 2, 0.2f).value();
  ModelGradients once(weights), again(weights), twice(weights);
  Gradients(weights, &once);
  Gradients(weights, &again);
  Gradients(weights, &twice);
  Gradients(weights, &twice);
  auto a = once.Named(), b = again.Named(), c = twice.Named();
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(std::memcmp(a[i].second->data(), b[i].second->data(), a[i].second->size() * 4), 0)
        << a[i].first;
    for (size_t j = 0; j < a[i].second->size(); ++j) {
      ASSERT_EQ((*c[i].second)[j], 2.0f * (*a[i].second)[j]) << c[i].first;
    }
  }
}

}  // namespace
}  // namespace lockstep::trainer
