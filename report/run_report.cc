#include "report/run_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "numerics/status_macros.h"
#include "report/html.h"
#include "report/run_charts.h"
#include "report/run_metrics.h"

namespace lockstep::report {
namespace {

constexpr const char* kPageStyle = R"(<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#222}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.meta{color:#555;margin-top:0}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ddd;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}
table.summary td{font-size:15px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:14px}
.charts figure{margin:0;border:1px solid #e4e4e4;border-radius:4px;padding:4px}
.charts svg{width:100%;height:auto;display:block}
.note{color:#666;font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:12px}
.text pre{max-height:22em;overflow:auto}
details pre{background:#f8f8f8;padding:8px;max-height:none}
table.samples{width:100%}
table.samples td.status{min-width:110px}
table.samples td.text{min-width:180px;max-width:460px}
.cut{color:#a00;font-style:italic}.num{text-align:right;white-space:nowrap}
</style>
)";

std::string Number(double v) {
  if (std::isnan(v)) return "—";
  return absl::StrFormat("%.4g", v);
}

double Mean(const std::vector<double>& v, size_t begin, size_t end) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += v[i];
  return end > begin ? sum / static_cast<double>(end - begin) : std::nan("");
}

std::string RewardTrend(const MetricsTable& metrics) {
  const std::vector<double> reward = FiniteValues(metrics, "reward/mean");
  if (reward.empty()) return "no reward/mean";
  if (reward.size() < 2) return Number(reward[0]);
  const FifthMeans fifths = *FirstAndLastFifthMeans(reward);
  const double first = fifths.first, last = fifths.last;
  return absl::StrCat(Number(first), " → ", Number(last), " (", last >= first ? "+" : "",
                      Number(last - first), ")");
}

std::string BitwiseAgreement(const MetricsTable& metrics) {
  const std::vector<double>* column = metrics.Find("mismatch/bitwise_equal_fraction");
  if (column == nullptr) return "not recorded";
  size_t steps = 0, fully_equal = 0;
  double sum = 0, worst = 1.0, worst_step = 0;
  for (size_t i = 0; i < column->size(); ++i) {
    const double v = (*column)[i];
    if (!std::isfinite(v)) continue;
    ++steps;
    sum += v;
    if (v == 1.0) ++fully_equal;
    if (v < worst) worst = v, worst_step = metrics.steps[i];
  }
  if (steps == 0) return "not recorded";
  std::string text = absl::StrCat(Number(100.0 * sum / steps), "% of tokens (mean over steps); ",
                                  fully_equal, " of ", steps, " steps fully equal");
  if (fully_equal < steps) {
    absl::StrAppend(&text, "; worst: step ", Number(worst_step), ", ", Number(100.0 * worst), "%");
  }
  return text;
}

std::string MeanOf(const MetricsTable& metrics, const std::string& name, const char* unit) {
  const std::vector<double> v = FiniteValues(metrics, name);
  if (v.empty()) return "—";
  return absl::StrCat(Number(Mean(v, 0, v.size())), unit);
}

std::string StepTime(const MetricsTable& metrics) {
  double total = 0;
  size_t steps = 0;
  for (size_t i = 0; i < metrics.size(); ++i) {
    double step_total = 0;
    bool any = false;
    for (const char* phase :
         {"timing/rollout_s", "timing/reward_s", "timing/train_s", "timing/weight_sync_s"}) {
      const std::vector<double>* column = metrics.Find(phase);
      if (column != nullptr && std::isfinite((*column)[i])) step_total += (*column)[i], any = true;
    }
    if (any) total += step_total, ++steps;
  }
  return steps == 0 ? "—" : absl::StrCat(Number(total / steps), " s");
}

std::string Header(const MetricsTable& metrics, const RolloutSampler& rollouts,
                   const RunInfo& info) {
  std::string html =
      absl::StrCat("<h1>GRPO run <code>", EscapeHtml(info.run_name), "</code></h1>\n");
  std::string steps = absl::StrCat(metrics.size(), " steps done");
  if (metrics.size() > 0) {
    const auto [lo, hi] = std::minmax_element(metrics.steps.begin(), metrics.steps.end());
    absl::StrAppend(&steps, " (step ", Number(*lo), "–", Number(*hi), ")");
  }
  absl::StrAppend(&html, "<p class=\"meta\">", steps, " · ", rollouts.samples_read(),
                  " samples over ", rollouts.steps_seen(), " steps in rollouts.jsonl</p>\n");
  absl::StrAppend(&html,
                  "<table class=\"summary\"><tr><th>reward/mean, first fifth → last fifth</th>",
                  "<th>bitwise rollout/trainer agreement</th><th>tokens/s (mean)</th>",
                  "<th>time per step (mean)</th></tr>\n<tr><td>", RewardTrend(metrics), "</td><td>",
                  BitwiseAgreement(metrics), "</td><td>", MeanOf(metrics, "perf/tokens_per_s", ""),
                  "</td><td>", StepTime(metrics), "</td></tr></table>\n");
  if (info.config_toml.empty()) {
    absl::StrAppend(&html, "<p class=\"note\">No config.toml in the run directory.</p>\n");
  } else {
    absl::StrAppend(&html, "<details><summary>config.toml (as resolved)</summary><pre>",
                    EscapeHtml(info.config_toml), "</pre></details>\n");
  }
  return html;
}

std::string Charts(const MetricsTable& metrics) {
  if (metrics.size() == 0) {
    return "<h2>Training curves</h2>\n<p class=\"note\">metrics.jsonl has no steps yet.</p>\n";
  }
  const RunCharts charts = RenderRunCharts(metrics);
  std::string html = "<h2>Training curves</h2>\n<div class=\"charts\">\n";
  for (const std::string& svg : charts.svgs) absl::StrAppend(&html, "<figure>", svg, "</figure>\n");
  html += "</div>\n";
  if (!charts.omitted.empty()) {
    absl::StrAppend(&html, "<p class=\"note\">Not plotted, no data in metrics.jsonl: ",
                    EscapeHtml(absl::StrJoin(charts.omitted, "; ")), ".</p>\n");
  }
  return html;
}

std::string Text(const std::string& text, size_t full_size) {
  std::string html = absl::StrCat("<pre>", EscapeHtml(text), "</pre>");
  if (full_size > text.size()) {
    absl::StrAppend(&html, "<div class=\"cut\">… cut: ", full_size - text.size(), " of ", full_size,
                    " bytes not shown</div>");
  }
  return html;
}

std::string OptionalInt(const std::optional<int64_t>& v) {
  return v ? absl::StrCat(*v) : std::string("—");
}

std::string SamplesTable(const RolloutSampler& rollouts, const SampleSelection& selection) {
  const std::vector<RolloutSample> samples = rollouts.Selected();
  std::string html = "<h2>Sampled completions</h2>\n";
  if (samples.empty()) {
    return html + "<p class=\"note\">rollouts.jsonl has no samples.</p>\n";
  }
  std::set<int64_t> steps;
  for (const RolloutSample& s : samples) steps.insert(s.step);
  absl::StrAppend(&html, "<p class=\"note\">Up to ", selection.per_step,
                  " samples (the first in rollouts.jsonl) for steps ", absl::StrJoin(steps, ", "),
                  "; ", rollouts.samples_read(), " samples in all.</p>\n");
  absl::StrAppend(&html, "<table class=\"samples\"><tr><th>step</th><th>request / sample</th>",
                  "<th>prompt</th><th>completion</th><th>reward</th><th>status</th>",
                  "<th>weight version (staleness)</th><th>finish</th></tr>\n");
  for (const RolloutSample& s : samples) {
    std::string status = EscapeHtml(s.reward_status);
    if (!s.reward_detail.empty()) {
      absl::StrAppend(&status, "<pre class=\"note\">", EscapeHtml(s.reward_detail), "</pre>");
    }
    absl::StrAppend(
        &html, "<tr><td class=\"num\">", s.step, "</td><td>", EscapeHtml(s.request_id), " / ",
        OptionalInt(s.sample_index), "</td><td class=\"text\">", Text(s.prompt, s.prompt_chars),
        "</td><td class=\"text\">", Text(s.completion, s.completion_chars),
        "</td><td class=\"num\">", Number(s.reward), "</td><td class=\"status\">", status,
        "</td><td class=\"num\">", OptionalInt(s.weight_version), " (", OptionalInt(s.staleness),
        ")</td><td>", EscapeHtml(s.finish_reason), "</td></tr>\n");
  }
  html += "</table>\n";
  return html;
}

std::vector<int64_t> DistinctSteps(const MetricsTable& metrics) {
  std::set<int64_t> steps;
  for (double s : metrics.steps) {
    if (std::isfinite(s)) steps.insert(static_cast<int64_t>(s));
  }
  return {steps.begin(), steps.end()};
}

std::string Page(const MetricsTable& metrics, const RolloutSampler& rollouts, const RunInfo& info,
                 const ReportOptions& options) {
  return absl::StrCat("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n",
                      "<title>lockstep GRPO run ", EscapeHtml(info.run_name), "</title>\n",
                      kPageStyle, "</head><body>\n", Header(metrics, rollouts, info),
                      Charts(metrics), SamplesTable(rollouts, options.samples),
                      "<p class=\"note\">Written by lockstep from metrics.jsonl and "
                      "rollouts.jsonl; no script, no external resource.</p>\n</body></html>\n");
}

absl::StatusOr<std::string> ReadTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string();
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path.string(), ": read failed"));
  return text.str();
}

absl::Status WriteFileAtomically(const std::filesystem::path& path, const std::string& content) {
  const std::filesystem::path temp =
      path.string() + absl::StrCat(".tmp.", static_cast<int64_t>(getpid()));
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      return absl::InternalError(absl::StrCat(temp.string(), ": write failed (disk full or the ",
                                              "run directory not writable?)"));
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return absl::InternalError(absl::StrCat("rename to ", path.string(), " failed"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RenderRunReport(const std::vector<std::string>& metrics_lines,
                                            const std::vector<std::string>& rollouts_lines,
                                            const RunInfo& info, const ReportOptions& options) {
  LOCKSTEP_ASSIGN_OR_RETURN(const MetricsTable metrics,
                            ParseMetricsLines(metrics_lines, info.metrics_source));
  RolloutSampler rollouts(options.samples, DistinctSteps(metrics), info.rollouts_source);
  for (size_t i = 0; i < rollouts_lines.size(); ++i) {
    LOCKSTEP_RETURN_IF_ERROR(rollouts.AddLine(rollouts_lines[i], static_cast<int64_t>(i + 1)));
  }
  return Page(metrics, rollouts, info, options);
}

absl::Status WriteRunReport(const std::string& run_dir, const ReportOptions& options) {
  const std::filesystem::path dir(run_dir);
  if (!std::filesystem::is_directory(dir)) {
    return absl::NotFoundError(absl::StrCat("report: run directory ", run_dir, " does not exist"));
  }
  RunInfo info;
  info.run_name = std::filesystem::absolute(dir).lexically_normal().filename().string();
  if (info.run_name.empty()) {  // "runs/x/" ends in an empty name
    info.run_name = std::filesystem::absolute(dir).lexically_normal().parent_path().filename();
  }
  LOCKSTEP_ASSIGN_OR_RETURN(info.config_toml, ReadTextFile(dir / "config.toml"));
  info.metrics_source = (dir / "metrics.jsonl").string();
  info.rollouts_source = (dir / "rollouts.jsonl").string();
  LOCKSTEP_ASSIGN_OR_RETURN(const MetricsTable metrics, ReadMetricsFile(info.metrics_source));
  LOCKSTEP_ASSIGN_OR_RETURN(
      const RolloutSampler rollouts,
      SampleRolloutsFile(info.rollouts_source, options.samples, DistinctSteps(metrics)));
  return WriteFileAtomically(dir / "report.html", Page(metrics, rollouts, info, options));
}

}  // namespace lockstep::report
