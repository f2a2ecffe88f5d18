// A fast structural pass over one JSON Lines record, for files too large to parse
// in full: checks that the line is one object with balanced brackets, terminated
// strings and nothing after it, and finds one top-level integer field. Not a full
// validator (literals and numbers are not checked); lines that matter are parsed
// for real afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"

namespace lockstep::report {

// The integer value of top-level `key` (nullopt when absent or not an integer);
// an error saying what is wrong when the line is not structurally one object.
absl::StatusOr<std::optional<int64_t>> ScanTopLevelInteger(std::string_view line,
                                                           std::string_view key);

}  // namespace lockstep::report
