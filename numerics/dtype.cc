// Exact fp16/bf16 <-> fp32 conversions, written out bit by bit so that the CPU
// backend matches the hardware's cvt.rn without depending on compiler flags.
#include "numerics/dtype.h"

#include <bit>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace lockstep {

std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "fp32";
    case DType::kF16: return "fp16";
    case DType::kBF16: return "bf16";
  }
  return "unknown";
}

absl::StatusOr<DType> ParseDType(std::string_view name) {
  if (name == "fp32" || name == "F32" || name == "float32") return DType::kF32;
  if (name == "fp16" || name == "F16" || name == "float16") return DType::kF16;
  if (name == "bf16" || name == "BF16" || name == "bfloat16") return DType::kBF16;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype '", std::string(name), "' (expected fp32, fp16 or bf16)"));
}

size_t DTypeSize(DType dtype) { return dtype == DType::kF32 ? 4 : 2; }

uint16_t FloatToHalfBits(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return kCanonicalNaN16;
  if (abs >= 0x47800000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65536: Inf
  const int exponent = static_cast<int>(abs >> 23) - 127;
  if (exponent >= -14) {
    // Normal half: keep 10 of 23 mantissa bits, round the 13 dropped bits to
    // nearest even. A carry out of the mantissa correctly bumps the exponent
    // (and 65520 and above round up to Inf).
    const uint32_t mantissa = abs & 0x7FFFFFu;
    uint32_t half = static_cast<uint32_t>(exponent + 15) << 10 | (mantissa >> 13);
    const uint32_t dropped = mantissa & 0x1FFFu;
    if (dropped > 0x1000u || (dropped == 0x1000u && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  if (exponent < -25) return static_cast<uint16_t>(sign);  // below half the smallest subnormal
  // Subnormal half: value = m * 2^-24 with m < 1024. Shift the full 24-bit
  // significand right and round to nearest even on the dropped bits.
  const uint32_t significand = (abs & 0x7FFFFFu) | 0x800000u;
  const int shift = -exponent - 14 + 13;  // 14..24 for exponent -15..-25 (min subnormal tie at -25)
  uint32_t half = significand >> shift;
  const uint32_t dropped = significand & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1);
  if (dropped > halfway || (dropped == halfway && (half & 1u))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float HalfBitsToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1Fu;
  const uint32_t mantissa = bits & 0x3FFu;
  uint32_t out;
  if (exponent == 0x1Fu) {
    out = sign | 0x7F800000u | (mantissa << 13);  // Inf or NaN (payload kept)
  } else if (exponent != 0) {
    out = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign;
  } else {
    // Subnormal half -> normal float: normalise the mantissa.
    int e = -1;
    uint32_t m = mantissa;
    do {
      ++e;
      m <<= 1;
    } while ((m & 0x400u) == 0);
    out = sign | ((112u - static_cast<uint32_t>(e)) << 23) | ((m & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(out);
}

uint16_t FloatToBf16Bits(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return kCanonicalNaN16;
  // Round to nearest even on the low 16 bits; overflow carries into Inf.
  const uint32_t rounding_bias = 0x7FFFu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding_bias) >> 16);
}

float Bf16BitsToFloat(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

float RoundToDType(float value, DType dtype) {
  switch (dtype) {
    case DType::kF32: return value;
    case DType::kF16: return HalfBitsToFloat(FloatToHalfBits(value));
    case DType::kBF16: return Bf16BitsToFloat(FloatToBf16Bits(value));
  }
  return value;
}

float LoadAsFloat(const void* data, DType dtype, int64_t index) {
  switch (dtype) {
    case DType::kF32: return static_cast<const float*>(data)[index];
    case DType::kF16: return HalfBitsToFloat(static_cast<const uint16_t*>(data)[index]);
    case DType::kBF16: return Bf16BitsToFloat(static_cast<const uint16_t*>(data)[index]);
  }
  return 0.0f;
}

void StoreFromFloat(void* data, DType dtype, int64_t index, float value) {
  switch (dtype) {
    case DType::kF32: static_cast<float*>(data)[index] = value; return;
    case DType::kF16: static_cast<uint16_t*>(data)[index] = FloatToHalfBits(value); return;
    case DType::kBF16: static_cast<uint16_t*>(data)[index] = FloatToBf16Bits(value); return;
  }
}

}  // namespace lockstep
