// Which CUDA device this process would run on, for logs, reports and tests
// that must skip (or fail) clearly on a host without a GPU. No numerics here.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace lockstep::cuda {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;       // "NVIDIA H100 80GB HBM3"
  int compute_major = 0;  // 9 for Hopper
  int compute_minor = 0;
  int multiprocessors = 0;
  size_t global_memory_bytes = 0;
  int driver_version = 0;   // cudaDriverGetVersion, e.g. 13000
  int runtime_version = 0;  // cudaRuntimeGetVersion
};

// The current device; FailedPrecondition when the host has no usable GPU
// (no device, or a driver older than the runtime lockstep was built with).
absl::StatusOr<DeviceInfo> CurrentDevice();

// One line: "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.6 GiB, driver 13.0, runtime 13.0)".
std::string DescribeDevice(const DeviceInfo& info);

}  // namespace lockstep::cuda
