// cudaMalloc / cudaFree ownership and synchronous host <-> device copies.
#include "numerics/cuda/device_buffer.h"

#include <cuda_runtime_api.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "numerics/cuda/cuda_status.h"

namespace lockstep::cuda {

DeviceBuffer::~DeviceBuffer() { Release(); }

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void DeviceBuffer::Release() {
  // A failing cudaFree (only possible after a sticky context error) has no one
  // to report to from a destructor; the next CUDA call returns that error.
  if (data_ != nullptr) cudaFree(data_);
  data_ = nullptr;
  size_ = 0;
}

absl::StatusOr<DeviceBuffer> DeviceBuffer::Allocate(size_t bytes) {
  if (bytes == 0) return DeviceBuffer();
  void* data = nullptr;
  const cudaError_t error = cudaMalloc(&data, bytes);
  if (error != cudaSuccess) return CudaStatus(error, absl::StrCat("cudaMalloc(", bytes, " bytes)"));
  return DeviceBuffer(data, bytes);
}

absl::StatusOr<DeviceBuffer> DeviceBuffer::FromHost(const void* data, size_t bytes) {
  absl::StatusOr<DeviceBuffer> buffer = Allocate(bytes);
  if (!buffer.ok()) return buffer.status();
  if (absl::Status s = buffer->CopyFromHost(data, bytes); !s.ok()) return s;
  return buffer;
}

absl::StatusOr<DeviceBuffer> DeviceBuffer::FromTensor(const Tensor& tensor) {
  return FromHost(tensor.data(), tensor.nbytes());
}

absl::Status DeviceBuffer::CopyFromHost(const void* src, size_t bytes) {
  if (bytes > size_) {
    return absl::OutOfRangeError(
        absl::StrCat("DeviceBuffer::CopyFromHost: ", bytes, " bytes into a buffer of ", size_));
  }
  if (bytes == 0) return absl::OkStatus();
  return CudaStatus(cudaMemcpy(data_, src, bytes, cudaMemcpyHostToDevice),
                    "cudaMemcpy host->device");
}

absl::Status DeviceBuffer::CopyToHost(void* dst, size_t bytes) const {
  if (bytes > size_) {
    return absl::OutOfRangeError(
        absl::StrCat("DeviceBuffer::CopyToHost: ", bytes, " bytes from a buffer of ", size_));
  }
  if (bytes == 0) return absl::OkStatus();
  return CudaStatus(cudaMemcpy(dst, data_, bytes, cudaMemcpyDeviceToHost),
                    "cudaMemcpy device->host");
}

absl::Status DeviceBuffer::Fill(unsigned char byte) {
  if (size_ == 0) return absl::OkStatus();
  LOCKSTEP_RETURN_IF_CUDA_ERROR(cudaMemset(data_, byte, size_));
  return CudaStatus(cudaDeviceSynchronize(), "cudaDeviceSynchronize after cudaMemset");
}

absl::StatusOr<MatrixView> DeviceBuffer::AsMatrix(DType dtype, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0 ||
      static_cast<size_t>(rows) * static_cast<size_t>(cols) * DTypeSize(dtype) > size_) {
    return absl::OutOfRangeError(absl::StrCat("DeviceBuffer::AsMatrix: (", rows, ", ", cols,
                                              ") of ", std::string(DTypeName(dtype)),
                                              " does not fit in ", size_, " bytes"));
  }
  return MatrixView{dtype, data_, rows, cols, cols};
}

}  // namespace lockstep::cuda
