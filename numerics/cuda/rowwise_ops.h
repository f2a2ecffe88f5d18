// Row-wise ops on the CUDA backend: RMSNorm, residual add, embedding gather and
// RoPE. Bitwise equal to the CPU backend (numerics/cpu/) for every dtype, and
// batch-invariant: each row is computed alone, in an order fixed by its length.
// Views point to DEVICE memory; work is enqueued on `stream` (not synchronised).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "numerics/cpu/rope.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/tensor.h"

namespace lockstep::cuda {

// x, out: (M, H); weight: (1, H), any dtypes. out may alias x. Same bits as cpu::RmsNorm.
absl::Status RmsNorm(ConstMatrixView x, ConstMatrixView weight, float eps, MatrixView out,
                     cudaStream_t stream);

// out = round(a + b) element-wise. out may alias a or b. Same bits as cpu::AddResidual.
absl::Status AddResidual(ConstMatrixView a, ConstMatrixView b, MatrixView out, cudaStream_t stream);

// out[t, :] = table[ids[t], :], ids a device array of out.rows entries. Ids are
// checked on the device, without a host round trip (decode steps stay graph-
// capturable): a row whose id is outside [0, table.rows) is filled with NaN and,
// if `bad_row` (device int32) is not null, *bad_row = min(*bad_row, t). Callers
// set *bad_row to INT32_MAX first and read it when they next synchronise.
absl::Status Embedding(ConstMatrixView table, const int32_t* ids, MatrixView out, int32_t* bad_row,
                       cudaStream_t stream);

// The CPU RopeTable's fp32 cos/sin factors copied to the device, so both
// backends rotate with identical factors.
class DeviceRopeTable {
 public:
  static absl::StatusOr<DeviceRopeTable> Upload(const cpu::RopeTable& table);
  int head_dim() const { return head_dim_; }
  int max_positions() const { return max_positions_; }
  const float* cos() const { return cos_.as<float>(); }  // (max_positions, head_dim/2)
  const float* sin() const { return sin_.as<float>(); }

 private:
  int head_dim_ = 0;
  int max_positions_ = 0;
  DeviceBuffer cos_;
  DeviceBuffer sin_;
};

// x: (T, num_heads*head_dim), rotated in place; positions: device array of T
// entries. A position outside the table makes its row NaN and lowers *bad_row
// as Embedding does. Same bits as cpu::ApplyRope.
absl::Status ApplyRope(MatrixView x, int num_heads, const int32_t* positions,
                       const DeviceRopeTable& table, int32_t* bad_row, cudaStream_t stream);

}  // namespace lockstep::cuda
