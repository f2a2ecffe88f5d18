// LinearPlan: choosing cuBLASLt configurations once per weight shape, and running them.
// Batch invariance rests on one observation: cuBLASLt's Hopper kernels sum each output
// element over K in an order set by the split-K count and reduction scheme (and the K-block
// walk inside one split), not by the tile shape in M or N. So the count and the scheme are
// fixed per shape and the tile may follow M. It is not a documented guarantee, and it fails
// for the older kernels that serve rows not 16-byte aligned (they may split K inside a
// CTA): SelfCheck() verifies it on the device, and the fallback handles such shapes.
#include "numerics/cuda/linear.h"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_info.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/status_macros.h"

namespace lockstep::cuda {

using internal::AlgoChoice;
using internal::AlgoConfig;
using internal::MatmulProblem;

namespace {

// How many heuristic results to look through for one with the plan's split-K count.
constexpr int kHeuristicCandidates = 32;

// Split-K partials kept in fp32 and added in a separate, fixed-order step: the one scheme
// that neither rounds partials to 16 bits nor depends on arrival order.
constexpr uint32_t kInvariantReduction = CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;

// The reduction scheme that goes with a split-K count.
uint32_t ReductionFor(int32_t split_k) {
  return split_k > 1 ? kInvariantReduction : uint32_t{CUBLASLT_REDUCTION_SCHEME_NONE};
}

// ---- The tuned table --------------------------------------------------------------------
// Per-bucket configurations measured offline (`gemm_invariance_bench --configs`, H200,
// 2026-11-30, bench/RESULTS.md) for the Qwen2.5 shapes where the heuristic rule missed the
// 1.10 goal or nearly did. All are split-K 1. On that GPU and cuBLASLt every split-K-1
// configuration of algo 66 gave the same bits (~200 configurations x 13 M per shape, one
// hash of row 0; likewise per (split-K, scheme) for splits >= 2), so the tile may follow
// M freely; the self-check still verifies each plan. Split-K 1 because any fixed split
// >= 2, either scheme, costs 1.17-2.3x at M >= 1024 (partials through memory), while the
// right split-K-1 tile (64x8 / 64x32 with cluster shapes 3-4) is within 1.10 of the
// heuristic at small M for 7B down and q/o; the heuristic rule's own split-K-1 pick was
// 1.7x slower there (7B down M = 1). 1.5B down stayed ~1.25-1.37 at M <= 128 (no split-K-1
// configuration feeds enough SMs: 24 column tiles of 64), so it left this table for
// kSlicedShapes below (split-K 4 everywhere, own kernels where cuBLASLt's split 4 is slow).
// Putting the product to cuBLASLt the other way round does not help either (`gemm_
// invariance_bench --orders`, commit 434aec5, 2026-11-30): a row-order output runs the same kernels,
// and a column-major (M, N) output plus a transpose gives the same bits at split-K 1 but
// runs 1.06-1.4x slower than this table, with no algo-66 kernel at all for M < 8.
// Per bucket: the fastest split-K-1 configuration at the bucket's upper M (ties within
// 3 % to the one faster at half that M); 0.5B down M <= 512 (bf16) and M <= 256 (fp16)
// were then set to configurations that were fastest in both sweeps. The winners all share
// algo 66, stages id 35, no swizzle, inner shape 0.
struct TunedBucket {
  uint32_t tile;     // cublasLtMatmulTile_t
  uint32_t custom;   // CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION
  uint16_t cluster;  // cublasLtClusterShape_t
};
struct TunedShape {
  DType dtype;
  int64_t out_features, in_features;                // N, K (with or without bias)
  std::array<TunedBucket, kLinearBuckets> buckets;  // M <= 1, 2, 4, ..., 4096+
};
constexpr int32_t kTunedAlgoId = 66;
constexpr uint32_t kTunedStages = 35;
// Measured on this GPU (DeviceInfo::name) with this cuBLASLt major.minor (version / 100).
constexpr const char* kTunedGpuName = "NVIDIA H200";
constexpr size_t kTunedCublasLtMajorMinor = 1301;  // 13.1.x
// One shape per entry, one {tile, custom, cluster} per bucket (M <= 1, 2, ..., 4096+).
// clang-format off
constexpr TunedShape kTunedShapes[] = {
    // Qwen2.5-0.5B down, bf16
    {DType::kBF16, 896, 4864, {{
        {12, 2, 7}, {13, 3, 9}, {13, 3, 7}, {10, 1, 4}, {312, 1, 4}, {13, 1, 4}, {12, 0, 4},
        {13, 3, 9}, {15, 1, 3}, {15, 3, 9}, {17, 2, 9}, {165, 0, 3}, {165, 0, 3}}}},
    // Qwen2.5-0.5B down, fp16
    {DType::kF16, 896, 4864, {{
        {12, 2, 7}, {12, 2, 7}, {10, 1, 4}, {13, 1, 4}, {312, 1, 4}, {13, 1, 4}, {13, 1, 4},
        {12, 0, 4}, {13, 3, 9}, {15, 3, 9}, {17, 2, 9}, {165, 0, 3}, {20, 3, 5}}}},
    // Qwen2.5-7B down, bf16
    {DType::kBF16, 3584, 18944, {{
        {312, 1, 3}, {10, 1, 3}, {10, 1, 3}, {10, 1, 3}, {312, 1, 3}, {312, 1, 3}, {13, 1, 3},
        {27, 0, 4}, {164, 0, 3}, {165, 0, 3}, {165, 0, 3}, {165, 0, 3}, {165, 0, 3}}}},
    // Qwen2.5-7B down, fp16
    {DType::kF16, 3584, 18944, {{
        {10, 1, 3}, {10, 1, 3}, {312, 1, 3}, {312, 1, 3}, {10, 1, 3}, {13, 1, 3}, {13, 1, 3},
        {27, 0, 4}, {164, 0, 3}, {165, 0, 3}, {165, 0, 3}, {272, 6, 5}, {272, 6, 5}}}},
    // Qwen2.5-7B q/o, bf16
    {DType::kBF16, 3584, 3584, {{
        {10, 1, 4}, {13, 1, 4}, {10, 1, 4}, {13, 1, 4}, {10, 1, 4}, {15, 1, 4}, {13, 3, 7},
        {15, 3, 7}, {17, 0, 4}, {165, 0, 3}, {165, 0, 3}, {165, 0, 3}, {165, 0, 3}}}},
    // Qwen2.5-7B q/o, fp16
    {DType::kF16, 3584, 3584, {{
        {13, 1, 4}, {312, 1, 4}, {15, 1, 4}, {13, 1, 4}, {13, 1, 4}, {13, 1, 4}, {13, 3, 7},
        {15, 1, 4}, {17, 2, 7}, {165, 0, 3}, {165, 0, 3}, {272, 6, 5}, {165, 0, 3}}}},
};
// clang-format on

// The entry of one of the measured tables (tuned, K-sliced, small-M) for this weight's dtype,
// N and K, if this is the GPU and cuBLASLt version they were measured on.
template <typename Entry, size_t kCount>
const Entry* FindMeasuredShape(const Entry (&table)[kCount], const std::string& gpu_name,
                               size_t cublaslt_version, const LinearShape& shape) {
  if (gpu_name != kTunedGpuName || cublaslt_version / 100 != kTunedCublasLtMajorMinor) {
    return nullptr;
  }
  for (const Entry& e : table) {
    if (e.dtype == shape.dtype && e.out_features == shape.out_features &&
        e.in_features == shape.in_features) {
      return &e;
    }
  }
  return nullptr;
}

AlgoConfig TunedConfig(const TunedBucket& b, int32_t split_k = 1) {
  return AlgoConfig{.id = kTunedAlgoId,
                    .tile = b.tile,
                    .stages = kTunedStages,
                    .split_k = split_k,
                    .reduction = ReductionFor(split_k),
                    .swizzle = 0,
                    .custom = b.custom,
                    .inner_shape = 0,
                    .cluster_shape = b.cluster};
}

// ---- Shapes in the K-sliced order ------------------------------------------------------
// Shapes that run at split-K S on every M, in the K-sliced chain order (k_sliced_order.h):
// cuBLASLt's split-K-S kernels with fp32 partials where they are fast, the own kernels
// elsewhere. Measured on the tuned table's GPU and cuBLASLt (small_m_gemm_bench --sliced,
// H200, cuBLASLt 13.1, 2026-11-30, bench/RESULTS.md): for 1.5B down, cuBLASLt's split-K-4
// results equal the own kernels' S = 4 bits (0 differing elements at M = 1..128, where its
// heuristic itself picks split 4), so the plan may mix them. Per M, against the heuristic:
// the own mma.sync kernel 0.6-0.94 at M <= 16; cuBLASLt split 4 0.75-1.0 at M = 32..512
// but 1.22-1.43 at M >= 1024 (partials through memory); the own wgmma kernel 1.02-1.07 at
// M = 2048, 4096 and, as a cluster of two CTAs per tile, 1.07-1.08 at M = 1024 (session 7).
// Every split-4 configuration cuBLASLt proposes at M = 256 and 512 gives the same S = 4 bits
// (0 differing elements, 8 of them per M and dtype); they differ in speed by 1.5x, and the
// heuristic's first one is not the fastest, so buckets [tuned_min_rows, tuned_max_rows] take
// the fastest measured one (algo 66, stages id 35 like the tuned table): at M = 512 26.2 us
// bf16 / 26.8 fp16 against 28.0-34.1 for the others and 24.8-27.1 for the heuristic's own
// split-K-1 kernel (H200, 2026-11-30, bench/RESULTS.md session 7).
struct SlicedShape {
  DType dtype;
  int64_t out_features, in_features;
  int k_slices;
  int64_t small_m_max_rows;  // buckets up to this M: the own mma.sync kernel
  int64_t wgmma_min_rows;    // buckets from this M on: the own wgmma kernel (sm_90)
  int64_t tuned_min_rows, tuned_max_rows;  // buckets (by upper M) that take `tuned`
  TunedBucket tuned;                       // cuBLASLt's split-K-S kernel, fp32 partials
};
constexpr SlicedShape kSlicedShapes[] = {
    {DType::kBF16, 1536, 8960, 4, 16, 1024, 256, 512, {28, 0, 3}},  // Qwen2.5-1.5B down
    {DType::kF16, 1536, 8960, 4, 16, 1024, 256, 512, {28, 0, 3}},
};

// The own kernels add no bias: a biased weight of a listed shape stays on the tuned/heuristic path.
const SlicedShape* FindSlicedShape(const std::string& gpu_name, size_t cublaslt_version,
                                   const LinearShape& shape) {
  return shape.has_bias ? nullptr
                        : FindMeasuredShape(kSlicedShapes, gpu_name, cublaslt_version, shape);
}

// ---- The own small-M kernel ------------------------------------------------------------
// Shapes whose small-M buckets run the own mma.sync kernel (small_m_gemm.h) instead of
// cuBLASLt, up to max_rows, on the GPU and cuBLASLt version of the tuned table. The kernel
// gives the bits of the split-K-1 cuBLASLt kernels at every M (small_m_gemm_bench --check,
// H200, cuBLASLt 13.1, 2026-11-30: 0 differing of 3.5 M elements over 4 shapes x 8 M x 2
// dtypes), so a plan may mix the two. It only pays where K is short: the one chain over K
// costs ~40 ns per k16 step on the H200, so at 896x896 (56 steps) it runs M <= 128 in
// 4.5-5.3 us where cuBLASLt takes 7.5-10 (0.46-0.62 of the heuristic), but at 1.5B down
// (K = 8960, 560 steps) it needs ~25 us against the split-K-1 plan's 16.4 (bench/RESULTS.md).
struct SmallMShape {
  DType dtype;
  int64_t out_features, in_features;
  int64_t max_rows;
};
constexpr SmallMShape kSmallMShapes[] = {
    {DType::kBF16, 896, 896, 128},  // Qwen2.5-0.5B o_proj (q has a bias: cuBLASLt)
    {DType::kF16, 896, 896, 128},
};

// The largest power of two (<= 256) dividing `bytes`.
uint32_t PowerOfTwoAlignment(int64_t bytes) {
  if (bytes <= 0) return 256;
  const auto low_bit = static_cast<uint64_t>(bytes) & (~static_cast<uint64_t>(bytes) + 1);
  return static_cast<uint32_t>(std::min<uint64_t>(low_bit, 256));
}

bool Aligned(const void* p, uint32_t alignment) {
  return reinterpret_cast<uintptr_t>(p) % alignment == 0;
}

}  // namespace

int64_t BucketUpperRows(int bucket) { return int64_t{1} << bucket; }

int BucketOfRows(int64_t rows) {
  if (rows <= 1) return 0;
  const int bucket = std::bit_width(static_cast<uint64_t>(rows - 1));
  return std::min(bucket, kLinearBuckets - 1);
}

absl::StatusOr<std::unique_ptr<LinearContext>> LinearContext::Create() {
  cublasLtHandle_t handle = nullptr;
  LOCKSTEP_RETURN_IF_ERROR(internal::CublasStatus(cublasLtCreate(&handle), "cublasLtCreate"));
  // No usable device: no name, so no tuned table (plans need the device anyway).
  absl::StatusOr<DeviceInfo> device = CurrentDevice();
  std::string gpu_name = device.ok() ? std::move(device->name) : std::string();
  return std::unique_ptr<LinearContext>(
      new LinearContext(handle, std::move(gpu_name), cublasLtGetVersion()));
}

LinearContext::~LinearContext() {
  if (handle_ != nullptr) cublasLtDestroy(handle_);
}

absl::Status LinearContext::ReserveWorkspace(size_t bytes) {
  if (bytes <= workspace_bytes()) return absl::OkStatus();
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer buffer, DeviceBuffer::Allocate(bytes));
  workspace_ = buffer.data();
  workspace_bytes_ = buffer.size();
  workspaces_.push_back(std::move(buffer));
  return absl::OkStatus();
}

