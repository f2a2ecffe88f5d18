#include "report/run_metrics.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace lockstep::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Numbers as themselves, null as NaN (the JSON writers' spelling of NaN), booleans
// as 0/1, the strings "nan"/"inf"/"-inf"/"infinity" as those values; else nothing.
bool NumericValue(const nlohmann::json& value, double* out) {
  if (value.is_number()) {
    *out = value.get<double>();
    return true;
  }
  if (value.is_null()) {
    *out = kNaN;
    return true;
  }
  if (value.is_boolean()) {
    *out = value.get<bool>() ? 1.0 : 0.0;
    return true;
  }
  if (value.is_string()) {
    const std::string s = absl::AsciiStrToLower(value.get<std::string>());
    if (s == "nan")
      *out = kNaN;
    else if (s == "inf" || s == "infinity" || s == "+inf")
      *out = std::numeric_limits<double>::infinity();
    else if (s == "-inf" || s == "-infinity")
      *out = -std::numeric_limits<double>::infinity();
    else
      return false;
    return true;
  }
  return false;
}

void Flatten(const nlohmann::json& object, const std::string& prefix,
             std::map<std::string, double>* out) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string name = prefix.empty() ? it.key() : absl::StrCat(prefix, "/", it.key());
    if (it->is_object()) {
      Flatten(*it, name, out);
      continue;
    }
    double v = 0;
    if (NumericValue(*it, &v)) (*out)[name] = v;
  }
}

}  // namespace

const std::vector<double>* MetricsTable::Find(const std::string& name) const {
  auto it = columns.find(name);
  return it == columns.end() ? nullptr : &it->second;
}

absl::Status MetricsReader::AddLine(std::string_view line, int64_t line_number) {
  if (line.find_first_not_of(" \t\r\n") == std::string_view::npos) return absl::OkStatus();
  const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", line_number,
                     ": not a JSON object (each line of metrics.jsonl must be "
                     "one JSON object per step)"));
  }
  std::map<std::string, double> fields;
  Flatten(parsed, "", &fields);
  const size_t row = table_.steps.size();
  auto step = fields.find("step");
  table_.steps.push_back(step != fields.end() && std::isfinite(step->second)
                             ? step->second
                             : static_cast<double>(row + 1));
  for (const auto& [name, value] : fields) {
    if (name == "step") continue;
    std::vector<double>& column = table_.columns[name];
    column.resize(row, kNaN);  // a field first seen at this step
    column.push_back(value);
  }
  for (auto& [name, column] : table_.columns) column.resize(row + 1, kNaN);
  return absl::OkStatus();
}

absl::StatusOr<MetricsTable> ParseMetricsLines(const std::vector<std::string>& lines,
                                               const std::string& source) {
  MetricsReader reader(source);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (absl::Status s = reader.AddLine(lines[i], static_cast<int64_t>(i + 1)); !s.ok()) return s;
  }
  return reader.table();
}

absl::StatusOr<MetricsTable> ReadMetricsFile(const std::string& path) {
  std::ifstream in(path);
  MetricsReader reader(path);
  if (!in) return reader.table();
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    absl::Status s = reader.AddLine(line, n);
    // A last line without its newline may be one the job is still writing: skipped.
    if (!s.ok() && !in.eof()) return s;
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return reader.table();
}

std::vector<double> FiniteValues(const MetricsTable& metrics, const std::string& name) {
  std::vector<double> out;
  if (const std::vector<double>* column = metrics.Find(name)) {
    for (double v : *column) {
      if (std::isfinite(v)) out.push_back(v);
    }
  }
  return out;
}

std::optional<FifthMeans> FirstAndLastFifthMeans(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  const size_t fifth = std::max<size_t>(1, values.size() / 5);
  FifthMeans means;
  for (size_t i = 0; i < fifth; ++i) {
    means.first += values[i];
    means.last += values[values.size() - fifth + i];
  }
  means.first /= static_cast<double>(fifth);
  means.last /= static_cast<double>(fifth);
  return means;
}

}  // namespace lockstep::report
