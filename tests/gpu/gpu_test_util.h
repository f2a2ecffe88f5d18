// Test-only helpers shared by the GPU op tests (logprob, attention, GEMMs): the
// skip-without-GPU fixture, host<->device copies of tensors and vectors, random device
// matrices and their 16-bit patterns, and ulp distances for the stated CPU-vs-GPU
// tolerances. A failed status becomes an exception, which GoogleTest reports.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "numerics/cuda/cuda_status.h"
#include "numerics/cuda/device_buffer.h"
#include "numerics/cuda/device_info.h"
#include "numerics/cuda/device_rows.h"
#include "numerics/cuda/kernel_launch.h"
#include "numerics/tensor.h"

namespace lockstep::cuda::gpu_testing {

inline void Check(const absl::Status& status) {
  if (!status.ok()) throw std::runtime_error(status.ToString());
}
template <typename T>
T Unwrap(absl::StatusOr<T> value) {
  Check(value.status());
  return *std::move(value);
}
// Waits for all queued work and surfaces any kernel fault.
inline void Sync() { Check(CudaStatus(cudaDeviceSynchronize(), "cudaDeviceSynchronize")); }

// Skips (or, with LOCKSTEP_REQUIRE_GPU set, fails) when the host has no GPU.
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::StatusOr<DeviceInfo> device = CurrentDevice();
    if (device.ok()) return;
    if (std::getenv("LOCKSTEP_REQUIRE_GPU") != nullptr) {
      FAIL() << "LOCKSTEP_REQUIRE_GPU is set but no GPU is usable: " << device.status();
    }
    GTEST_SKIP() << "no usable CUDA device (" << device.status()
                 << "); GPU tests run on GPU hosts through scripts/gpu-check.sh";
  }
};

// A dense host tensor on the device, with its view.
struct DeviceMatrix {
  DeviceBuffer buffer;
  MatrixView view;
  ConstMatrixView Rows(int64_t begin, int64_t count) const {
    return ConstMatrixView{view.dtype,
                           static_cast<const std::byte*>(view.data) +
                               begin * view.row_stride * static_cast<int64_t>(DTypeSize(view.dtype)),
                           count, view.cols, view.row_stride};
  }
};

inline DeviceMatrix UploadTensor(const Tensor& dense) {
  DeviceMatrix out;
  out.buffer = Unwrap(DeviceBuffer::FromTensor(dense));
  out.view = MatrixView{dense.dtype(), out.buffer.data(), dense.shape()[0], dense.shape()[1],
                        dense.shape()[1]};
  return out;
}

// A device matrix of reproducible uniform values (internal::LaunchFillUniform with `seed`).
inline DeviceMatrix DeviceRandom(DType dtype, int64_t rows, int64_t cols, uint64_t seed) {
  DeviceMatrix m;
  m.buffer = Unwrap(DeviceBuffer::Allocate(rows * cols * DTypeSize(dtype)));
  Check(CudaStatus(internal::LaunchFillUniform(internal::ToStorageType(dtype), m.buffer.data(),
                                               rows * cols, seed, nullptr),
                   "fill"));
  m.view = MatrixView{dtype, m.buffer.data(), rows, cols, cols};
  return m;
}

// The 16-bit patterns of a dense fp16/bf16 device matrix, after all queued work.
inline std::vector<uint16_t> DeviceBits16(MatrixView m) {
  Sync();
  std::vector<uint16_t> out(m.rows * m.cols);
  Check(CudaStatus(cudaMemcpy(out.data(), m.data, out.size() * 2, cudaMemcpyDeviceToHost),
                   "cudaMemcpy"));
  return out;
}

// How many of the first `count` patterns differ (count < 0: all of both, a length
// difference counting as that many differing elements).
inline int64_t CountDifferingBits16(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b,
                                    int64_t count = -1) {
  const bool whole = count < 0;
  if (whole) count = static_cast<int64_t>(std::min(a.size(), b.size()));
  int64_t n = 0;
  for (int64_t i = 0; i < count; ++i) n += a[i] != b[i] ? 1 : 0;
  if (whole) {
    n += static_cast<int64_t>(a.size() > b.size() ? a.size() - b.size() : b.size() - a.size());
  }
  return n;
}

// A device matrix filled with 0xFF bytes (NaN in every dtype), so unwritten elements show.
inline DeviceMatrix PoisonedDevice(DType dtype, int64_t rows, int64_t cols) {
  DeviceMatrix out;
  out.buffer = Unwrap(DeviceBuffer::Allocate(std::max<int64_t>(1, rows * cols) * DTypeSize(dtype)));
  Check(out.buffer.Fill(0xFF));
  out.view = MatrixView{dtype, out.buffer.data(), rows, cols, cols};
  return out;
}

inline Tensor DownloadTensor(MatrixView device) {
  Sync();
  Tensor host(device.dtype, {device.rows, device.cols});
  Check(CudaStatus(cudaMemcpy(host.data(), device.data, host.nbytes(), cudaMemcpyDeviceToHost),
                   "cudaMemcpy device->host"));
  return host;
}

template <typename T>
DeviceBuffer UploadVector(const std::vector<T>& values) {
  if (values.empty()) return Unwrap(DeviceBuffer::Allocate(sizeof(T)));
  return Unwrap(DeviceBuffer::FromHost(values.data(), values.size() * sizeof(T)));
}

template <typename T>
std::vector<T> DownloadVector(const DeviceBuffer& buffer, size_t count) {
  Sync();
  std::vector<T> out(count);
  if (count > 0) Check(buffer.CopyToHost(out.data(), count * sizeof(T)));
  return out;
}

// Distance in units in the last place between two finite floats of the same dtype
// (bit patterns mapped to a monotone integer line).
inline int64_t OrderedBits(uint32_t bits, int width) {
  const uint32_t sign = 1u << (width - 1);
  return (bits & sign) ? -static_cast<int64_t>(bits & (sign - 1)) : static_cast<int64_t>(bits);
}
inline int64_t UlpDistance(float a, float b) {
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return std::llabs(OrderedBits(x, 32) - OrderedBits(y, 32));
}
// Element i of two tensors of one dtype, compared in that dtype's ulps.
inline int64_t UlpDistanceAt(const Tensor& a, const Tensor& b, int64_t i) {
  if (a.dtype() == DType::kF32) return UlpDistance(a.GetFloat(i), b.GetFloat(i));
  uint16_t x, y;
  std::memcpy(&x, static_cast<const std::byte*>(a.data()) + 2 * i, 2);
  std::memcpy(&y, static_cast<const std::byte*>(b.data()) + 2 * i, 2);
  return std::llabs(OrderedBits(x, 16) - OrderedBits(y, 16));
}

}  // namespace lockstep::cuda::gpu_testing
