// Makes the backend a job asks for. Its own small library (lockstep_backends) because it is
// the one place that sees every backend the build has: numerics/cuda depends on numerics,
// so numerics itself cannot name the CUDA backend.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "numerics/backend.h"

namespace lockstep {

// kCpu always works. kCuda fails with a clear error when this build has no CUDA backend
// (nvcc was not found at configure time) or no GPU is visible.
absl::StatusOr<std::unique_ptr<Backend>> CreateBackend(const BackendOptions& options);

}  // namespace lockstep
