// The parts of Backend every implementation shares: uploads built on Allocate + Copy*, the
// numerics-mode names jobs write in their configs, and "no graphs" for eager-only backends.
#include "numerics/backend.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"

namespace lockstep {

std::string_view NumericsModeName(NumericsMode mode) {
  return mode == NumericsMode::kBatchInvariant ? "invariant" : "fast";
}

absl::StatusOr<NumericsMode> ParseNumericsMode(std::string_view name) {
  if (name == "invariant") return NumericsMode::kBatchInvariant;
  if (name == "fast") return NumericsMode::kFast;
  return absl::InvalidArgumentError(absl::StrCat(
      "numerics mode \"", std::string(name),
      "\" is not known; use \"invariant\" (bitwise rollout == trainer) or \"fast\" "
      "(library defaults, not batch-invariant)"));
}

absl::StatusOr<DeviceMemoryInfo> Backend::MemoryInfo() const {
  return absl::UnimplementedError(absl::StrCat(
      "MemoryInfo: the backend ", Describe(),
      " cannot report its free memory; size the KV cache by block count instead"));
}

absl::Status Backend::BeginCapture() {
  return absl::UnimplementedError(absl::StrCat(
      "BeginCapture: the backend ", Describe(),
      " cannot capture graphs (check SupportsGraphs() and run the ops eagerly)"));
}

absl::StatusOr<std::unique_ptr<CapturedGraph>> Backend::EndCapture() {
  return absl::UnimplementedError(
      absl::StrCat("EndCapture: the backend ", Describe(), " cannot capture graphs"));
}

absl::Status Backend::Replay(const CapturedGraph&) {
  return absl::UnimplementedError(
      absl::StrCat("Replay: the backend ", Describe(), " cannot replay graphs"));
}

absl::StatusOr<DeviceTensor> Backend::Upload(ConstMatrixView host) {
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceTensor out, Allocate(host.dtype, host.rows, host.cols));
  LOCKSTEP_RETURN_IF_ERROR(CopyFromHost(host, out.view()));
  return out;
}

absl::StatusOr<DeviceInt32s> Backend::UploadInt32(std::span<const int32_t> host) {
  LOCKSTEP_ASSIGN_OR_RETURN(DeviceInt32s out, AllocateInt32(static_cast<int64_t>(host.size())));
  LOCKSTEP_RETURN_IF_ERROR(CopyInt32FromHost(host, out.mutable_view()));
  return out;
}

}  // namespace lockstep
