// Small-M fixed-order GEMM Y(M,N) = X(M,K) · W(N,K)^T (16-bit storage, fp32 accumulation),
// plain C++ (no Abseil, so nvcc parses it). Every output element follows the K-sliced chain
// order of k_sliced_order.h (mma.sync m16n8k16 steps): with k_slices = 1 ONE fp32 accumulator
// chained over K in increasing 16-wide steps, rounded once (RN); with S slices, S such chains
// (run by S warp groups of one CTA) added in slice order. The order is fixed by K and S
// alone, so a row's bits never depend on M, the tile, or the config.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "numerics/cuda/k_sliced_order.h"
#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda::internal {

// How the k16 MMA steps are summed. kChain is the kernel's contract (the order cuBLASLt's
// split-K-1 kernels are presumed to use); kEvenOddControl keeps two accumulators (even and
// odd k16 steps) added at the end: the same sums, another order, a negative control that a
// bit-for-bit test must tell apart from kChain.
enum class SmallMOrder : uint8_t { kChain = 0, kEvenOddControl = 1 };

// One compiled tiling. A CTA has `warps` warps, each owning 16 output features, and covers
// 8 * row_tiles rows of X; K streams through `stages` shared-memory buffers of 64 columns
// (per K slice; capped so that all slices' buffers fit in shared memory).
// Every configuration computes the same bits (the tiling moves data, never arithmetic).
struct SmallMConfig {
  int warps = 1;
  int row_tiles = 1;
  int stages = 8;
};

// The compiled configurations, for benchmarks that sweep them.
int SmallMConfigCount();
SmallMConfig SmallMConfigAt(int index);

// Whether the kernel can run this problem: K a multiple of 64, N a multiple of 16, 16-bit
// dtype, row strides multiples of 8 elements and pointers 16-byte aligned.
bool SmallMGemmSupports(StorageType type, int64_t out_features, int64_t in_features);

// The default configuration for `rows` rows (measured on an H200, bench/RESULTS.md).
SmallMConfig SmallMDefaultConfig(int64_t rows);

// Enqueues Y = X · W^T on `stream`. x: (rows, K), w: (N, K), y: (rows, N), all of x.type.
// k_slices: 1, 2 or 4 (kChain only; the control takes 1). Returns cudaErrorInvalidValue for
// an unsupported problem, config or slice count, else the launch error.
cudaError_t LaunchSmallMGemm(DeviceRows x, DeviceRows w, MutableDeviceRows y, SmallMConfig config,
                             SmallMOrder order, int k_slices, cudaStream_t stream);

}  // namespace lockstep::cuda::internal
