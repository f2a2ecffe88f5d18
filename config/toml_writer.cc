// The TOML writer behind Config::ToToml (config/toml_writer.h).
#include "config/toml_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace lockstep::config {

bool IsBareKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

std::string FormatKey(std::string_view key) {
  if (!key.empty() && std::all_of(key.begin(), key.end(), IsBareKeyChar)) {
    return std::string(key);
  }
  std::ostringstream out;
  out << toml::toml_formatter(toml::value<std::string>(std::string(key)));
  return out.str();
}

namespace {

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), v);
  std::string text(buffer, result.ptr);
  // "100" would read back as an integer.
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

void WriteValue(const toml::node& node, std::string* out) {
  if (const auto* v = node.as_floating_point()) {
    out->append(FormatFloat(v->get()));
  } else if (const auto* array = node.as_array()) {
    out->append("[");
    for (size_t i = 0; i < array->size(); ++i) {
      if (i > 0) out->append(", ");
      WriteValue((*array)[i], out);
    }
    out->append("]");
  } else if (const auto* table = node.as_table()) {
    out->append("{");
    bool first = true;
    for (const auto& [key, value] : *table) {
      out->append(first ? " " : ", ");
      first = false;
      absl::StrAppend(out, FormatKey(key.str()), " = ");
      WriteValue(value, out);
    }
    out->append(first ? "}" : " }");
  } else {
    std::ostringstream text;
    text << toml::toml_formatter(node);
    out->append(text.str());
  }
}

// Writes `table` (named `path`, "" for the root): its values first, then one
// [path.key] section per sub-table that was not written inline.
void WriteTable(const toml::table& table, const std::string& path, std::string* out) {
  bool has_values = false;
  for (const auto& [key, node] : table) {
    const toml::table* sub = node.as_table();
    if (sub != nullptr && !sub->is_inline()) continue;
    if (!has_values && !path.empty())
      absl::StrAppend(out, out->empty() ? "" : "\n", "[", path, "]\n");
    has_values = true;
    absl::StrAppend(out, FormatKey(key.str()), " = ");
    WriteValue(node, out);
    out->append("\n");
  }
  for (const auto& [key, node] : table) {
    const toml::table* sub = node.as_table();
    if (sub == nullptr || sub->is_inline()) continue;
    const std::string sub_path =
        path.empty() ? FormatKey(key.str()) : absl::StrCat(path, ".", FormatKey(key.str()));
    if (sub->empty()) {
      absl::StrAppend(out, out->empty() ? "" : "\n", "[", sub_path, "]\n");
    } else {
      WriteTable(*sub, sub_path, out);
    }
  }
}

}  // namespace

std::string WriteToml(const toml::table& root) {
  std::string out;
  WriteTable(root, "", &out);
  return out;
}

}  // namespace lockstep::config
