// RmsNorm, Rope, Embedding, AddResidual and SwiGlu: float64 reference,
// documented rounding points, bitwise batch invariance, errors.
#include <cmath>

#include "numerics/cpu/elementwise.h"
#include "numerics/cpu/linear.h"
#include "numerics/cpu/rmsnorm.h"
#include "numerics/cpu/rope.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cpu {
namespace {

using ::lockstep::testing::ErrorBound;
using ::lockstep::testing::ExpectRowWiseBatchInvariant;
using ::lockstep::testing::PoisonedTensor;
using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::RelativeNormError;

class RowWiseOpsTest : public ::testing::TestWithParam<DType> {};

// ---- RmsNorm

Tensor RunRmsNorm(ConstMatrixView x, const Tensor& w, float eps) {
  Tensor out = PoisonedTensor(x.dtype, x.rows, x.cols);
  const absl::Status s = RmsNorm(x, w.AsMatrix(), eps, out.AsMatrix());
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST_P(RowWiseOpsTest, RmsNormMatchesFloat64Reference) {
  const DType dtype = GetParam();
  for (int64_t h : {1, 111, 500}) {
    const Tensor x = RandomTensor(dtype, 19, h, 3 + h, 2.0f);
    const Tensor w = RandomTensor(dtype, 1, h, 4 + h);
    const float eps = 1e-6f;
    const Tensor out = RunRmsNorm(x.AsMatrix(), w, eps);
    std::vector<double> ref(static_cast<size_t>(19 * h));
    for (int64_t r = 0; r < 19; ++r) {
      double sumsq = 0.0;
      for (int64_t c = 0; c < h; ++c)
        sumsq += double{x.GetFloat(r * h + c)} * x.GetFloat(r * h + c);
      const double inv = 1.0 / std::sqrt(sumsq / h + eps);
      for (int64_t c = 0; c < h; ++c) ref[r * h + c] = x.GetFloat(r * h + c) * inv * w.GetFloat(c);
    }
    EXPECT_LE(RelativeNormError(out, ref), ErrorBound(dtype)) << "H=" << h;
  }
}

TEST_P(RowWiseOpsTest, RmsNormFollowsTheDocumentedRoundingPoints) {
  const DType dtype = GetParam();
  const int64_t h = 500;
  const Tensor x = RandomTensor(dtype, 3, h, 5);
  const Tensor w = RandomTensor(dtype, 1, h, 6);
  const Tensor out = RunRmsNorm(x.AsMatrix(), w, 1e-5f);
  const std::vector<float> xf = x.ToFloats();
  for (int64_t r = 0; r < 3; ++r) {
    const float sumsq = DotFixedOrder(&xf[r * h], &xf[r * h], h);
    const float inv = 1.0f / std::sqrt(sumsq / static_cast<float>(h) + 1e-5f);
    for (int64_t c = 0; c < h; ++c) {
      ASSERT_EQ(out.GetFloat(r * h + c),
                RoundToDType((xf[r * h + c] * inv) * w.GetFloat(c), dtype));
    }
  }
}

TEST_P(RowWiseOpsTest, RmsNormBatchInvariantAndInPlace) {
  const DType dtype = GetParam();
  const Tensor w = RandomTensor(dtype, 1, 111, 7);
  const Tensor x = RandomTensor(dtype, 99, 111, 8);
  ExpectRowWiseBatchInvariant(x, [&](ConstMatrixView rows) { return RunRmsNorm(rows, w, 1e-6f); });
  Tensor in_place = x;
  ASSERT_TRUE(RmsNorm(in_place.AsMatrix(), w.AsMatrix(), 1e-6f, in_place.AsMatrix()).ok());
  const Tensor separate = RunRmsNorm(x.AsMatrix(), w, 1e-6f);
  EXPECT_EQ(std::memcmp(in_place.data(), separate.data(), separate.nbytes()), 0);
}

// ---- Rope

TEST(RopeTableTest, FactorsFollowTheDocumentedConstruction) {
  const int d = 64;
  const double theta = 10000.0;
  const RopeTable table(d, theta, 4096);
  for (int p : {0, 1, 17, 999, 4095}) {
    for (int i = 0; i < d / 2; ++i) {
      const float inv_freq = static_cast<float>(1.0 / std::pow(theta, 2.0 * i / d));
      const float angle = static_cast<float>(p) * inv_freq;
      ASSERT_EQ(table.cos_row(p)[i], static_cast<float>(std::cos(double{angle})));
      ASSERT_EQ(table.sin_row(p)[i], static_cast<float>(std::sin(double{angle})));
      // And close to the exact rotation: the fp32 angle is off by at most
      // half an ulp of the angle plus inv_freq's own rounding (relative 2^-24).
      const double exact = p * std::pow(theta, -2.0 * i / d);
      const double slack = std::ldexp(std::fabs(exact), -22) + 1e-7;
      ASSERT_NEAR(table.cos_row(p)[i], std::cos(exact), slack) << p << " " << i;
    }
  }
  EXPECT_THROW(RopeTable(63, theta, 8), std::invalid_argument);
}

TEST_P(RowWiseOpsTest, RopeMatchesFloat64Reference) {
  const DType dtype = GetParam();
  const int heads = 3, d = 38;
  const RopeTable table(d, 500000.0, 2048);
  Tensor x = RandomTensor(dtype, 19, heads * d, 11);
  const Tensor original = x;
  std::vector<int32_t> positions(19);
  for (int t = 0; t < 19; ++t) positions[t] = (t * 101) % 2048;
  ASSERT_TRUE(ApplyRope(x.AsMatrix(), heads, positions, table).ok());
  std::vector<double> ref(static_cast<size_t>(x.numel()));
  for (int t = 0; t < 19; ++t) {
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < d / 2; ++i) {
        const double c = table.cos_row(positions[t])[i], s = table.sin_row(positions[t])[i];
        const int64_t base = int64_t{t} * heads * d + h * d;
        const double a = original.GetFloat(base + i), b = original.GetFloat(base + i + d / 2);
        ref[base + i] = a * c - b * s;
        ref[base + i + d / 2] = b * c + a * s;
      }
    }
  }
  EXPECT_LE(RelativeNormError(x, ref), ErrorBound(dtype));
}

