// Owning buffers on one backend's device: DeviceTensor (a dense row-major (rows, cols)
// matrix of a storage dtype) and DeviceInt32s (an int32 array), plus non-owning int32
// views. Made by a Backend (Allocate*, Upload*); each frees its memory with the deleter
// of the backend that made it, so buffers may outlive nothing but that backend. Move-only:
// a copy is an explicit Backend::Copy. Views carry the device tag, so an op handed host
// memory on the CUDA backend (or the reverse) fails its checks instead of faulting.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "numerics/device.h"
#include "numerics/dtype.h"
#include "numerics/tensor.h"

namespace lockstep {

using DeviceDeleter = void (*)(void*);

struct Int32View {
  const int32_t* data = nullptr;
  int64_t size = 0;
  Device device = Device::kCpu;

  // Host memory only (the CPU backend's arrays, or host spans handed to it).
  std::span<const int32_t> host_span() const {
    return std::span<const int32_t>(data, static_cast<size_t>(size));
  }
  Int32View Slice(int64_t begin, int64_t count) const {
    return Int32View{data + begin, count, device};
  }
};

struct MutableInt32View {
  int32_t* data = nullptr;
  int64_t size = 0;
  Device device = Device::kCpu;
  operator Int32View() const { return Int32View{data, size, device}; }  // NOLINT
};

class DeviceTensor {
 public:
  DeviceTensor() = default;
  // Takes ownership of `data` (freed with `deleter`): dense (rows, cols) of `dtype` on `device`.
  DeviceTensor(Device device, DType dtype, int64_t rows, int64_t cols, void* data,
               DeviceDeleter deleter)
      : storage_(data, deleter), device_(device), dtype_(dtype), rows_(rows), cols_(cols) {}

  Device device() const { return device_; }
  DType dtype() const { return dtype_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t numel() const { return rows_ * cols_; }
  size_t nbytes() const { return static_cast<size_t>(numel()) * DTypeSize(dtype_); }
  bool empty() const { return numel() == 0; }

  MatrixView view() { return MatrixView{dtype_, storage_.get(), rows_, cols_, cols_, device_}; }
  ConstMatrixView view() const {
    return ConstMatrixView(dtype_, storage_.get(), rows_, cols_, cols_, device_);
  }
  MatrixView Rows(int64_t begin, int64_t count) { return view().RowRange(begin, count); }
  ConstMatrixView Rows(int64_t begin, int64_t count) const {
    return view().RowRange(begin, count);
  }

 private:
  std::unique_ptr<void, DeviceDeleter> storage_{nullptr, nullptr};
  Device device_ = Device::kCpu;
  DType dtype_ = DType::kF32;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
};

class DeviceInt32s {
 public:
  DeviceInt32s() = default;
  DeviceInt32s(Device device, int64_t size, int32_t* data, DeviceDeleter deleter)
      : storage_(data, deleter), device_(device), size_(size) {}

  Device device() const { return device_; }
  int64_t size() const { return size_; }
  Int32View view() const {
    return Int32View{static_cast<const int32_t*>(storage_.get()), size_, device_};
  }
  MutableInt32View mutable_view() {
    return MutableInt32View{static_cast<int32_t*>(storage_.get()), size_, device_};
  }

 private:
  std::unique_ptr<void, DeviceDeleter> storage_{nullptr, nullptr};
  Device device_ = Device::kCpu;
  int64_t size_ = 0;
};

}  // namespace lockstep
