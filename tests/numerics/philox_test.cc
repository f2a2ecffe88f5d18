// Philox4x32-10 against the Random123 known-answer vectors, and the sampling
// uniform's range and resolution.
#include "numerics/philox.h"

#include <cmath>

#include "gtest/gtest.h"

namespace lockstep {
namespace {

TEST(PhiloxTest, Random123KnownAnswers) {
  EXPECT_EQ(Philox4x32({0, 0, 0, 0}, {0, 0}),
            (PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(Philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(Philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(PhiloxTest, SamplingUniformIsTheTop24BitsOfTheFirstWord) {
  const uint64_t seed = 0x0123456789ABCDEFull;
  const PhiloxCounter out = Philox4x32({7, 3, 11, 0}, {0x89ABCDEFu, 0x01234567u});
  EXPECT_EQ(SamplingUniform(seed, 7, 3, 11), std::ldexp(static_cast<float>(out[0] >> 8), -24));
}

TEST(PhiloxTest, SamplingUniformIsInRangeAndRoughlyUniform) {
  constexpr int kDraws = 200000, kBins = 16;
  int counts[kBins] = {};
  double sum = 0.0;
  for (int i = 0; i < kDraws; ++i) {
    const float u =
        SamplingUniform(42, static_cast<uint32_t>(i % 100), static_cast<uint32_t>(i / 100), 5);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    ++counts[static_cast<int>(u * kBins)];
    sum += u;
  }
  EXPECT_NEAR(sum / kDraws, 0.5, 0.005);
  // Chi-square with 15 degrees of freedom: 37.7 is its 0.999 quantile.
  double chi2 = 0.0;
  const double expected = static_cast<double>(kDraws) / kBins;
  for (int b = 0; b < kBins; ++b)
    chi2 += (counts[b] - expected) * (counts[b] - expected) / expected;
  EXPECT_LT(chi2, 37.7);
  // Every coordinate of the key changes the draw.
  const float base = SamplingUniform(1, 2, 3, 4);
  EXPECT_NE(base, SamplingUniform(1ull << 32 | 1, 2, 3, 4));
  EXPECT_NE(base, SamplingUniform(1, 9, 3, 4));
  EXPECT_NE(base, SamplingUniform(1, 2, 9, 4));
  EXPECT_NE(base, SamplingUniform(1, 2, 3, 9));
}

}  // namespace
}  // namespace lockstep