TEST_P(RowWiseOpsTest, RopeIsPerRowAndPerPosition) {
  // A row's result depends only on its values and its position: rotating rows
  // in any batch, or one at a time (decode), gives the same bits.
  const DType dtype = GetParam();
  const int heads = 2, d = 16;
  const RopeTable table(d, 10000.0, 512);
  const Tensor x = RandomTensor(dtype, 99, heads * d, 12);
  std::vector<int32_t> positions(99);
  for (int t = 0; t < 99; ++t) positions[t] = (t * 37) % 512;
  ExpectRowWiseBatchInvariant(x, [&](ConstMatrixView rows) {
    Tensor out(dtype, {rows.rows, rows.cols});
    for (int64_t r = 0; r < rows.rows; ++r)
      std::memcpy(out.AsMatrix().RowPtr(r), rows.RowPtr(r), rows.cols * DTypeSize(dtype));
    const int64_t first =
        (static_cast<const std::byte*>(rows.data) - static_cast<const std::byte*>(x.data())) /
        static_cast<int64_t>(rows.row_stride * DTypeSize(dtype));
    EXPECT_TRUE(ApplyRope(out.AsMatrix(), heads,
                          std::span<const int32_t>(positions).subspan(first, rows.rows), table)
                    .ok());
    return out;
  });
}

TEST(RopeErrorsTest, PositionOutsideTableAndBadWidth) {
  const RopeTable table(8, 10000.0, 16);
  Tensor x(DType::kF16, {1, 16});
  const std::vector<int32_t> far = {16};
  const absl::Status s = ApplyRope(x.AsMatrix(), 2, far, table);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("max_positions"), std::string_view::npos) << s;
  const std::vector<int32_t> ok = {3};
  EXPECT_EQ(ApplyRope(x.AsMatrix(), 3, ok, table).code(), absl::StatusCode::kInvalidArgument);
}

// ---- Element-wise ops

