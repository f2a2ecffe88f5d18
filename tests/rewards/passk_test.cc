// pass@k against exact rational arithmetic, and the bootstrap's contract.
#include "rewards/passk.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace lockstep::rewards {
namespace {

using u128 = unsigned __int128;

// C(n, k) exactly; n <= 60 keeps every intermediate below 2^64 * 60.
u128 Binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  u128 r = 1;
  for (int i = 1; i <= k; ++i) r = r * static_cast<u128>(n - k + i) / i;  // exact at every step
  return r;
}

// 1 - C(n-c,k)/C(n,k) as (C(n,k) - C(n-c,k)) / C(n,k): one rounding in long double.
long double ExactPassAtK(int n, int c, int k) {
  const u128 total = Binomial(n, k), failing = Binomial(n - c, k);
  return static_cast<long double>(total - failing) / static_cast<long double>(total);
}

TEST(PassAtKTest, MatchesExactRationalsOnAGrid) {
  int checked = 0;
  for (int n = 1; n <= 60; ++n) {
    for (int c = 0; c <= n; ++c) {
      for (int k = 1; k <= n; ++k) {
        const long double exact = ExactPassAtK(n, c, k);
        const double got = PassAtK(n, c, k);
        // Relative error of the product form: about (c + 1) ulps of long double.
        EXPECT_NEAR(got, static_cast<double>(exact), 4e-16 * std::max(1.0L, exact))
            << "n=" << n << " c=" << c << " k=" << k;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 60 * 61 * 62 / 3);  // sum over n of (n+1) values of c times n of k
}

TEST(PassAtKTest, EdgeCasesAreExact) {
  EXPECT_EQ(PassAtK(10, 0, 3), 0.0);
  EXPECT_EQ(PassAtK(10, 10, 1), 1.0);
  EXPECT_EQ(PassAtK(10, 8, 3), 1.0);  // n - c < k: every 3-subset holds a pass
  EXPECT_EQ(PassAtK(4, 2, 2), 1.0 - 1.0 / 6.0);
  EXPECT_TRUE(std::isnan(PassAtK(0, 0, 1)));
  EXPECT_TRUE(std::isnan(PassAtK(5, 6, 1)));
  EXPECT_TRUE(std::isnan(PassAtK(5, 1, 6)));
}

TEST(PassAtKTest, PassAtOneIsTheFractionForLargeN) {
  for (int64_t n : {128, 1000, 1024, 4096}) {
    for (int64_t c : {int64_t{0}, int64_t{1}, n / 3, n - 1, n}) {
      EXPECT_NEAR(PassAtK(n, c, 1), static_cast<double>(c) / n, 1e-15) << n << " " << c;
    }
  }
}

TEST(PassAtKTest, LargeNMatchesLogGammaAndIsMonotone) {
  const int64_t n = 1024;
  for (int64_t c : {1, 3, 17, 100, 512, 1000}) {
    double previous = 0;
    for (int64_t k = 1; k <= n; ++k) {
      const double p = PassAtK(n, c, k);
      ASSERT_GE(p, previous) << "c=" << c << " k=" << k;  // more tries never hurt
      ASSERT_LE(p, 1.0);
      previous = p;
      if (n - c >= k && (k % 37 == 1)) {
        // C(n-c,k)/C(n,k) via lgamma (accurate to ~1e-12 relative here).
        const long double log_ratio = std::lgamma((long double)(n - c + 1)) - std::lgamma((long double)(n - c - k + 1)) -
                                      std::lgamma((long double)(n + 1)) + std::lgamma((long double)(n - k + 1));
        const long double failing = std::exp(log_ratio);
        // p is a double near 1 when failing is tiny: allow its half-ulp (1.1e-16) on top.
        EXPECT_NEAR(p, static_cast<double>(1.0L - failing), 1e-11 * static_cast<double>(failing) + 1.2e-16)
            << "c=" << c << " k=" << k;
      }
    }
    EXPECT_EQ(PassAtK(n, c, n), 1.0);
  }
  // One pass in 1024 samples: pass@k = k/n exactly in rationals.
  for (int64_t k : {1, 2, 64, 512, 1024}) EXPECT_NEAR(PassAtK(n, 1, k), double(k) / n, 1e-15);
}

TEST(PassAtKTest, CurveHasOneValuePerK) {
  const std::vector<double> curve = PassAtKCurve(8, 2);
  ASSERT_EQ(curve.size(), 8u);
  for (int k = 1; k <= 8; ++k) EXPECT_EQ(curve[k - 1], PassAtK(8, 2, k));
}

TEST(BootstrapTest, SeededReproducibleAndBracketsTheMean) {
  std::vector<ProblemCount> problems;
  for (int i = 0; i < 20; ++i) problems.push_back({16, (i * 7) % 17});
  BootstrapOptions options;
  options.seed = 42;
  const auto a = MeanPassAtKWithIntervals(problems, 16, options);
  const auto b = MeanPassAtKWithIntervals(problems, 16, options);
  ASSERT_EQ(a.size(), 16u);
  for (size_t k = 0; k < a.size(); ++k) {
    double mean = 0;
    for (const auto& p : problems) mean += PassAtK(p.n, p.c, k + 1);
    EXPECT_NEAR(a[k].estimate, mean / problems.size(), 1e-15);
    EXPECT_EQ(a[k].low, b[k].low);  // same seed, same bits
    EXPECT_EQ(a[k].high, b[k].high);
    EXPECT_LT(a[k].low, a[k].estimate);
    EXPECT_GT(a[k].high, a[k].estimate);
    EXPECT_GE(a[k].low, 0.0);
    EXPECT_LE(a[k].high, 1.0);
  }
  options.seed = 43;
  const auto c = MeanPassAtKWithIntervals(problems, 16, options);
  EXPECT_NE(a[0].low, c[0].low);  // the seed matters
  // 20 problems with per-problem pass@1 spread over [0, 1]: the 95% interval
  // is roughly mean ± 2 * sd/sqrt(20) ≈ ±0.14.
  EXPECT_GT(a[0].high - a[0].low, 0.15);
  EXPECT_LT(a[0].high - a[0].low, 0.40);
}

TEST(BootstrapTest, IdenticalProblemsAndSingleProblemGiveZeroWidth) {
  std::vector<ProblemCount> same(10, ProblemCount{5, 2});
  for (const Interval& i : MeanPassAtKWithIntervals(same, 5, {})) {
    EXPECT_DOUBLE_EQ(i.low, i.estimate);
    EXPECT_DOUBLE_EQ(i.high, i.estimate);
  }
  const std::vector<ProblemCount> one = {{4, 1}};
  const auto curve = MeanPassAtKWithIntervals(one, 4, {});
  EXPECT_EQ(curve[0].estimate, 0.25);
  EXPECT_EQ(curve[0].low, 0.25);
  EXPECT_EQ(curve[3].estimate, 1.0);
}

}  // namespace
}  // namespace lockstep::rewards
