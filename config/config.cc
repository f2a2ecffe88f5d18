// Config (config/config.h): TOML loading with file:line:col errors, --set
// overrides, typed and bounded getters, the unknown-key check, and ToToml.
#include "config/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "config/file_io.h"
#include "config/toml_writer.h"
#include "numerics/status_macros.h"

namespace lockstep::config {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> SplitKey(const std::string& key) { return absl::StrSplit(key, '.'); }

std::string Trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  const auto end = s.find_last_not_of(" \t");
  return std::string(s.substr(begin, end - begin + 1));
}

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// "an integer", "a string", ...
std::string WithArticle(const std::string& type_name) {
  const bool vowel = std::string_view("aeiou").find(type_name.front()) != std::string_view::npos;
  return absl::StrCat(vowel ? "an " : "a ", type_name);
}

// The value as TOML, shortened, for error messages ("100", "\"bf61\"").
std::string Preview(const toml::node& node) {
  if (node.is_table()) return "{...}";
  std::ostringstream out;
  out << toml::toml_formatter(node);
  std::string text = out.str();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

std::string FormatDouble(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// Damerau-Levenshtein distance (optimal string alignment): one typo, one
// transposition ("trian" for "train") each cost 1.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string LastSegment(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

// The known key closest to `key`: within a few edits, or else the one with the
// same last segment (a key put in the wrong table). Empty when nothing is close.
std::string ClosestKey(const std::string& key, const std::set<std::string>& known) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, key.size() / 4) + 1;
  for (const auto& candidate : known) {
    const size_t distance = EditDistance(key, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (!best.empty()) return best;
  for (const auto& candidate : known) {
    if (LastSegment(candidate) == LastSegment(key)) return candidate;
  }
  return "";
}

// The prefix "a.b" of "a.b.c" and "a" of "a.b": for each ancestor of `key`.
std::vector<std::string> Ancestors(const std::string& key) {
  std::vector<std::string> out;
  for (size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', dot + 1)) {
    out.push_back(key.substr(0, dot));
  }
  return out;
}

// A key present in the config, down to a value or an empty table, with where
// its name was written.
struct LeafKey {
  std::string name;  // dotted; a segment that is not a bare key is quoted
  toml::source_region source;
};

// Appends every leaf key under `table` (values and arrays; a table with no keys
// counts as a leaf, so an empty misspelled [section] shows too).
void CollectLeafKeys(const toml::table& table, const std::string& prefix,
                     std::vector<LeafKey>* keys) {
  for (const auto& [k, node] : table) {
    const std::string name =
        prefix.empty() ? FormatKey(k.str()) : absl::StrCat(prefix, ".", FormatKey(k.str()));
    const toml::table* sub = node.as_table();
    if (sub != nullptr && !sub->empty()) {
      CollectLeafKeys(*sub, name, keys);
    } else {
      keys->push_back({name, k.source()});
    }
  }
}

}  // namespace

absl::StatusOr<Config> Config::LoadFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("config file ", text.status().message(),
                                     "; pass the path of a TOML config"));
  }
  return FromString(*text, path);
}

absl::StatusOr<Config> Config::LoadFileWithOverrides(const std::string& path,
                                                     const std::vector<std::string>& overrides) {
  absl::StatusOr<Config> config = LoadFile(path);
  if (!config.ok()) return config.status();
  for (const auto& assignment : overrides) {
    if (absl::Status status = config->ApplyOverride(assignment); !status.ok()) return status;
  }
  return config;
}

absl::StatusOr<Config> Config::FromString(std::string_view toml, const std::string& source_name) {
  try {
    return Config(toml::parse(toml, std::string_view(source_name)), source_name);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_name, ":", e.source().begin.line, ":", e.source().begin.column,
                     ": invalid TOML: ", std::string(e.description())));
  }
}

