// The CPU backend's free and total memory: MemAvailable and MemTotal from /proc/meminfo
// (what the kernel could hand out without swapping), falling back to sysconf's physical
// pages. The parser is separate so it is tested on fixed text.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "numerics/backend.h"

namespace lockstep::cpu {

// Reads "MemTotal:" and "MemAvailable:" (kB) from /proc/meminfo's text. InvalidArgument
// naming the missing field when either is absent or malformed.
absl::StatusOr<DeviceMemoryInfo> ParseProcMeminfo(std::string_view text);

// This host's memory now: /proc/meminfo, else sysconf (_SC_AVPHYS_PAGES, _SC_PHYS_PAGES).
absl::StatusOr<DeviceMemoryInfo> HostMemoryInfo();

}  // namespace lockstep::cpu
