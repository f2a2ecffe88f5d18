// Whole-file reads and crash-safe whole-file writes for everything that reads
// configs or writes run directories. WriteFileAtomically never leaves a
// half-written file under the final name: readers see the old bytes or the new.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lockstep::config {

// The bytes of `path`. Errors name the path: NotFound ("PATH does not exist"),
// InvalidArgument (a directory), PermissionDenied (cannot be opened), DataLoss
// (the read failed). Callers prefix what the file is for ("config file ...").
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `text` to PATH.tmp, then renames it over `path` (atomic on POSIX).
absl::Status WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace lockstep::config
