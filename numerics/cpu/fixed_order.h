// The one fp32 reduction order shared by every CPU op (internal to numerics/).
// A reduction over n terms uses kReductionLanes interleaved accumulators: lane j
// sums the terms k ≡ j (mod 16) in increasing k, starting from +0.0f, tail
// included; the 16 lanes are then combined by a fixed halving tree
// (j + 8, then j + 4, j + 2, j + 1). The order depends on n alone, so any row
// reduced anywhere (alone, in a batch, on another thread) gives the same bits.
// Lanes are independent, so a SIMD unit of any width computes exactly this:
// results do not depend on the instruction set (no FMA: -ffp-contract=off).
#pragma once

#include <cstdint>
#include <cstring>

namespace lockstep::cpu {

inline constexpr int kReductionLanes = 16;

// 16 fp32 lanes as one GCC/Clang vector. Arithmetic on it is element-wise
// IEEE fp32 (no reassociation, no contraction), lowered to whatever SIMD width
// the enclosing function is compiled for.
typedef float Lanes16 __attribute__((vector_size(64)));

// Unaligned load of 16 floats. (Out-parameter, not a return value: a 64-byte
// vector returned by value would make the ABI depend on the ISA, -Wpsabi.)
inline void LoadLanes(Lanes16& v, const float* p) { std::memcpy(&v, p, sizeof(v)); }

// The fixed combining tree. Must stay exactly this order: every op (and any
// other backend that wants to match the CPU) reproduces it.
inline float CombineLanes(const float* lanes) {
  float s8[8], s4[4], s2[2];
  for (int j = 0; j < 8; ++j) s8[j] = lanes[j] + lanes[j + 8];
  for (int j = 0; j < 4; ++j) s4[j] = s8[j] + s8[j + 4];
  for (int j = 0; j < 2; ++j) s2[j] = s4[j] + s4[j + 2];
  return s2[0] + s2[1];
}

inline float CombineLanes(const Lanes16& lanes) {
  float l[kReductionLanes];
  std::memcpy(l, &lanes, sizeof(l));
  return CombineLanes(l);
}

// Σ_k a[k]·b[k] in the fixed order (the body of DotFixedOrder, inlinable so
// ISA-specific callers compile it for their own SIMD width).
[[gnu::always_inline]] inline float DotLanes(const float* a, const float* b, int64_t n) {
  Lanes16 acc = {};
  int64_t k = 0;
  for (; k + kReductionLanes <= n; k += kReductionLanes) {
    Lanes16 av, bv;
    LoadLanes(av, a + k);
    LoadLanes(bv, b + k);
    acc += av * bv;
  }
  for (int64_t t = 0; k + t < n; ++t) acc[t] += a[k + t] * b[k + t];
  return CombineLanes(acc);
}

// Σ_k term(k) for k in [0, n) in the fixed order. `term` returns float.
template <typename Term>
inline float SumFixedOrder(int64_t n, Term term) {
  float lanes[kReductionLanes] = {};
  int64_t k = 0;
  for (; k + kReductionLanes <= n; k += kReductionLanes) {
    for (int j = 0; j < kReductionLanes; ++j) lanes[j] += term(k + j);
  }
  for (int j = 0; k + j < n; ++j) lanes[j] += term(k + j);
  return CombineLanes(lanes);
}

}  // namespace lockstep::cpu
