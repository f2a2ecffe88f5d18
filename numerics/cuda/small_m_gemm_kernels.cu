// The small-M fixed-order GEMM kernel (small_m_gemm.h): mma.sync m16n8k16 with fp32
// accumulation, W as the A operand (16 features x 16 k), X rows as B (16 k x 8 rows).
// Guarantee: for each of the S K slices, acc_s = 0; for k0 = the slice's 0, 16, 32, ...:
// acc_s = MMA(acc_s, W[f, k0:k0+16], X[r, k0:k0+16]); y = round_rn(((acc_0 + acc_1) + ...)).
// Nothing else touches the arithmetic: tiles, stages and CTA shapes only decide who loads
// what, so all configs give equal bits. On an H200, S = 1 gives cuBLASLt's split-K-1 bits and
// S = 4 its split-K-4 bits for 1.5B down (bench/RESULTS.md). The time is one slice's chain:
// ~2.7 us + ~39 ns per k16 step of the slice, so the kernel pays where K / S is short.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "numerics/cuda/shared_memory_limit.cuh"
#include "numerics/cuda/small_m_gemm.h"

namespace lockstep::cuda::internal {
namespace {

constexpr int kChunkK = 64;          // K columns per shared-memory stage
constexpr int kRowBytes = kChunkK * 2;  // 128 bytes: 8 chunks of 16 bytes
constexpr int kStepsPerChunk = kChunkK / 16;

// Shared-memory address of 16-byte chunk `chunk` (0..7) of smem row `row`. XOR-swizzled so
// that the 8 row addresses of one ldmatrix (8 consecutive rows, same chunk) hit 8 distinct
// bank groups.
__device__ __forceinline__ uint32_t SwizzledOffset(int row, int chunk) {
  return static_cast<uint32_t>(row * kRowBytes + ((chunk ^ (row & 7)) << 4));
}

__device__ __forceinline__ void CopyAsync16(uint32_t smem, const void* global, bool valid) {
  // src-size 0 zero-fills the 16 bytes (rows past M): zero products, never read back.
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem), "l"(global),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void CommitGroup() { asm volatile("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void WaitGroup() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

__device__ __forceinline__ void LoadMatrixX4(uint32_t (&r)[4], uint32_t smem) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem));
}
__device__ __forceinline__ void LoadMatrixX2(uint32_t (&r)[2], uint32_t smem) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(smem));
}

// acc += A(16x16) · B(16x8), fp32 accumulate: one k16 step of the chain.
template <typename T>
__device__ __forceinline__ void Mma16816(float (&acc)[4], const uint32_t (&a)[4],
                                         const uint32_t (&b)[2]);
