// LinearBackward: gradients against float64 finite differences, accumulate
// (dweight, dbias) versus overwrite (dx), 16-bit storage, determinism.
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cpu/backward.h"
#include "tests/numerics/backward_test_util.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cpu {
namespace {

using ::lockstep::testing::AllCoords;
using ::lockstep::testing::ExpectGradientMatches;
using ::lockstep::testing::NaNs;
using ::lockstep::testing::RandomFloats;
using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::ToDoubles;

struct Shape {
  int64_t m, k, n;
};
constexpr Shape kShapes[] = {{1, 5, 3}, {3, 33, 7}, {19, 111, 13}};

struct Inputs {
  Tensor x, w, b;         // (M, K), (N, K), (1, N)
  std::vector<float> dy;  // (M, N)
};

Inputs MakeInputs(Shape s, uint64_t seed, DType dtype = DType::kF32) {
  return Inputs{RandomTensor(dtype, s.m, s.k, seed), RandomTensor(dtype, s.n, s.k, seed + 1),
                RandomTensor(dtype, 1, s.n, seed + 2), RandomFloats(s.m * s.n, seed + 3)};
}

// y[m, n] = Σ_k x[m, k]·w[n, k] + b[n], in float64.
std::vector<double> ReferenceForward(const std::vector<double>& x, const std::vector<double>& w,
                                     const std::vector<double>& b, Shape s) {
  std::vector<double> y(static_cast<size_t>(s.m * s.n));
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t n = 0; n < s.n; ++n) {
      double acc = b[n];
      for (int64_t k = 0; k < s.k; ++k) acc += x[m * s.k + k] * w[n * s.k + k];
      y[m * s.n + n] = acc;
    }
  return y;
}

// The scalar whose gradient LinearBackward computes: Σ dy·y.
double Loss(const std::vector<double>& x, const std::vector<double>& w,
            const std::vector<double>& b, const std::vector<float>& dy, Shape s) {
  const std::vector<double> y = ReferenceForward(x, w, b, s);
  double loss = 0.0;
  for (size_t i = 0; i < y.size(); ++i) loss += dy[i] * y[i];
  return loss;
}

struct Grads {
  std::vector<float> dx, dw, db;
};

// dx poisoned (must be overwritten); dweight and dbias start at zero.
Grads Backward(const Inputs& in) {
  const ConstMatrixView x = in.x.AsMatrix();
  const LinearWeight lw = PrepareLinearWeight(in.w.AsMatrix(), in.b.data());
  Grads g{NaNs(x.rows * x.cols), std::vector<float>(in.w.numel(), 0.0f),
          std::vector<float>(in.b.numel(), 0.0f)};
  EXPECT_TRUE(LinearBackward(x, lw, in.dy.data(), g.dx.data(), g.dw.data(), g.db.data()).ok());
  return g;
}

TEST(LinearBackwardTest, MatchesFiniteDifferences) {
  uint64_t seed = 100;
  for (const Shape s : kShapes) {
    SCOPED_TRACE(::testing::Message() << "M=" << s.m << " K=" << s.k << " N=" << s.n);
    const Inputs in = MakeInputs(s, seed += 10);
    const std::vector<double> x = lockstep::testing::AsDoubles(in.x);
    const std::vector<double> w = lockstep::testing::AsDoubles(in.w);
    const std::vector<double> b = lockstep::testing::AsDoubles(in.b);
    // The reference is the forward Linear computes.
    Tensor y(DType::kF32, {s.m, s.n});
    ASSERT_TRUE(
        Linear(in.x.AsMatrix(), PrepareLinearWeight(in.w.AsMatrix(), in.b.data()), y.AsMatrix())
            .ok());
    EXPECT_LE(lockstep::testing::RelativeNormError(y, ReferenceForward(x, w, b, s)), 1e-6);

    const Grads g = Backward(in);
    ExpectGradientMatches(
        "dx", g.dx, x, [&](const std::vector<double>& v) { return Loss(v, w, b, in.dy, s); },
        AllCoords(in.x.numel()));
    ExpectGradientMatches(
        "dweight", g.dw, w, [&](const std::vector<double>& v) { return Loss(x, v, b, in.dy, s); },
        AllCoords(in.w.numel()));
    ExpectGradientMatches(
        "dbias", g.db, b, [&](const std::vector<double>& v) { return Loss(x, w, v, in.dy, s); },
        AllCoords(in.b.numel()));
  }
}