absl::Status Config::ApplyOverride(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--set ", assignment, ": expected dotted.key=value (e.g. --set optim.lr=1e-6)"));
  }
  const std::string key = Trim(std::string_view(assignment).substr(0, eq));
  const std::string raw = Trim(std::string_view(assignment).substr(eq + 1));
  const std::vector<std::string> path = SplitKey(key);
  for (const auto& segment : path) {
    if (segment.empty() || !std::all_of(segment.begin(), segment.end(), IsBareKeyChar)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--set ", assignment, ": '", key,
          "' is not a dotted key; use names of letters, digits, '_' and '-' joined by '.'"));
    }
  }
  if (raw.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--set ", assignment, ": empty value; for an empty string write ", key, "='\"\"'"));
  }

  // The value as TOML; a bare word that TOML rejects is a string.
  toml::table parsed;
  try {
    const std::string doc = absl::StrCat("v = ", raw);
    parsed = toml::parse(std::string_view(doc), std::string_view("--set"));
  } catch (const toml::parse_error& e) {
    if (raw.front() == '"' || raw.front() == '\'' || raw.front() == '[' || raw.front() == '{') {
      return absl::InvalidArgumentError(absl::StrCat(
          "--set ", assignment, ": value is not valid TOML: ", std::string(e.description())));
    }
    parsed.insert_or_assign("v", raw);
  }
  if (parsed.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--set ", assignment, ": the value must be one TOML value on one line"));
  }
  const toml::node& value = *parsed.get("v");

  toml::table* table = &root_;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    toml::node* next = table->get(path[i]);
    if (next == nullptr) {
      next = table->insert_or_assign(path[i], toml::table{}).first->second.as_table();
    }
    if (!next->is_table()) {
      const std::string prefix = absl::StrJoin(path.begin(), path.begin() + i + 1, ".");
      return absl::InvalidArgumentError(absl::StrCat(
          "--set ", assignment, ": ", prefix, " is ", WithArticle(TypeName(*next)), " (",
          Where(prefix), "), not a table, so it has no key '", path[i + 1], "'"));
    }
    table = next->as_table();
  }
  const toml::node* old = table->get(path.back());
  if (old != nullptr && old->is_table() && !value.is_table()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--set ", assignment, ": ", key, " is a table; set one of its keys (--set ",
                     key, ".NAME=VALUE) or replace it whole with an inline table ({ ... })"));
  }
  value.visit([&](const auto& v) { table->insert_or_assign(path.back(), v); });

  // Forget earlier overrides below a replaced key: `key` now covers them.
  std::erase_if(overridden_, [&](const std::string& k) { return k.starts_with(key + "."); });
  overridden_.insert(key);
  return absl::OkStatus();
}

absl::StatusOr<const toml::node*> Config::Find(const std::string& key) const {
  const std::vector<std::string> path = SplitKey(key);
  const toml::table* table = &root_;
  for (size_t i = 0; i < path.size(); ++i) {
    const toml::node* node = table->get(path[i]);
    if (node == nullptr) return nullptr;
    if (i + 1 == path.size()) return node;
    if (!node->is_table()) {
      const std::string prefix = absl::StrJoin(path.begin(), path.begin() + i + 1, ".");
      return absl::InvalidArgumentError(absl::StrCat(Where(prefix), ": ", prefix, " is ",
                                                     WithArticle(TypeName(*node)), ", but ", key,
                                                     " needs it to be a table ([", prefix, "])"));
    }
    table = node->as_table();
  }
  return nullptr;
}

absl::StatusOr<const toml::node*> Config::Lookup(const std::string& key) const {
  known_.insert(key);
  return Find(key);
}

bool Config::Has(const std::string& key) const {
  absl::StatusOr<const toml::node*> node = Find(key);
  return node.ok() && *node != nullptr;
}

std::string Config::Where(const std::string& key) const {
  absl::StatusOr<const toml::node*> node = Find(key);
  return WhereAt(key, node.ok() && *node != nullptr ? (*node)->source() : toml::source_region{});
}

std::string Config::WhereAt(const std::string& key, const toml::source_region& source) const {
  if (overridden_.contains(key)) return absl::StrCat("--set ", key);
  for (const auto& ancestor : Ancestors(key)) {
    if (overridden_.contains(ancestor)) return absl::StrCat("--set ", ancestor);
  }
  if (source.begin.line > 0) {
    return absl::StrCat(source_name_, ":", source.begin.line, ":", source.begin.column);
  }
  return source_name_;
}

absl::Status Config::MissingError(const std::string& key) const {
  return absl::InvalidArgumentError(absl::StrCat(source_name_, ": missing required key ", key,
                                                 "; add it to the file or pass --set ", key,
                                                 "=VALUE"));
}

absl::Status Config::TypeError(const std::string& key, const toml::node& node,
                               std::string_view expected) const {
  return absl::InvalidArgumentError(
      absl::StrCat(Where(key), ": ", key, " must be ", std::string(expected), ", but is ",
                   WithArticle(TypeName(node)), " (", Preview(node), ")"));
}

// The getters' shared steps: mark `key` known, take the default (or name the
// fix) when it is absent, convert it, or report its actual type.
template <typename T, typename Convert>
absl::StatusOr<T> Config::GetTyped(const std::string& key, std::optional<T> default_value,
                                   std::string_view expected, Convert convert) const {
  LOCKSTEP_ASSIGN_OR_RETURN(const toml::node* node, Lookup(key));
  if (node == nullptr) {
    if (default_value) return *std::move(default_value);
    return MissingError(key);
  }
  if (std::optional<T> value = convert(*node)) return *std::move(value);
  return TypeError(key, *node, expected);
}