template <>
__device__ __forceinline__ void Mma16816<__nv_bfloat16>(float (&acc)[4], const uint32_t (&a)[4],
                                                        const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
template <>
__device__ __forceinline__ void Mma16816<__half>(float (&acc)[4], const uint32_t (&a)[4],
                                                 const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void StoreRounded(__nv_bfloat16* p, float v) {
  *p = __float2bfloat16_rn(v);
}
__device__ __forceinline__ void StoreRounded(__half* p, float v) { *p = __float2half_rn(v); }

// Grid: x = row blocks (8 * kRowTiles rows each), y = feature blocks (16 * kWarps
// features), so the CTAs that share one slice of W are launched next to each other.
// K slices (k_sliced_order.h): the CTA has kSlices groups of kWarps warps; group s runs the
// chain of slice s for the CTA's outputs, with its own copies into its own part of each
// stage, and at the end groups 1.. hand their sums to group 0 through shared memory, which
// adds them in slice order.
// Shared memory per stage and slice: the CTA's W rows, then its X rows, 128 bytes each
// (swizzled).
// Pipeline: stage kb+kStages is requested as soon as stage kb's last fragments are in
// registers; fragments for k16 step s+1 are loaded while step s's MMAs run, so the
// accumulator chain (one dependent MMA per k16 step) is what bounds the time.
template <typename T, int kWarps, int kRowTiles, int kStages, SmallMOrder kOrder, int kSlices>
__global__ void __launch_bounds__(kWarps * 32 * kSlices)
    SmallMGemmKernel(const T* __restrict__ x, int64_t x_stride, const T* __restrict__ w,
                     int64_t w_stride, T* __restrict__ y, int64_t y_stride, int rows, int k) {
  static_assert(kSlices == 1 || kOrder == SmallMOrder::kChain);
  constexpr int kThreads = kWarps * 32;  // per slice group
  constexpr int kWRows = kWarps * 16;
  constexpr int kXRows = kRowTiles * 8;
  constexpr int kSliceBytes = (kWRows + kXRows) * kRowBytes;
  constexpr int kStageBytes = kSlices * kSliceBytes;
  extern __shared__ __align__(128) unsigned char smem[];
  const int slice = threadIdx.x / kThreads;
  const int thread = threadIdx.x % kThreads;  // index inside the slice group
  const uint32_t smem_base =
      static_cast<uint32_t>(__cvta_generic_to_shared(smem)) + slice * kSliceBytes;

  const int lane = thread & 31;
  const int warp = thread >> 5;
  const int row0 = blockIdx.x * kXRows;
  const int64_t feature0 = int64_t{blockIdx.y} * kWRows;
  const int chunks_k = k / kChunkK / kSlices;  // per slice
  const int slice_col0 = slice * chunks_k * kChunkK;

  // Copy assignment, fixed per thread: 16-byte chunk `copy_chunk` of smem rows copy_row,
  // copy_row + kRowsPerPass, ... (W rows first, then X rows). Pointers are formed once;
  // a stage only adds its column, so the issuing warp spends few instructions per stage
  // and the MMA chain, not address arithmetic, sets the pace.
  constexpr int kRowsPerPass = kThreads / 8;
  constexpr int kWPasses = kWRows / kRowsPerPass;
  constexpr int kXPasses = (kXRows + kRowsPerPass - 1) / kRowsPerPass;
  static_assert(kWRows % kRowsPerPass == 0);
  const int copy_chunk = thread & 7;
  const int copy_row = thread >> 3;
  const T* w_src = w + (feature0 + copy_row) * w_stride + slice_col0 + copy_chunk * 8;
  const int64_t w_pass_stride = int64_t{kRowsPerPass} * w_stride;
  const int x_rows_left = rows - row0 - copy_row;  // pass j is a real row iff j * P < this
  const T* x_src =
      x + (x_rows_left > 0 ? (row0 + copy_row) * x_stride : 0) + slice_col0 + copy_chunk * 8;
  const int64_t x_pass_stride = int64_t{kRowsPerPass} * x_stride;
  auto issue_stage = [&](int kb) {
    if (kb < chunks_k) {
      const uint32_t stage = smem_base + (kb % kStages) * kStageBytes;
      const int col = kb * kChunkK;
#pragma unroll
      for (int j = 0; j < kWPasses; ++j) {
        CopyAsync16(stage + SwizzledOffset(copy_row + j * kRowsPerPass, copy_chunk),
                    w_src + j * w_pass_stride + col, true);
      }
#pragma unroll
      for (int j = 0; j < kXPasses; ++j) {
        const int xr = copy_row + j * kRowsPerPass;
        if (kXRows % kRowsPerPass != 0 && xr >= kXRows) continue;
        const bool valid = j * kRowsPerPass < x_rows_left;
        CopyAsync16(stage + SwizzledOffset(kWRows + xr, copy_chunk),
                    valid ? x_src + j * x_pass_stride + col : x, valid);
      }
    }
    CommitGroup();  // empty groups past the end keep the wait counts uniform
  };

  // ldmatrix lane addressing. A (x4): lanes 0-15 rows 0-15 of k 0-7, lanes 16-31 rows 0-15
  // of k 8-15 -> registers a0..a3 in mma's fragment order. B (x2): lanes 0-7 rows 0-7 of
  // k 0-7, lanes 8-15 of k 8-15.
  const int a_row = warp * 16 + (lane & 15);
  const int a_half = lane >> 4;
  const int b_row = kWRows + (lane & 7);
  const int b_half = (lane >> 3) & 1;

  uint32_t frag_a[2][4];
  uint32_t frag_b[2][kRowTiles][2];
  auto load_fragments = [&](int kb, int step, int buffer) {
    const uint32_t stage = smem_base + (kb % kStages) * kStageBytes;
    LoadMatrixX4(frag_a[buffer], stage + SwizzledOffset(a_row, step * 2 + a_half));
#pragma unroll
    for (int t = 0; t < kRowTiles; ++t) {
      LoadMatrixX2(frag_b[buffer][t], stage + SwizzledOffset(b_row + t * 8, step * 2 + b_half));
    }
  };

  constexpr int kAccumulators = kOrder == SmallMOrder::kChain ? 1 : 2;
  float acc[kAccumulators][kRowTiles][4];
#pragma unroll
  for (int a = 0; a < kAccumulators; ++a)
#pragma unroll
    for (int t = 0; t < kRowTiles; ++t)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[a][t][e] = 0.0f;

#pragma unroll
  for (int s = 0; s < kStages; ++s) issue_stage(s);
  WaitGroup<kStages - 1>();
  __syncthreads();
  load_fragments(0, 0, 0);

  // One k16 step, its number a template constant so that every register-array index is
  // known at compile time (a run-time index would send the fragments to local memory).
  int kb = 0;
  auto run_step = [&](auto step_constant) {
    constexpr int step = decltype(step_constant)::value;
    if constexpr (step == kStepsPerChunk - 1) {
      // Every warp holds stage kb's last fragments: its buffer may be refilled, and stage
      // kb+1 must have landed before its first fragments are read.
      WaitGroup<kStages - 2>();
      __syncthreads();
      issue_stage(kb + kStages);
      if (kb + 1 < chunks_k) load_fragments(kb + 1, 0, (step + 1) & 1);
    } else {
      load_fragments(kb, step + 1, (step + 1) & 1);
    }
    // k16 step kb * 4 + step, in increasing order. kChain: one accumulator, so this is the
    // single chain; the control sends even and odd steps to two accumulators.
    constexpr int target = (kAccumulators - 1) & step;
#pragma unroll
    for (int t = 0; t < kRowTiles; ++t) {
      Mma16816<T>(acc[target][t], frag_a[step & 1], frag_b[step & 1][t]);
    }
  };
  static_assert(kStepsPerChunk == 4);
  for (; kb < chunks_k; ++kb) {
    run_step(std::integral_constant<int, 0>{});
    run_step(std::integral_constant<int, 1>{});
    run_step(std::integral_constant<int, 2>{});
    run_step(std::integral_constant<int, 3>{});
  }
  WaitGroup<0>();

  if constexpr (kSlices > 1) {
    // Groups 1.. park their slice sums in shared memory (stage buffers are free now: every
    // copy has landed and every fragment was read before the barrier); group 0 adds them.
    constexpr int kPerWarp = kRowTiles * 4 * 32;
    float* parked = reinterpret_cast<float*>(smem);
    __syncthreads();
    if (slice > 0) {
#pragma unroll
      for (int t = 0; t < kRowTiles; ++t)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          parked[((slice - 1) * kWarps + warp) * kPerWarp + (t * 4 + e) * 32 + lane] = acc[0][t][e];
        }
    }
    __syncthreads();
    if (slice > 0) return;
#pragma unroll
    for (int s = 1; s < kSlices; ++s)
#pragma unroll
      for (int t = 0; t < kRowTiles; ++t)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          acc[0][t][e] = __fadd_rn(
              acc[0][t][e], parked[((s - 1) * kWarps + warp) * kPerWarp + (t * 4 + e) * 32 + lane]);
        }
  }

  // D fragment: acc[t][0..1] = feature g, rows 2q, 2q+1 of tile t; acc[t][2..3] = feature
  // g+8, the same rows (g = lane / 4, q = lane % 4).
  const int g = lane >> 2, q = lane & 3;
  const int64_t f = feature0 + warp * 16 + g;
#pragma unroll
  for (int t = 0; t < kRowTiles; ++t) {
    float out[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      out[e] = kAccumulators == 1 ? acc[0][t][e]
                                  : __fadd_rn(acc[0][t][e], acc[kAccumulators - 1][t][e]);
    }
    const int r = row0 + t * 8 + 2 * q;
    if (r < rows) {
      StoreRounded(y + r * y_stride + f, out[0]);
      StoreRounded(y + r * y_stride + f + 8, out[2]);
    }
    if (r + 1 < rows) {
      StoreRounded(y + (r + 1) * y_stride + f, out[1]);
      StoreRounded(y + (r + 1) * y_stride + f + 8, out[3]);
    }
  }
}

