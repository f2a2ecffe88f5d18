// Row-wise kernels (RMSNorm, residual add, embedding gather, RoPE) that give
// the CPU backend's bits. Each output row is produced by one warp or block
// alone, in an order fixed by the row length, so results never depend on how
// many rows are launched together. Every fp32 product and sum is written with
// an _rn intrinsic so nvcc cannot contract it into an FMA.
// Outputs may alias inputs (in-place calls): the element loops read a batch of each thread's
// elements before writing any (batched_elements.cuh; decode's rows are short and these
// kernels were bound by load latency).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "numerics/cuda/batched_elements.cuh"
#include "numerics/cuda/element_access.cuh"
#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda::internal {
namespace {

constexpr unsigned kFullMask = 0xFFFFFFFFu;
constexpr int kWarpSize = 32;

// ---- RMSNorm
//
// One warp per row. The row is streamed in chunks of kChunk elements: the 32
// lanes load the chunk coalesced and write the fp32 squares to shared memory;
// then lanes 0..15 add them into their running sums in the CPU's order (lane j
// takes chunk elements j, j+16, j+32, ... — chunk starts are multiples of 16,
// so that is exactly "lane j sums k ≡ j (mod 16) in increasing k"). The 16
// lane sums are combined by the same halving tree as CombineLanes, via shuffles.

constexpr int kReductionLanes = 16;   // numerics/cpu/fixed_order.h kReductionLanes
constexpr int kRmsChunk = 256;        // a multiple of 16 and of 32
constexpr int kRmsWarpsPerBlock = 4;  // rows per block
constexpr int kRmsPerLane = kRmsChunk / kWarpSize;
constexpr int kLoadBatch = 8;  // elements per thread read before any is written

template <typename TX, typename TW, typename TO>
__global__ void __launch_bounds__(kRmsWarpsPerBlock* kWarpSize)
    RmsNormKernel(const TX* x, int64_t x_stride, const TW* weight, float eps, TO* out,
                  int64_t out_stride, int64_t rows, int64_t h) {
  __shared__ float squares[kRmsWarpsPerBlock][kRmsChunk];
  const int warp = threadIdx.x / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  const int64_t row = int64_t{blockIdx.x} * kRmsWarpsPerBlock + warp;
  if (row >= rows) return;  // whole warp leaves; no block-wide barrier below
  const TX* xr = x + row * x_stride;
  float* sq = squares[warp];

  // The next chunk's elements are loaded while the lanes add up the current one.
  auto load_chunk = [&](int64_t base, float (&v)[kRmsPerLane]) {
#pragma unroll
    for (int u = 0; u < kRmsPerLane; ++u) {
      const int64_t i = base + u * kWarpSize + lane;
      v[u] = i < h ? ToFloat(xr[i]) : 0.0f;
    }
  };
  float next[kRmsPerLane];
  load_chunk(0, next);
  float acc = 0.0f;  // lanes 0..15: reduction lane `lane` of the fixed order
  for (int64_t base = 0; base < h; base += kRmsChunk) {
    const int n = static_cast<int>(h - base < kRmsChunk ? h - base : kRmsChunk);
    float current[kRmsPerLane];
#pragma unroll
    for (int u = 0; u < kRmsPerLane; ++u) current[u] = next[u];
    if (base + kRmsChunk < h) load_chunk(base + kRmsChunk, next);
#pragma unroll
    for (int u = 0; u < kRmsPerLane; ++u) {
      const int i = u * kWarpSize + lane;
      if (i < n) sq[i] = __fmul_rn(current[u], current[u]);
    }
    __syncwarp();
    if (lane < kReductionLanes) {
#pragma unroll
      for (int k = 0; k < kRmsChunk / kReductionLanes; ++k) {
        const int i = k * kReductionLanes + lane;
        if (i < n) acc = __fadd_rn(acc, sq[i]);
      }
    }
    __syncwarp();
  }
  // CombineLanes: s8[j] = l[j] + l[j+8]; s4[j] = s8[j] + s8[j+4]; s2[j] = s4[j] + s4[j+2];
  // sum = s2[0] + s2[1]. After each step lane j < width holds the level's entry j.
  acc = __fadd_rn(acc, __shfl_down_sync(kFullMask, acc, 8));
  acc = __fadd_rn(acc, __shfl_down_sync(kFullMask, acc, 4));
  acc = __fadd_rn(acc, __shfl_down_sync(kFullMask, acc, 2));
  acc = __fadd_rn(acc, __shfl_down_sync(kFullMask, acc, 1));
  const float sumsq = __shfl_sync(kFullMask, acc, 0);
  const float inv =
      __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(__fdiv_rn(sumsq, static_cast<float>(h)), eps)));

  // Each element is read and then written by the same lane, so out may alias x.
  TO* orow = out + row * out_stride;
  float xv[kLoadBatch], wv[kLoadBatch];
  LoadThenStoreInBatches<kLoadBatch>(
      int64_t{lane}, h, int64_t{kWarpSize},
      [&](int64_t c, int u) {
        xv[u] = ToFloat(xr[c]);
        wv[u] = ToFloat(weight[c]);
      },
      [&](int64_t c, int u) { orow[c] = FromFloat<TO>(__fmul_rn(__fmul_rn(xv[u], inv), wv[u])); });
}