MatmulProblem LinearPlan::ProblemFor(int64_t rows, int64_t x_stride, int64_t w_stride,
                                     int64_t y_stride) const {
  MatmulProblem p;
  p.dtype = shape_.dtype;
  p.rows = rows;
  p.out_features = shape_.out_features;
  p.in_features = shape_.in_features;
  p.has_bias = shape_.has_bias;
  p.x_stride = x_stride;
  p.w_stride = w_stride;
  p.y_stride = y_stride;
  p.alignment_bytes = alignment_bytes_;
  return p;
}

absl::StatusOr<std::unique_ptr<LinearPlan>> LinearPlan::Create(LinearContext* context,
                                                               LinearShape shape,
                                                               LinearPlanOptions options) {
  if (context == nullptr) return absl::InvalidArgumentError("cuda::LinearPlan: null context");
  if (shape.dtype != DType::kF16 && shape.dtype != DType::kBF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("cuda::LinearPlan: dtype ", std::string(DTypeName(shape.dtype)),
                     " is not supported; the CUDA linear takes fp16 or bf16 weights"));
  }
  if (shape.out_features <= 0 || shape.in_features <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("cuda::LinearPlan: weight shape (",
                                                   shape.out_features, ", ", shape.in_features,
                                                   ") must be positive"));
  }
  if (options.split_k < 0) {
    return absl::InvalidArgumentError("cuda::LinearPlan: split_k must be >= 0 (0 = choose)");
  }
  const int64_t elem = static_cast<int64_t>(DTypeSize(shape.dtype));
  const uint32_t alignment = std::min(PowerOfTwoAlignment(shape.in_features * elem),
                                      PowerOfTwoAlignment(shape.out_features * elem));
  std::unique_ptr<LinearPlan> plan(new LinearPlan(context, shape, options, alignment));
  if (options.mode == LinearMode::kHeuristic) {
    plan->workspace_bytes_ = LinearContext::kMaxWorkspaceBytes;
    LOCKSTEP_RETURN_IF_ERROR(context->ReserveWorkspace(plan->workspace_bytes_));
    return plan;
  }
  LOCKSTEP_RETURN_IF_ERROR(plan->ChooseInvariantConfigs());
  plan->ChooseOwnKernelBuckets();
  LOCKSTEP_RETURN_IF_ERROR(plan->ReserveForBuckets());
  LOCKSTEP_RETURN_IF_ERROR(plan->ApplySelfCheck());
  return plan;
}

