// Reading and writing the safetensors format (8-byte little-endian header
// length, JSON header, raw little-endian tensor bytes). Reading validates
// everything before trusting it: header length within the file, known dtypes,
// offsets in range and non-overlapping, byte counts matching shapes. Errors
// name the file and the tensor.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "numerics/tensor.h"

namespace lockstep {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;  // "__metadata__"
};

absl::StatusOr<SafetensorsFile> ReadSafetensors(const std::string& path);

// Writes atomically (temp file + rename), tensors in the given order.
absl::Status WriteSafetensors(const std::string& path,
                              const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

}  // namespace lockstep
