// Helpers for the backward-op tests: float64 central differences of a
// reference forward, the relative-norm error of an fp32 analytic gradient
// against them, bitwise comparison and thread-count invariance.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "numerics/cpu/parallel.h"
#include "numerics/tensor.h"

namespace lockstep::testing {

// Bound on ‖analytic − numeric‖ / ‖numeric‖ for every finite-difference check.
// The numeric side is float64 central differences, step h = 1e-5·max(1, |x|):
// truncation error ~h²·|f'''|/6 ≈ 1e-11 and cancellation error
// ~1e-16·|f|/h ≈ 1e-11 relative, so at this scale it is the exact gradient.
// The analytic side is fp32 from the same inputs: unit roundoff u = 2^-24
// ≈ 6e-8, and the longest fp32 reductions here have ~111 terms (K, H, or
// 70 keys), whose rounding errors grow like √n·u ≈ 6e-7 (n·u ≈ 7e-6 in the
// worst case), then amplified a little by the subtractions in the gradient
// formulas (RMSNorm's g·inv − x·coef, attention's p·(dp − D), softmax's δ − p).
// Measured errors are 1e-8 to 5e-7; 1e-5 leaves 20× headroom while any wrong
// or missing term shows as an error of 1e-3 or more.
inline constexpr double kFiniteDifferenceBound = 1e-5;

inline constexpr double kFiniteDifferenceStep = 1e-5;

// n floats from N(0, stddev), seeded.
inline std::vector<float> RandomFloats(int64_t n, uint64_t seed, float stddev = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> out(static_cast<size_t>(n));
  for (float& v : out) v = dist(rng);
  return out;
}

inline std::vector<float> NaNs(int64_t n) {
  return std::vector<float>(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
}

inline std::vector<double> ToDoubles(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// The same values in another storage dtype (rounded to it).
inline Tensor Restored(const Tensor& t, DType dtype) {
  Tensor out(dtype, t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) out.SetFloat(i, t.GetFloat(i));
  return out;
}

inline std::vector<int64_t> AllCoords(int64_t n) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  std::iota(out.begin(), out.end(), int64_t{0});
  return out;
}

// Up to `count` distinct random coordinates of [0, n) plus every coordinate
// in `always` (e.g. the rows around a chunk boundary), sorted.
inline std::vector<int64_t> SampledCoords(int64_t n, int64_t count, uint64_t seed,
                                          const std::vector<int64_t>& always = {}) {
  if (count >= n) return AllCoords(n);
  std::vector<int64_t> all = AllCoords(n);
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(static_cast<size_t>(count));
  for (int64_t c : always)
    if (c < n) all.push_back(c);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

// (f(x + h·e_i) − f(x − h·e_i)) / 2h for each i in coords, h = step·max(1, |x_i|).
inline std::vector<double> CentralDifferences(
    std::vector<double> x, const std::function<double(const std::vector<double>&)>& f,
    const std::vector<int64_t>& coords) {
  std::vector<double> out;
  out.reserve(coords.size());
  for (int64_t i : coords) {
    const double x0 = x[i];
    const double h = kFiniteDifferenceStep * std::max(1.0, std::abs(x0));
    x[i] = x0 + h;
    const double plus = f(x);
    x[i] = x0 - h;
    const double minus = f(x);
    x[i] = x0;
    out.push_back((plus - minus) / (2.0 * h));
  }
  return out;
}

// ‖analytic[coords] − numeric‖₂ / ‖numeric‖₂; NaN if any analytic value is NaN
// (so a bound check fails on an unwritten, poisoned element). Where the true
// gradient is exactly zero (attention over a single key does not depend on
// q or k) the absolute norm ‖analytic[coords]‖₂ is returned instead.
inline double GradientError(const std::vector<float>& analytic, const std::vector<double>& numeric,
                            const std::vector<int64_t>& coords) {
  double diff = 0.0, norm = 0.0;
  for (size_t c = 0; c < coords.size(); ++c) {
    const double a = analytic[coords[c]];
    if (std::isnan(a)) return std::nan("");
    diff += (a - numeric[c]) * (a - numeric[c]);
    norm += numeric[c] * numeric[c];
  }
  return norm == 0.0 ? std::sqrt(diff) : std::sqrt(diff) / std::sqrt(norm);
}

// Finite differences of f at x over `coords`, compared with `analytic` (the
// gradient of f at x); fails with `what` named if the error exceeds the bound.
inline void ExpectGradientMatches(const char* what, const std::vector<float>& analytic,
                                  const std::vector<double>& x,
                                  const std::function<double(const std::vector<double>&)>& f,
                                  const std::vector<int64_t>& coords) {
  ASSERT_EQ(analytic.size(), x.size()) << what;
  const std::vector<double> numeric = CentralDifferences(x, f, coords);
  const double error = GradientError(analytic, numeric, coords);
  EXPECT_LE(error, kFiniteDifferenceBound) << what << " (" << coords.size() << " coordinates)";
}

// ‖a − b‖ / ‖b‖ between two fp32 gradients.
inline double RelativeDifference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i])) return std::nan("");
    diff += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
    norm += double{b[i]} * b[i];
  }
  return std::sqrt(diff) / std::sqrt(norm);
}

inline bool BitsEqual(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs `compute` (which returns all gradient buffers of one backward call)
// with 1 thread, then twice with 3 threads, and expects identical bits from
// all three: deterministic across repeats and thread counts.
inline void ExpectDeterministicAcrossThreads(
    const std::function<std::vector<std::vector<float>>()>& compute) {
  const int original = cpu::NumThreads();
  cpu::SetNumThreadsForTesting(1);
  const std::vector<std::vector<float>> one = compute();
  cpu::SetNumThreadsForTesting(3);
  const std::vector<std::vector<float>> first = compute();
  const std::vector<std::vector<float>> second = compute();
  cpu::SetNumThreadsForTesting(original);
  ASSERT_EQ(one.size(), first.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(BitsEqual(one[i], first[i])) << "output " << i << ": 1 vs 3 threads";
    EXPECT_TRUE(BitsEqual(first[i], second[i])) << "output " << i << ": repeated call";
  }
}

// Loose bound for a gradient computed from inputs rounded to a 16-bit dtype,
// against the gradient of the unrounded fp32 inputs: rounding moves each
// input by a relative u at most (2^-9 bf16, 2^-11 fp16), and these gradients
// are smooth functions of their inputs with small condition numbers
// (products of two inputs, a normalisation, a softmax of O(1) scores), so the
// gradient moves by a few u (measured: up to 2.5u, attention). Allow 8u.
inline double StorageRoundingBound(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
      return 8.0 * std::ldexp(1.0, -9);
    case DType::kF16:
      return 8.0 * std::ldexp(1.0, -11);
    case DType::kF32:
      return 0.0;
  }
  return 0.0;
}

}  // namespace lockstep::testing
