// Linear layer Y(M,N) = X(M,K) · W(N,K)^T (+ bias) on the CUDA backend through cuBLASLt:
// fp16 or bf16 storage, fp32 accumulation, one rounding of the output.
// kBatchInvariant: row m of Y depends only on row m of X, on W and on the bias, never on M
// or on the other rows: every M runs with the same split-K count and reduction scheme, fixed
// per (N, K, dtype) when the plan is made, and the plan checks this bit for bit when it is
// made (falling back to a configuration that passes, and saying so). The choices are a pure
// function of the GPU model, the cuBLASLt version and the shape (no timing at plan time:
// a table measured offline for known (GPU, cuBLASLt, shape) triples, else a rule over
// cuBLASLt's heuristic), so two processes on the same kind of GPU make the same plan
// (compare Describe()).
// kHeuristic (a job's `fast` mode) takes cuBLASLt's own choice for each M: NOT invariant.
// For a few shapes some buckets run an own kernel instead of cuBLASLt: kSmallMShapes (the
// mma.sync kernel of small_m_gemm.h at small M) and kSlicedShapes (split-K 4 at every M: the
// small-M kernel, cuBLASLt's split-4 kernels and the wgmma kernel of wgmma_gemm.h). The own
// kernels compute the K-sliced chain order (k_sliced_order.h), which equals cuBLASLt's
// split-K-S kernels bit for bit where measured (H200); the self-check covers every switch,
// and drops the own kernels if it fails.
// Neither mode equals the CPU backend bit for bit (tensor cores add in their own order),
// except where every partial sum is exact (small integers); tests state the tolerance.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "numerics/cuda/cublaslt_matmul.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/cuda/small_m_gemm.h"
#include "numerics/cuda/wgmma_gemm.h"
#include "numerics/tensor.h"

namespace lockstep::cuda {

// One cuBLASLt handle and one workspace, shared by every plan that runs on one stream at
// a time (the workspace is not safe to share between concurrent streams: use one context
// per stream).
class LinearContext {
 public:
  // The most workspace any plan may ask for, in both modes (split-K partials of the large
  // shapes at M = 4096 need ~200 MB; the heuristic baseline gets the same limit).
  static constexpr size_t kMaxWorkspaceBytes = size_t{256} << 20;

  static absl::StatusOr<std::unique_ptr<LinearContext>> Create();
  ~LinearContext();
  LinearContext(const LinearContext&) = delete;
  LinearContext& operator=(const LinearContext&) = delete;

  cublasLtHandle_t handle() const { return handle_; }
  // What the tuned-configuration table is keyed on: the GPU's name ("NVIDIA H200") and
  // cublasLtGetVersion() (130100 for 13.1.0), read once when the context is made.
  const std::string& gpu_name() const { return gpu_name_; }
  size_t cublaslt_version() const { return cublaslt_version_; }
  void* workspace() const { return workspace_; }  // the newest (largest) workspace
  size_t workspace_bytes() const { return workspace_bytes_; }
  // Grows the workspace to at least `bytes`. Plans call this when they are made, before any
  // graph capture; older workspaces stay allocated until the context dies, so a captured
  // graph never points at freed memory.
  absl::Status ReserveWorkspace(size_t bytes);

 private:
  LinearContext(cublasLtHandle_t handle, std::string gpu_name, size_t cublaslt_version)
      : handle_(handle), gpu_name_(std::move(gpu_name)), cublaslt_version_(cublaslt_version) {}
  cublasLtHandle_t handle_ = nullptr;
  std::string gpu_name_;
  size_t cublaslt_version_ = 0;
  std::vector<DeviceBuffer> workspaces_;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
};

enum class LinearMode {
  kBatchInvariant,  // split-K fixed per weight shape, tiles per M bucket, self-checked
  kHeuristic,       // cuBLASLt's heuristic for each M (a job's `fast` mode); not invariant
};

// What a plan is made for: the weight (N, K) = (out_features, in_features) and its dtype.
struct LinearShape {
  DType dtype = DType::kBF16;  // X, W, bias and Y: kF16 or kBF16
  int64_t out_features = 0;    // N
  int64_t in_features = 0;     // K
  bool has_bias = false;
};

struct LinearPlanOptions {
  LinearMode mode = LinearMode::kBatchInvariant;
  // kBatchInvariant only. 0: the tuned table's count for this GPU and shape if it has one,
  // else the split-K count cuBLASLt's heuristic picks at kSplitReferenceRows rows
  // (decode-sized). > 0: this count (benchmarks sweep it), from the heuristic rule.
  int split_k = 0;
  // kBatchInvariant only. Buckets whose upper M is <= this run the own small-M kernel where
  // the plan allows it (split-K 1, no bias, 16-byte alignment, K % 64 == 0, N % 16 == 0).
  // -1: the table's choice (kSmallMShapes: measured faster there), 0: never.
  int64_t small_m_max_rows = -1;
};

// Row-count buckets: bucket b holds M in (2^(b-1), 2^b]; the last also holds M > 4096.
inline constexpr int kLinearBuckets = 13;
int64_t BucketUpperRows(int bucket);  // 1, 2, 4, ..., 4096
int BucketOfRows(int64_t rows);

// Shapes in the tuned table (linear.cc: kTunedShapes, measured offline with
// `gemm_invariance_bench --configs`, see bench/RESULTS.md) take the table's split-K count
// and per-bucket configurations when the GPU name and cuBLASLt major.minor version match
// the ones measured on; a configuration that cuBLASLt rejects there falls back, for that
// bucket, to the rule below (said in Describe()). Everything else uses the rule:
// The default split-K count: what cuBLASLt's heuristic picks at kSplitReferenceRows rows
// (decode-sized), capped so that each split keeps at least kMinSplitLength elements of K.
// Split-K partials cost memory traffic at every M, and only small M gains from them: on an
// H200 (bench/RESULTS.md) splitting K < 8192 never paid for itself over M = 1..4096.
inline constexpr int64_t kSplitReferenceRows = 16;
inline constexpr int64_t kMinSplitLength = 8192;

// The choices for one weight shape. Made on the host (plus a device self-check) before any
// graph capture; Run allocates nothing and never synchronises, so it can be captured, and
// a captured call keeps the configuration of its own M.
class LinearPlan {
 public:
  // Needs the device. kBatchInvariant also runs SelfCheck() and applies its fallback.
  static absl::StatusOr<std::unique_ptr<LinearPlan>> Create(LinearContext* context,
                                                            LinearShape shape,
                                                            LinearPlanOptions options = {});

