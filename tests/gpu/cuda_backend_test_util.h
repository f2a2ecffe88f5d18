// Test-only fixture for the CUDA backend tests: a CudaBackend per test (skipped, or failed
// under LOCKSTEP_REQUIRE_GPU, without a GPU) and host <-> backend copies of tensors and int
// arrays through the Backend interface itself.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "numerics/backend.h"
#include "numerics/cuda/cuda_backend.h"
#include "numerics/tensor.h"
#include "tests/gpu/gpu_test_util.h"

namespace lockstep::cuda::gpu_testing {

class CudaBackendTest : public GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    backend_ = MakeBackend(NumericsMode::kBatchInvariant);
  }

  static std::unique_ptr<Backend> MakeBackend(NumericsMode mode) {
    BackendOptions options;
    options.device = Device::kCuda;
    options.mode = mode;
    return Unwrap(CreateCudaBackend(options));
  }

  DeviceTensor Up(const Tensor& host) { return Unwrap(backend_->Upload(host.AsMatrix())); }
  DeviceTensor Up(ConstMatrixView host) { return Unwrap(backend_->Upload(host)); }
  DeviceInt32s UpInts(const std::vector<int32_t>& values) {
    return Unwrap(backend_->UploadInt32(values));
  }
  // A device tensor of NaN (so elements an op forgets to write show).
  DeviceTensor Poisoned(DType dtype, int64_t rows, int64_t cols) {
    Tensor host(dtype, {rows, cols});
    for (int64_t i = 0; i < host.numel(); ++i) host.SetFloat(i, std::nanf(""));
    return Up(host);
  }
  Tensor Down(ConstMatrixView device) {
    Tensor host(device.dtype, {device.rows, device.cols});
    Check(backend_->CopyToHost(device, host.AsMatrix()));
    return host;
  }

  std::unique_ptr<Backend> backend_;
};

inline bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}
inline bool SameFloatBits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

}  // namespace lockstep::cuda::gpu_testing
