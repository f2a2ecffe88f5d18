// Storage dtypes and exact conversions between them and fp32.
// Guarantees: float -> fp16/bf16 rounds to nearest, ties to even, exactly as
// CUDA's cvt.rn does on sm_90 (overflow -> Inf, subnormals kept, every NaN ->
// the canonical quiet NaN 0x7FFF). fp16/bf16 -> float is exact. No FTZ anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace lockstep {

enum class DType : uint8_t { kF32, kF16, kBF16 };

// "fp32" / "fp16" / "bf16".
std::string_view DTypeName(DType dtype);
// Accepts lockstep names (fp32, fp16, bf16) and safetensors names (F32, F16, BF16).
absl::StatusOr<DType> ParseDType(std::string_view name);
// Bytes per element: 4 or 2.
size_t DTypeSize(DType dtype);

inline constexpr uint16_t kCanonicalNaN16 = 0x7FFF;

uint16_t FloatToHalfBits(float value);
float HalfBitsToFloat(uint16_t bits);
uint16_t FloatToBf16Bits(float value);
float Bf16BitsToFloat(uint16_t bits);

// `value` rounded to `dtype` and widened back to float (identity for kF32).
float RoundToDType(float value, DType dtype);

// Reads element `index` of a buffer of `dtype` as float (exact).
float LoadAsFloat(const void* data, DType dtype, int64_t index);
// Rounds `value` to `dtype` and writes it to element `index`.
void StoreFromFloat(void* data, DType dtype, int64_t index, float value);

}  // namespace lockstep
