// CausalAttentionBackward: dq, dk, dv against float64 finite differences of a
// reference causal GQA attention (sequences longer than one 64-key chunk
// included), overwrite semantics, 16-bit storage, determinism.
#include <algorithm>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cpu/attention.h"
#include "numerics/cpu/backward.h"
#include "tests/numerics/backward_test_util.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cpu {
namespace {

using ::lockstep::testing::AsDoubles;
using ::lockstep::testing::BitsEqual;
using ::lockstep::testing::ExpectGradientMatches;
using ::lockstep::testing::NaNs;
using ::lockstep::testing::RandomFloats;
using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::Restored;

struct Case {
  int64_t t;
  int num_heads, num_kv_heads, head_dim;
};

AttentionShape ShapeOf(const Case& c) {
  return AttentionShape{c.num_heads, c.num_kv_heads, c.head_dim,
                        static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim)))};
}

struct Inputs {
  Tensor q, k, v;           // (T, Hq·D), (T, Hkv·D), (T, Hkv·D)
  std::vector<float> dout;  // (T, Hq·D)
};

Inputs MakeInputs(const Case& c, uint64_t seed, DType dtype = DType::kF32) {
  const int64_t qw = int64_t{c.num_heads} * c.head_dim, kw = int64_t{c.num_kv_heads} * c.head_dim;
  // q with spread 1.5 makes some softmax rows peaked, some flat.
  return Inputs{RandomTensor(dtype, c.t, qw, seed, 1.5f), RandomTensor(dtype, c.t, kw, seed + 1),
                RandomTensor(dtype, c.t, kw, seed + 2), RandomFloats(c.t * qw, seed + 3)};
}

// Causal GQA attention in float64: query head h reads kv head h / (Hq / Hkv).
std::vector<double> ReferenceForward(const std::vector<double>& q, const std::vector<double>& k,
                                     const std::vector<double>& v, const Case& c) {
  const int d = c.head_dim, group = c.num_heads / c.num_kv_heads;
  const int64_t qw = int64_t{c.num_heads} * d, kw = int64_t{c.num_kv_heads} * d;
  const double scale = ShapeOf(c).scale;
  std::vector<double> out(static_cast<size_t>(c.t * qw), 0.0);
  std::vector<double> s(static_cast<size_t>(c.t));
  for (int64_t i = 0; i < c.t; ++i) {
    for (int h = 0; h < c.num_heads; ++h) {
      const int64_t qo = i * qw + int64_t{h} * d;
      const int64_t ko = int64_t{h / group} * d;
      double m = -INFINITY;
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0.0;
        for (int e = 0; e < d; ++e) dot += q[qo + e] * k[j * kw + ko + e];
        s[j] = dot * scale;
        m = std::max(m, s[j]);
      }
      double sum = 0.0;
      for (int64_t j = 0; j <= i; ++j) sum += std::exp(s[j] - m);
      for (int64_t j = 0; j <= i; ++j) {
        const double p = std::exp(s[j] - m) / sum;
        for (int e = 0; e < d; ++e) out[qo + e] += p * v[j * kw + ko + e];
      }
    }
  }
  return out;
}

double Loss(const std::vector<double>& q, const std::vector<double>& k,
            const std::vector<double>& v, const std::vector<float>& dout, const Case& c) {
  const std::vector<double> out = ReferenceForward(q, k, v, c);
  double loss = 0.0;
  for (size_t i = 0; i < out.size(); ++i) loss += dout[i] * out[i];
  return loss;
}

struct Grads {
  std::vector<float> dq, dk, dv;
};

// All outputs poisoned: every element must be written.
Grads Backward(const Inputs& in, const Case& c) {
  Grads g{NaNs(in.q.numel()), NaNs(in.k.numel()), NaNs(in.v.numel())};
  EXPECT_TRUE(CausalAttentionBackward(in.q.AsMatrix(), in.k.AsMatrix(), in.v.AsMatrix(), ShapeOf(c),
                                      in.dout.data(), g.dq.data(), g.dk.data(), g.dv.data())
                  .ok());
  return g;
}

// Every coordinate of rows on both sides of the 64-key chunk boundary and
// the last row, plus a random sample of the rest (all of them when small).
std::vector<int64_t> Coords(int64_t t, int64_t width, uint64_t seed) {
  std::vector<int64_t> always;
  for (int64_t row : {int64_t{0}, int64_t{63}, int64_t{64}, t - 1})
    for (int64_t e = 0; e < width; ++e)
      if (row >= 0 && row < t) always.push_back(row * width + e);
  return lockstep::testing::SampledCoords(t * width, 200, seed, always);
}

