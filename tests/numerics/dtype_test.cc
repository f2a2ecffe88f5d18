// Exhaustive checks of the fp16/bf16 <-> fp32 conversions: every one of the
// 65,536 bit patterns each way, every midpoint between neighbours (ties to
// even) and one float ulp either side, the overflow boundary, ±0, ±Inf, NaN.
#include "numerics/dtype.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace lockstep {
namespace {

struct Format {
  const char* name;
  int exponent_bits;
  int mantissa_bits;
  uint16_t (*to_bits)(float);
  float (*to_float)(uint16_t);
  uint16_t max_finite;  // positive
  uint16_t inf;         // positive
};

const Format kHalf{"fp16", 5, 10, &FloatToHalfBits, &HalfBitsToFloat, 0x7BFF, 0x7C00};
const Format kBf16{"bf16", 8, 7, &FloatToBf16Bits, &Bf16BitsToFloat, 0x7F7F, 0x7F80};

// The value of a bit pattern from the IEEE definition, computed in double
// with ldexp, independently of the code under test. NaN for NaN patterns.
double ReferenceValue(const Format& f, uint16_t bits) {
  const int bias = (1 << (f.exponent_bits - 1)) - 1;
  const int exponent = (bits >> f.mantissa_bits) & ((1 << f.exponent_bits) - 1);
  const int mantissa = bits & ((1 << f.mantissa_bits) - 1);
  const double sign = (bits & 0x8000) ? -1.0 : 1.0;
  if (exponent == (1 << f.exponent_bits) - 1) {
    return mantissa == 0 ? sign * std::numeric_limits<double>::infinity() : std::nan("");
  }
  if (exponent == 0) return sign * std::ldexp(mantissa, 1 - bias - f.mantissa_bits);
  return sign * std::ldexp((1 << f.mantissa_bits) + mantissa, exponent - bias - f.mantissa_bits);
}

class ConversionTest : public ::testing::TestWithParam<const Format*> {};

TEST_P(ConversionTest, EveryBitPatternWidensExactly) {
  const Format& f = *GetParam();
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const uint16_t bits = static_cast<uint16_t>(b);
    const double ref = ReferenceValue(f, bits);
    const float got = f.to_float(bits);
    if (std::isnan(ref)) {
      ASSERT_TRUE(std::isnan(got)) << f.name << " bits 0x" << std::hex << b;
    } else {
      ASSERT_EQ(static_cast<double>(got), ref) << f.name << " bits 0x" << std::hex << b;
      ASSERT_EQ(std::signbit(got), (b & 0x8000) != 0) << f.name << " bits 0x" << std::hex << b;
    }
  }
}

TEST_P(ConversionTest, EveryRepresentableValueAndMidpointRoundsToNearestEven) {
  const Format& f = *GetParam();
  for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
    for (uint32_t b = 0; b <= f.max_finite; ++b) {
      const uint16_t lo = static_cast<uint16_t>(b | sign);
      const uint16_t hi = static_cast<uint16_t>((b + 1) | sign);  // the next one up (Inf after max)
      const double lo_value = ReferenceValue(f, lo);
      // Above the largest finite value the "next" step is one more ulp: the
      // rounding boundary to Inf (65520 for fp16) sits halfway to it.
      const double hi_value = b == f.max_finite ? lo_value + (lo_value - ReferenceValue(f, lo - 1))
                                                : ReferenceValue(f, hi);
      // Exact values round trip (both zeros keep their sign).
      ASSERT_EQ(f.to_bits(static_cast<float>(lo_value)), lo) << f.name << " 0x" << std::hex << lo;
      // The midpoint is exact in fp32 (it needs one more significand bit).
      const double mid_double = (lo_value + hi_value) / 2.0;
      const float mid = static_cast<float>(mid_double);
      ASSERT_EQ(static_cast<double>(mid), mid_double);
      const uint16_t even = (lo & 1u) == 0 ? lo : hi;
      ASSERT_EQ(f.to_bits(mid), even) << f.name << " midpoint above 0x" << std::hex << lo;
      const float toward_zero = std::nextafter(mid, 0.0f);
      const float away = std::nextafter(mid, sign ? -INFINITY : INFINITY);
      ASSERT_EQ(f.to_bits(toward_zero), lo) << f.name << " below midpoint 0x" << std::hex << lo;
      ASSERT_EQ(f.to_bits(away), hi) << f.name << " above midpoint 0x" << std::hex << lo;
    }
  }
}