// ---- Residual add: one block per row, out = round(a + b).

constexpr int kRowThreads = 256;

template <typename TA, typename TB, typename TO>
__global__ void __launch_bounds__(kRowThreads)
    AddResidualKernel(const TA* a, int64_t a_stride, const TB* b, int64_t b_stride, TO* out,
                      int64_t out_stride, int64_t cols) {
  const int64_t row = blockIdx.x;
  const TA* ar = a + row * a_stride;
  const TB* br = b + row * b_stride;
  TO* orow = out + row * out_stride;
  float av[kLoadBatch], bv[kLoadBatch];
  LoadThenStoreInBatches<kLoadBatch>(
      int64_t{threadIdx.x}, cols, int64_t{kRowThreads},
      [&](int64_t c, int u) {
        av[u] = ToFloat(ar[c]);
        bv[u] = ToFloat(br[c]);
      },
      [&](int64_t c, int u) { orow[c] = FromFloat<TO>(__fadd_rn(av[u], bv[u])); });
}

// ---- Embedding gather: one block per output row.

template <typename TT, typename TO>
__global__ void __launch_bounds__(kRowThreads)
    EmbeddingKernel(const TT* table, int64_t table_stride, int64_t vocab, const int32_t* ids,
                    TO* out, int64_t out_stride, int64_t cols, int32_t* bad_row) {
  const int64_t row = blockIdx.x;
  const int32_t id = ids[row];
  TO* orow = out + row * out_stride;
  if (id < 0 || id >= vocab) {
    for (int64_t c = threadIdx.x; c < cols; c += kRowThreads) orow[c] = FromFloat<TO>(NAN);
    if (threadIdx.x == 0 && bad_row != nullptr) atomicMin(bad_row, static_cast<int32_t>(row));
    return;
  }
  const TT* trow = table + int64_t{id} * table_stride;
  for (int64_t c = threadIdx.x; c < cols; c += kRowThreads) {
    if constexpr (std::is_same_v<TT, TO>) {
      orow[c] = trow[c];  // exact copy of the bits, as the CPU's memcpy
    } else {
      orow[c] = FromFloat<TO>(ToFloat(trow[c]));
    }
  }
}

// ---- RoPE: one block per row (token); each thread rotates whole (i, i + d/2) pairs.

constexpr int kRopeThreads = 128;

