// RmsNormBackward: gradients against float64 finite differences, accumulate
// (dweight) versus overwrite (dx), 16-bit storage, determinism.
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cpu/backward.h"
#include "numerics/cpu/rmsnorm.h"
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

constexpr float kEps = 1e-5f;

struct Inputs {
  Tensor x, w;            // (M, H), (1, H)
  std::vector<float> dy;  // (M, H)
};

Inputs MakeInputs(int64_t m, int64_t h, uint64_t seed) {
  return Inputs{RandomTensor(DType::kF32, m, h, seed), RandomTensor(DType::kF32, 1, h, seed + 1),
                RandomFloats(m * h, seed + 2)};
}

// y = x·w / sqrt(mean(x²) + eps) in float64.
std::vector<double> ReferenceForward(const std::vector<double>& x, const std::vector<double>& w,
                                     int64_t m, int64_t h) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < m; ++r) {
    double sumsq = 0.0;
    for (int64_t c = 0; c < h; ++c) sumsq += x[r * h + c] * x[r * h + c];
    const double inv = 1.0 / std::sqrt(sumsq / static_cast<double>(h) + double{kEps});
    for (int64_t c = 0; c < h; ++c) y[r * h + c] = x[r * h + c] * inv * w[c];
  }
  return y;
}

double Loss(const std::vector<double>& x, const std::vector<double>& w,
            const std::vector<float>& dy, int64_t m, int64_t h) {
  const std::vector<double> y = ReferenceForward(x, w, m, h);
  double loss = 0.0;
  for (size_t i = 0; i < y.size(); ++i) loss += dy[i] * y[i];
  return loss;
}

struct Grads {
  std::vector<float> dx, dw;
};

Grads Backward(const Inputs& in) {
  const ConstMatrixView x = in.x.AsMatrix();
  Grads g{NaNs(x.rows * x.cols), std::vector<float>(x.cols, 0.0f)};
  EXPECT_TRUE(
      RmsNormBackward(x, in.w.AsMatrix(), kEps, in.dy.data(), g.dx.data(), g.dw.data()).ok());
  return g;
}

TEST(RmsNormBackwardTest, MatchesFiniteDifferences) {
  uint64_t seed = 200;
  for (int64_t m : {1, 3, 19}) {
    for (int64_t h : {5, 33, 111}) {
      SCOPED_TRACE(::testing::Message() << "M=" << m << " H=" << h);
      const Inputs in = MakeInputs(m, h, seed += 10);
      const std::vector<double> x = AsDoubles(in.x), w = AsDoubles(in.w);
      Tensor y(DType::kF32, {m, h});
      ASSERT_TRUE(RmsNorm(in.x.AsMatrix(), in.w.AsMatrix(), kEps, y.AsMatrix()).ok());
      EXPECT_LE(lockstep::testing::RelativeNormError(y, ReferenceForward(x, w, m, h)), 1e-6);

      const Grads g = Backward(in);
      ExpectGradientMatches(
          "dx", g.dx, x, [&](const std::vector<double>& v) { return Loss(v, w, in.dy, m, h); },
          AllCoords(m * h));
      ExpectGradientMatches(
          "dweight", g.dw, w, [&](const std::vector<double>& v) { return Loss(x, v, in.dy, m, h); },
          AllCoords(h));
    }
  }
}

TEST(RmsNormBackwardTest, AccumulatesDweightAndOverwritesDx) {
  const Inputs in = MakeInputs(19, 111, 5);
  const Grads once = Backward(in);
  Grads twice = once;
  twice.dx = NaNs(19 * 111);
  ASSERT_TRUE(RmsNormBackward(in.x.AsMatrix(), in.w.AsMatrix(), kEps, in.dy.data(), twice.dx.data(),
                              twice.dw.data())
                  .ok());
  EXPECT_TRUE(BitsEqual(twice.dx, once.dx)) << "dx must be overwritten";
  for (size_t i = 0; i < once.dw.size(); ++i) ASSERT_EQ(twice.dw[i], 2.0f * once.dw[i]) << i;
  // dx alone (dweight null) is the same computation.
  std::vector<float> dx_only = NaNs(19 * 111);
  ASSERT_TRUE(
      RmsNormBackward(in.x.AsMatrix(), in.w.AsMatrix(), kEps, in.dy.data(), dx_only.data(), nullptr)
          .ok());
  EXPECT_TRUE(BitsEqual(dx_only, once.dx));
}

class RmsNormBackwardStorageTest : public ::testing::TestWithParam<DType> {};

TEST_P(RmsNormBackwardStorageTest, WidensExactlyAndStaysCloseToFp32) {
  const Inputs in32 = MakeInputs(19, 111, 15);
  const Inputs in16{Restored(in32.x, GetParam()), Restored(in32.w, GetParam()), in32.dy};
  const Inputs rounded32{Restored(in16.x, DType::kF32), Restored(in16.w, DType::kF32), in32.dy};
  const Grads g16 = Backward(in16), g_rounded = Backward(rounded32), g32 = Backward(in32);
  EXPECT_TRUE(BitsEqual(g16.dx, g_rounded.dx));
  EXPECT_TRUE(BitsEqual(g16.dw, g_rounded.dw));
  const double bound = lockstep::testing::StorageRoundingBound(GetParam());
  EXPECT_LE(lockstep::testing::RelativeDifference(g16.dx, g32.dx), bound);
  EXPECT_LE(lockstep::testing::RelativeDifference(g16.dw, g32.dw), bound);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, RmsNormBackwardStorageTest,
                         ::testing::Values(DType::kF16, DType::kBF16),
                         lockstep::testing::DTypeParamName);

TEST(RmsNormBackwardTest, DeterministicAcrossThreadsAndRepeats) {
  // 64 rows and 600 columns: both the row pass and the column-block pass split.
  const Inputs in = MakeInputs(64, 600, 25);
  lockstep::testing::ExpectDeterministicAcrossThreads([&] {
    const Grads g = Backward(in);
    return std::vector<std::vector<float>>{g.dx, g.dw};
  });
}

TEST(RmsNormBackwardTest, RejectsWrongWeightShape) {
  const Inputs in = MakeInputs(3, 5, 35);
  const Tensor w = RandomTensor(DType::kF32, 1, 6, 36);
  std::vector<float> dx(15), dw(6);
  EXPECT_EQ(RmsNormBackward(in.x.AsMatrix(), w.AsMatrix(), kEps, in.dy.data(), dx.data(), dw.data())
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lockstep::cpu
