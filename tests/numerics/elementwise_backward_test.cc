// SwiGluBackward and EmbeddingBackward: gradients against float64 finite
// differences (SwiGLU) and exact ascending-position sums (embedding),
// accumulate semantics, 16-bit storage, determinism.
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/elementwise.h"
#include "tests/numerics/backward_test_util.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cpu {
namespace {

using ::lockstep::testing::AllCoords;
using ::lockstep::testing::AsDoubles;
using ::lockstep::testing::BitsEqual;
using ::lockstep::testing::ExpectGradientMatches;
using ::lockstep::testing::NaNs;
using ::lockstep::testing::RandomFloats;
using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::Restored;

// Σ dy·silu(g)·u in float64 (the forward's roundings are not part of the
// function being differentiated).
double SwiGluLoss(const std::vector<double>& gate, const std::vector<double>& up,
                  const std::vector<float>& dy) {
  double loss = 0.0;
  for (size_t i = 0; i < gate.size(); ++i) {
    loss += dy[i] * (gate[i] / (1.0 + std::exp(-gate[i]))) * up[i];
  }
  return loss;
}

struct SwiGluGrads {
  std::vector<float> dgate, dup;
};

SwiGluGrads SwiGluGradients(const Tensor& gate, const Tensor& up, const std::vector<float>& dy) {
  SwiGluGrads g{NaNs(gate.numel()), NaNs(up.numel())};
  EXPECT_TRUE(
      SwiGluBackward(gate.AsMatrix(), up.AsMatrix(), dy.data(), g.dgate.data(), g.dup.data()).ok());
  return g;
}

TEST(SwiGluBackwardTest, MatchesFiniteDifferences) {
  uint64_t seed = 400;
  for (int64_t m : {1, 3, 19}) {
    for (int64_t f : {5, 33, 111}) {
      SCOPED_TRACE(::testing::Message() << "M=" << m << " F=" << f);
      // Gate spread N(0, 3) reaches both tails of silu.
      const Tensor gate = RandomTensor(DType::kF32, m, f, seed += 10, 3.0f);
      const Tensor up = RandomTensor(DType::kF32, m, f, seed + 1);
      const std::vector<float> dy = RandomFloats(m * f, seed + 2);
      const std::vector<double> g = AsDoubles(gate), u = AsDoubles(up);
      const SwiGluGrads grads = SwiGluGradients(gate, up, dy);
      ExpectGradientMatches(
          "dgate", grads.dgate, g,
          [&](const std::vector<double>& v) { return SwiGluLoss(v, u, dy); }, AllCoords(m * f));
      ExpectGradientMatches(
          "dup", grads.dup, u, [&](const std::vector<double>& v) { return SwiGluLoss(g, v, dy); },
          AllCoords(m * f));
    }
  }
}

TEST(SwiGluBackwardTest, ExtremeGatesStayFinite) {
  // exp(−g) overflows for g < −88: σ → 0 and silu' → 0, never NaN.
  const std::vector<float> values = {-200.0f, -90.0f, -20.0f, 0.0f, 20.0f, 90.0f, 200.0f};
  const Tensor gate = Tensor::FromFloats(DType::kF32, {1, 7}, values);
  const Tensor up = Tensor::FromFloats(DType::kF32, {1, 7}, std::vector<float>(7, 1.5f));
  const SwiGluGrads g = SwiGluGradients(gate, up, std::vector<float>(7, 1.0f));
  for (int i = 0; i < 7; ++i) {
    EXPECT_TRUE(std::isfinite(g.dgate[i]) && std::isfinite(g.dup[i])) << values[i];
  }
  EXPECT_EQ(g.dgate[0], 0.0f);
  EXPECT_EQ(g.dgate[6], 1.5f);  // silu'(200) = 1
}

class SwiGluBackwardStorageTest : public ::testing::TestWithParam<DType> {};

TEST_P(SwiGluBackwardStorageTest, WidensExactlyAndStaysCloseToFp32) {
  const Tensor gate = RandomTensor(DType::kF32, 19, 111, 51, 3.0f);
  const Tensor up = RandomTensor(DType::kF32, 19, 111, 52);
  const std::vector<float> dy = RandomFloats(19 * 111, 53);
  const Tensor gate16 = Restored(gate, GetParam()), up16 = Restored(up, GetParam());
  const SwiGluGrads g16 = SwiGluGradients(gate16, up16, dy);
  const SwiGluGrads g_rounded =
      SwiGluGradients(Restored(gate16, DType::kF32), Restored(up16, DType::kF32), dy);
  const SwiGluGrads g32 = SwiGluGradients(gate, up, dy);
  EXPECT_TRUE(BitsEqual(g16.dgate, g_rounded.dgate));
  EXPECT_TRUE(BitsEqual(g16.dup, g_rounded.dup));
  const double bound = lockstep::testing::StorageRoundingBound(GetParam());
  EXPECT_LE(lockstep::testing::RelativeDifference(g16.dgate, g32.dgate), bound);
  EXPECT_LE(lockstep::testing::RelativeDifference(g16.dup, g32.dup), bound);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, SwiGluBackwardStorageTest,
                         ::testing::Values(DType::kF16, DType::kBF16),
                         lockstep::testing::DTypeParamName);

TEST(SwiGluBackwardTest, DeterministicAcrossThreadsAndRepeats) {
  const Tensor gate = RandomTensor(DType::kF32, 64, 100, 61, 3.0f);
  const Tensor up = RandomTensor(DType::kF32, 64, 100, 62);
  const std::vector<float> dy = RandomFloats(64 * 100, 63);
  lockstep::testing::ExpectDeterministicAcrossThreads([&] {
    const SwiGluGrads g = SwiGluGradients(gate, up, dy);
    return std::vector<std::vector<float>>{g.dgate, g.dup};
  });
}

std::vector<int32_t> RandomIds(int64_t n, int32_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t& id : ids) id = dist(rng);
  return ids;
}

