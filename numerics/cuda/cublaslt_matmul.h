// Internal to numerics/cuda: one cuBLASLt problem Y(M,N) = X(M,K) · W(N,K)^T (+ bias) put to
// cuBLASLt, which is column-major: D(N,M) = op_T(A(K,N)) · B(K,M), A = W, B = X, D = Y.
// Heuristic candidates, algo configs read back or forced, and the enqueue. No policy here:
// linear.cc decides which config runs. Descriptors live on the stack (cublasLt*Init), so an
// enqueue allocates nothing and can be captured in a CUDA graph.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "numerics/dtype.h"

namespace lockstep::cuda::internal {

// OK for CUBLAS_STATUS_SUCCESS; otherwise an error naming `what`.
absl::Status CublasStatus(cublasStatus_t status, std::string_view what);

// Everything cuBLASLt needs to know about one call but the pointers.
struct MatmulProblem {
  DType dtype = DType::kBF16;  // X, W, bias and Y; fp16 or bf16 (fp32 accumulation)
  int64_t rows = 0;            // M
  int64_t out_features = 0;    // N
  int64_t in_features = 0;     // K
  bool has_bias = false;
  int64_t x_stride = 0;  // elements between rows of X, W and Y
  int64_t w_stride = 0;
  int64_t y_stride = 0;
  // Guaranteed alignment (bytes) of the X, W, Y pointers and row strides; cuBLASLt
  // only proposes algorithms that work with it.
  uint32_t alignment_bytes = 256;
};

// An algorithm's configuration as cuBLASLt reports it (for plan descriptions and choices).
struct AlgoConfig {
  int32_t id = -1;
  uint32_t tile = 0;    // cublasLtMatmulTile_t
  uint32_t stages = 0;  // cublasLtMatmulStages_t
  int32_t split_k = 1;
  uint32_t reduction = 0;  // cublasLtReductionScheme_t
  uint32_t swizzle = 0;
  uint32_t custom = 0;
  uint16_t inner_shape = 0;
  uint16_t cluster_shape = 0;
  bool operator==(const AlgoConfig&) const = default;
};

// A runnable algorithm with its configuration and the workspace it needs.
struct AlgoChoice {
  cublasLtMatmulAlgo_t algo{};
  AlgoConfig config;
  size_t workspace_bytes = 0;
};

AlgoConfig ReadAlgoConfig(const cublasLtMatmulAlgo_t& algo);
// "algo 66 tile 20 stages 35 splitK 3 (fp32 partials) swizzle 0 custom 0 inner 0 cluster 2".
std::string DescribeAlgoConfig(const AlgoConfig& config);

// Up to `count` heuristic results for `problem`, best first, each needing at most
// `max_workspace_bytes`; `reduction_mask` filters split-K reduction schemes
// (CUBLASLT_REDUCTION_SCHEME_MASK allows all).
absl::StatusOr<std::vector<AlgoChoice>> HeuristicCandidates(cublasLtHandle_t handle,
                                                            const MatmulProblem& problem,
                                                            size_t max_workspace_bytes,
                                                            uint32_t reduction_mask, int count);

// `algo` with its split-K count and reduction scheme replaced, checked for `problem`
// (cublasLtMatmulAlgoCheck). NotFound when cuBLASLt rejects that combination.
absl::StatusOr<AlgoChoice> ForceSplitK(cublasLtHandle_t handle, const MatmulProblem& problem,
                                       cublasLtMatmulAlgo_t algo, int32_t split_k,
                                       uint32_t reduction);

// The algorithm that `config` describes (cublasLtMatmulAlgoInit with config.id, then every
// configuration attribute set), checked for `problem`. NotFound when cuBLASLt rejects it:
// a configuration written down on one GPU/cuBLASLt may not exist on another.
absl::StatusOr<AlgoChoice> AlgoFromConfig(cublasLtHandle_t handle, const MatmulProblem& problem,
                                          const AlgoConfig& config);

// `algo` unchanged, checked for `problem` (another M than it was chosen for).
absl::StatusOr<AlgoChoice> CheckAlgo(cublasLtHandle_t handle, const MatmulProblem& problem,
                                     const cublasLtMatmulAlgo_t& algo);

// Enqueues Y = X · W^T (+ bias) on `stream` with `algo`. Pointers are device memory.
absl::Status EnqueueMatmul(cublasLtHandle_t handle, const MatmulProblem& problem,
                           const cublasLtMatmulAlgo_t& algo, const void* x, const void* w,
                           const void* bias, void* y, void* workspace, size_t workspace_bytes,
                           cudaStream_t stream);

}  // namespace lockstep::cuda::internal