TEST_P(RowWiseOpsTest, SwiGluMatchesReferenceAndRoundsSiluOnce) {
  const DType dtype = GetParam();
  const Tensor gate = RandomTensor(dtype, 19, 500, 21, 3.0f);
  const Tensor up = RandomTensor(dtype, 19, 500, 22);
  Tensor out = PoisonedTensor(dtype, 19, 500);
  ASSERT_TRUE(SwiGlu(gate.AsMatrix(), up.AsMatrix(), out.AsMatrix()).ok());
  std::vector<double> ref(static_cast<size_t>(out.numel()));
  for (int64_t i = 0; i < out.numel(); ++i) {
    const double g = gate.GetFloat(i);
    ref[i] = g / (1.0 + std::exp(-g)) * up.GetFloat(i);
    const float g32 = gate.GetFloat(i);
    const float silu = RoundToDType(g32 / (1.0f + std::exp(-g32)), dtype);
    ASSERT_EQ(out.GetFloat(i), RoundToDType(silu * up.GetFloat(i), dtype)) << i;
  }
  EXPECT_LE(RelativeNormError(out, ref), ErrorBound(dtype));
  const Tensor gate_rows = RandomTensor(dtype, 99, 111, 23);
  const Tensor up_rows = RandomTensor(dtype, 99, 111, 24);
  ExpectRowWiseBatchInvariant(gate_rows, [&](ConstMatrixView rows) {
    const int64_t first = (static_cast<const std::byte*>(rows.data) -
                           static_cast<const std::byte*>(gate_rows.data())) /
                          static_cast<int64_t>(111 * DTypeSize(dtype));
    Tensor o = PoisonedTensor(dtype, rows.rows, rows.cols);
    EXPECT_TRUE(SwiGlu(rows, up_rows.AsMatrix().RowRange(first, rows.rows), o.AsMatrix()).ok());
    return o;
  });
}

TEST_P(RowWiseOpsTest, AddResidualIsOneRoundedAdd) {
  const DType dtype = GetParam();
  const Tensor a = RandomTensor(dtype, 99, 111, 31);
  const Tensor b = RandomTensor(dtype, 99, 111, 32);
  Tensor out = PoisonedTensor(dtype, 99, 111);
  ASSERT_TRUE(AddResidual(a.AsMatrix(), b.AsMatrix(), out.AsMatrix()).ok());
  std::vector<double> ref(static_cast<size_t>(out.numel()));
  for (int64_t i = 0; i < out.numel(); ++i) {
    ref[i] = double{a.GetFloat(i)} + b.GetFloat(i);
    ASSERT_EQ(out.GetFloat(i), RoundToDType(a.GetFloat(i) + b.GetFloat(i), dtype));
  }
  EXPECT_LE(RelativeNormError(out, ref), ErrorBound(dtype));
  Tensor aliased = a;
  ASSERT_TRUE(AddResidual(aliased.AsMatrix(), b.AsMatrix(), aliased.AsMatrix()).ok());
  EXPECT_EQ(std::memcmp(aliased.data(), out.data(), out.nbytes()), 0);
  Tensor wrong(dtype, {99, 110});
  EXPECT_EQ(AddResidual(a.AsMatrix(), b.AsMatrix(), wrong.AsMatrix()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(RowWiseOpsTest, EmbeddingCopiesRowsAndChecksIds) {
  const DType dtype = GetParam();
  const Tensor table = RandomTensor(dtype, 50, 111, 41);
  const std::vector<int32_t> ids = {3, 0, 49, 3, 17};
  Tensor out = PoisonedTensor(dtype, 5, 111);
  ASSERT_TRUE(Embedding(table.AsMatrix(), ids, out.AsMatrix()).ok());
  for (size_t t = 0; t < ids.size(); ++t) {
    EXPECT_TRUE(::lockstep::testing::RowBitsEqual(out.AsMatrix(), t, table.AsMatrix(), ids[t]));
  }
  Tensor out_f32 = PoisonedTensor(DType::kF32, 5, 111);
  ASSERT_TRUE(Embedding(table.AsMatrix(), ids, out_f32.AsMatrix()).ok());
  EXPECT_EQ(out_f32.GetFloat(111 * 2 + 5), table.GetFloat(111 * 49 + 5));
  const std::vector<int32_t> bad = {1, 50};
  Tensor out2(dtype, {2, 111});
  const absl::Status s = Embedding(table.AsMatrix(), bad, out2.AsMatrix());
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("token id 50"), std::string_view::npos) << s;
}

INSTANTIATE_TEST_SUITE_P(DTypes, RowWiseOpsTest,
                         ::testing::ValuesIn(::lockstep::testing::kAllDTypes),
                         ::lockstep::testing::DTypeParamName);

}  // namespace
}  // namespace lockstep::cpu
