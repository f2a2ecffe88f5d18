// RUN/report.html for a GRPO run: header (run name, config, summary row), one
// inline-SVG chart per metric family against step, a time-per-phase chart, and a
// table of a few sampled completions per step. Self-contained: no script, no
// external resource; every text from the run is HTML-escaped.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "report/rollout_samples.h"

namespace lockstep::report {

struct RunInfo {
  std::string run_name;
  std::string config_toml;  // as written in RUN/config.toml; empty when there is none
  std::string metrics_source = "metrics.jsonl";  // names the files in errors
  std::string rollouts_source = "rollouts.jsonl";
};

struct ReportOptions {
  SampleSelection samples;
};

// The page from the files' lines (each one JSON object); errors name source:line.
absl::StatusOr<std::string> RenderRunReport(const std::vector<std::string>& metrics_lines,
                                            const std::vector<std::string>& rollouts_lines,
                                            const RunInfo& info, const ReportOptions& options = {});

// Reads RUN/config.toml, RUN/metrics.jsonl and RUN/rollouts.jsonl (streamed; any may
// be missing) and writes RUN/report.html atomically (a temporary file, then rename).
absl::Status WriteRunReport(const std::string& run_dir, const ReportOptions& options = {});

}  // namespace lockstep::report
