// The config layer of every `lockstep` command that takes CONFIG: a TOML file,
// `--set dotted.key=value` overrides, typed getters, and a strict check that no
// key in the file or in a --set went unread. Every error is one line naming the
// file (with line:column) or the --set, the key, and what to do about it.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lockstep::config {

// A loaded config. Keys are dotted paths of bare TOML keys ("optim.lr"); keys
// that themselves contain a '.' cannot be addressed and are rejected by
// ApplyOverride. Getters record the keys they were asked for, so a Config is
// not safe to read from two threads at once.
class Config {
 public:
  // Reads and parses `path`. A missing file names the path; a syntax error
  // names path:line:column.
  static absl::StatusOr<Config> LoadFile(const std::string& path);
  // LoadFile, then ApplyOverride for each assignment, in order.
  static absl::StatusOr<Config> LoadFileWithOverrides(const std::string& path,
                                                      const std::vector<std::string>& overrides);
  // Parses `toml`; `source_name` stands for the file in error messages.
  static absl::StatusOr<Config> FromString(std::string_view toml, const std::string& source_name);

  // Applies "a.b.c=value". The value is parsed as a TOML value (integer, float,
  // boolean, quoted string, array, inline table); anything else that does not
  // start with a quote or bracket is taken as a bare-word string (bf16,
  // data/train.jsonl, tcp://host:5555). Missing tables on the path are created.
  // A value may change the key's type (the getter then reports it), but a
  // table is only replaced by an inline table, never by a scalar.
  absl::Status ApplyOverride(const std::string& assignment);

  // Typed getters. A missing key returns `default_value`, or without one is an
  // error telling how to set it. A present key of the wrong type is an error
  // naming the key, the expected and the actual type. Every key asked for,
  // present or not, becomes known to CheckNoUnknownKeys.
  absl::StatusOr<int64_t> GetInt(const std::string& key,
                                 std::optional<int64_t> default_value = std::nullopt) const;
  // Accepts integers too (lr = 1 reads as 1.0).
  absl::StatusOr<double> GetDouble(const std::string& key,
                                   std::optional<double> default_value = std::nullopt) const;
  absl::StatusOr<bool> GetBool(const std::string& key,
                               std::optional<bool> default_value = std::nullopt) const;
  absl::StatusOr<std::string> GetString(
      const std::string& key, std::optional<std::string> default_value = std::nullopt) const;
  // An array whose every element is a string.
  absl::StatusOr<std::vector<std::string>> GetStringList(
      const std::string& key,
      std::optional<std::vector<std::string>> default_value = std::nullopt) const;

  // Bounded getters: as above, and the value must lie in [min, max]
  // ("train.steps = -3: must be >= 1").
  absl::StatusOr<int64_t> GetIntInRange(const std::string& key, int64_t min,
                                        int64_t max = std::numeric_limits<int64_t>::max(),
                                        std::optional<int64_t> default_value = std::nullopt) const;
  absl::StatusOr<double> GetDoubleInRange(const std::string& key, double min,
                                          double max = std::numeric_limits<double>::infinity(),
                                          std::optional<double> default_value = std::nullopt) const;
  // A string that must be one of `choices` ("model.dtype = "bf61": must be one
  // of bf16, fp16").
  absl::StatusOr<std::string> GetStringOneOf(
      const std::string& key, const std::vector<std::string>& choices,
      std::optional<std::string> default_value = std::nullopt) const;

  // Whether `key` is present (as any type, tables included). Does not mark it known.
  bool Has(const std::string& key) const;

  // Errors on every key present in the config (from the file or a --set) that
  // no getter asked for, naming each and suggesting the closest known key.
  // Call it after the command has read all of its settings.
  absl::Status CheckNoUnknownKeys() const;

  // The resolved config (file plus overrides) as TOML; FromString(ToToml())
  // gives back an equal config. Written to RUN/config.toml.
  std::string ToToml() const;

  const std::string& source_name() const { return source_name_; }

 private:
  Config(toml::table root, std::string source_name)
      : root_(std::move(root)), source_name_(std::move(source_name)) {}

  // The node at `key`, or nullptr when absent. An error when the path runs
  // through a non-table ("optim.lr.x" with optim.lr a float).
  absl::StatusOr<const toml::node*> Find(const std::string& key) const;
  // Marks `key` known and returns its node (nullptr when absent).
  absl::StatusOr<const toml::node*> Lookup(const std::string& key) const;
  // Where `key` got its value: "file.toml:3:7" (the value's position) for a key
  // from the file, "--set a.b" for one set (itself or a table above it) by --set.
  std::string Where(const std::string& key) const;
  // As Where, for a position already known (e.g. of the key's name).
  std::string WhereAt(const std::string& key, const toml::source_region& source) const;
  // Lookup, then the default or `convert(node)` (an std::optional<T>; empty:
  // the wrong type, reported as not `expected`).
  template <typename T, typename Convert>
  absl::StatusOr<T> GetTyped(const std::string& key, std::optional<T> default_value,
                             std::string_view expected, Convert convert) const;
  absl::Status MissingError(const std::string& key) const;
  absl::Status TypeError(const std::string& key, const toml::node& node,
                         std::string_view expected) const;

  toml::table root_;
  std::string source_name_;
  // Keys set (or whose ancestor table was set) by ApplyOverride.
  std::set<std::string> overridden_;
  // Keys asked for by a getter.
  mutable std::set<std::string> known_;
};

}  // namespace lockstep::config
