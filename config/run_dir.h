// Run directories: every config-driven command writes its outputs into one
// directory per run (RUN/config.toml first). A fresh run gets a new, empty
// directory; a resumed run gets back the directory it wrote before.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace lockstep::config {

// Returns the run directory, created and empty. With `out_dir` empty it is
// runs/<command>-<YYYYmmdd-HHMMSS> (UTC; a "-2", "-3" ... suffix if that name is
// taken; spaces in `command` become '-'). An existing non-empty `out_dir` is
// refused unless `resume`, in which case it must be an existing run directory
// (one holding config.toml) and is returned as it is.
absl::StatusOr<std::string> PrepareRunDir(const std::string& command, const std::string& out_dir,
                                          bool resume = false);

}  // namespace lockstep::config
