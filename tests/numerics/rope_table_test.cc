// RopeTable from explicit inverse frequencies, and Llama 3's rope scaling
// against transformers' _compute_llama3_parameters (values worked out by hand
// from its formula: kept above the high-frequency wavelength, divided by
// `factor` below the low one, smoothly interpolated between).
#include "numerics/rope_table.h"

#include <bit>
#include <cmath>

#include "gtest/gtest.h"

namespace lockstep {
namespace {

TEST(RopeTableTest, ExplicitFrequenciesGiveThePlainTableBitForBit) {
  const RopeTable plain(38, 500000.0, 300);
  const RopeTable explicit_table(38, RopeInverseFrequencies(38, 500000.0), 300);
  for (int p = 0; p < 300; ++p) {
    for (int i = 0; i < 19; ++i) {
      ASSERT_EQ(std::bit_cast<uint32_t>(plain.cos_row(p)[i]),
                std::bit_cast<uint32_t>(explicit_table.cos_row(p)[i]));
      ASSERT_EQ(std::bit_cast<uint32_t>(plain.sin_row(p)[i]),
                std::bit_cast<uint32_t>(explicit_table.sin_row(p)[i]));
    }
  }
  EXPECT_THROW(RopeTable(8, std::vector<double>(3, 1.0), 4), std::invalid_argument);
}

TEST(RopeTableTest, Llama3ScalingMatchesTheTransformersFormula) {
  // head_dim 8, theta 1e4: inv_freq 1, 0.1, 0.01, 0.001 (wavelengths 6.3, 63, 628, 6283).
  // original 64, low 1, high 4: wavelengths < 16 kept, > 64 divided by 8, and
  // 62.8 interpolated: s = (64 / (2 pi / 0.1) - 1) / 3, f = (1 - s) 0.1 / 8 + s 0.1.
  const RopeLlama3Scaling small{.factor = 8.0, .low_freq_factor = 1.0, .high_freq_factor = 4.0,
                                .original_max_position_embeddings = 64};
  const std::vector<double> got = RopeInverseFrequencies(8, 10000.0, small);
  const std::vector<double> expected = {1.0, 0.013042256043820465, 0.00125, 0.000125};
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-15 + 1e-12 * expected[i]) << i;

  // Llama 3.2's settings (theta 5e5, factor 32, original 8192) on head_dim 16.
  const RopeLlama3Scaling llama32{.factor = 32.0, .low_freq_factor = 1.0, .high_freq_factor = 4.0,
                                  .original_max_position_embeddings = 8192};
  const std::vector<double> big = RopeInverseFrequencies(16, 500000.0, llama32);
  const std::vector<double> big_expected = {
      1.0, 0.19392274474868576, 0.03760603093086393, 0.0072926647372171085,
      0.00042955679655936815, 8.570255489881478e-06, 1.661967467795309e-06, 3.2229329303788936e-07};
  for (size_t i = 0; i < big.size(); ++i) {
    EXPECT_NEAR(big[i], big_expected[i], 1e-12 * big_expected[i]) << i;
  }
  // The table rotates by float(p) * float(inv_freq), as the plain table does.
  const RopeTable table(16, big, 100);
  for (int p : {0, 1, 57, 99}) {
    for (int i = 0; i < 8; ++i) {
      const float angle = static_cast<float>(p) * static_cast<float>(big[i]);
      EXPECT_EQ(table.cos_row(p)[i], static_cast<float>(std::cos(double{angle})));
      EXPECT_EQ(table.sin_row(p)[i], static_cast<float>(std::sin(double{angle})));
    }
  }
}

}  // namespace
}  // namespace lockstep
