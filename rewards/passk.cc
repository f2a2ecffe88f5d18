#include "rewards/passk.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lockstep::rewards {
namespace {

// splitmix64: a fixed, portable generator (std:: distributions differ between
// standard libraries, and intervals must be reproducible from the seed).
uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, bound) without modulo bias.
uint64_t UniformBelow(uint64_t* state, uint64_t bound) {
  const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                         std::numeric_limits<uint64_t>::max() % bound;
  uint64_t x;
  do {
    x = SplitMix(state);
  } while (x >= limit);
  return x % bound;
}

// Linear interpolation between order statistics (the "type 7" quantile).
double Quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

}  // namespace

double PassAtK(int64_t n, int64_t c, int64_t k) {
  if (n < 1 || c < 0 || c > n || k < 1 || k > n) return std::numeric_limits<double>::quiet_NaN();
  if (n - c < k) return 1.0;  // every k-subset holds a passing sample
  // C(n-c, k)/C(n, k) = prod_{i=n-c+1..n} (i-k)/i. Each factor is in [0, 1) and
  // computed as (i-k)/i, one rounding, with no cancellation.
  long double failing = 1.0L;
  for (int64_t i = n - c + 1; i <= n; ++i) {
    failing *= static_cast<long double>(i - k) / static_cast<long double>(i);
  }
  return static_cast<double>(1.0L - failing);
}

std::vector<double> PassAtKCurve(int64_t n, int64_t c) {
  std::vector<double> curve;
  curve.reserve(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (int64_t k = 1; k <= n; ++k) curve.push_back(PassAtK(n, c, k));
  return curve;
}

std::vector<Interval> MeanPassAtKWithIntervals(std::span<const ProblemCount> problems,
                                               int64_t max_k, const BootstrapOptions& options) {
  const size_t p = problems.size();
  std::vector<Interval> out(static_cast<size_t>(std::max<int64_t>(max_k, 0)));
  if (p == 0 || max_k < 1) return out;
  // values[i][k-1] = pass@k of problem i.
  std::vector<std::vector<double>> values(p);
  for (size_t i = 0; i < p; ++i) {
    values[i].resize(out.size());
    for (int64_t k = 1; k <= max_k; ++k) values[i][k - 1] = PassAtK(problems[i].n, problems[i].c, k);
  }
  for (size_t k = 0; k < out.size(); ++k) {
    long double sum = 0;
    for (size_t i = 0; i < p; ++i) sum += values[i][k];
    out[k].estimate = static_cast<double>(sum / p);
    out[k].low = out[k].high = out[k].estimate;
  }
  if (p < 2 || options.resamples <= 0) return out;
  std::vector<std::vector<double>> means(out.size(), std::vector<double>(options.resamples));
  uint64_t state = options.seed;
  std::vector<long double> sums(out.size());
  for (int r = 0; r < options.resamples; ++r) {
    std::fill(sums.begin(), sums.end(), 0.0L);
    for (size_t draw = 0; draw < p; ++draw) {
      const auto& row = values[UniformBelow(&state, p)];
      for (size_t k = 0; k < out.size(); ++k) sums[k] += row[k];
    }
    for (size_t k = 0; k < out.size(); ++k) means[k][r] = static_cast<double>(sums[k] / p);
  }
  const double tail = (1.0 - options.confidence) / 2.0;
  for (size_t k = 0; k < out.size(); ++k) {
    std::sort(means[k].begin(), means[k].end());
    out[k].low = Quantile(means[k], tail);
    out[k].high = Quantile(means[k], 1.0 - tail);
  }
  return out;
}

}  // namespace lockstep::rewards
