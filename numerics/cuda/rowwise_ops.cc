// Shape checks for the row-wise CUDA ops, then one kernel launch each
// (kernels in rowwise_kernels.cu).
#include "numerics/cuda/rowwise_ops.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/status_macros.h"

namespace lockstep::cuda {

using internal::CheckLayout;
using internal::ToDeviceRows;

absl::Status RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps, MatrixView out,
                     cudaStream_t stream) {
  const int64_t h = x.cols;
  if (weight.rows != 1 || weight.cols != h || out.rows != x.rows || out.cols != h) {
    return absl::InvalidArgumentError(
        absl::StrCat("cuda::RmsNorm: shape mismatch: x is (", x.rows, ", ", h, "), weight is (",
                     weight.rows, ", ", weight.cols, "), out is (", out.rows, ", ", out.cols,
                     "); need weight (1, ", h, ") and out like x"));
  }
  if (!(eps >= 0.0f)) return absl::InvalidArgumentError("cuda::RmsNorm: eps must be >= 0");
  LOCKSTEP_RETURN_IF_ERROR(CheckLayout("cuda::RmsNorm", "x", x));
  LOCKSTEP_RETURN_IF_ERROR(CheckLayout("cuda::RmsNorm", "weight", weight));
  LOCKSTEP_RETURN_IF_ERROR(CheckLayout("cuda::RmsNorm", "out", out));
  if (x.rows == 0 || h == 0) return absl::OkStatus();
  return CudaStatus(internal::LaunchRmsNorm(ToDeviceRows(x), ToDeviceRows(weight), eps,
                                            ToDeviceRows(out), stream),
                    "cuda::RmsNorm kernel launch");
}

absl::Status AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out,
                         cudaStream_t stream) {
  if (a.rows != b.rows || a.cols != b.cols || out.rows != a.rows || out.cols != a.cols) {
    return absl::InvalidArgumentError(absl::StrCat("cuda::AddResidual: shape mismatch: (", a.rows,
                                                   ", ", a.cols, "), (", b.rows, ", ", b.cols,
                                                   ") -> (", out.rows, ", ", out.cols, ")"));
  }
  LOCKSTEP_RETURN_IF_ERROR(CheckLayout("cuda::AddResidual", "a", a));
  LOCKSTEP_RETURN_IF_ERROR(CheckLayout("cuda::AddResidual", "b", b));
  LOCKSTEP_RETURN_IF_ERROR(CheckLayout("cuda::AddResidual", "out", out));
  if (a.rows == 0 || a.cols == 0) return absl::OkStatus();
  return CudaStatus(
      internal::LaunchAddResidual(ToDeviceRows(a), ToDeviceRows(b), ToDeviceRows(out), stream),
      "cuda::AddResidual kernel launch");
}

absl::Status Embedding(ConstMatrixView table, const int32_t* ids, MatrixView out, int32_t* bad_row,
                       cudaStream_t stream) {
  if (out.cols != table.cols) {
    return absl::InvalidArgumentError(absl::StrCat("cuda::Embedding: out has ", out.cols,
                                                   " columns; the table has ", table.cols));
  }
  LOCKSTEP_RETURN_IF_ERROR(CheckLayout("cuda::Embedding", "table", table));
  LOCKSTEP_RETURN_IF_ERROR(CheckLayout("cuda::Embedding", "out", out));
  if (out.rows == 0) return absl::OkStatus();
  if (ids == nullptr) return absl::InvalidArgumentError("cuda::Embedding: ids is null");
  return CudaStatus(
      internal::LaunchEmbedding(ToDeviceRows(table), ids, ToDeviceRows(out), bad_row, stream),
      "cuda::Embedding kernel launch");
}

absl::StatusOr<DeviceRopeTable> DeviceRopeTable::Upload(const cpu::RopeTable& table) {
  const size_t entries =
      static_cast<size_t>(table.max_positions()) * static_cast<size_t>(table.head_dim() / 2);
  DeviceRopeTable out;
  out.head_dim_ = table.head_dim();
  out.max_positions_ = table.max_positions();
  if (entries == 0) return out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.cos_,
                            DeviceBuffer::FromHost(table.cos_row(0), entries * sizeof(float)));
  LOCKSTEP_ASSIGN_OR_RETURN(out.sin_,
                            DeviceBuffer::FromHost(table.sin_row(0), entries * sizeof(float)));
  return out;
}

absl::Status ApplyRope(MatrixView x, int num_heads, const int32_t* positions,
                       const DeviceRopeTable& table, int32_t* bad_row, cudaStream_t stream) {
  const int d = table.head_dim();
  if (num_heads <= 0 || x.cols != int64_t{num_heads} * d) {
    return absl::InvalidArgumentError(absl::StrCat("cuda::ApplyRope: x has ", x.cols,
                                                   " columns; expected num_heads (", num_heads,
                                                   ") * head_dim (", d, ")"));
  }
  LOCKSTEP_RETURN_IF_ERROR(CheckLayout("cuda::ApplyRope", "x", x));
  if (x.rows == 0) return absl::OkStatus();
  if (positions == nullptr) return absl::InvalidArgumentError("cuda::ApplyRope: positions is null");
  if (table.max_positions() == 0) {
    return absl::InvalidArgumentError(
        "cuda::ApplyRope: the rope table has no positions; build it with max_positions > 0");
  }
  return CudaStatus(internal::LaunchRope(ToDeviceRows(x), num_heads, d, positions, table.cos(),
                                         table.sin(), table.max_positions(), bad_row, stream),
                    "cuda::ApplyRope kernel launch");
}

}  // namespace lockstep::cuda