// The tuned table if it has this GPU and shape (and no count is forced). Otherwise the
// split-K count comes from the heuristic at kSplitReferenceRows, capped by
// kMinSplitLength (unless forced); each bucket then takes the heuristic's best
// configuration that has that count and scheme.
absl::Status LinearPlan::ChooseInvariantConfigs() {
  if (options_.split_k == 0) {
    LOCKSTEP_ASSIGN_OR_RETURN(bool tuned, UseTunedConfigs());
    if (tuned) return absl::OkStatus();
    if (const SlicedShape* sliced =
            FindSlicedShape(context_->gpu_name(), context_->cublaslt_version(), shape_)) {
      split_k_ = sliced->k_slices;
      const int64_t k = shape_.in_features, n = shape_.out_features;
      for (int b = 0; b < kLinearBuckets; ++b) {
        const int64_t rows = BucketUpperRows(b);
        if (rows >= sliced->tuned_min_rows && rows <= sliced->tuned_max_rows) {
          // Checked by cuBLASLt at the bucket's M; if it is rejected, the heuristic rule.
          absl::StatusOr<AlgoChoice> tuned = internal::AlgoFromConfig(
              context_->handle(), ProblemFor(rows, k, k, n), TunedConfig(sliced->tuned, split_k_));
          if (tuned.ok() && tuned->workspace_bytes <= LinearContext::kMaxWorkspaceBytes) {
            buckets_[b] = *tuned;
            continue;
          }
        }
        LOCKSTEP_ASSIGN_OR_RETURN(
            buckets_[b], ChooseBucketConfig(b, split_k_, b > 0 ? &buckets_[b - 1] : nullptr));
      }
      config_source_ = absl::StrCat("K-sliced table (", kTunedGpuName, ", cuBLASLt ",
                                    context_->cublaslt_version(), ")");
      // No reservation yet: Create reserves once it knows which buckets the own kernels take
      // (cuBLASLt's split-4 partials at M = 4096 alone would hold ~100 MB for nothing).
      return absl::OkStatus();
    }
  }
  config_source_ = "heuristic rule";
  const cublasLtHandle_t handle = context_->handle();
  const int64_t k = shape_.in_features, n = shape_.out_features;
  const MatmulProblem reference_problem = ProblemFor(kSplitReferenceRows, k, k, n);
  LOCKSTEP_ASSIGN_OR_RETURN(
      std::vector<AlgoChoice> reference_candidates,
      internal::HeuristicCandidates(handle, reference_problem, LinearContext::kMaxWorkspaceBytes,
                                    CUBLASLT_REDUCTION_SCHEME_MASK, 1));
  if (reference_candidates.empty()) {
    return absl::NotFoundError(
        absl::StrCat("cuda::LinearPlan: cuBLASLt proposes no algorithm "
                     "for the weight (",
                     n, ", ", k, ") in ", std::string(DTypeName(shape_.dtype))));
  }
  // The heuristic's split-K count, whatever scheme it came with; the plan's scheme is
  // always fp32 partials.
  const int32_t heuristic_split = reference_candidates.front().config.split_k;
  const auto longest_split = static_cast<int32_t>(std::max<int64_t>(1, k / kMinSplitLength));
  split_k_ = options_.split_k > 0 ? options_.split_k : std::min(heuristic_split, longest_split);
  for (int b = 0; b < kLinearBuckets; ++b) {
    LOCKSTEP_ASSIGN_OR_RETURN(buckets_[b],
                              ChooseBucketConfig(b, split_k_, b > 0 ? &buckets_[b - 1] : nullptr));
  }
  return ReserveForBuckets();
}

