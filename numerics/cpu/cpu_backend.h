// The CPU backend: Backend over the tested cpu:: functions (the bitwise reference every
// other backend is measured against). Memory is host memory tagged Device::kCpu; ops run
// synchronously on the calling thread plus numerics/cpu/parallel's workers.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "numerics/backend.h"
#include "numerics/cpu/linear.h"
#include "numerics/rope_table.h"

namespace lockstep::cpu {

absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackend(const BackendOptions& options);

// One CPU backend for the whole process (invariant mode), for callers that name no backend
// (Transformer::Create(weights), PagedKvCache(config, dtype, options)). Never destroyed.
Backend& ProcessCpuBackend();

// The cpu::LinearWeight behind a PreparedLinear the CPU backend made, for the backward ops
// (numerics/cpu/backward.h); nullptr when another backend made it.
const LinearWeight* AsCpuLinearWeight(const PreparedLinear& prepared);

// The host RopeTable behind a PreparedRope the CPU backend made; nullptr otherwise.
const RopeTable* AsCpuRopeTable(const PreparedRope& prepared);

}  // namespace lockstep::cpu
