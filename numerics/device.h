// Which memory a view or buffer lives in. Host code never dereferences a kCuda pointer;
// backends check the tag of every argument (numerics/backend_checks.h) before an op runs.
#pragma once

#include <cstdint>
#include <string_view>

namespace lockstep {

enum class Device : uint8_t { kCpu, kCuda };

inline std::string_view DeviceName(Device device) {
  return device == Device::kCpu ? "cpu" : "cuda";
}

}  // namespace lockstep
