// SwiGLU, KV-pool scatter, row gather and the fixed-order linear for the CUDA backend. Every
// output element is computed from its own inputs alone (the linear: from one row of x and
// one row of W, in the CPU's 16-lane order), so all are batch-invariant by construction.
// Products and sums are _rn intrinsics: nvcc cannot contract them into FMAs.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "numerics/cuda/backend_kernels.h"
#include "numerics/cuda/batched_elements.cuh"
#include "numerics/cuda/element_access.cuh"
#include "numerics/cuda/fixed_order_dot.cuh"

namespace lockstep::cuda::internal {
namespace {

constexpr int kRowThreads = 256;
constexpr int64_t kSwiGluTileCols = 4 * kRowThreads;

// glibc's expf evaluates in double and rounds once; so does this, which agrees with it
// except where the double result lies within ~1e-16 (relative) of a rounding midpoint.
__device__ __forceinline__ float ExpRoundedOnce(float x) {
  return __double2float_rn(exp(static_cast<double>(x)));
}

template <typename TG, typename TU, typename TO>
__global__ void __launch_bounds__(kRowThreads)
    SwiGluKernel(const TG* gate, int64_t gate_stride, const TU* up, int64_t up_stride, TO* out,
                 int64_t out_stride, int64_t cols) {
  const int64_t row = blockIdx.x;
  const TG* g_row = gate + row * gate_stride;
  const TU* u_row = up + row * up_stride;
  TO* o_row = out + row * out_stride;
  // Block (row, column tile): tiles spread one row over several SMs (decode has few rows).
  // The thread's elements of the tile are all loaded before the first is stored (out may
  // alias gate or up: batched_elements.cuh).
  constexpr int kPerThread = kSwiGluTileCols / kRowThreads;
  const int64_t tile_end = min(cols, (int64_t{blockIdx.y} + 1) * kSwiGluTileCols);
  float g[kPerThread], u[kPerThread];
  LoadThenStoreInBatches<kPerThread>(
      int64_t{blockIdx.y} * kSwiGluTileCols + threadIdx.x, tile_end, int64_t{kRowThreads},
      [&](int64_t c, int t) {
        g[t] = ToFloat(g_row[c]);
        u[t] = ToFloat(u_row[c]);
      },
      [&](int64_t c, int t) {
        const float silu = __fdiv_rn(g[t], __fadd_rn(1.0f, ExpRoundedOnce(-g[t])));
        const float silu_rounded = ToFloat(FromFloat<TO>(silu));  // HF's act_fn(gate) dtype
        o_row[c] = FromFloat<TO>(__fmul_rn(silu_rounded, u[t]));
      });
}

template <typename T>
__global__ void __launch_bounds__(kRowThreads)
    WriteKvKernel(const T* k, int64_t k_stride, const T* v, int64_t v_stride, int64_t cols,
                  const int32_t* slots, T* k_pool, T* v_pool, int64_t row_stride,
                  int64_t pool_rows, int32_t* bad_row) {
  const int64_t row = blockIdx.x;
  const int32_t slot = slots[row];
  if (slot < 0 || slot >= pool_rows) {
    if (threadIdx.x == 0 && bad_row != nullptr) atomicMin(bad_row, static_cast<int32_t>(row));
    return;
  }
  T* k_dst = k_pool + int64_t{slot} * row_stride;
  T* v_dst = v_pool + int64_t{slot} * row_stride;
  for (int64_t c = threadIdx.x; c < cols; c += kRowThreads) {
    k_dst[c] = k[row * k_stride + c];
    v_dst[c] = v[row * v_stride + c];
  }
}

template <typename T>
__global__ void __launch_bounds__(kRowThreads)
    GatherRowsKernel(const T* src, int64_t src_stride, int64_t src_rows, const int32_t* rows,
                     T* dst, int64_t dst_stride, int64_t cols, int32_t* bad_row) {
  const int64_t row = blockIdx.x;
  const int32_t from = rows[row];
  T* d = dst + row * dst_stride;
  if (from < 0 || from >= src_rows) {
    for (int64_t c = threadIdx.x; c < cols; c += kRowThreads) d[c] = FromFloat<T>(NAN);
    if (threadIdx.x == 0 && bad_row != nullptr) atomicMin(bad_row, static_cast<int32_t>(row));
    return;
  }
  const T* s = src + int64_t{from} * src_stride;
  for (int64_t c = threadIdx.x; c < cols; c += kRowThreads) d[c] = s[c];
}

// Σ a[k]·b[k] in numerics/cpu/fixed_order.h's DotLanes order.
template <typename T>
__device__ float DotLanes(const T* a, const T* b, int64_t n) {
  float lanes[kDotLanes];
#pragma unroll
  for (int j = 0; j < kDotLanes; ++j) lanes[j] = 0.0f;
  int64_t k = 0;
  for (; k + kDotLanes <= n; k += kDotLanes) {
#pragma unroll
    for (int j = 0; j < kDotLanes; ++j) {
      lanes[j] = __fadd_rn(lanes[j], __fmul_rn(ToFloat(a[k + j]), ToFloat(b[k + j])));
    }
  }
  for (int j = 0; k + j < n; ++j) {
    lanes[j] = __fadd_rn(lanes[j], __fmul_rn(ToFloat(a[k + j]), ToFloat(b[k + j])));
  }
  return CombineDotLanes(lanes);
}

template <typename T>
__global__ void __launch_bounds__(kRowThreads)
    FixedOrderLinearKernel(const T* x, int64_t x_stride, const T* w, int64_t w_stride,
                           const T* bias, T* out, int64_t out_stride, int64_t n, int64_t k) {
  const int64_t row = blockIdx.x;
  const int64_t col = int64_t{blockIdx.y} * kRowThreads + threadIdx.x;
  if (col >= n) return;
  float y = DotLanes(x + row * x_stride, w + col * w_stride, k);
  if (bias != nullptr) y = __fadd_rn(y, ToFloat(bias[col]));
  out[row * out_stride + col] = FromFloat<T>(y);
}

}  // namespace

cudaError_t LaunchSwiGlu(DeviceRows gate, DeviceRows up, MutableDeviceRows out,
                         cudaStream_t stream) {
  return DispatchStorageType(gate.type, [&](auto g_tag) {
    return DispatchStorageType(up.type, [&](auto u_tag) {
      return DispatchStorageType(out.type, [&](auto o_tag) {
        using TG = decltype(g_tag);
        using TU = decltype(u_tag);
        using TO = decltype(o_tag);
        const dim3 grid(BlocksFor(gate.rows, 1),
                        static_cast<unsigned>((gate.cols + kSwiGluTileCols - 1) / kSwiGluTileCols));
        SwiGluKernel<TG, TU, TO><<<grid, kRowThreads, 0, stream>>>(
            static_cast<const TG*>(gate.data), gate.row_stride, static_cast<const TU*>(up.data),
            up.row_stride, static_cast<TO*>(out.data), out.row_stride, gate.cols);
        return cudaGetLastError();
      });
    });
  });
}

cudaError_t LaunchWriteKv(DeviceRows k, DeviceRows v, const int32_t* slots, void* k_pool,
                          void* v_pool, int64_t row_stride, int64_t pool_rows, int32_t* bad_row,
                          cudaStream_t stream) {
  return DispatchStorageType(k.type, [&](auto tag) {
    using T = decltype(tag);
    WriteKvKernel<T><<<BlocksFor(k.rows, 1), kRowThreads, 0, stream>>>(
        static_cast<const T*>(k.data), k.row_stride, static_cast<const T*>(v.data), v.row_stride,
        k.cols, slots, static_cast<T*>(k_pool), static_cast<T*>(v_pool), row_stride, pool_rows,
        bad_row);
    return cudaGetLastError();
  });
}

cudaError_t LaunchGatherRows(DeviceRows src, const int32_t* rows, MutableDeviceRows dst,
                             int32_t* bad_row, cudaStream_t stream) {
  return DispatchStorageType(src.type, [&](auto tag) {
    using T = decltype(tag);
    GatherRowsKernel<T><<<BlocksFor(dst.rows, 1), kRowThreads, 0, stream>>>(
        static_cast<const T*>(src.data), src.row_stride, src.rows, rows, static_cast<T*>(dst.data),
        dst.row_stride, dst.cols, bad_row);
    return cudaGetLastError();
  });
}

cudaError_t LaunchFixedOrderLinear(DeviceRows x, DeviceRows weight, const void* bias,
                                   MutableDeviceRows out, cudaStream_t stream) {
  return DispatchStorageType(x.type, [&](auto tag) {
    using T = decltype(tag);
    const dim3 grid(static_cast<unsigned>(x.rows), BlocksFor(weight.rows, kRowThreads));
    FixedOrderLinearKernel<T><<<grid, kRowThreads, 0, stream>>>(
        static_cast<const T*>(x.data), x.row_stride, static_cast<const T*>(weight.data),
        weight.row_stride, static_cast<const T*>(bias), static_cast<T*>(out.data),
        out.row_stride, weight.rows, weight.cols);
    return cudaGetLastError();
  });
}

}  // namespace lockstep::cuda::internal