  // x: (M, K), weight: (N, K), out: (M, N), all in shape().dtype, device memory; bias: N
  // device values of that dtype (16-byte aligned), or null iff !has_bias. Pointers and row
  // strides must keep alignment_bytes() (rows of one cudaMalloc'd matrix do). Enqueued on
  // `stream`. kHeuristic: the first call with a new M asks the heuristic (host only).
  absl::Status Run(ConstMatrixView x, ConstMatrixView weight, const void* bias, MatrixView out,
                   cudaStream_t stream) const;

  const LinearShape& shape() const { return shape_; }
  LinearMode mode() const { return options_.mode; }
  int split_k() const { return split_k_; }  // kBatchInvariant; 0 in kHeuristic
  uint32_t alignment_bytes() const { return alignment_bytes_; }
  size_t workspace_bytes() const { return workspace_bytes_; }
  // One line per bucket: its configuration. Equal descriptions on one GPU model and
  // cuBLASLt version give equal bits.
  std::string Describe() const;
  // Whether a call with `rows` rows runs the own small-M kernel / the own wgmma kernel
  // (else cuBLASLt).
  bool UsesSmallMKernel(int64_t rows) const;
  bool UsesWgmmaKernel(int64_t rows) const;
  // The configuration a call with `rows` rows runs with (kHeuristic: asks the heuristic).
  absl::StatusOr<std::string> DescribeConfigFor(int64_t rows) const;
  // The self-check's verdict, naming any fallback (empty for kHeuristic).
  const std::string& self_check_note() const { return self_check_note_; }
  // Where the kBatchInvariant configurations came from: "tuned table (...)" or
  // "heuristic rule"; empty for kHeuristic.
  const std::string& config_source() const { return config_source_; }

  // What SelfCheck() found, per bucket.
  struct SelfCheckResult {
    std::vector<int> differing_buckets;  // rows in a batch != the same rows alone
    std::vector<int> inexact_buckets;    // wrong value on small-integer data
    bool passed() const { return differing_buckets.empty() && inexact_buckets.empty(); }
    std::vector<int> failing_buckets() const;  // the union, sorted
  };
  // (1) Rows computed alone (M = 1) vs the same rows inside batches (one batch size per
  // bucket, rows at the start, middle and end, batches at several offsets), bit for bit on
  // random data of this shape. (2) Each bucket's result on small-integer data, where every
  // sum is exact, against the exact value rounded once (sampled columns): a configuration
  // that is invariant but wrong fails too.
  absl::StatusOr<SelfCheckResult> SelfCheck() const;

 private:
  LinearPlan(LinearContext* context, LinearShape shape, LinearPlanOptions options,
             uint32_t alignment)
      : context_(context), shape_(shape), options_(options), alignment_bytes_(alignment) {}
  internal::MatmulProblem ProblemFor(int64_t rows, int64_t x_stride, int64_t w_stride,
                                     int64_t y_stride) const;
  absl::Status ChooseInvariantConfigs();
  absl::StatusOr<bool> UseTunedConfigs();
  absl::Status ApplySelfCheck();
  absl::Status UseNearestPassingBuckets(const std::vector<int>& failing);
  absl::StatusOr<bool> UseOneSplitOneConfigForAllRows();
  absl::StatusOr<internal::AlgoChoice> ChooseBucketConfig(
      int bucket, int32_t split_k, const internal::AlgoChoice* smaller_bucket);
  absl::StatusOr<internal::AlgoChoice> HeuristicChoice(int64_t rows) const;
  absl::Status ReserveForBuckets();
  void ChooseOwnKernelBuckets();
  std::string DescribeBucket(int bucket) const;

  LinearContext* context_;
  LinearShape shape_;
  LinearPlanOptions options_;
  uint32_t alignment_bytes_;
  int split_k_ = 0;
  size_t workspace_bytes_ = 0;
  std::array<internal::AlgoChoice, kLinearBuckets> buckets_{};  // kBatchInvariant
  // kBatchInvariant: buckets served by an own kernel, and its tiling there.
  enum class OwnKernel : uint8_t { kNone, kSmallM, kWgmma };
  std::array<OwnKernel, kLinearBuckets> own_kernels_{};
  std::array<internal::SmallMConfig, kLinearBuckets> small_m_configs_{};
  std::array<internal::WgmmaGemmConfig, kLinearBuckets> wgmma_configs_{};
  std::string self_check_note_;
  std::string config_source_;
  // kHeuristic: cuBLASLt's choice per M, filled on first use.
  mutable std::mutex heuristic_mutex_;
  mutable std::map<int64_t, internal::AlgoChoice> heuristic_by_rows_;
};

}  // namespace lockstep::cuda