// Each bucket's table configuration, checked by cuBLASLt at the bucket's M; one that
// cuBLASLt rejects (another build of the library, say) gets the heuristic rule's choice
// at the table's split-K count instead, and Describe() says how many did.
absl::StatusOr<bool> LinearPlan::UseTunedConfigs() {
  const TunedShape* tuned =
      FindMeasuredShape(kTunedShapes, context_->gpu_name(), context_->cublaslt_version(), shape_);
  if (tuned == nullptr) return false;
  const int64_t k = shape_.in_features, n = shape_.out_features;
  split_k_ = 1;
  int rejected = 0;
  for (int b = 0; b < kLinearBuckets; ++b) {
    absl::StatusOr<AlgoChoice> choice =
        internal::AlgoFromConfig(context_->handle(), ProblemFor(BucketUpperRows(b), k, k, n),
                                 TunedConfig(tuned->buckets[b]));
    if (choice.ok() && choice->workspace_bytes <= LinearContext::kMaxWorkspaceBytes) {
      buckets_[b] = *choice;
      continue;
    }
    ++rejected;
    LOCKSTEP_ASSIGN_OR_RETURN(buckets_[b],
                              ChooseBucketConfig(b, split_k_, b > 0 ? &buckets_[b - 1] : nullptr));
  }
  config_source_ = absl::StrCat("tuned table (", kTunedGpuName, ", cuBLASLt ",
                                context_->cublaslt_version(), ")");
  if (rejected > 0) {
    absl::StrAppend(&config_source_, "; ", rejected,
                    " bucket(s) rejected by cuBLASLt use the heuristic rule at split-K 1");
  }
  LOCKSTEP_RETURN_IF_ERROR(ReserveForBuckets());
  return true;
}