// The stage count a tiling runs with: its own, capped so that the buffers of all K slices fit
// in an H100/H200 CTA's 227 KB of shared memory.
constexpr int kMaxSharedBytes = 227 * 1024;
constexpr int StagesThatFit(int stages, int slice_stage_bytes, int slices) {
  const int fit = kMaxSharedBytes / (slice_stage_bytes * slices);
  return stages < fit ? stages : fit;
}

template <typename T, int kWarps, int kRowTiles, int kConfigStages, SmallMOrder kOrder,
          int kSlices>
cudaError_t LaunchConfig(DeviceRows x, DeviceRows w, MutableDeviceRows y, cudaStream_t stream) {
  constexpr int kSliceStageBytes = (kWarps * 16 + kRowTiles * 8) * kRowBytes;
  constexpr int kStages = StagesThatFit(kConfigStages, kSliceStageBytes, kSlices);
  static_assert(kStages >= 2);
  constexpr int kStagesBytes = kStages * kSlices * kSliceStageBytes;
  constexpr int kParkedBytes = (kSlices - 1) * kWarps * kRowTiles * 4 * 32 * 4;
  constexpr int kSmemBytes = kStagesBytes > kParkedBytes ? kStagesBytes : kParkedBytes;
  auto* kernel = SmallMGemmKernel<T, kWarps, kRowTiles, kStages, kOrder, kSlices>;
  // LinearPlan's self-check launches each configuration it uses when the plan is made, so
  // the first launch on a device is never inside a graph capture.
  static std::atomic<uint64_t> raised_on_devices{0};
  if (const cudaError_t e = RaiseSharedMemoryLimitOnce(reinterpret_cast<const void*>(kernel),
                                                       kSmemBytes, raised_on_devices);
      e != cudaSuccess) {
    return e;
  }
  const dim3 grid(static_cast<unsigned>((x.rows + kRowTiles * 8 - 1) / (kRowTiles * 8)),
                  static_cast<unsigned>(w.rows / (kWarps * 16)));
  kernel<<<grid, kWarps * 32 * kSlices, kSmemBytes, stream>>>(
      static_cast<const T*>(x.data), x.row_stride, static_cast<const T*>(w.data), w.row_stride,
      static_cast<T*>(y.data), y.row_stride, static_cast<int>(x.rows), static_cast<int>(x.cols));
  return cudaGetLastError();
}

