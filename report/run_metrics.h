// Reads a run's metrics.jsonl (one JSON object per training step) into columns:
// one vector per field name, NaN where a step lacks that field or its value is
// not a number. Malformed lines are errors naming file:line.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lockstep::report {

struct MetricsTable {
  std::vector<double> steps;  // the "step" field, or the 1-based line index without one
  // Field name -> one value per step. Nested objects are flattened with '/', so
  // {"reward": {"mean": 1}} and {"reward/mean": 1} both give "reward/mean".
  std::map<std::string, std::vector<double>> columns;

  size_t size() const { return steps.size(); }
  // nullptr when no step has the field.
  const std::vector<double>* Find(const std::string& name) const;
};

// Accumulates metrics lines in order. Blank lines are skipped.
class MetricsReader {
 public:
  // `source` names the file in errors ("RUN/metrics.jsonl:12: ...").
  explicit MetricsReader(std::string source) : source_(std::move(source)) {}
  absl::Status AddLine(std::string_view line, int64_t line_number);
  const MetricsTable& table() const { return table_; }

 private:
  std::string source_;
  MetricsTable table_;
};

absl::StatusOr<MetricsTable> ParseMetricsLines(const std::vector<std::string>& lines,
                                               const std::string& source);
// A missing file is an empty table (a run that has not finished a step yet).
absl::StatusOr<MetricsTable> ReadMetricsFile(const std::string& path);

// The finite values of a column, in step order; empty when no step has the field.
std::vector<double> FiniteValues(const MetricsTable& metrics, const std::string& name);

// Mean of `values` over the first and over the last fifth of them (at least one
// value each): how a run summarises a trend such as reward/mean. nullopt when empty.
struct FifthMeans {
  double first = 0.0, last = 0.0;
};
std::optional<FifthMeans> FirstAndLastFifthMeans(const std::vector<double>& values);

}  // namespace lockstep::report
