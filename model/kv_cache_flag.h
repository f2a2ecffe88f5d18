// The CLI11 check for a --kv-memory-fraction flag (lockstep-rollout, lockstep serve): the
// same rule and message as ValidateKvMemoryFraction, so a bad value is a usage error (exit 2).
// Header-only: the binaries that use it already link CLI11; the model library does not.
#pragma once

#include <cstdlib>
#include <string>

#include "CLI/CLI.hpp"
#include "model/kv_cache_sizing.h"

namespace lockstep {

inline CLI::Validator KvMemoryFractionValidator(const std::string& flag) {
  return CLI::Validator(
      [flag](std::string& text) -> std::string {
        char* end = nullptr;
        const double fraction = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) {
          return flag + " = " + text + ": not a number (e.g. 0.4)";
        }
        const absl::Status valid = ValidateKvMemoryFraction(fraction, flag);
        return valid.ok() ? std::string() : std::string(valid.message());
      },
      "FRACTION in (0, 1)");
}

}  // namespace lockstep