// The compiled configurations {warps, row_tiles, stages}.
// Index 0 also runs the control. Deeper pipelines for narrow CTAs: at M <= 16 each SM
// holds about one warp, which must keep ~30 KB of W in flight to stream its share.
constexpr SmallMConfig kConfigs[] = {
    {1, 1, 16}, {1, 1, 12}, {2, 1, 12}, {4, 1, 8},  {1, 2, 12}, {2, 2, 8},  {4, 2, 6},
    {1, 4, 8},  {2, 4, 8},  {4, 4, 6},  {1, 8, 6},  {2, 8, 6},  {4, 8, 4},  {1, 16, 4},
    {2, 16, 4}, {4, 16, 3},
};
constexpr int kConfigCount = sizeof(kConfigs) / sizeof(kConfigs[0]);

// Tilings compiled with K slices: at most 8 warps per CTA and 8 row tiles (more would spill
// registers at the 255 / (threads / 32) limit).
constexpr bool SlicedTilingCompiles(SmallMConfig c, int slices) {
  return slices == 1 || (c.warps * slices <= 8 && c.row_tiles <= 8);
}

template <typename T, int kSlices, int kIndex>
cudaError_t LaunchIndexed(int index, DeviceRows x, DeviceRows w, MutableDeviceRows y,
                          cudaStream_t stream) {
  if constexpr (kIndex == kConfigCount) {
    return cudaErrorInvalidValue;
  } else {
    if (index == kIndex) {
      constexpr SmallMConfig c = kConfigs[kIndex];
      if constexpr (SlicedTilingCompiles(c, kSlices)) {
        return LaunchConfig<T, c.warps, c.row_tiles, c.stages, SmallMOrder::kChain, kSlices>(
            x, w, y, stream);
      } else {
        return cudaErrorInvalidValue;
      }
    }
    return LaunchIndexed<T, kSlices, kIndex + 1>(index, x, w, y, stream);
  }
}