TEST(LinearBackwardTest, AccumulatesParameterGradientsAndOverwritesDx) {
  const Shape s{19, 111, 13};
  const Inputs in = MakeInputs(s, 7);
  const Grads once = Backward(in);
  const LinearWeight lw = PrepareLinearWeight(in.w.AsMatrix(), in.b.data());
  // Second call on top of the first: each call adds its whole sum once, so the
  // parameter gradients double exactly (x + x is exact in binary floating point).
  Grads twice = once;
  twice.dx = NaNs(s.m * s.k);
  ASSERT_TRUE(LinearBackward(in.x.AsMatrix(), lw, in.dy.data(), twice.dx.data(), twice.dw.data(),
                             twice.db.data())
                  .ok());
  EXPECT_TRUE(lockstep::testing::BitsEqual(twice.dx, once.dx)) << "dx must be overwritten";
  for (size_t i = 0; i < once.dw.size(); ++i) ASSERT_EQ(twice.dw[i], 2.0f * once.dw[i]) << i;
  for (size_t i = 0; i < once.db.size(); ++i) ASSERT_EQ(twice.db[i], 2.0f * once.db[i]) << i;

  // On top of arbitrary earlier values: exactly one fp32 add per element.
  std::vector<float> dw = RandomFloats(s.n * s.k, 8), db = RandomFloats(s.n, 9);
  const std::vector<float> dw0 = dw, db0 = db;
  ASSERT_TRUE(
      LinearBackward(in.x.AsMatrix(), lw, in.dy.data(), nullptr, dw.data(), db.data()).ok());
  for (size_t i = 0; i < dw.size(); ++i) ASSERT_EQ(dw[i], dw0[i] + once.dw[i]) << i;
  for (size_t i = 0; i < db.size(); ++i) ASSERT_EQ(db[i], db0[i] + once.db[i]) << i;
}

class LinearBackwardStorageTest : public ::testing::TestWithParam<DType> {};

TEST_P(LinearBackwardStorageTest, WidensExactlyAndStaysCloseToFp32) {
  const Shape s{19, 111, 13};
  const Inputs in32 = MakeInputs(s, 11);
  const Inputs in16{lockstep::testing::Restored(in32.x, GetParam()),
                    lockstep::testing::Restored(in32.w, GetParam()),
                    lockstep::testing::Restored(in32.b, GetParam()), in32.dy};
  // The same (rounded) values stored as fp32: the backward widens exactly, so
  // the gradients must be the same bits.
  const Inputs rounded32{lockstep::testing::Restored(in16.x, DType::kF32),
                         lockstep::testing::Restored(in16.w, DType::kF32),
                         lockstep::testing::Restored(in16.b, DType::kF32), in32.dy};
  const Grads g16 = Backward(in16), g_rounded = Backward(rounded32), g32 = Backward(in32);
  EXPECT_TRUE(lockstep::testing::BitsEqual(g16.dx, g_rounded.dx));
  EXPECT_TRUE(lockstep::testing::BitsEqual(g16.dw, g_rounded.dw));
  EXPECT_TRUE(lockstep::testing::BitsEqual(g16.db, g_rounded.db));
  const double bound = lockstep::testing::StorageRoundingBound(GetParam());
  EXPECT_LE(lockstep::testing::RelativeDifference(g16.dx, g32.dx), bound);
  EXPECT_LE(lockstep::testing::RelativeDifference(g16.dw, g32.dw), bound);
  EXPECT_TRUE(lockstep::testing::BitsEqual(g16.db, g32.db)) << "dbias depends on dy only";
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LinearBackwardStorageTest,
                         ::testing::Values(DType::kF16, DType::kBF16),
                         lockstep::testing::DTypeParamName);

TEST(LinearBackwardTest, DeterministicAcrossThreadsAndRepeats) {
  // Large enough that both the dx Linear and the dweight blocks are split.
  const Inputs in = MakeInputs({64, 300, 40}, 21);
  lockstep::testing::ExpectDeterministicAcrossThreads([&] {
    const Grads g = Backward(in);
    return std::vector<std::vector<float>>{g.dx, g.dw, g.db};
  });
}

TEST(LinearBackwardTest, RejectsBadInputs) {
  const Inputs in = MakeInputs({3, 5, 4}, 31);
  const LinearWeight lw = PrepareLinearWeight(in.w.AsMatrix(), in.b.data());
  std::vector<float> dx(64), dw(64);
  const Tensor wrong_x = RandomTensor(DType::kF32, 3, 6, 32);
  EXPECT_EQ(
      LinearBackward(wrong_x.AsMatrix(), lw, in.dy.data(), dx.data(), dw.data(), nullptr).code(),
      absl::StatusCode::kInvalidArgument);
  LinearWeight unprepared;
  unprepared.weight = in.w.AsMatrix();
  EXPECT_EQ(LinearBackward(in.x.AsMatrix(), unprepared, in.dy.data(), dx.data(), dw.data(), nullptr)
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace lockstep::cpu
