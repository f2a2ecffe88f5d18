// The unbiased pass@k estimator (Chen et al. 2021): with n samples of which c
// pass, pass@k = 1 - C(n-c, k)/C(n, k), computed as 1 - prod_{i=n-c+1..n} (1 - k/i)
// in long double: no binomial is ever formed, so it neither overflows nor
// cancels, and its relative error stays near c * 2^-64 for any n (tested
// against exact rationals). Aggregates average over problems, with seeded
// percentile-bootstrap intervals that resample problems.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace lockstep::rewards {

// 0 <= c <= n, 1 <= k <= n (anything else is a programming error: returns NaN).
double PassAtK(int64_t n, int64_t c, int64_t k);
// pass@k for k = 1..n (index k-1).
std::vector<double> PassAtKCurve(int64_t n, int64_t c);

struct ProblemCount {
  int64_t n = 0;  // judged samples (infrastructure failures excluded)
  int64_t c = 0;  // of which passed
};

struct BootstrapOptions {
  int resamples = 1000;
  double confidence = 0.95;  // central percentile interval
  uint64_t seed = 0;
};

struct Interval {
  double estimate = 0;  // mean over problems of pass@k
  double low = 0, high = 0;
};

// For k = 1..max_k (index k-1): the mean over problems of pass@k and its
// bootstrap interval. Every problem needs n >= max_k >= 1. The same resampled
// problem sets serve every k, so a curve's intervals are mutually consistent.
// With one problem (or resamples == 0) the interval is the estimate itself.
std::vector<Interval> MeanPassAtKWithIntervals(std::span<const ProblemCount> problems,
                                               int64_t max_k, const BootstrapOptions& options);

}  // namespace lockstep::rewards
