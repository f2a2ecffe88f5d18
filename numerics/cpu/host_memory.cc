// HostMemoryInfo (numerics/cpu/host_memory.h): /proc/meminfo's MemAvailable / MemTotal,
// or sysconf's page counts where /proc is not mounted.
#include "numerics/cpu/host_memory.h"

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace lockstep::cpu {
namespace {

// The value of `field` ("MemTotal") in bytes, from a line "MemTotal:   16318480 kB".
std::optional<int64_t> MeminfoBytes(std::string_view text, std::string_view field) {
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    if (!absl::ConsumePrefix(&line, absl::string_view(field.data(), field.size())) ||
        !absl::ConsumePrefix(&line, ":")) {
      continue;
    }
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumeSuffix(&line, "kB")) return std::nullopt;
    int64_t kib = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kib) || kib < 0) return std::nullopt;
    return kib * 1024;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<DeviceMemoryInfo> ParseProcMeminfo(std::string_view text) {
  const std::optional<int64_t> total = MeminfoBytes(text, "MemTotal");
  const std::optional<int64_t> available = MeminfoBytes(text, "MemAvailable");
  if (!total || !available) {
    return absl::InvalidArgumentError(absl::StrCat(
        "/proc/meminfo: no well-formed \"", total ? "MemAvailable" : "MemTotal",
        ": N kB\" line (Linux 3.14 or later reports both)"));
  }
  return DeviceMemoryInfo{*available, *total};
}

absl::StatusOr<DeviceMemoryInfo> HostMemoryInfo() {
  std::ifstream file("/proc/meminfo");
  if (file) {
    std::stringstream text;
    text << file.rdbuf();
    absl::StatusOr<DeviceMemoryInfo> parsed = ParseProcMeminfo(text.str());
    if (parsed.ok()) return parsed;
  }
  const long page = sysconf(_SC_PAGESIZE);
  const long available = sysconf(_SC_AVPHYS_PAGES);
  const long total = sysconf(_SC_PHYS_PAGES);
  if (page <= 0 || available < 0 || total <= 0) {
    return absl::UnavailableError(
        "host memory: neither /proc/meminfo nor sysconf(_SC_PHYS_PAGES) reports it; size the "
        "KV cache by block count instead");
  }
  return DeviceMemoryInfo{int64_t{available} * page, int64_t{total} * page};
}

}  // namespace lockstep::cpu