template <typename T>
__global__ void __launch_bounds__(kRopeThreads)
    RopeKernel(T* x, int64_t x_stride, int num_heads, int head_dim, const int32_t* positions,
               const float* cos_table, const float* sin_table, int max_positions,
               int32_t* bad_row) {
  const int64_t row = blockIdx.x;
  const int half = head_dim / 2;
  const int pairs = num_heads * half;
  T* xr = x + row * x_stride;
  const int32_t pos = positions[row];
  if (pos < 0 || pos >= max_positions) {
    for (int c = threadIdx.x; c < num_heads * head_dim; c += kRopeThreads) {
      xr[c] = FromFloat<T>(NAN);
    }
    if (threadIdx.x == 0 && bad_row != nullptr) atomicMin(bad_row, static_cast<int32_t>(row));
    return;
  }
  const float* cs = cos_table + int64_t{pos} * half;
  const float* sn = sin_table + int64_t{pos} * half;
  constexpr int kPairBatch = kLoadBatch / 2;  // two elements per pair
  float a[kPairBatch], b[kPairBatch], c[kPairBatch], s[kPairBatch];
  T* lo_ptr[kPairBatch];
  LoadThenStoreInBatches<kPairBatch>(
      static_cast<int>(threadIdx.x), pairs, kRopeThreads,
      [&](int p, int u) {
        const int head = p / half;
        const int i = p - head * half;
        lo_ptr[u] = xr + int64_t{head} * head_dim + i;
        a[u] = ToFloat(lo_ptr[u][0]);
        b[u] = ToFloat(lo_ptr[u][half]);
        c[u] = cs[i];
        s[u] = sn[i];
      },
      [&](int, int u) {
        lo_ptr[u][0] = FromFloat<T>(__fsub_rn(__fmul_rn(a[u], c[u]), __fmul_rn(b[u], s[u])));
        lo_ptr[u][half] = FromFloat<T>(__fadd_rn(__fmul_rn(b[u], c[u]), __fmul_rn(a[u], s[u])));
      });
}

}  // namespace

cudaError_t LaunchRmsNorm(DeviceRows x, DeviceRows weight, float eps, MutableDeviceRows out,
                          cudaStream_t stream) {
  return DispatchStorageType(x.type, [&](auto x_tag) {
    return DispatchStorageType(weight.type, [&](auto w_tag) {
      return DispatchStorageType(out.type, [&](auto o_tag) {
        using TX = decltype(x_tag);
        using TW = decltype(w_tag);
        using TO = decltype(o_tag);
        RmsNormKernel<TX, TW, TO>
            <<<BlocksFor(x.rows, kRmsWarpsPerBlock), kRmsWarpsPerBlock * kWarpSize, 0, stream>>>(
                static_cast<const TX*>(x.data), x.row_stride, static_cast<const TW*>(weight.data),
                eps, static_cast<TO*>(out.data), out.row_stride, x.rows, x.cols);
        return cudaGetLastError();
      });
    });
  });
}

cudaError_t LaunchAddResidual(DeviceRows a, DeviceRows b, MutableDeviceRows out,
                              cudaStream_t stream) {
  return DispatchStorageType(a.type, [&](auto a_tag) {
    return DispatchStorageType(b.type, [&](auto b_tag) {
      return DispatchStorageType(out.type, [&](auto o_tag) {
        using TA = decltype(a_tag);
        using TB = decltype(b_tag);
        using TO = decltype(o_tag);
        AddResidualKernel<TA, TB, TO><<<BlocksFor(a.rows, 1), kRowThreads, 0, stream>>>(
            static_cast<const TA*>(a.data), a.row_stride, static_cast<const TB*>(b.data),
            b.row_stride, static_cast<TO*>(out.data), out.row_stride, a.cols);
        return cudaGetLastError();
      });
    });
  });
}

cudaError_t LaunchEmbedding(DeviceRows table, const int32_t* ids, MutableDeviceRows out,
                            int32_t* bad_row, cudaStream_t stream) {
  return DispatchStorageType(table.type, [&](auto t_tag) {
    return DispatchStorageType(out.type, [&](auto o_tag) {
      using TT = decltype(t_tag);
      using TO = decltype(o_tag);
      EmbeddingKernel<TT, TO><<<BlocksFor(out.rows, 1), kRowThreads, 0, stream>>>(
          static_cast<const TT*>(table.data), table.row_stride, table.rows, ids,
          static_cast<TO*>(out.data), out.row_stride, out.cols, bad_row);
      return cudaGetLastError();
    });
  });
}

cudaError_t LaunchRope(MutableDeviceRows x, int num_heads, int head_dim, const int32_t* positions,
                       const float* cos, const float* sin, int max_positions, int32_t* bad_row,
                       cudaStream_t stream) {
  return DispatchStorageType(x.type, [&](auto x_tag) {
    using T = decltype(x_tag);
    RopeKernel<T><<<BlocksFor(x.rows, 1), kRopeThreads, 0, stream>>>(
        static_cast<T*>(x.data), x.row_stride, num_heads, head_dim, positions, cos, sin,
        max_positions, bad_row);
    return cudaGetLastError();
  });
}

}  // namespace lockstep::cuda::internal
