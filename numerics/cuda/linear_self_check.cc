// LinearPlan::SelfCheck: the plan checked on the device before use. (1) Batch invariance,
// bit for bit, on random data of the plan's shape: a row computed alone (M = 1) must equal
// the same row computed inside a batch, for one batch size in every M bucket. (2) Exactness
// on small integers, where every partial sum is exact in fp32 whatever the order, so the
// output must be the exact sum rounded once: catches configurations that are consistent
// but wrong.
#include <array>
#include <cstring>
#include <vector>

#include "numerics/cuda/counter_hash.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/cuda/linear.h"
#include "numerics/status_macros.h"

namespace lockstep::cuda {
namespace {

// One batch size per bucket (bucket b holds M in (2^(b-1), 2^b]): odd sizes where they fit.
constexpr std::array<int64_t, kLinearBuckets> kCheckRows = {1,  2,   3,   7,    13,   19,  50,
                                                            99, 256, 500, 1000, 2000, 4096};
// Batches start at different rows of X (offsets below this), so a row's position differs too.
constexpr int64_t kMaxOffset = 61;
// Seeds of the random (invariance) and small-integer (exactness) inputs.
constexpr uint64_t kSeedX = 11, kSeedW = 12, kSeedBias = 13;
constexpr uint64_t kIntSeedX = 21, kIntSeedW = 22, kIntSeedBias = 23;
// |x|, |w| <= 2 and |bias| <= 8: |sum| <= 4K + 8, exact in fp32 for K < 4 million.
constexpr int kIntRange = 2, kIntBiasRange = 8;
// Output columns compared with the exact value (evenly spaced, plus the last).
constexpr int64_t kExactColumns = 32;

absl::Status Fill(DeviceBuffer& buffer, DType dtype, int64_t elements, uint64_t seed,
                  int integer_range) {
  const internal::StorageType type = internal::ToStorageType(dtype);
  const cudaError_t error =
      integer_range > 0 ? internal::LaunchFillSmallIntegers(type, buffer.data(), elements, seed,
                                                            integer_range, nullptr)
                        : internal::LaunchFillUniform(type, buffer.data(), elements, seed, nullptr);
  return CudaStatus(error, "LinearPlan::SelfCheck fill");
}

absl::Status CopyRow(ConstMatrixView m, int64_t row, std::vector<unsigned char>& out) {
  out.resize(m.cols * DTypeSize(m.dtype));
  LOCKSTEP_RETURN_IF_ERROR(CudaStatus(cudaDeviceSynchronize(), "LinearPlan::SelfCheck"));
  return CudaStatus(cudaMemcpy(out.data(), m.RowPtr(row), out.size(), cudaMemcpyDeviceToHost),
                    "LinearPlan::SelfCheck copy");
}

// The exact y[row, col] for the small-integer inputs, rounded once to `dtype`, as its bytes.
uint16_t ExactOutputBits(DType dtype, int64_t k, int64_t row, int64_t col, bool has_bias) {
  int64_t sum = 0;
  for (int64_t i = 0; i < k; ++i) {
    sum += int64_t{internal::SmallIntegerAt(kIntSeedX, row * k + i, kIntRange)} *
           internal::SmallIntegerAt(kIntSeedW, col * k + i, kIntRange);
  }
  if (has_bias) sum += internal::SmallIntegerAt(kIntSeedBias, col, kIntBiasRange);
  uint16_t bits = 0;
  StoreFromFloat(&bits, dtype, 0, static_cast<float>(sum));
  return bits;
}

}  // namespace

absl::StatusOr<LinearPlan::SelfCheckResult> LinearPlan::SelfCheck() const {
  const int64_t n = shape_.out_features, k = shape_.in_features;
  const DType dtype = shape_.dtype;
  const size_t row_bytes = static_cast<size_t>(n) * DTypeSize(dtype);
  const int64_t max_rows = kCheckRows.back();
  const int64_t x_rows = max_rows + kMaxOffset;
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer x, DeviceBuffer::Allocate(x_rows * k * DTypeSize(dtype)));
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer w, DeviceBuffer::Allocate(row_bytes * k));
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer bias, DeviceBuffer::Allocate(row_bytes));
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer y, DeviceBuffer::Allocate(max_rows * row_bytes));
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceBuffer y_alone, DeviceBuffer::Allocate(row_bytes));
  const ConstMatrixView x_all(dtype, x.data(), x_rows, k, k);
  const ConstMatrixView weight(dtype, w.data(), n, k, k);
  const void* bias_ptr = shape_.has_bias ? bias.data() : nullptr;
  std::vector<unsigned char> in_batch, alone;
  SelfCheckResult result;

  // (1) Invariance on random data.
  LOCKSTEP_RETURN_IF_ERROR(Fill(x, dtype, x_rows * k, kSeedX, 0));
  LOCKSTEP_RETURN_IF_ERROR(Fill(w, dtype, n * k, kSeedW, 0));
  LOCKSTEP_RETURN_IF_ERROR(Fill(bias, dtype, n, kSeedBias, 0));
  for (int b = 1; b < kLinearBuckets; ++b) {
    const int64_t rows = kCheckRows[b];
    const int64_t offset = (17 * b) % kMaxOffset;
    const MatrixView y_batch{dtype, y.data(), rows, n, n};
    const MatrixView y_row{dtype, y_alone.data(), 1, n, n};
    LOCKSTEP_RETURN_IF_ERROR(Run(x_all.RowRange(offset, rows), weight, bias_ptr, y_batch, nullptr));
    for (int64_t position : {int64_t{0}, rows / 2, rows - 1}) {
      LOCKSTEP_RETURN_IF_ERROR(
          Run(x_all.RowRange(offset + position, 1), weight, bias_ptr, y_row, nullptr));
      LOCKSTEP_RETURN_IF_ERROR(CopyRow(y_batch, position, in_batch));
      LOCKSTEP_RETURN_IF_ERROR(CopyRow(y_row, 0, alone));
      if (in_batch != alone) {
        result.differing_buckets.push_back(b);
        break;
      }
    }
  }

  // (2) Exactness on small integers: the first and last row of each bucket's batch.
  LOCKSTEP_RETURN_IF_ERROR(Fill(x, dtype, x_rows * k, kIntSeedX, kIntRange));
  LOCKSTEP_RETURN_IF_ERROR(Fill(w, dtype, n * k, kIntSeedW, kIntRange));
  LOCKSTEP_RETURN_IF_ERROR(Fill(bias, dtype, n, kIntSeedBias, kIntBiasRange));
  for (int b = 0; b < kLinearBuckets; ++b) {
    const int64_t rows = kCheckRows[b];
    const int64_t offset = (29 * b) % kMaxOffset;
    const MatrixView y_batch{dtype, y.data(), rows, n, n};
    LOCKSTEP_RETURN_IF_ERROR(Run(x_all.RowRange(offset, rows), weight, bias_ptr, y_batch, nullptr));
    bool exact = true;
    for (int64_t position : {int64_t{0}, rows - 1}) {
      LOCKSTEP_RETURN_IF_ERROR(CopyRow(y_batch, position, in_batch));
      for (int64_t j = 0; j <= kExactColumns && exact; ++j) {
        const int64_t col = j == kExactColumns ? n - 1 : j * n / kExactColumns;
        uint16_t got = 0;
        std::memcpy(&got, in_batch.data() + col * sizeof(uint16_t), sizeof(got));
        exact = got == ExactOutputBits(dtype, k, offset + position, col, shape_.has_bias);
      }
    }
    if (!exact) result.inexact_buckets.push_back(b);
  }
  return result;
}

}  // namespace lockstep::cuda
