// Shape checks for cuda::PagedAttention, then one launch (attention_kernels.cu).
#include "numerics/cuda/attention.h"

#include "absl/strings/str_cat.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/status_macros.h"

namespace lockstep::cuda {

static_assert(internal::kAttentionChunkKeys == cpu::kAttentionKeyChunk,
              "the GPU chunks keys exactly as the CPU reference");

absl::Status PagedAttention(ConstMatrixView q, const PagedKvPool& kv,
                            const PagedAttentionBatch& batch, const cpu::AttentionShape& shape,
                            MatrixView out, int32_t* bad_query, cudaStream_t stream) {
  constexpr const char* kOp = "cuda::PagedAttention";
  if (shape.num_heads <= 0 || shape.num_kv_heads <= 0 || shape.head_dim <= 0 ||
      shape.num_heads % shape.num_kv_heads != 0 ||
      shape.head_dim > internal::kMaxAttentionHeadDim) {
    return absl::InvalidArgumentError(absl::StrCat(
        kOp, ": bad shape: num_heads=", shape.num_heads, ", num_kv_heads=", shape.num_kv_heads,
        ", head_dim=", shape.head_dim, " (all > 0, num_heads divisible by num_kv_heads, head_dim <= ",
        internal::kMaxAttentionHeadDim, ")"));
  }
  const int64_t q_width = int64_t{shape.num_heads} * shape.head_dim;
  const int64_t kv_width = int64_t{shape.num_kv_heads} * shape.head_dim;
  if (q.cols != q_width || out.rows != q.rows || out.cols != q_width) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": q is (", q.rows, ", ", q.cols,
                                                   "), out (", out.rows, ", ", out.cols,
                                                   "); need both (queries, ", q_width, ")"));
  }
  if (q.dtype != kv.dtype || out.dtype != kv.dtype) {
    return absl::InvalidArgumentError(
        absl::StrCat(kOp, ": q, out and the KV pool must share one dtype; got ",
                     std::string(DTypeName(q.dtype)), ", ", std::string(DTypeName(out.dtype)),
                     ", ", std::string(DTypeName(kv.dtype))));
  }
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout(kOp, "q", q));
  LOCKSTEP_RETURN_IF_ERROR(internal::CheckLayout(kOp, "out", out));
  if (q.rows == 0) return absl::OkStatus();
  if (kv.k_pool == nullptr || kv.v_pool == nullptr || kv.row_stride < kv_width ||
      kv.block_size <= 0 || kv.num_pages <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        kOp, ": bad KV pool (need k_pool and v_pool set, row_stride ", kv.row_stride, " >= ",
        kv_width, ", block_size ", kv.block_size, " > 0, num_pages ", kv.num_pages, " > 0)"));
  }
  if (batch.num_sequences <= 0 || batch.query_indptr == nullptr ||
      batch.page_indptr == nullptr || batch.page_indices == nullptr ||
      batch.positions == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        kOp, ": the batch needs num_sequences > 0 (got ", batch.num_sequences,
        ") and device arrays query_indptr, page_indptr, page_indices and positions"));
  }
  const internal::DevicePagedPool pool{internal::ToStorageType(kv.dtype), kv.k_pool, kv.v_pool,
                                       kv.row_stride, kv.block_size, kv.num_pages};
  const internal::DeviceAttentionBatch device_batch{batch.num_sequences, batch.query_indptr,
                                                    batch.page_indptr, batch.page_indices,
                                                    batch.positions};
  const internal::AttentionDims dims{shape.num_heads, shape.num_kv_heads, shape.head_dim,
                                     shape.scale};
  return CudaStatus(
      internal::LaunchPagedAttention(internal::ToDeviceRows(q), pool, device_batch, dims,
                                     internal::ToDeviceRows(out), bad_query, stream),
      "cuda::PagedAttention kernel launch");
}

}  // namespace lockstep::cuda