TEST(EmbeddingBackwardTest, SumsRowsInAscendingPositionAndAccumulates) {
  constexpr int64_t kVocab = 11, kHidden = 33, kTokens = 70;  // ids repeat
  const std::vector<int32_t> ids = RandomIds(kTokens, kVocab, 71);
  const std::vector<float> dy = RandomFloats(kTokens * kHidden, 72);
  // Each row's sum, positions ascending from +0.0f, added once to the prior value.
  const std::vector<float> prior = RandomFloats(kVocab * kHidden, 73);
  std::vector<float> expected = prior;
  for (int64_t v = 0; v < kVocab; ++v) {
    for (int64_t c = 0; c < kHidden; ++c) {
      float sum = 0.0f;
      for (int64_t t = 0; t < kTokens; ++t)
        if (ids[t] == v) sum += dy[t * kHidden + c];
      expected[v * kHidden + c] += sum;
    }
  }
  std::vector<float> dtable = prior;
  ASSERT_TRUE(EmbeddingBackward(ids, dy.data(), kHidden, kVocab, dtable.data()).ok());
  EXPECT_TRUE(BitsEqual(dtable, expected));

  // Against finite differences of Σ dy·table[ids] (linear, so exact up to fp32 sums).
  std::vector<float> from_zero(kVocab * kHidden, 0.0f);
  ASSERT_TRUE(EmbeddingBackward(ids, dy.data(), kHidden, kVocab, from_zero.data()).ok());
  const Tensor table = RandomTensor(DType::kF32, kVocab, kHidden, 74);
  ExpectGradientMatches(
      "dtable", from_zero, AsDoubles(table),
      [&](const std::vector<double>& tab) {
        double loss = 0.0;
        for (int64_t t = 0; t < kTokens; ++t)
          for (int64_t c = 0; c < kHidden; ++c)
            loss += dy[t * kHidden + c] * tab[ids[t] * kHidden + c];
        return loss;
      },
      AllCoords(kVocab * kHidden));

  // A second call adds the same sums again: exactly doubled.
  std::vector<float> twice = from_zero;
  ASSERT_TRUE(EmbeddingBackward(ids, dy.data(), kHidden, kVocab, twice.data()).ok());
  for (size_t i = 0; i < twice.size(); ++i) ASSERT_EQ(twice[i], 2.0f * from_zero[i]) << i;
}

TEST(EmbeddingBackwardTest, DeterministicAcrossThreadsAndRepeats) {
  // 200 positions over 50 ids: many distinct rows, so the id runs are split.
  const std::vector<int32_t> ids = RandomIds(200, 50, 81);
  const std::vector<float> dy = RandomFloats(200 * 40, 82);
  lockstep::testing::ExpectDeterministicAcrossThreads([&] {
    std::vector<float> dtable(50 * 40, 0.0f);
    EXPECT_TRUE(EmbeddingBackward(ids, dy.data(), 40, 50, dtable.data()).ok());
    return std::vector<std::vector<float>>{dtable};
  });
}

TEST(EmbeddingBackwardTest, RejectsIdsOutsideTheVocabulary) {
  const std::vector<int32_t> ids = {0, 5};
  std::vector<float> dy(2 * 3, 1.0f), dtable(5 * 3, 0.0f);
  EXPECT_EQ(EmbeddingBackward(ids, dy.data(), 3, 5, dtable.data()).code(),
            absl::StatusCode::kOutOfRange);
  for (float v : dtable) EXPECT_EQ(v, 0.0f) << "nothing written on error";
}

}  // namespace
}  // namespace lockstep::cpu