// Buckets that run an own kernel instead of cuBLASLt: the small-M buckets of kSmallMShapes
// and the table's buckets of kSlicedShapes on the measured GPU/cuBLASLt (or, on any, the
// small-M kernel up to options_.small_m_max_rows). The own kernels compute the K-sliced
// order with k_slices = the plan's split-K count, which is what cuBLASLt's kernels compute
// at that count (measured, see the tables); they add no bias and load 16-byte rows. The
// self-check then verifies the mix like any other plan.
void LinearPlan::ChooseOwnKernelBuckets() {
  own_kernels_.fill(OwnKernel::kNone);
  const int64_t n = shape_.out_features, k = shape_.in_features;
  // The measured tables (which check the GPU and cuBLASLt themselves) unless a split-K count
  // is forced.
  const bool use_tables = options_.split_k == 0;
  int64_t small_m_max_rows = options_.small_m_max_rows;
  int64_t wgmma_min_rows = 0;  // 0: never
  if (use_tables) {
    if (const SlicedShape* sliced =
            FindSlicedShape(context_->gpu_name(), context_->cublaslt_version(), shape_)) {
      if (small_m_max_rows < 0) small_m_max_rows = sliced->small_m_max_rows;
      wgmma_min_rows = sliced->wgmma_min_rows;
    }
  }
  if (small_m_max_rows < 0) {
    const SmallMShape* listed =
        use_tables ? FindMeasuredShape(kSmallMShapes, context_->gpu_name(),
                                       context_->cublaslt_version(), shape_)
                   : nullptr;
    small_m_max_rows = listed != nullptr ? listed->max_rows : 0;
  }
  if (shape_.has_bias || alignment_bytes_ < 16 || !internal::KSlicesFit(k, split_k_)) return;
  const auto type = internal::ToStorageType(shape_.dtype);
  const bool small_m_fits = internal::SmallMGemmSupports(type, n, k) &&
                            (split_k_ == 1 || split_k_ == 2 || split_k_ == 4);
  const bool wgmma_fits = wgmma_min_rows > 0 && internal::WgmmaGemmSupports(type, n, k, split_k_);
  for (int b = 0; b < kLinearBuckets; ++b) {
    const int64_t rows = BucketUpperRows(b);
    const internal::SmallMConfig small = internal::SmallMDefaultConfig(rows);
    const internal::WgmmaGemmConfig wide = internal::WgmmaGemmDefaultConfig(rows, n);
    if (small_m_fits && rows <= small_m_max_rows && n % (16 * small.warps) == 0) {
      own_kernels_[b] = OwnKernel::kSmallM;
      small_m_configs_[b] = small;
    } else if (wgmma_fits && rows >= wgmma_min_rows && n % wide.block_n == 0 &&
               (wide.slice_groups == 1 || split_k_ % 2 == 0)) {
      own_kernels_[b] = OwnKernel::kWgmma;
      wgmma_configs_[b] = wide;
    }
  }
}

bool LinearPlan::UsesSmallMKernel(int64_t rows) const {
  return options_.mode == LinearMode::kBatchInvariant &&
         own_kernels_[BucketOfRows(rows)] == OwnKernel::kSmallM;
}

bool LinearPlan::UsesWgmmaKernel(int64_t rows) const {
  return options_.mode == LinearMode::kBatchInvariant &&
         own_kernels_[BucketOfRows(rows)] == OwnKernel::kWgmma;
}

absl::StatusOr<AlgoChoice> LinearPlan::ChooseBucketConfig(int bucket, int32_t split_k,
                                                          const AlgoChoice* smaller_bucket) {
  const cublasLtHandle_t handle = context_->handle();
  const int64_t k = shape_.in_features, n = shape_.out_features;
  const MatmulProblem problem = ProblemFor(BucketUpperRows(bucket), k, k, n);
  const uint32_t reduction = ReductionFor(split_k);
  LOCKSTEP_ASSIGN_OR_RETURN(
      std::vector<AlgoChoice> candidates,
      internal::HeuristicCandidates(handle, problem, LinearContext::kMaxWorkspaceBytes,
                                    CUBLASLT_REDUCTION_SCHEME_MASK, kHeuristicCandidates));
  // 1. The best proposal that already has the plan's split-K count and scheme.
  for (const AlgoChoice& c : candidates) {
    if (c.config.split_k == split_k && c.config.reduction == reduction) return c;
  }
  // 2. The best proposal that accepts that count and scheme when forced.
  for (const AlgoChoice& c : candidates) {
    absl::StatusOr<AlgoChoice> forced =
        internal::ForceSplitK(handle, problem, c.algo, split_k, reduction);
    if (forced.ok() && forced->workspace_bytes <= LinearContext::kMaxWorkspaceBytes) {
      return forced;
    }
  }
  // 3. The next smaller bucket's configuration, at this M.
  if (smaller_bucket != nullptr) {
    absl::StatusOr<AlgoChoice> same = internal::CheckAlgo(handle, problem, smaller_bucket->algo);
    if (same.ok() && same->workspace_bytes <= LinearContext::kMaxWorkspaceBytes) return same;
  }
  return absl::NotFoundError(
      absl::StrCat("cuda::LinearPlan: no cuBLASLt configuration with split-K ", split_k,
                   " for the weight (", n, ", ", k, ") at M = ", problem.rows, " within ",
                   LinearContext::kMaxWorkspaceBytes, " bytes of workspace; pass another split_k"));
}

