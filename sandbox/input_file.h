// Bounded reading of a run's inputs from files (program source, stdin,
// expected stdout) for the unsandboxed CLI: only regular files, never more
// than the configured cap, so `--stdin /dev/zero` or a directory given as the
// source is a clear usage error instead of unbounded memory or a bogus run.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sandbox/runner.h"

namespace lockstep::sandbox {

// The whole content of the regular file at `path`, or an error naming `role`
// (e.g. "program file"), the path and the fix when it is missing, not a
// regular file (directory, FIFO, device, socket), or larger than max_bytes.
absl::StatusOr<std::string> ReadInputFile(const std::string& path, int64_t max_bytes,
                                          const std::string& role);

// What `lockstep sandbox run` needs before it runs anything: reads the source
// (and, when their paths are non-empty, stdin and the expected stdout) into
// `request` within `limits`, then checks request->limits (ValidateLimits).
// Every error is a usage error: nothing has run.
absl::Status LoadRunRequestFiles(const std::string& source_path, const std::string& stdin_path,
                                 const std::string& expected_path, const InputLimits& limits,
                                 RunRequest* request);

}  // namespace lockstep::sandbox