TEST(CausalAttentionBackwardTest, MatchesFiniteDifferences) {
  const Case cases[] = {{1, 4, 2, 8}, {19, 4, 2, 5}, {33, 3, 3, 6}, {70, 4, 2, 8}};
  uint64_t seed = 500;
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "T=" << c.t << " Hq=" << c.num_heads
                                      << " Hkv=" << c.num_kv_heads << " D=" << c.head_dim);
    const Inputs in = MakeInputs(c, seed += 10);
    const std::vector<double> q = AsDoubles(in.q), k = AsDoubles(in.k), v = AsDoubles(in.v);
    // The reference is the function CausalAttention computes (GQA mapping, scale, causality).
    Tensor out(DType::kF32, {c.t, int64_t{c.num_heads} * c.head_dim});
    ASSERT_TRUE(CausalAttention(in.q.AsMatrix(), in.k.AsMatrix(), in.v.AsMatrix(), ShapeOf(c),
                                out.AsMatrix())
                    .ok());
    EXPECT_LE(lockstep::testing::RelativeNormError(out, ReferenceForward(q, k, v, c)), 1e-6);

    const Grads g = Backward(in, c);
    for (const auto* grad : {&g.dq, &g.dk, &g.dv})
      for (float x : *grad) ASSERT_TRUE(std::isfinite(x));
    const int64_t qw = in.q.AsMatrix().cols, kw = in.k.AsMatrix().cols;
    ExpectGradientMatches(
        "dq", g.dq, q, [&](const std::vector<double>& x) { return Loss(x, k, v, in.dout, c); },
        Coords(c.t, qw, seed + 5));
    ExpectGradientMatches(
        "dk", g.dk, k, [&](const std::vector<double>& x) { return Loss(q, x, v, in.dout, c); },
        Coords(c.t, kw, seed + 6));
    ExpectGradientMatches(
        "dv", g.dv, v, [&](const std::vector<double>& x) { return Loss(q, k, x, in.dout, c); },
        Coords(c.t, kw, seed + 7));
  }
}

TEST(CausalAttentionBackwardTest, OverwritesOutputs) {
  const Case c{19, 4, 2, 8};
  const Inputs in = MakeInputs(c, 9);
  const Grads fresh = Backward(in, c);
  Grads reused{RandomFloats(in.q.numel(), 1), RandomFloats(in.k.numel(), 2),
               RandomFloats(in.v.numel(), 3)};
  ASSERT_TRUE(CausalAttentionBackward(in.q.AsMatrix(), in.k.AsMatrix(), in.v.AsMatrix(), ShapeOf(c),
                                      in.dout.data(), reused.dq.data(), reused.dk.data(),
                                      reused.dv.data())
                  .ok());
  EXPECT_TRUE(BitsEqual(reused.dq, fresh.dq));
  EXPECT_TRUE(BitsEqual(reused.dk, fresh.dk));
  EXPECT_TRUE(BitsEqual(reused.dv, fresh.dv));
}

class CausalAttentionBackwardStorageTest : public ::testing::TestWithParam<DType> {};

TEST_P(CausalAttentionBackwardStorageTest, WidensExactlyAndStaysCloseToFp32) {
  const Case c{70, 4, 2, 8};
  const Inputs in32 = MakeInputs(c, 19);
  const Inputs in16{Restored(in32.q, GetParam()), Restored(in32.k, GetParam()),
                    Restored(in32.v, GetParam()), in32.dout};
  const Inputs rounded32{Restored(in16.q, DType::kF32), Restored(in16.k, DType::kF32),
                         Restored(in16.v, DType::kF32), in32.dout};
  const Grads g16 = Backward(in16, c), g_rounded = Backward(rounded32, c), g32 = Backward(in32, c);
  EXPECT_TRUE(BitsEqual(g16.dq, g_rounded.dq));
  EXPECT_TRUE(BitsEqual(g16.dk, g_rounded.dk));
  EXPECT_TRUE(BitsEqual(g16.dv, g_rounded.dv));
  const double bound = lockstep::testing::StorageRoundingBound(GetParam());
  EXPECT_LE(lockstep::testing::RelativeDifference(g16.dq, g32.dq), bound);
  EXPECT_LE(lockstep::testing::RelativeDifference(g16.dk, g32.dk), bound);
  EXPECT_LE(lockstep::testing::RelativeDifference(g16.dv, g32.dv), bound);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CausalAttentionBackwardStorageTest,
                         ::testing::Values(DType::kF16, DType::kBF16),
                         lockstep::testing::DTypeParamName);

TEST(CausalAttentionBackwardTest, DeterministicAcrossThreadsAndRepeats) {
  const Case c{70, 4, 2, 16};
  const Inputs in = MakeInputs(c, 29);
  lockstep::testing::ExpectDeterministicAcrossThreads([&] {
    const Grads g = Backward(in, c);
    return std::vector<std::vector<float>>{g.dq, g.dk, g.dv};
  });
}

TEST(CausalAttentionBackwardTest, RejectsBadShapes) {
  const Case c{5, 4, 2, 8};
  const Inputs in = MakeInputs(c, 39);
  Grads g{NaNs(in.q.numel()), NaNs(in.k.numel()), NaNs(in.v.numel())};
  AttentionShape not_divisible = ShapeOf(c);
  not_divisible.num_kv_heads = 3;
  EXPECT_EQ(
      CausalAttentionBackward(in.q.AsMatrix(), in.k.AsMatrix(), in.v.AsMatrix(), not_divisible,
                              in.dout.data(), g.dq.data(), g.dk.data(), g.dv.data())
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      CausalAttentionBackward(in.q.AsMatrix(), in.k.AsMatrix().RowRange(0, 4), in.v.AsMatrix(),
                              ShapeOf(c), in.dout.data(), g.dq.data(), g.dk.data(), g.dv.data())
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lockstep::cpu
