// cuBLASLt descriptors, heuristic queries, algo configuration and the matmul enqueue for
// Y = X · W^T (+ bias). Column-major view: D(N,M) = op_T(A(K,N)) · B(K,M) ("TN" GEMM).
#include "numerics/cuda/cublaslt_matmul.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"

namespace lockstep::cuda::internal {
namespace {

#define LOCKSTEP_RETURN_IF_CUBLAS_ERROR(expr) LOCKSTEP_RETURN_IF_ERROR(CublasStatus((expr), #expr))

cudaDataType_t CudaDataType(DType dtype) { return dtype == DType::kF16 ? CUDA_R_16F : CUDA_R_16BF; }

// The descriptors of one call, on the stack: cublasLt*Init allocates nothing.
struct Descriptors {
  cublasLtMatmulDescOpaque_t op;
  cublasLtMatrixLayoutOpaque_t a;  // W as (K, N), ld = w_stride
  cublasLtMatrixLayoutOpaque_t b;  // X as (K, M), ld = x_stride
  cublasLtMatrixLayoutOpaque_t d;  // Y as (N, M), ld = y_stride (also C; beta = 0)
};

absl::Status InitDescriptors(const MatmulProblem& p, const void* bias, Descriptors* d) {
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulDescInit(&d->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t transpose = CUBLAS_OP_T;
  const cublasOperation_t keep = CUBLAS_OP_N;
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulDescSetAttribute(
      &d->op, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof(transpose)));
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(
      cublasLtMatmulDescSetAttribute(&d->op, CUBLASLT_MATMUL_DESC_TRANSB, &keep, sizeof(keep)));
  if (p.has_bias) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    const cudaDataType_t bias_type = CudaDataType(p.dtype);
    LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulDescSetAttribute(
        &d->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
    LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulDescSetAttribute(
        &d->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof(bias_type)));
    LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulDescSetAttribute(
        &d->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
  }
  const cudaDataType_t type = CudaDataType(p.dtype);
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(
      cublasLtMatrixLayoutInit(&d->a, type, p.in_features, p.out_features, p.w_stride));
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(
      cublasLtMatrixLayoutInit(&d->b, type, p.in_features, p.rows, p.x_stride));
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(
      cublasLtMatrixLayoutInit(&d->d, type, p.out_features, p.rows, p.y_stride));
  return absl::OkStatus();
}

template <typename T>
T GetConfig(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attr) {
  T value{};
  size_t written = 0;
  cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, &value, sizeof(value), &written);
  return value;
}

const char* ReductionName(uint32_t scheme) {
  switch (scheme) {
    case CUBLASLT_REDUCTION_SCHEME_NONE:
      return "none";
    case CUBLASLT_REDUCTION_SCHEME_INPLACE:
      return "in-place";
    case CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE:
      return "fp32 partials";
    case CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE:
      return "output-type partials";
    default:
      return "unknown";
  }
}

}  // namespace

absl::Status CublasStatus(cublasStatus_t status, std::string_view what) {
  if (status == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  std::string message = absl::StrCat(std::string(what), " failed: ", cublasLtGetStatusName(status),
                                     " (", cublasLtGetStatusString(status), ")");
  switch (status) {
    case CUBLAS_STATUS_NOT_INITIALIZED:
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return absl::FailedPreconditionError(message);
    case CUBLAS_STATUS_ALLOC_FAILED:
      return absl::ResourceExhaustedError(message);
    case CUBLAS_STATUS_INVALID_VALUE:
      return absl::InvalidArgumentError(message);
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return absl::NotFoundError(message);
    default:
      return absl::InternalError(message);
  }
}

AlgoConfig ReadAlgoConfig(const cublasLtMatmulAlgo_t& algo) {
  AlgoConfig c;
  c.id = GetConfig<int32_t>(algo, CUBLASLT_ALGO_CONFIG_ID);
  c.tile = GetConfig<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_TILE_ID);
  c.stages = GetConfig<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_STAGES_ID);
  c.split_k = GetConfig<int32_t>(algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM);
  if (c.split_k < 1) c.split_k = 1;
  c.reduction = GetConfig<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME);
  c.swizzle = GetConfig<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING);
  c.custom = GetConfig<uint32_t>(algo, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION);
  c.inner_shape = GetConfig<uint16_t>(algo, CUBLASLT_ALGO_CONFIG_INNER_SHAPE_ID);
  c.cluster_shape = GetConfig<uint16_t>(algo, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID);
  return c;
}

std::string DescribeAlgoConfig(const AlgoConfig& c) {
  return absl::StrCat("algo ", c.id, " tile ", c.tile, " stages ", c.stages, " splitK ", c.split_k,
                      " (", ReductionName(c.reduction), ") swizzle ", c.swizzle, " custom ",
                      c.custom, " inner ", c.inner_shape, " cluster ", c.cluster_shape);
}

absl::StatusOr<std::vector<AlgoChoice>> HeuristicCandidates(cublasLtHandle_t handle,
                                                            const MatmulProblem& problem,
                                                            size_t max_workspace_bytes,
                                                            uint32_t reduction_mask, int count) {
  Descriptors d;
  LOCKSTEP_RETURN_IF_ERROR(InitDescriptors(problem, nullptr, &d));
  cublasLtMatmulPreferenceOpaque_t pref;
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulPreferenceInit(&pref));
  const uint64_t workspace = max_workspace_bytes;
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulPreferenceSetAttribute(
      &pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace)));
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulPreferenceSetAttribute(
      &pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &reduction_mask, sizeof(reduction_mask)));
  for (auto attr :
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
    LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulPreferenceSetAttribute(
        &pref, attr, &problem.alignment_bytes, sizeof(problem.alignment_bytes)));
  }
  std::vector<cublasLtMatmulHeuristicResult_t> results(static_cast<size_t>(count));
  int returned = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      handle, &d.op, &d.a, &d.b, &d.d, &d.d, &pref, count, results.data(), &returned);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED)
    returned = 0;  // no algorithm: an empty list
  else
    LOCKSTEP_RETURN_IF_ERROR(CublasStatus(status, "cublasLtMatmulAlgoGetHeuristic"));
  std::vector<AlgoChoice> out;
  for (int i = 0; i < returned; ++i) {
    if (results[i].state != CUBLAS_STATUS_SUCCESS) continue;
    out.push_back({results[i].algo, ReadAlgoConfig(results[i].algo), results[i].workspaceSize});
  }
  return out;
}