// cuBLASLt's split-K partials for the buckets it serves, the wgmma kernel's handed-over slice
// sums for its buckets (at the bucket's upper M; beyond 4096 rows Run checks again).
absl::Status LinearPlan::ReserveForBuckets() {
  workspace_bytes_ = 0;
  for (int b = 0; b < kLinearBuckets; ++b) {
    const size_t need = own_kernels_[b] == OwnKernel::kWgmma
                            ? internal::WgmmaGemmWorkspaceBytes(
                                  BucketUpperRows(b), shape_.out_features, wgmma_configs_[b])
                        : own_kernels_[b] == OwnKernel::kSmallM ? 0
                                                                : buckets_[b].workspace_bytes;
    workspace_bytes_ = std::max(workspace_bytes_, need);
  }
  return context_->ReserveWorkspace(workspace_bytes_);
}

std::vector<int> LinearPlan::SelfCheckResult::failing_buckets() const {
  std::vector<int> all = differing_buckets;
  all.insert(all.end(), inexact_buckets.begin(), inexact_buckets.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

namespace {
std::string JoinBuckets(const std::vector<int>& buckets) {
  std::string out;
  for (int b : buckets) absl::StrAppend(&out, out.empty() ? "" : ",", BucketUpperRows(b));
  return absl::StrCat("{M <= ", out, "}");
}
std::string DescribeFailure(const LinearPlan::SelfCheckResult& r) {
  return absl::StrCat(r.differing_buckets.empty() ? "" : "rows differed from M = 1 in buckets ",
                      r.differing_buckets.empty() ? "" : JoinBuckets(r.differing_buckets),
                      r.differing_buckets.empty() || r.inexact_buckets.empty() ? "" : "; ",
                      r.inexact_buckets.empty() ? "" : "wrong exact sums in buckets ",
                      r.inexact_buckets.empty() ? "" : JoinBuckets(r.inexact_buckets));
}
}  // namespace

// A failing bucket first takes the configuration of the nearest bucket that passed; if
// that still fails, the whole plan drops to split-K 1 with one configuration for every M.
// Either step is said once, in self_check_note(); nothing falls back silently.
absl::Status LinearPlan::ApplySelfCheck() {
  LOCKSTEP_ASSIGN_OR_RETURN(SelfCheckResult first, SelfCheck());
  int small_m_count = 0, wgmma_count = 0;
  for (OwnKernel o : own_kernels_) {
    small_m_count += o == OwnKernel::kSmallM ? 1 : 0;
    wgmma_count += o == OwnKernel::kWgmma ? 1 : 0;
  }
  std::string dropped;
  if (!first.passed() && small_m_count + wgmma_count > 0) {
    // The own kernels first: without them the plan is cuBLASLt alone, as it was before.
    dropped = absl::StrCat("own kernels DROPPED (", DescribeFailure(first), " with them in ",
                           small_m_count + wgmma_count, " buckets); ");
    own_kernels_.fill(OwnKernel::kNone);
    small_m_count = wgmma_count = 0;
    LOCKSTEP_RETURN_IF_ERROR(ReserveForBuckets());
    LOCKSTEP_ASSIGN_OR_RETURN(first, SelfCheck());
  }
  if (first.passed()) {
    self_check_note_ = absl::StrCat(
        dropped, "self-check passed: split-K ", split_k_, ", ", kLinearBuckets,
        " buckets bitwise invariant and exact",
        small_m_count + wgmma_count > 0
            ? absl::StrCat(" (", small_m_count, " on the own small-M kernel, ", wgmma_count,
                           " on the own wgmma kernel)")
            : "");
    return absl::OkStatus();
  }
  LOCKSTEP_RETURN_IF_ERROR(UseNearestPassingBuckets(first.failing_buckets()));
  LOCKSTEP_ASSIGN_OR_RETURN(SelfCheckResult second, SelfCheck());
  if (second.passed()) {
    self_check_note_ = absl::StrCat(dropped, "self-check FALLBACK: ", DescribeFailure(first),
                                    "; those buckets now use the nearest passing bucket's "
                                    "configuration (split-K ",
                                    split_k_, "), which passes");
    return absl::OkStatus();
  }
  const int old_split = split_k_;
  LOCKSTEP_ASSIGN_OR_RETURN(bool single_passed, UseOneSplitOneConfigForAllRows());
  if (!single_passed) {
    return absl::InternalError(absl::StrCat(
        "cuda::LinearPlan: no batch-invariant cuBLASLt configuration found for the weight (",
        shape_.out_features, ", ", shape_.in_features, ") in ",
        std::string(DTypeName(shape_.dtype)), ": ", DescribeFailure(second),
        ", also with one split-K-1 configuration for every M; this GPU/cuBLASLt needs a "
        "custom kernel"));
  }
  self_check_note_ =
      absl::StrCat(dropped, "self-check FALLBACK: with split-K ", old_split, " ", DescribeFailure(first),
                   ", also after borrowing passing buckets' configurations; "
                   "the plan now uses split-K 1 and one configuration for every "
                   "M (slower for small M)");
  return absl::OkStatus();
}

absl::Status LinearPlan::UseNearestPassingBuckets(const std::vector<int>& failing) {
  const int64_t k = shape_.in_features, n = shape_.out_features;
  std::vector<bool> passed(kLinearBuckets, true);
  for (int b : failing) passed[b] = false;
  const std::array<AlgoChoice, kLinearBuckets> chosen = buckets_;
  for (int b : failing) {
    for (int distance = 1; distance < kLinearBuckets; ++distance) {
      bool replaced = false;
      for (int p : {b - distance, b + distance}) {
        if (p < 0 || p >= kLinearBuckets || !passed[p]) continue;
        absl::StatusOr<AlgoChoice> borrowed = internal::CheckAlgo(
            context_->handle(), ProblemFor(BucketUpperRows(b), k, k, n), chosen[p].algo);
        if (borrowed.ok() && borrowed->workspace_bytes <= LinearContext::kMaxWorkspaceBytes) {
          buckets_[b] = *borrowed;
          replaced = true;
          break;
        }
      }
      if (replaced) break;
    }
  }
  return ReserveForBuckets();
}

// Split-K 1: the heuristic's split-1 proposals at a middle M, tried in order; the first one
// valid at every bucket's M runs every M, and must pass the self-check.
absl::StatusOr<bool> LinearPlan::UseOneSplitOneConfigForAllRows() {
  const cublasLtHandle_t handle = context_->handle();
  const int64_t k = shape_.in_features, n = shape_.out_features;
  constexpr int kTries = 4;
  split_k_ = 1;
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<AlgoChoice> candidates,
                            internal::HeuristicCandidates(
                                handle, ProblemFor(64, k, k, n), LinearContext::kMaxWorkspaceBytes,
                                CUBLASLT_REDUCTION_SCHEME_MASK, kHeuristicCandidates));
  int tries = 0;
  for (const AlgoChoice& c : candidates) {
    if (c.config.split_k != 1 || tries == kTries) continue;
    ++tries;
    bool valid_everywhere = true;
    for (int b = 0; b < kLinearBuckets && valid_everywhere; ++b) {
      absl::StatusOr<AlgoChoice> at_b =
          internal::CheckAlgo(handle, ProblemFor(BucketUpperRows(b), k, k, n), c.algo);
      valid_everywhere = at_b.ok();
      if (valid_everywhere) buckets_[b] = *at_b;
    }
    if (!valid_everywhere) continue;
    LOCKSTEP_RETURN_IF_ERROR(ReserveForBuckets());
    LOCKSTEP_ASSIGN_OR_RETURN(SelfCheckResult result, SelfCheck());
    if (result.passed()) return true;
  }
  return false;
}

absl::StatusOr<AlgoChoice> LinearPlan::HeuristicChoice(int64_t rows) const {
  std::lock_guard<std::mutex> lock(heuristic_mutex_);
  if (auto it = heuristic_by_rows_.find(rows); it != heuristic_by_rows_.end()) return it->second;
  const int64_t k = shape_.in_features, n = shape_.out_features;
  LOCKSTEP_ASSIGN_OR_RETURN(
      std::vector<AlgoChoice> candidates,
      internal::HeuristicCandidates(context_->handle(), ProblemFor(rows, k, k, n), workspace_bytes_,
                                    CUBLASLT_REDUCTION_SCHEME_MASK, 1));
  if (candidates.empty()) {
    return absl::NotFoundError(
        absl::StrCat("cuda::LinearPlan: cuBLASLt's heuristic proposes "
                     "nothing for M = ",
                     rows, " and the weight (", n, ", ", k, ")"));
  }
  heuristic_by_rows_.emplace(rows, candidates.front());
  return candidates.front();
}

absl::Status LinearPlan::Run(ConstMatrixView x, ConstMatrixView weight, const void* bias,
                             MatrixView out, cudaStream_t stream) const {
  const int64_t n = shape_.out_features, k = shape_.in_features;
  if (weight.rows != n || weight.cols != k || x.cols != k || out.rows != x.rows || out.cols != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cuda::Linear: shape mismatch: x (", x.rows, ", ", x.cols, "), weight (", weight.rows, ", ",
        weight.cols, "), out (", out.rows, ", ", out.cols, "); the plan is for weight (", n, ", ",
        k, "), so x must be (M, ", k, ") and out (M, ", n, ")"));
  }
  if (x.dtype != shape_.dtype || weight.dtype != shape_.dtype || out.dtype != shape_.dtype) {
    return absl::InvalidArgumentError(absl::StrCat("cuda::Linear: x, weight and out must all be ",
                                                   std::string(DTypeName(shape_.dtype)),
                                                   " (the plan's dtype)"));
  }
  if ((bias != nullptr) != shape_.has_bias) {
    return absl::InvalidArgumentError(shape_.has_bias
                                          ? "cuda::Linear: the plan has a bias but bias is null"
                                          : "cuda::Linear: bias given to a plan made without one");
  }
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout("cuda::Linear", "x", x));
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout("cuda::Linear", "weight", weight));
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout("cuda::Linear", "out", out));
  if (x.rows == 0) return absl::OkStatus();
  const int64_t elem = static_cast<int64_t>(DTypeSize(shape_.dtype));
  const uint32_t a = alignment_bytes_;
  if (!Aligned(x.data, a) || !Aligned(weight.data, a) || !Aligned(out.data, a) ||
      (x.row_stride * elem) % a != 0 || (weight.row_stride * elem) % a != 0 ||
      (out.row_stride * elem) % a != 0 || (bias != nullptr && !Aligned(bias, 16))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cuda::Linear: pointers and row strides must be ", a,
        "-byte aligned for this plan (bias 16-byte): use rows of cudaMalloc'd matrices"));
  }
  if (UsesSmallMKernel(x.rows)) {
    return CudaStatus(internal::LaunchSmallMGemm(internal::ToDeviceRows(x),
                                                 internal::ToDeviceRows(weight),
                                                 internal::ToDeviceRows(out),
                                                 small_m_configs_[BucketOfRows(x.rows)],
                                                 internal::SmallMOrder::kChain, split_k_, stream),
                      "cuda::Linear: the small-M kernel");
  }
  if (UsesWgmmaKernel(x.rows)) {
    const internal::WgmmaGemmConfig& config = wgmma_configs_[BucketOfRows(x.rows)];
    const size_t need = internal::WgmmaGemmWorkspaceBytes(x.rows, shape_.out_features, config);
    if (need > context_->workspace_bytes()) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cuda::Linear: M = ", x.rows, " needs ", need,
          " bytes of workspace for the wgmma kernel; reserve it with "
          "LinearContext::ReserveWorkspace before capture, or split the batch"));
    }
    return CudaStatus(internal::LaunchWgmmaGemm(internal::ToDeviceRows(x),
                                                internal::ToDeviceRows(weight),
                                                internal::ToDeviceRows(out), split_k_, config,
                                                context_->workspace(),
                                                context_->workspace_bytes(), stream),
                      "cuda::Linear: the wgmma kernel");
  }
  const MatmulProblem problem = ProblemFor(x.rows, x.row_stride, weight.row_stride, out.row_stride);
  const AlgoChoice* choice = nullptr;
  AlgoChoice heuristic;
  if (options_.mode == LinearMode::kBatchInvariant) {
    choice = &buckets_[BucketOfRows(x.rows)];
    // Split-K partials grow with M: past the last bucket's 4096 rows, check the need.
    if (x.rows > BucketUpperRows(kLinearBuckets - 1) && split_k_ > 1) {
      LOCKSTEP_ASSIGN_OR_RETURN(AlgoChoice need,
                                internal::CheckAlgo(context_->handle(), problem, choice->algo));
      if (need.workspace_bytes > context_->workspace_bytes()) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "cuda::Linear: M = ", x.rows, " needs ", need.workspace_bytes,
            " bytes of split-K workspace; reserve it with LinearContext::ReserveWorkspace "
            "before capture, or split the batch"));
      }
    }
  } else {
    LOCKSTEP_ASSIGN_OR_RETURN(heuristic, HeuristicChoice(x.rows));
    choice = &heuristic;
  }
  return internal::EnqueueMatmul(context_->handle(), problem, choice->algo, x.data, weight.data,
                                 bias, out.data, context_->workspace(), context_->workspace_bytes(),
                                 stream);
}

