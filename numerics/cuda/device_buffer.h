// RAII device memory: one cudaMalloc'd allocation, freed when the owner goes
// away. Moves transfer ownership; copies are explicit (CopyFromHost/ToHost).
// No numerics here: bytes go in and come out unchanged.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "numerics/tensor.h"

namespace lockstep::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // cudaMalloc of `bytes` (a zero-byte buffer holds no allocation).
  static absl::StatusOr<DeviceBuffer> Allocate(size_t bytes);
  // Allocates and copies `bytes` from host memory (synchronous).
  static absl::StatusOr<DeviceBuffer> FromHost(const void* data, size_t bytes);
  // A device copy of a host tensor's bytes.
  static absl::StatusOr<DeviceBuffer> FromTensor(const Tensor& tensor);

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t size() const { return size_; }
  template <typename T>
  T* as() {
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* as() const {
    return static_cast<const T*>(data_);
  }

  // Synchronous copies of `bytes` between this buffer (from its start) and host memory.
  absl::Status CopyFromHost(const void* src, size_t bytes);
  absl::Status CopyToHost(void* dst, size_t bytes) const;
  // Writes `byte` to every byte (synchronous); tests poison outputs with it.
  absl::Status Fill(unsigned char byte);

  // The buffer as a dense (rows, cols) matrix of `dtype` in device memory.
  // Fails if the buffer is too small.
  absl::StatusOr<MatrixView> AsMatrix(DType dtype, int64_t rows, int64_t cols);

 private:
  DeviceBuffer(void* data, size_t size) : data_(data), size_(size) {}
  void Release();

  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace lockstep::cuda