template <typename T>
cudaError_t LaunchTyped(int index, SmallMOrder order, int k_slices, DeviceRows x, DeviceRows w,
                        MutableDeviceRows y, cudaStream_t stream) {
  if (order == SmallMOrder::kChain) {
    switch (k_slices) {
      case 1: return LaunchIndexed<T, 1, 0>(index, x, w, y, stream);
      case 2: return LaunchIndexed<T, 2, 0>(index, x, w, y, stream);
      case 4: return LaunchIndexed<T, 4, 0>(index, x, w, y, stream);
      default: return cudaErrorInvalidValue;
    }
  }
  // The control runs in one tiling only: it exists to be compared, not timed.
  if (index != 0 || k_slices != 1) return cudaErrorInvalidValue;
  return LaunchConfig<T, kConfigs[0].warps, kConfigs[0].row_tiles, kConfigs[0].stages,
                      SmallMOrder::kEvenOddControl, 1>(x, w, y, stream);
}

}  // namespace

int SmallMConfigCount() { return kConfigCount; }
SmallMConfig SmallMConfigAt(int index) { return kConfigs[index]; }

cudaError_t LaunchSmallMGemm(DeviceRows x, DeviceRows w, MutableDeviceRows y, SmallMConfig config,
                             SmallMOrder order, int k_slices, cudaStream_t stream) {
  if (!SmallMGemmSupports(x.type, w.rows, w.cols) || !KSlicesFit(w.cols, k_slices) || w.type != x.type || y.type != x.type ||
      x.cols != w.cols || y.rows != x.rows || y.cols != w.rows ||
      w.rows % (config.warps * 16) != 0 || x.row_stride % 8 != 0 || w.row_stride % 8 != 0 ||
      reinterpret_cast<uintptr_t>(x.data) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(w.data) % 16 != 0) {
    return cudaErrorInvalidValue;
  }
  if (x.rows == 0) return cudaSuccess;
  int index = -1;
  for (int i = 0; i < kConfigCount; ++i) {
    if (kConfigs[i].warps == config.warps && kConfigs[i].row_tiles == config.row_tiles &&
        kConfigs[i].stages == config.stages) {
      index = i;
    }
  }
  if (index < 0) return cudaErrorInvalidValue;
  if (x.type == StorageType::kBF16) {
    return LaunchTyped<__nv_bfloat16>(index, order, k_slices, x, w, y, stream);
  }
  return LaunchTyped<__half>(index, order, k_slices, x, w, y, stream);
}

}  // namespace lockstep::cuda::internal
