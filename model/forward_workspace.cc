// ForwardWorkspace (model/forward_workspace.h): buffers that grow, never shrink, and count
// their device allocations.
#include "model/forward_workspace.h"

#include <algorithm>

#include "numerics/status_macros.h"

namespace lockstep {

absl::StatusOr<MatrixView> ForwardWorkspace::Get(Matrix which, DType dtype, int64_t rows,
                                                 int64_t cols) {
  DeviceTensor& buffer = matrices_[which];
  const int64_t needed = rows * cols;
  if (buffer.dtype() != dtype || buffer.numel() < needed || buffer.empty()) {
    // Kept as one row of elements: any (rows, cols) that fits reuses it.
    const int64_t capacity = std::max<int64_t>({needed, 2 * buffer.numel(), 1});
    LOCKSTEP_ASSIGN_OR_RETURN(buffer, backend_->Allocate(dtype, 1, capacity));
    ++allocations_;
    ++buffer_generation_;
  }
  return MatrixView{dtype, buffer.view().data, rows, cols, cols, buffer.device()};
}

absl::StatusOr<Int32View> ForwardWorkspace::Put(Indices which, std::span<const int32_t> host) {
  DeviceInt32s& buffer = indices_[which];
  const int64_t needed = static_cast<int64_t>(host.size());
  if (buffer.size() < needed || buffer.size() == 0) {
    LOCKSTEP_ASSIGN_OR_RETURN(
        buffer, backend_->AllocateInt32(std::max<int64_t>({needed, 2 * buffer.size(), 1})));
    ++allocations_;
  }
  MutableInt32View slice = buffer.mutable_view();
  slice.size = needed;
  LOCKSTEP_RETURN_IF_ERROR(backend_->CopyInt32FromHost(host, slice));
  return Int32View(slice);
}

absl::StatusOr<DeviceInt32s> ForwardWorkspace::AllocateIndices(int64_t size) {
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceInt32s buffer, backend_->AllocateInt32(size));
  ++allocations_;
  return buffer;
}

}  // namespace lockstep
