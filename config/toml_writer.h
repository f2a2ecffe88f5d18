// Writes a TOML table as text that reads back to an equal table (RUN/config.toml).
// toml++'s own formatter prints every float with 17 digits
// (lr = 9.9999999999999995e-07); this writer prints the shortest text that
// reads back to the same double (lr = 1e-06), so config.toml stays readable and exact.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

namespace lockstep::config {

// The TOML document for `root`: its values, then one [section] per sub-table
// (inline tables stay inline).
std::string WriteToml(const toml::table& root);

// A character allowed in a bare TOML key: A-Z a-z 0-9 _ -.
bool IsBareKeyChar(char c);

// `key` as a TOML key: bare when it can be, quoted otherwise.
std::string FormatKey(std::string_view key);

}  // namespace lockstep::config
