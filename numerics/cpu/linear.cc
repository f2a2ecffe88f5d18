// Linear on the CPU backend. Every output element is one fixed-order dot
// product (fixed_order.h): 16 fp32 lanes over K, a fixed tree, then the bias,
// then one rounding. Speed comes only from doing many such dots at once
// (a register tile of rows × columns) and from SIMD over the 16 lanes; neither
// changes any element's arithmetic, so the tile shape, the instruction set and
// the thread split are free to vary.
#include "numerics/cpu/linear.h"

#include <algorithm>
#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "numerics/cpu/fixed_order.h"
#include "numerics/cpu/parallel.h"

namespace lockstep::cpu {

static_assert(kLinearLanes == kReductionLanes, "Linear uses the shared reduction order");

namespace {

struct LinearArgs {
  const float* x;     // (M, K) fp32, row stride K
  const float* w;     // (N, K) fp32, row stride K
  const float* bias;  // (N) or nullptr
  int64_t m, n, k;
  MatrixView out;
};

// Columns per parallel work item: a multiple of every tile width used below,
// and small enough that a block of W rows stays in L2 for K up to a few thousand.
constexpr int64_t kColumnBlock = 48;

// R rows × C columns of the output, each element a fixed-order dot.
// always_inline: the body must be compiled inside each ISA-specific caller.
template <int R, int C>
[[gnu::always_inline]] inline void Tile(const LinearArgs& a, int64_t m0, int64_t n0) {
  const int64_t k = a.k;
  const float* xr[R];
  const float* wc[C];
  for (int r = 0; r < R; ++r) xr[r] = a.x + (m0 + r) * k;
  for (int c = 0; c < C; ++c) wc[c] = a.w + (n0 + c) * k;
  Lanes16 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = Lanes16{};
  int64_t kb = 0;
  for (; kb + kReductionLanes <= k; kb += kReductionLanes) {
    Lanes16 xv[R];
    for (int r = 0; r < R; ++r) LoadLanes(xv[r], xr[r] + kb);
    for (int c = 0; c < C; ++c) {
      Lanes16 wv;
      LoadLanes(wv, wc[c] + kb);
      for (int r = 0; r < R; ++r) acc[r][c] += xv[r] * wv;
    }
  }
  // Tail: element kb + t belongs to lane t.
  for (int64_t t = 0; kb + t < k; ++t) {
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c][t] += xr[r][kb + t] * wc[c][kb + t];
  }
  for (int r = 0; r < R; ++r) {
    void* out_row = a.out.RowPtr(m0 + r);
    for (int c = 0; c < C; ++c) {
      float y = CombineLanes(acc[r][c]);
      if (a.bias != nullptr) y += a.bias[n0 + c];
      StoreFromFloat(out_row, a.out.dtype, n0 + c, y);
    }
  }
}

// Output columns [n_begin, n_end) for all rows, with an R × C register tile,
// a 1 × C1 tile for leftover rows (decode's M = 1 lands here, so C1 is wide
// enough to keep several independent add chains in flight) and 1-wide tiles
// for leftover columns.
template <int R, int C, int C1>
[[gnu::always_inline]] inline void ColumnBlock(const LinearArgs& a, int64_t n_begin,
                                               int64_t n_end) {
  int64_t m0 = 0;
  for (; m0 + R <= a.m; m0 += R) {
    int64_t n0 = n_begin;
    for (; n0 + C <= n_end; n0 += C) Tile<R, C>(a, m0, n0);
    for (; n0 < n_end; ++n0) Tile<R, 1>(a, m0, n0);
  }
  for (; m0 < a.m; ++m0) {
    int64_t n0 = n_begin;
    for (; n0 + C1 <= n_end; n0 += C1) Tile<1, C1>(a, m0, n0);
    for (; n0 < n_end; ++n0) Tile<1, 1>(a, m0, n0);
  }
}

// One entry point per instruction set; tile sizes fit each register file
// (16 lanes = 1 zmm / 2 ymm / 4 xmm per accumulator).
__attribute__((target("avx512f"))) void ColumnBlockAvx512(const LinearArgs& a, int64_t b,
                                                          int64_t e) {
  ColumnBlock<4, 6, 8>(a, b, e);
}
__attribute__((target("avx2"))) void ColumnBlockAvx2(const LinearArgs& a, int64_t b, int64_t e) {
  ColumnBlock<2, 3, 6>(a, b, e);
}
void ColumnBlockBaseline(const LinearArgs& a, int64_t b, int64_t e) {
  ColumnBlock<2, 1, 2>(a, b, e);
}

using ColumnBlockFn = void (*)(const LinearArgs&, int64_t, int64_t);

std::atomic<int> isa_override{-1};

CpuIsa DetectIsa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return CpuIsa::kAvx512;
  if (__builtin_cpu_supports("avx2")) return CpuIsa::kAvx2;
  return CpuIsa::kBaseline;
}