absl::StatusOr<int64_t> Config::GetInt(const std::string& key,
                                       std::optional<int64_t> default_value) const {
  return GetTyped(key, default_value, "an integer",
                  [](const toml::node& node) { return node.value_exact<int64_t>(); });
}

absl::StatusOr<double> Config::GetDouble(const std::string& key,
                                         std::optional<double> default_value) const {
  return GetTyped(key, default_value, "a number", [](const toml::node& node) {
    if (auto v = node.value_exact<double>()) return v;
    if (auto v = node.value_exact<int64_t>()) return std::optional<double>(static_cast<double>(*v));
    return std::optional<double>();
  });
}

absl::StatusOr<bool> Config::GetBool(const std::string& key,
                                     std::optional<bool> default_value) const {
  return GetTyped(key, default_value, "a boolean (true or false)",
                  [](const toml::node& node) { return node.value_exact<bool>(); });
}

absl::StatusOr<std::string> Config::GetString(const std::string& key,
                                              std::optional<std::string> default_value) const {
  return GetTyped(key, std::move(default_value), "a string",
                  [](const toml::node& node) { return node.value_exact<std::string>(); });
}

absl::StatusOr<std::vector<std::string>> Config::GetStringList(
    const std::string& key, std::optional<std::vector<std::string>> default_value) const {
  LOCKSTEP_ASSIGN_OR_RETURN(const toml::node* node, Lookup(key));
  if (node == nullptr) {
    if (default_value) return *std::move(default_value);
    return MissingError(key);
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) return TypeError(key, *node, "an array of strings");
  std::vector<std::string> out;
  out.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    auto v = (*array)[i].value_exact<std::string>();
    if (!v) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(key), ": ", key, "[", i, "] must be a string, but is ",
                       WithArticle(TypeName((*array)[i])), " (", Preview((*array)[i]), ")"));
    }
    out.push_back(*std::move(v));
  }
  return out;
}

absl::StatusOr<int64_t> Config::GetIntInRange(const std::string& key, int64_t min, int64_t max,
                                              std::optional<int64_t> default_value) const {
  absl::StatusOr<int64_t> v = GetInt(key, default_value);
  if (!v.ok() || (*v >= min && *v <= max)) return v;
  return absl::InvalidArgumentError(absl::StrCat(Where(key), ": ", key, " = ", *v, ": must be ",
                                                 *v < min ? ">= " : "<= ", *v < min ? min : max));
}

absl::StatusOr<double> Config::GetDoubleInRange(const std::string& key, double min, double max,
                                                std::optional<double> default_value) const {
  absl::StatusOr<double> v = GetDouble(key, default_value);
  if (!v.ok() || (*v >= min && *v <= max)) return v;
  // NaN fails both comparisons; it is reported against the lower bound.
  const bool below = !(*v >= min);
  return absl::InvalidArgumentError(
      absl::StrCat(Where(key), ": ", key, " = ", FormatDouble(*v), ": must be ",
                   below ? ">= " : "<= ", FormatDouble(below ? min : max)));
}

absl::StatusOr<std::string> Config::GetStringOneOf(const std::string& key,
                                                   const std::vector<std::string>& choices,
                                                   std::optional<std::string> default_value) const {
  absl::StatusOr<std::string> v = GetString(key, std::move(default_value));
  if (!v.ok() || std::find(choices.begin(), choices.end(), *v) != choices.end()) return v;
  return absl::InvalidArgumentError(absl::StrCat(
      Where(key), ": ", key, " = \"", *v, "\": must be one of ", absl::StrJoin(choices, ", ")));
}

absl::Status Config::CheckNoUnknownKeys() const {
  std::vector<LeafKey> keys;
  CollectLeafKeys(root_, "", &keys);
  std::vector<std::string> problems;
  for (const auto& [key, source] : keys) {
    if (known_.contains(key)) continue;
    // An empty table is fine when keys under it are read (all taking defaults).
    const bool prefix_of_known = std::any_of(
        known_.begin(), known_.end(), [&](const auto& k) { return k.starts_with(key + "."); });
    if (prefix_of_known) continue;
    std::string problem = absl::StrCat(WhereAt(key, source), ": unknown key ", key);
    if (const std::string closest = ClosestKey(key, known_); !closest.empty()) {
      absl::StrAppend(&problem, " (did you mean ", closest, "?)");
    }
    problems.push_back(std::move(problem));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(absl::StrJoin(problems, "; "),
                   problems.size() == 1 ? "; fix or remove it" : "; fix or remove them"));
}

std::string Config::ToToml() const {
  return WriteToml(root_);
}

}  // namespace lockstep::config
