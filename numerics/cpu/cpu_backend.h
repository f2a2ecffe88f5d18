// The CPU backend: Backend over the tested cpu:: functions (the bitwise reference every
// other backend is measured against). Memory is host memory tagged Device::kCpu; ops run
// synchronously on the calling thread plus numerics/cpu/parallel's workers.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "numerics/backend.h"

namespace lockstep::cpu {

absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackend(const BackendOptions& options);

}  // namespace lockstep::cpu
