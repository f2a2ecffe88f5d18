// Linear: float64 reference, exactness of the documented order, bitwise batch,
// thread-count and instruction-set invariance, strided views, shape errors.
#include "numerics/cpu/linear.h"

#include <chrono>
#include <cstdio>

#include "numerics/cpu/fixed_order.h"
#include "numerics/cpu/parallel.h"
#include "tests/numerics/test_util.h"

namespace lockstep::cpu {
namespace {

using ::lockstep::testing::AsDoubles;
using ::lockstep::testing::ErrorBound;
using ::lockstep::testing::PoisonedTensor;
using ::lockstep::testing::RandomTensor;
using ::lockstep::testing::RelativeNormError;
using ::lockstep::testing::RowBitsEqual;

// The documented order written out plainly, as a second implementation.
float DotByTheBook(const float* a, const float* b, int64_t n) {
  float lanes[16] = {};
  for (int64_t k = 0; k < n; ++k) lanes[k % 16] = lanes[k % 16] + a[k] * b[k];
  float s8[8], s4[4], s2[2];
  for (int j = 0; j < 8; ++j) s8[j] = lanes[j] + lanes[j + 8];
  for (int j = 0; j < 4; ++j) s4[j] = s8[j] + s8[j + 4];
  for (int j = 0; j < 2; ++j) s2[j] = s4[j] + s4[j + 2];
  return s2[0] + s2[1];
}

Tensor RunLinear(ConstMatrixView x, const LinearWeight& w, DType out_dtype) {
  Tensor out = PoisonedTensor(out_dtype, x.rows, w.out_features());
  const absl::Status status = Linear(x, w, out.AsMatrix());
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

class LinearTest : public ::testing::TestWithParam<DType> {};

TEST_P(LinearTest, MatchesFloat64Reference) {
  const DType dtype = GetParam();
  struct Shape {
    int64_t m, n, k;
    bool bias;
  };
  uint64_t seed = 100;
  for (const Shape s : {Shape{1, 111, 500, false}, Shape{19, 500, 111, true},
                        Shape{99, 19, 99, true}, Shape{3, 7, 1, false}, Shape{5, 33, 16, true}}) {
    const Tensor x = RandomTensor(dtype, s.m, s.k, ++seed);
    const Tensor w = RandomTensor(dtype, s.n, s.k, ++seed, 0.05f);
    const Tensor b = RandomTensor(dtype, 1, s.n, ++seed);
    const LinearWeight lw = PrepareLinearWeight(w.AsMatrix(), s.bias ? b.data() : nullptr);
    const Tensor out = RunLinear(x.AsMatrix(), lw, dtype);
    std::vector<double> ref(static_cast<size_t>(s.m * s.n));
    for (int64_t m = 0; m < s.m; ++m) {
      for (int64_t n = 0; n < s.n; ++n) {
        double acc = s.bias ? double{b.GetFloat(n)} : 0.0;
        for (int64_t k = 0; k < s.k; ++k)
          acc += double{x.GetFloat(m * s.k + k)} * w.GetFloat(n * s.k + k);
        ref[m * s.n + n] = acc;
      }
    }
    EXPECT_LE(RelativeNormError(out, ref), ErrorBound(dtype))
        << "M=" << s.m << " N=" << s.n << " K=" << s.k;
  }
}

TEST_P(LinearTest, EveryElementIsTheDocumentedDotThenBiasThenOneRounding) {
  const DType dtype = GetParam();
  const int64_t m = 19, n = 37, k = 203;  // K has a tail of 11
  const Tensor x = RandomTensor(dtype, m, k, 7);
  const Tensor w = RandomTensor(dtype, n, k, 8);
  const Tensor b = RandomTensor(dtype, 1, n, 9);
  const LinearWeight lw = PrepareLinearWeight(w.AsMatrix(), b.data());
  const Tensor out = RunLinear(x.AsMatrix(), lw, dtype);
  const std::vector<float> xf = x.ToFloats(), wf = w.ToFloats();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const float dot = DotByTheBook(&xf[i * k], &wf[j * k], k);
      ASSERT_EQ(DotFixedOrder(&xf[i * k], &wf[j * k], k), dot);
      const float expected = RoundToDType(dot + b.GetFloat(j), dtype);
      ASSERT_EQ(std::bit_cast<uint32_t>(out.GetFloat(i * n + j)), std::bit_cast<uint32_t>(expected))
          << "element (" << i << ", " << j << ")";
    }
  }
}

TEST_P(LinearTest, SmallIntegerInputsAreExact) {
  // Integers small enough that every partial sum is exact in fp32 and the
  // result is exact in the storage dtype: any order must give the true value.
  const DType dtype = GetParam();
  const int64_t m = 19, n = 23, k = 99;
  Tensor x(dtype, {m, k}), w(dtype, {n, k});
  for (int64_t i = 0; i < x.numel(); ++i) x.SetFloat(i, static_cast<float>((i * 7) % 5 - 2));
  for (int64_t i = 0; i < w.numel(); ++i) w.SetFloat(i, static_cast<float>((i * 3) % 3 - 1));
  const Tensor out = RunLinear(x.AsMatrix(), PrepareLinearWeight(w.AsMatrix(), nullptr), dtype);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t exact = 0;
      for (int64_t c = 0; c < k; ++c) {
        exact += static_cast<int64_t>(x.GetFloat(i * k + c)) *
                 static_cast<int64_t>(w.GetFloat(j * k + c));
      }
      ASSERT_EQ(out.GetFloat(i * n + j), static_cast<float>(exact));
    }
  }
}