absl::StatusOr<std::string> LinearPlan::DescribeConfigFor(int64_t rows) const {
  if (options_.mode == LinearMode::kBatchInvariant) return DescribeBucket(BucketOfRows(rows));
  LOCKSTEP_ASSIGN_OR_RETURN(AlgoChoice choice, HeuristicChoice(rows));
  return internal::DescribeAlgoConfig(choice.config);
}

std::string LinearPlan::DescribeBucket(int bucket) const {
  switch (own_kernels_[bucket]) {
    case OwnKernel::kSmallM: {
      const internal::SmallMConfig& c = small_m_configs_[bucket];
      return absl::StrCat("own mma.sync kernel (", split_k_,
                          " K slice(s), each one fp32 chain in k16 steps) warps ", c.warps,
                          " row tiles ", c.row_tiles, " stages ", c.stages);
    }
    case OwnKernel::kWgmma: {
      const internal::WgmmaGemmConfig& c = wgmma_configs_[bucket];
      return absl::StrCat("own wgmma kernel (", split_k_, " K slice(s)) tile ", c.block_m, "x",
                          c.block_n, " stages ", c.stages, " CTAs per tile ", c.slice_groups);
    }
    case OwnKernel::kNone:
      break;
  }
  return internal::DescribeAlgoConfig(buckets_[bucket].config);
}

std::string LinearPlan::Describe() const {
  std::string out = absl::StrCat("weight (", shape_.out_features, ", ", shape_.in_features, ") ",
                                 std::string(DTypeName(shape_.dtype)),
                                 shape_.has_bias ? " +bias" : "", ", align ", alignment_bytes_);
  if (options_.mode == LinearMode::kHeuristic)
    return absl::StrCat(out, ": cuBLASLt heuristic per M");
  absl::StrAppend(&out, ": split-K ", split_k_, ", ", config_source_, "\n");
  for (int b = 0; b < kLinearBuckets; ++b) {
    absl::StrAppend(&out, "  M <= ", BucketUpperRows(b), b == kLinearBuckets - 1 ? "+" : "", ": ",
                    DescribeBucket(b), "\n");
  }
  return out;
}

}  // namespace lockstep::cuda