TEST_P(ConversionTest, SpecialValues) {
  const Format& f = *GetParam();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(f.to_bits(0.0f), 0x0000);
  EXPECT_EQ(f.to_bits(-0.0f), 0x8000);
  EXPECT_EQ(f.to_bits(inf), f.inf);
  EXPECT_EQ(f.to_bits(-inf), f.inf | 0x8000);
  EXPECT_EQ(f.to_bits(std::numeric_limits<float>::max()), f.inf);
  EXPECT_EQ(f.to_bits(-std::numeric_limits<float>::max()), f.inf | 0x8000);
  EXPECT_EQ(f.to_bits(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(f.to_bits(-std::numeric_limits<float>::denorm_min()), 0x8000);
  for (uint32_t nan_bits : {0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0xFFFFFFFFu, 0x7FBFFFFFu}) {
    EXPECT_EQ(f.to_bits(std::bit_cast<float>(nan_bits)), kCanonicalNaN16)
        << f.name << " NaN 0x" << std::hex << nan_bits;
  }
  EXPECT_TRUE(std::isnan(f.to_float(kCanonicalNaN16)));
}

INSTANTIATE_TEST_SUITE_P(Formats, ConversionTest, ::testing::Values(&kHalf, &kBf16),
                         [](const auto& info) { return std::string(info.param->name); });

TEST(ConversionEdgeTest, HalfOverflowBoundary) {
  EXPECT_EQ(FloatToHalfBits(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalfBits(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(FloatToHalfBits(65520.0f), 0x7C00);  // tie, rounds to the even neighbour: Inf
  EXPECT_EQ(FloatToHalfBits(-65520.0f), 0xFC00);
  EXPECT_EQ(FloatToHalfBits(65536.0f), 0x7C00);
  // Smallest subnormal 2^-24, and the tie at half of it rounds to zero (even).
  EXPECT_EQ(FloatToHalfBits(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(FloatToHalfBits(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(FloatToHalfBits(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(FloatToHalfBits(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp ties up to even 2
}

TEST(ConversionEdgeTest, HelpersRoundAndStore) {
  EXPECT_EQ(RoundToDType(1.0f + std::ldexp(1.0f, -12), DType::kF16), 1.0f);
  EXPECT_EQ(RoundToDType(1.0f + std::ldexp(3.0f, -9), DType::kBF16),
            1.0f + std::ldexp(1.0f, -7));  // 0.75 ulp rounds up
  EXPECT_EQ(RoundToDType(0.1f, DType::kF32), 0.1f);
  uint16_t half_buffer[2] = {};
  StoreFromFloat(half_buffer, DType::kF16, 1, 1.5f);
  EXPECT_EQ(half_buffer[1], 0x3E00);
  EXPECT_EQ(LoadAsFloat(half_buffer, DType::kF16, 1), 1.5f);
  uint16_t bf16_buffer[1] = {};
  StoreFromFloat(bf16_buffer, DType::kBF16, 0, -2.0f);
  EXPECT_EQ(bf16_buffer[0], 0xC000);
  EXPECT_EQ(LoadAsFloat(bf16_buffer, DType::kBF16, 0), -2.0f);
  EXPECT_EQ(ParseDType("BF16").value(), DType::kBF16);
  EXPECT_EQ(ParseDType("fp16").value(), DType::kF16);
  EXPECT_FALSE(ParseDType("int8").ok());
}

}  // namespace
}  // namespace lockstep
