// Internal to numerics/cuda: turns the public MatrixView (dtype + device
// pointer + shape) into the Abseil-free structs the .cu launchers take, and
// checks the layout facts every kernel relies on.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/tensor.h"

namespace lockstep::cuda::internal {

static_assert(static_cast<int>(StorageType::kF32) == static_cast<int>(DType::kF32));
static_assert(static_cast<int>(StorageType::kF16) == static_cast<int>(DType::kF16));
static_assert(static_cast<int>(StorageType::kBF16) == static_cast<int>(DType::kBF16));

inline StorageType ToStorageType(DType dtype) { return static_cast<StorageType>(dtype); }

inline DeviceRows ToDeviceRows(ConstMatrixView v) {
  return {ToStorageType(v.dtype), v.data, v.rows, v.cols, v.row_stride};
}
inline MutableDeviceRows ToDeviceRows(MatrixView v) {
  return {ToStorageType(v.dtype), v.data, v.rows, v.cols, v.row_stride};
}

// Rows within what one launch indexes (grid.x and the int32 bad-row word),
// row_stride >= cols, and a non-null pointer when there are elements.
inline absl::Status CheckLayout(const char* op, const char* name, ConstMatrixView v) {
  constexpr int64_t kMaxRows = 2147483647;
  if (v.rows < 0 || v.cols < 0 || v.rows > kMaxRows || v.row_stride < v.cols ||
      (v.rows > 0 && v.cols > 0 && v.data == nullptr)) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", name, " is (", v.rows, ", ", v.cols, ") with row_stride ",
                     v.row_stride, v.data == nullptr ? " and a null pointer" : "",
                     "; need 0 <= rows <= 2^31-1, row_stride >= cols and device memory"));
  }
  return absl::OkStatus();
}

}  // namespace lockstep::cuda::internal
