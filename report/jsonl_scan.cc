#include "report/jsonl_scan.h"

#include <charconv>
#include <string>

#include "absl/status/status.h"

namespace lockstep::report {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

}  // namespace

absl::StatusOr<std::optional<int64_t>> ScanTopLevelInteger(std::string_view line,
                                                           std::string_view key) {
  size_t i = SkipSpace(line, 0);
  if (i >= line.size() || line[i] != '{') return absl::InvalidArgumentError("not a JSON object");
  std::string stack;  // open brackets, innermost last
  std::optional<int64_t> found;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      const size_t begin = ++i;
      while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
      if (i >= line.size()) return absl::InvalidArgumentError("unterminated string");
      const std::string_view text = line.substr(begin, i - begin);
      const size_t colon = SkipSpace(line, i + 1);
      if (stack == "{" && text == key && colon < line.size() && line[colon] == ':') {
        const size_t value = SkipSpace(line, colon + 1);
        int64_t v = 0;
        const auto [end, ec] = std::from_chars(line.data() + value, line.data() + line.size(), v);
        const size_t after = SkipSpace(line, static_cast<size_t>(end - line.data()));
        if (ec == std::errc() && after < line.size() &&
            (line[after] == ',' || line[after] == '}')) {
          found = v;
        }
      }
    } else if (c == '{' || c == '[') {
      stack.push_back(c);
    } else if (c == '}' || c == ']') {
      if (stack.empty() || stack.back() != (c == '}' ? '{' : '[')) {
        return absl::InvalidArgumentError(std::string("unbalanced '") + c + "'");
      }
      stack.pop_back();
      if (stack.empty()) {
        if (SkipSpace(line, i + 1) != line.size()) {
          return absl::InvalidArgumentError("text after the closing '}'");
        }
        return found;
      }
    }
  }
  return absl::InvalidArgumentError("truncated: the object is not closed");
}

}  // namespace lockstep::report
