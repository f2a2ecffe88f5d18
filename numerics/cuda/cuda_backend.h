// The CUDA backend: Backend over numerics/cuda's kernels and cuBLASLt plans, on one GPU and
// one stream. kBatchInvariant: every op is batch-invariant bit for bit (GEMMs with split-K
// fixed per weight shape, self-checked); kFast: cuBLASLt's heuristic per M (not invariant).
// Not bitwise equal to the CPU backend where tensor cores or CUDA's expf/logf run (tests
// state each op's tolerance); bitwise equal on the row-wise ops.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "numerics/backend.h"

namespace lockstep::cuda {

// FailedPrecondition naming the cause when no GPU is visible.
absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(const BackendOptions& options);

}  // namespace lockstep::cuda