absl::StatusOr<AlgoChoice> CheckAlgo(cublasLtHandle_t handle, const MatmulProblem& problem,
                                     const cublasLtMatmulAlgo_t& algo) {
  Descriptors d;
  LOCKSTEP_RETURN_IF_ERROR(InitDescriptors(problem, nullptr, &d));
  cublasLtMatmulHeuristicResult_t result{};
  LOCKSTEP_RETURN_IF_ERROR(
      CublasStatus(cublasLtMatmulAlgoCheck(handle, &d.op, &d.a, &d.b, &d.d, &d.d, &algo, &result),
                   "cublasLtMatmulAlgoCheck"));
  return AlgoChoice{algo, ReadAlgoConfig(algo), result.workspaceSize};
}

absl::StatusOr<AlgoChoice> ForceSplitK(cublasLtHandle_t handle, const MatmulProblem& problem,
                                       cublasLtMatmulAlgo_t algo, int32_t split_k,
                                       uint32_t reduction) {
  int32_t supported = 0;
  size_t written = 0;
  cublasLtMatmulAlgoCapGetAttribute(&algo, CUBLASLT_ALGO_CAP_SPLITK_SUPPORT, &supported,
                                    sizeof(supported), &written);
  if (split_k > 1 && supported == 0) {
    return absl::NotFoundError(absl::StrCat("algo ", ReadAlgoConfig(algo).id, " has no split-K"));
  }
  LOCKSTEP_RETURN_IF_ERROR(
      CublasStatus(cublasLtMatmulAlgoConfigSetAttribute(&algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM,
                                                        &split_k, sizeof(split_k)),
                   "cublasLtMatmulAlgoConfigSetAttribute(SPLITK_NUM)"));
  LOCKSTEP_RETURN_IF_ERROR(
      CublasStatus(cublasLtMatmulAlgoConfigSetAttribute(
                       &algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, &reduction, sizeof(reduction)),
                   "cublasLtMatmulAlgoConfigSetAttribute(REDUCTION_SCHEME)"));
  return CheckAlgo(handle, problem, algo);
}

absl::StatusOr<AlgoChoice> AlgoFromConfig(cublasLtHandle_t handle, const MatmulProblem& problem,
                                          const AlgoConfig& config) {
  const cudaDataType_t type = CudaDataType(problem.dtype);
  cublasLtMatmulAlgo_t algo{};
  LOCKSTEP_RETURN_IF_CUBLAS_ERROR(cublasLtMatmulAlgoInit(handle, CUBLAS_COMPUTE_32F, CUDA_R_32F,
                                                         type, type, type, type, config.id, &algo));
  auto set = [&algo](cublasLtMatmulAlgoConfigAttributes_t attr, const auto& value) {
    return CublasStatus(cublasLtMatmulAlgoConfigSetAttribute(&algo, attr, &value, sizeof(value)),
                        "cublasLtMatmulAlgoConfigSetAttribute");
  };
  LOCKSTEP_RETURN_IF_ERROR(set(CUBLASLT_ALGO_CONFIG_TILE_ID, config.tile));
  LOCKSTEP_RETURN_IF_ERROR(set(CUBLASLT_ALGO_CONFIG_STAGES_ID, config.stages));
  LOCKSTEP_RETURN_IF_ERROR(set(CUBLASLT_ALGO_CONFIG_SPLITK_NUM, config.split_k));
  LOCKSTEP_RETURN_IF_ERROR(set(CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, config.reduction));
  LOCKSTEP_RETURN_IF_ERROR(set(CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING, config.swizzle));
  LOCKSTEP_RETURN_IF_ERROR(set(CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION, config.custom));
  LOCKSTEP_RETURN_IF_ERROR(set(CUBLASLT_ALGO_CONFIG_INNER_SHAPE_ID, config.inner_shape));
  LOCKSTEP_RETURN_IF_ERROR(set(CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID, config.cluster_shape));
  LOCKSTEP_ASSIGN_OR_RETURN(AlgoChoice checked, CheckAlgo(handle, problem, algo));
  if (!(checked.config == config)) {
    return absl::NotFoundError(absl::StrCat("cuBLASLt reads back ",
                                            DescribeAlgoConfig(checked.config), " for ",
                                            DescribeAlgoConfig(config)));
  }
  return checked;
}

absl::Status EnqueueMatmul(cublasLtHandle_t handle, const MatmulProblem& problem,
                           const cublasLtMatmulAlgo_t& algo, const void* x, const void* w,
                           const void* bias, void* y, void* workspace, size_t workspace_bytes,
                           cudaStream_t stream) {
  Descriptors d;
  LOCKSTEP_RETURN_IF_ERROR(InitDescriptors(problem, bias, &d));
  const float alpha = 1.0f;
  const float beta = 0.0f;
  return CublasStatus(cublasLtMatmul(handle, &d.op, &alpha, w, &d.a, x, &d.b, &beta, y, &d.d, y,
                                     &d.d, &algo, workspace, workspace_bytes, stream),
                      "cublasLtMatmul");
}

}  // namespace lockstep::cuda::internal
