// Helpers shared by the numerics tests: seeded random tensors, NaN-poisoned
// outputs, float64 relative-norm error, per-dtype bounds and bitwise row
// comparison.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/dtype.h"
#include "numerics/tensor.h"

namespace lockstep::testing {

inline constexpr DType kAllDTypes[] = {DType::kF16, DType::kBF16, DType::kF32};

inline std::string DTypeParamName(const ::testing::TestParamInfo<DType>& info) {
  return std::string(DTypeName(info.param));
}

// A (rows, cols) tensor of `dtype` with values drawn from N(0, stddev), rounded to dtype.
inline Tensor RandomTensor(DType dtype, int64_t rows, int64_t cols, uint64_t seed,
                           float stddev = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  Tensor t(dtype, {rows, cols});
  for (int64_t i = 0; i < t.numel(); ++i) t.SetFloat(i, dist(rng));
  return t;
}

// A tensor whose every element is NaN, so that elements an op forgets to write show.
inline Tensor PoisonedTensor(DType dtype, int64_t rows, int64_t cols) {
  Tensor t(dtype, {rows, cols});
  for (int64_t i = 0; i < t.numel(); ++i) t.SetFloat(i, std::nanf(""));
  return t;
}

// The tensor's values widened to double (exact).
inline std::vector<double> AsDoubles(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[i] = t.GetFloat(i);
  return out;
}

// ‖out − ref‖₂ / ‖ref‖₂; NaN (so any bound check fails) if out holds a NaN.
inline double RelativeNormError(const Tensor& out, const std::vector<double>& ref) {
  EXPECT_EQ(static_cast<size_t>(out.numel()), ref.size());
  double diff = 0.0, norm = 0.0;
  for (int64_t i = 0; i < out.numel(); ++i) {
    const double o = out.GetFloat(i);
    if (std::isnan(o)) return std::nan("");
    diff += (o - ref[i]) * (o - ref[i]);
    norm += ref[i] * ref[i];
  }
  return std::sqrt(diff) / std::sqrt(norm);
}

// Relative-norm bound for an output rounded once to `dtype` from an fp32
// computation. Rounding to nearest moves each element by at most the unit
// roundoff u (2^-9 for bf16's 8-bit significand, 2^-11 for fp16's 11-bit one,
// 2^-24 for fp32), so the norm-wise error is <= u; fp32 accumulation over a
// few hundred terms adds far less than u for the 16-bit types. We allow 2u for
// fp16/bf16 (headroom for an intermediate rounding such as SwiGLU's, or
// exp/log error) and, for fp32 outputs, 2^-16 (pure fp32 accumulation error,
// which grows with the reduction length, not a rounding bound).
inline double ErrorBound(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
      return 2.0 * std::ldexp(1.0, -9);
    case DType::kF16:
      return 2.0 * std::ldexp(1.0, -11);
    case DType::kF32:
      return std::ldexp(1.0, -16);
  }
  return 0.0;
}

// True when row `a_row` of a and row `b_row` of b hold identical bytes.
inline bool RowBitsEqual(ConstMatrixView a, int64_t a_row, ConstMatrixView b, int64_t b_row) {
  if (a.dtype != b.dtype || a.cols != b.cols) return false;
  return std::memcmp(a.RowPtr(a_row), b.RowPtr(b_row), a.cols * DTypeSize(a.dtype)) == 0;
}

// Batch invariance for a row-wise op. `op(rows)` computes the output for a
// batch of input rows. Every row of `inputs` (99 rows) is computed alone and
// inside sub-batches of 3, 19 and 99 starting at several offsets (so the row
// sits first, in the middle and last, among other random rows); all results
// must be bitwise equal to the 99-row batch.
inline void ExpectRowWiseBatchInvariant(const Tensor& inputs,
                                        const std::function<Tensor(ConstMatrixView)>& op) {
  const ConstMatrixView all = inputs.AsMatrix();
  ASSERT_EQ(all.rows, 99) << "use 99 input rows";
  const Tensor full = op(all);
  const ConstMatrixView full_view = full.AsMatrix();
  for (int64_t batch : {1, 3, 19, 99}) {
    for (int64_t start : {int64_t{0}, int64_t{7}, int64_t{41}, 99 - batch}) {
      if (start + batch > 99) continue;
      const Tensor part = op(all.RowRange(start, batch));
      for (int64_t r = 0; r < batch; ++r) {
        ASSERT_TRUE(RowBitsEqual(part.AsMatrix(), r, full_view, start + r))
            << "row " << start + r << " differs when computed in a batch of " << batch
            << " starting at row " << start;
      }
    }
  }
}

}  // namespace lockstep::testing