ColumnBlockFn KernelFor(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAvx512:
      return &ColumnBlockAvx512;
    case CpuIsa::kAvx2:
      return &ColumnBlockAvx2;
    case CpuIsa::kBaseline:
      return &ColumnBlockBaseline;
  }
  return &ColumnBlockBaseline;
}

void ToFloats(ConstMatrixView src, float* dst) {
  for (int64_t r = 0; r < src.rows; ++r) {
    const void* row = src.RowPtr(r);
    float* d = dst + r * src.cols;
    switch (src.dtype) {
      case DType::kF32:
        std::copy_n(static_cast<const float*>(row), src.cols, d);
        break;
      case DType::kF16:
        for (int64_t c = 0; c < src.cols; ++c)
          d[c] = HalfBitsToFloat(static_cast<const uint16_t*>(row)[c]);
        break;
      case DType::kBF16:
        for (int64_t c = 0; c < src.cols; ++c)
          d[c] = Bf16BitsToFloat(static_cast<const uint16_t*>(row)[c]);
        break;
    }
  }
}

}  // namespace

CpuIsa DetectedCpuIsa() {
  static const CpuIsa isa = DetectIsa();
  return isa;
}

CpuIsa ActiveLinearIsa() {
  const int forced = isa_override.load(std::memory_order_relaxed);
  return forced >= 0 ? static_cast<CpuIsa>(forced) : DetectedCpuIsa();
}

void SetLinearIsaForTesting(CpuIsa isa) {
  isa_override.store(static_cast<int>(isa), std::memory_order_relaxed);
}

std::string_view CpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kBaseline:
      return "x86-64 baseline";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvx512:
      return "avx512f";
  }
  return "unknown";
}

LinearWeight PrepareLinearWeight(ConstMatrixView weight, const void* bias) {
  LinearWeight lw;
  lw.weight = weight;
  lw.bias = bias;
  lw.weight_f32.resize(static_cast<size_t>(weight.rows * weight.cols));
  ToFloats(weight, lw.weight_f32.data());
  if (bias != nullptr) {
    lw.bias_f32.resize(static_cast<size_t>(weight.rows));
    for (int64_t n = 0; n < weight.rows; ++n) lw.bias_f32[n] = LoadAsFloat(bias, weight.dtype, n);
  }
  return lw;
}

absl::Status Linear(ConstMatrixView x, const LinearWeight& weight, MatrixView out) {
  const int64_t n = weight.out_features(), k = weight.in_features();
  if (static_cast<int64_t>(weight.weight_f32.size()) != n * k ||
      (weight.bias != nullptr && static_cast<int64_t>(weight.bias_f32.size()) != n)) {
    return absl::FailedPreconditionError(
        "Linear: the LinearWeight was not built by PrepareLinearWeight (its fp32 copy is "
        "missing or stale); call PrepareLinearWeight after loading or updating the weight");
  }
  if (x.cols != k || out.rows != x.rows || out.cols != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Linear: shape mismatch: x is (", x.rows, ", ", x.cols, "), weight is (", n, ", ", k,
        "), out is (", out.rows, ", ", out.cols, "); need x (M, ", k, ") and out (M, ", n, ")"));
  }
  if (x.rows == 0 || n == 0) return absl::OkStatus();
  std::vector<float> x_f32(static_cast<size_t>(x.rows * k));
  ToFloats(x, x_f32.data());
  const LinearArgs args{x_f32.data(),
                        weight.weight_f32.data(),
                        weight.bias != nullptr ? weight.bias_f32.data() : nullptr,
                        x.rows,
                        n,
                        k,
                        out};
  const ColumnBlockFn kernel = KernelFor(ActiveLinearIsa());
  const int64_t num_blocks = (n + kColumnBlock - 1) / kColumnBlock;
  // Small problems run inline: thread hand-off costs more than it saves.
  const int64_t flops_per_block = 2 * x.rows * k * std::min(n, kColumnBlock);
  const int64_t min_blocks =
      std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(1, flops_per_block));
  ParallelFor(num_blocks, min_blocks, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      kernel(args, b * kColumnBlock, std::min(n, (b + 1) * kColumnBlock));
    }
  });
  return absl::OkStatus();
}

float DotFixedOrder(const float* a, const float* b, int64_t n) { return DotLanes(a, b, n); }

}  // namespace lockstep::cpu
