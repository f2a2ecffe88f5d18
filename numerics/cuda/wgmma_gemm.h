// Large-M GEMM Y(M,N) = X(M,K) · W(N,K)^T for Hopper (sm_90a): TMA loads into 128-byte
// swizzled shared memory, wgmma from shared memory, one producer warpgroup and one or two
// consumer warpgroups. Plain C++ (no Abseil, so nvcc parses it).
// Guarantee: every element is computed in the K-sliced chain order of k_sliced_order.h with
// the caller's k_slices, whatever the tile, stage count or M: each consumer keeps the running
// slice's chain in one accumulator set and the sum of the finished slices in a second, so the
// bits equal small_m_gemm.h's for the same k_slices (checked by tests/gpu/wgmma_gemm_test.cc).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "numerics/cuda/k_sliced_order.h"
#include "numerics/cuda/kernel_launch.h"

namespace lockstep::cuda::internal {

// One compiled tiling: a CTA computes block_m x block_n outputs (block_m = 64 per consumer
// warpgroup), with `stages` shared-memory buffers of 64 K-columns in flight. slice_groups = 2
// splits each tile's K slices over a cluster of two CTAs (k_slices 2 or 4 only; needs a
// workspace): twice the CTAs at the same tile size, the same bits.
struct WgmmaGemmConfig {
  int block_m = 128;
  int block_n = 128;
  int stages = 6;
  int slice_groups = 1;
};

int WgmmaGemmConfigCount();
WgmmaGemmConfig WgmmaGemmConfigAt(int index);

// Whether the kernel runs this problem: 16-bit dtype, N a multiple of 32, K sliceable into
// k_slices (k_sliced_order.h), and the device is sm_90 (checked at launch).
bool WgmmaGemmSupports(StorageType type, int64_t out_features, int64_t in_features,
                       int k_slices);

// The default tiling for `rows` rows and N output features.
WgmmaGemmConfig WgmmaGemmDefaultConfig(int64_t rows, int64_t out_features);

// Device workspace a call needs (0 unless slice_groups > 1): a float per padded output.
size_t WgmmaGemmWorkspaceBytes(int64_t rows, int64_t out_features, WgmmaGemmConfig config);

// Enqueues Y = X · W^T on `stream`. x: (rows, K), w: (N, K), y: (rows, N), all of x.type;
// row strides multiples of 8 elements, pointers 16-byte aligned. N % block_n == 0. `workspace`
// (16-byte aligned, at least WgmmaGemmWorkspaceBytes) is used by slice_groups > 1 only.
// Returns cudaErrorInvalidValue for an unsupported problem or config (or a device that is
// not sm_90), else the launch error. Builds two TMA descriptors on the host per call (no
// device memory, safe inside a graph capture once the first launch on the device is done).
cudaError_t LaunchWgmmaGemm(DeviceRows x, DeviceRows w, MutableDeviceRows y, int k_slices,
                            WgmmaGemmConfig config, void* workspace, size_t workspace_bytes,
                            cudaStream_t stream);

}  // namespace lockstep::cuda::internal