TEST_P(LinearTest, BatchInvariant) {
  const DType dtype = GetParam();
  const Tensor w = RandomTensor(dtype, 111, 500, 21, 0.05f);
  const Tensor b = RandomTensor(dtype, 1, 111, 22);
  const LinearWeight lw = PrepareLinearWeight(w.AsMatrix(), b.data());
  const Tensor x = RandomTensor(dtype, 99, 500, 23);
  ::lockstep::testing::ExpectRowWiseBatchInvariant(
      x, [&](ConstMatrixView rows) { return RunLinear(rows, lw, dtype); });
}

TEST_P(LinearTest, ThreadCountAndInstructionSetInvariant) {
  const DType dtype = GetParam();
  const Tensor w = RandomTensor(dtype, 500, 111, 31, 0.1f);
  const LinearWeight lw = PrepareLinearWeight(w.AsMatrix(), nullptr);
  const Tensor x = RandomTensor(dtype, 99, 111, 32);
  const int original_threads = NumThreads();
  const Tensor reference = RunLinear(x.AsMatrix(), lw, dtype);
  for (int threads : {1, 2, 3, 5}) {
    SetNumThreadsForTesting(threads);
    for (CpuIsa isa : {CpuIsa::kBaseline, CpuIsa::kAvx2, CpuIsa::kAvx512}) {
      if (static_cast<int>(isa) > static_cast<int>(DetectedCpuIsa())) continue;
      SetLinearIsaForTesting(isa);
      const Tensor out = RunLinear(x.AsMatrix(), lw, dtype);
      ASSERT_EQ(std::memcmp(out.data(), reference.data(), out.nbytes()), 0)
          << threads << " threads, " << CpuIsaName(isa);
    }
  }
  SetLinearIsaForTesting(DetectedCpuIsa());
  SetNumThreadsForTesting(original_threads);
}

TEST_P(LinearTest, StridedViewsReadAndWriteOnlyTheirBand) {
  const DType dtype = GetParam();
  // x is columns [5, 5+K) of a wider matrix; out is columns [3, 3+N) of another.
  const int64_t m = 19, n = 33, k = 40;
  const Tensor wide_x = RandomTensor(dtype, m, k + 9, 41);
  const Tensor w = RandomTensor(dtype, n, k, 42);
  const LinearWeight lw = PrepareLinearWeight(w.AsMatrix(), nullptr);
  Tensor wide_out = RandomTensor(dtype, m, n + 8, 43);
  const Tensor before = wide_out;
  ASSERT_TRUE(
      Linear(wide_x.AsMatrix().ColRange(5, k), lw, wide_out.AsMatrix().ColRange(3, n)).ok());
  Tensor dense_x(dtype, {m, k});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t c = 0; c < k; ++c)
      dense_x.SetFloat(i * k + c, wide_x.GetFloat(i * (k + 9) + 5 + c));
  const Tensor dense_out = RunLinear(dense_x.AsMatrix(), lw, dtype);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t c = 0; c < n + 8; ++c) {
      const float got = wide_out.GetFloat(i * (n + 8) + c);
      const float want = (c >= 3 && c < 3 + n) ? dense_out.GetFloat(i * n + c - 3)
                                               : before.GetFloat(i * (n + 8) + c);
      ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want)) << i << ", " << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(DTypes, LinearTest, ::testing::ValuesIn(::lockstep::testing::kAllDTypes),
                         ::lockstep::testing::DTypeParamName);

TEST(LinearErrorsTest, ShapeMismatchAndUnpreparedWeight) {
  const Tensor w = RandomTensor(DType::kF16, 8, 16, 1);
  const LinearWeight lw = PrepareLinearWeight(w.AsMatrix(), nullptr);
  Tensor x(DType::kF16, {2, 15}), out(DType::kF16, {2, 8});
  const absl::Status bad_k = Linear(x.AsMatrix(), lw, out.AsMatrix());
  EXPECT_EQ(bad_k.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_k.message().find("shape mismatch"), std::string_view::npos) << bad_k;
  LinearWeight unprepared;
  unprepared.weight = w.AsMatrix();
  Tensor x_ok(DType::kF16, {2, 16});
  EXPECT_EQ(Linear(x_ok.AsMatrix(), unprepared, out.AsMatrix()).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace lockstep::cpu
