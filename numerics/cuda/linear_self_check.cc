// LinearPlan::SelfCheck: the plan's batch invariance checked on the device, bit for bit, on
// random data of the plan's shape: a row computed alone (M = 1) must equal the same row
// computed inside a batch, for one batch size in every M bucket.
#include <array>
#include <cstring>
#include <vector>

#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/cuda/linear.h"
#include "numerics/status_macros.h"

namespace lockstep::cuda {
namespace {

// One batch size per bucket (bucket b holds M in (2^(b-1), 2^b]): odd sizes where they fit.
constexpr std::array<int64_t, kLinearBuckets> kCheckRows = {1,   2,   3,    7,    13,   19,  50,
                                                            99,  256, 500,  1000, 2000, 4096};
// Batches start at different rows of X (offsets below this), so a row's position differs too.
constexpr int64_t kMaxOffset = 61;

absl::StatusOr<DeviceBuffer> RandomDeviceMatrix(DType dtype, int64_t elements, uint64_t seed) {
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer buffer,
                            DeviceBuffer::Allocate(static_cast<size_t>(elements) * DTypeSize(dtype)));
  LOCKSTEP_RETURN_IF_ERROR(CudaStatus(
      internal::LaunchFillUniform(internal::ToStorageType(dtype),
                                  buffer.data(), elements, seed, nullptr),
      "LinearPlan::SelfCheck fill"));
  return buffer;
}

}  // namespace

absl::StatusOr<std::vector<int>> LinearPlan::SelfCheck() const {
  const int64_t n = shape_.out_features, k = shape_.in_features;
  const DType dtype = shape_.dtype;
  const size_t row_bytes = static_cast<size_t>(n) * DTypeSize(dtype);
  const int64_t max_rows = kCheckRows.back();
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer x, RandomDeviceMatrix(dtype, (max_rows + kMaxOffset) * k, 11));
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer w, RandomDeviceMatrix(dtype, n * k, 12));
  DeviceBuffer bias;
  if (shape_.has_bias) {
    LOCKSTEP_ASSIGN_OR_RETURN(bias, RandomDeviceMatrix(dtype, n, 13));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer y, DeviceBuffer::Allocate(max_rows * row_bytes));
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer y_alone, DeviceBuffer::Allocate(row_bytes));
  const ConstMatrixView x_all(dtype, x.data(), max_rows + kMaxOffset, k, k);
  const ConstMatrixView weight(dtype, w.data(), n, k, k);
  const void* bias_ptr = shape_.has_bias ? bias.data() : nullptr;
  std::vector<unsigned char> in_batch(row_bytes), alone(row_bytes);

  std::vector<int> failing;
  for (int b = 1; b < kLinearBuckets; ++b) {
    const int64_t rows = kCheckRows[b];
    const int64_t offset = (17 * b) % kMaxOffset;
    const MatrixView y_batch{dtype, y.data(), rows, n, n};
    LOCKSTEP_RETURN_IF_ERROR(Run(x_all.RowRange(offset, rows), weight, bias_ptr, y_batch, nullptr));
    for (int64_t position : {int64_t{0}, rows / 2, rows - 1}) {
      const MatrixView y_row{dtype, y_alone.data(), 1, n, n};
      LOCKSTEP_RETURN_IF_ERROR(
          Run(x_all.RowRange(offset + position, 1), weight, bias_ptr, y_row, nullptr));
      LOCKSTEP_RETURN_IF_ERROR(CudaStatus(cudaDeviceSynchronize(), "LinearPlan::SelfCheck"));
      LOCKSTEP_RETURN_IF_ERROR(CudaStatus(
          cudaMemcpy(in_batch.data(), y_batch.RowPtr(position), row_bytes, cudaMemcpyDeviceToHost),
          "LinearPlan::SelfCheck copy"));
      LOCKSTEP_RETURN_IF_ERROR(y_alone.CopyToHost(alone.data(), row_bytes));
      if (std::memcmp(in_batch.data(), alone.data(), row_bytes) != 0) {
        failing.push_back(b);
        break;
      }
    }
  }
  return failing;
}

}  // namespace lockstep::cuda
