// Markdown and self-contained HTML/SVG renderings of a pass@k report
// (eval/passk_report.h).
#include "eval/passk_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace lockstep::eval {
namespace {

using rewards::CellReport;
using rewards::PassKReport;

// Problems a cell's pass@k averages over: those with a judged sample.
int64_t JudgedProblems(const CellReport& cell) {
  return static_cast<int64_t>(cell.problems.size() - cell.unjudged_problems.size());
}

// "3/20 problems": how much of the problem set a cell's numbers cover.
std::string ProblemCoverage(const CellReport& cell, int64_t problems_in_set) {
  return absl::StrCat(JudgedProblems(cell), "/", std::max<int64_t>(problems_in_set, 0),
                      " problems");
}

std::string CellText(const CellReport* cell, int64_t k, int64_t problems_in_set) {
  if (cell == nullptr) return "—";
  if (cell->curve.empty()) return "not judged";
  if (k > cell->max_k) return absl::StrCat("— (n=", cell->max_k, "<k)");
  const rewards::Interval& i = cell->curve[k - 1];
  return absl::StrCat(FormatRate(i.estimate), " [", FormatRate(i.low), ", ", FormatRate(i.high),
                      "] (", ProblemCoverage(*cell, problems_in_set), ")");
}

std::string StatusSummary(const CellReport& cell) {
  std::string out;
  for (const auto& [status, count] : cell.statuses) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", status, " ", count);
  }
  return out;
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f", v);
  return buffer;
}

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                   "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"};

// The largest k any cell has a curve for: every chart shares this x axis.
int64_t SharedMaxK(const PassKReport& report) {
  int64_t max_k = 1;
  for (const CellReport& c : report.cells) max_k = std::max<int64_t>(max_k, c.max_k);
  return max_k;
}

// One chart per language: pass@k vs k of every model, interval bands, the
// axes shared by all charts (x: k up to the largest n; y: pass@k in [0, 1]),
// and a dashed line at each tabulated k.
std::string Chart(const PassKReport& report, const std::string& language) {
  constexpr double kW = 560, kH = 320, kLeft = 62, kRight = 170, kTop = 30, kBottom = 40;
  const int64_t max_k = SharedMaxK(report);
  const bool log_x = max_k >= 8;
  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  auto x_of = [&](double k) {
    if (max_k <= 1) return kLeft + plot_w / 2;
    const double t = log_x ? std::log2(k) / std::log2(static_cast<double>(max_k))
                           : (k - 1) / static_cast<double>(max_k - 1);
    return kLeft + t * plot_w;
  };
  auto y_of = [&](double v) { return kTop + (1.0 - v) * plot_h; };
  std::string svg = absl::StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", kW, "\" height=\"", kH,
                                 "\" viewBox=\"0 0 ", kW, " ", kH, "\" role=\"img\">\n");
  absl::StrAppend(&svg, "<text x=\"", kLeft, "\" y=\"18\" font-size=\"14\" font-weight=\"bold\">",
                  Escape(language), ": pass@k vs k", log_x ? " (log scale)" : "", "</text>\n");
  // Axes, grid and their labels.
  for (int i = 0; i <= 4; ++i) {
    const double v = i / 4.0, y = y_of(v);
    absl::StrAppend(&svg, "<line x1=\"", Num(kLeft), "\" y1=\"", Num(y), "\" x2=\"", Num(kLeft + plot_w),
                    "\" y2=\"", Num(y), "\" stroke=\"#ddd\"/>\n<text x=\"", Num(kLeft - 6), "\" y=\"",
                    Num(y + 4), "\" font-size=\"11\" text-anchor=\"end\">", FormatRate(v), "</text>\n");
  }
  absl::StrAppend(&svg, "<text x=\"14\" y=\"", Num(kTop + plot_h / 2), "\" font-size=\"12\" "
                  "text-anchor=\"middle\" transform=\"rotate(-90 14 ", Num(kTop + plot_h / 2),
                  ")\">pass@k (mean over problems)</text>\n");
  std::vector<int64_t> ticks;
  if (log_x) {
    for (int64_t k = 1; k <= max_k; k *= 2) ticks.push_back(k);
    if (ticks.back() != max_k) ticks.push_back(max_k);
  } else {
    const int64_t step = std::max<int64_t>(1, max_k / 8);
    for (int64_t k = 1; k <= max_k; k += step) ticks.push_back(k);
    if (ticks.back() != max_k) ticks.push_back(max_k);
  }
  for (int64_t k : ticks) {
    const double x = x_of(static_cast<double>(k));
    absl::StrAppend(&svg, "<line x1=\"", Num(x), "\" y1=\"", Num(kTop + plot_h), "\" x2=\"", Num(x), "\" y2=\"",
                    Num(kTop + plot_h + 4), "\" stroke=\"#333\"/>\n<text x=\"", Num(x), "\" y=\"",
                    Num(kTop + plot_h + 16), "\" font-size=\"11\" text-anchor=\"middle\">", k, "</text>\n");
  }
  absl::StrAppend(&svg, "<rect x=\"", Num(kLeft), "\" y=\"", Num(kTop), "\" width=\"", Num(plot_w),
                  "\" height=\"", Num(plot_h), "\" fill=\"none\" stroke=\"#333\"/>\n");
  absl::StrAppend(&svg, "<text x=\"", Num(kLeft + plot_w / 2), "\" y=\"", Num(kH - 6),
                  "\" font-size=\"12\" text-anchor=\"middle\">k (samples per problem)</text>\n");
  // The ks of the tables, so a reader finds the tabulated points on the curve.
  for (int64_t k : report.ks) {
    if (k > max_k) continue;
    const double x = x_of(static_cast<double>(k));
    absl::StrAppend(&svg, "<line class=\"evaluated-k\" x1=\"", Num(x), "\" y1=\"", Num(kTop), "\" x2=\"",
                    Num(x), "\" y2=\"", Num(kTop + plot_h), "\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>\n"
                    "<text x=\"", Num(x + 3), "\" y=\"", Num(kTop + 11), "\" font-size=\"10\" fill=\"#555\">k=",
                    k, "</text>\n");
  }
  int series = 0;
  for (const std::string& model : report.models) {
    const char* color = kColors[series % (sizeof(kColors) / sizeof(kColors[0]))];
    const double legend_y = kTop + 14 + 16 * series;
    ++series;
    const CellReport* cell = report.Find(model, language);
    const std::string state = cell == nullptr         ? " (no samples)"
                              : cell->curve.empty() ? " (not judged)"
                                                    : "";
    absl::StrAppend(&svg, "<rect x=\"", Num(kLeft + plot_w + 12), "\" y=\"", Num(legend_y - 9),
                    "\" width=\"12\" height=\"3\" fill=\"", color, "\"/>\n<text x=\"",
                    Num(kLeft + plot_w + 28), "\" y=\"", Num(legend_y - 4), "\" font-size=\"11\">",
                    Escape(model), state, "</text>\n");
    if (cell == nullptr || cell->curve.empty()) continue;
    const auto& curve = cell->curve;
    // Interval band: upper edge forward, lower edge back.
    std::string band;
    for (size_t k = 0; k < curve.size(); ++k) {
      absl::StrAppend(&band, Num(x_of(k + 1.0)), ",", Num(y_of(curve[k].high)), " ");
    }
    for (size_t k = curve.size(); k-- > 0;) {
      absl::StrAppend(&band, Num(x_of(k + 1.0)), ",", Num(y_of(curve[k].low)), " ");
    }
    absl::StrAppend(&svg, "<polygon points=\"", band, "\" fill=\"", color,
                    "\" fill-opacity=\"0.12\" stroke=\"none\"/>\n");
    std::string line;
    for (size_t k = 0; k < curve.size(); ++k) {
      absl::StrAppend(&line, Num(x_of(k + 1.0)), ",", Num(y_of(curve[k].estimate)), " ");
    }
    absl::StrAppend(&svg, "<polyline points=\"", line, "\" fill=\"none\" stroke=\"", color,
                    "\" stroke-width=\"2\"/>\n");
    // A dot on each tabulated k, so one-point curves show too.
    for (int64_t k : report.ks) {
      if (k > static_cast<int64_t>(curve.size())) continue;
      absl::StrAppend(&svg, "<circle cx=\"", Num(x_of(static_cast<double>(k))), "\" cy=\"",
                      Num(y_of(curve[k - 1].estimate)), "\" r=\"3.5\" fill=\"", color, "\"/>\n");
    }
  }
  svg += "</svg>\n";
  return svg;
}

// "Samples: <source>; <N> problems in the set."
std::string SourceLine(const PassKReportContext& context) {
  return absl::StrCat("Samples: ", context.source.empty() ? "unknown source" : context.source,
                      "; ", context.problems_in_set, " problems in the evaluated set.");
}

}  // namespace

std::string FormatRate(double value) {
  if (std::isnan(value)) return "nan";
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%.2f", value);
  std::string text = buffer;
  if (text.rfind("0.", 0) == 0) text.erase(0, 1);
  if (text.rfind("-0.", 0) == 0) text.erase(1, 1);
  return text;
}

std::string PassKMarkdown(const PassKReport& report, const PassKReportContext& context) {
  const int64_t problems_in_set = context.problems_in_set;
  std::string md = absl::StrCat("# ", context.title, "\n\n", SourceLine(context), "\n\n");
  absl::StrAppend(&md, "Unbiased pass@k (1 - C(n-c,k)/C(n,k)) per problem, averaged over problems. "
                       "Brackets: ", static_cast<int>(std::lround(report.bootstrap.confidence * 100)),
                  "% percentile bootstrap interval over problems (", report.bootstrap.resamples,
                  " resamples, seed ", report.bootstrap.seed,
                  "). Samples that hit an infrastructure failure (sandbox_error, toolchain_unavailable) "
                  "are not judged and are left out of n; a completion without a code block is no_code, "
                       "never executed, and counts as a failure. (p/N problems): the problems a "
                       "cell's estimate averages over, of the evaluated set.\n");
  for (int64_t k : report.ks) {
    absl::StrAppend(&md, "\n## pass@", k, "\n\n| Lang |");
    for (const std::string& m : report.models) absl::StrAppend(&md, " ", m, " |");
    md += "\n|---|";
    for (size_t i = 0; i < report.models.size(); ++i) md += "---|";
    md += "\n";
    for (const std::string& language : report.languages) {
      absl::StrAppend(&md, "| ", language, " |");
      for (const std::string& m : report.models) {
        absl::StrAppend(&md, " ", CellText(report.Find(m, language), k, problems_in_set), " |");
      }
      md += "\n";
    }
  }
  md += "\n## Samples\n\n| Lang | Model | problems | samples | judged | passed | not judged (infrastructure) | statuses |\n"
        "|---|---|---|---|---|---|---|---|\n";
  for (const CellReport& c : report.cells) {
    absl::StrAppend(&md, "| ", c.language, " | ", c.model, " | ", ProblemCoverage(c, problems_in_set),
                    " | ", c.samples, " | ", c.judged, " | ", c.passed, " | ",
                    c.infrastructure_failures, " | ", StatusSummary(c), " |\n");
  }
  bool any_note = false;
  for (const CellReport& c : report.cells) {
    if (c.note.empty()) continue;
    if (!any_note) md += "\n## Notes\n\n";
    any_note = true;
    absl::StrAppend(&md, "- ", c.language, " / ", c.model, ": ", c.note, "\n");
  }
  return md;
}

std::string PassKHtml(const PassKReport& report, const PassKReportContext& context) {
  const int64_t problems_in_set = context.problems_in_set;
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", Escape(context.title),
      "</title>\n<style>body{font-family:sans-serif;margin:24px;color:#222}"
      "table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 10px;"
      "text-align:right}th:first-child,td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;"
      "gap:16px}.note{color:#a33}.source{font-size:15px}</style></head><body>\n<h1>", Escape(context.title),
      "</h1>\n<p class=\"source\">", Escape(SourceLine(context)),
      "</p>\n<p>Unbiased pass@k per problem, averaged over problems; shaded bands and "
      "brackets are ", static_cast<int>(std::lround(report.bootstrap.confidence * 100)),
      "% percentile bootstrap intervals over problems (", report.bootstrap.resamples,
      " resamples). One chart per language, every model on the same axes; dashed lines mark the "
      "tabulated k. Infrastructure failures are not judged and are left out of n; a completion "
      "without a code block is no_code (never executed) and counts as a failure.</p>\n"
      "<div class=\"charts\">\n");
  for (const std::string& language : report.languages) html += Chart(report, language);
  html += "</div>\n";
  for (int64_t k : report.ks) {
    absl::StrAppend(&html, "<h2>pass@", k, "</h2>\n<table><tr><th>Lang</th>");
    for (const std::string& m : report.models) absl::StrAppend(&html, "<th>", Escape(m), "</th>");
    html += "</tr>\n";
    for (const std::string& language : report.languages) {
      absl::StrAppend(&html, "<tr><td>", Escape(language), "</td>");
      for (const std::string& m : report.models) {
        absl::StrAppend(&html, "<td>", Escape(CellText(report.Find(m, language), k, problems_in_set)),
                        "</td>");
      }
      html += "</tr>\n";
    }
    html += "</table>\n";
  }
  html += "<h2>Samples</h2>\n<table><tr><th>Lang</th><th>Model</th><th>problems</th><th>samples</th>"
          "<th>judged</th><th>passed</th><th>not judged</th><th>statuses</th></tr>\n";
  for (const CellReport& c : report.cells) {
    absl::StrAppend(&html, "<tr><td>", Escape(c.language), "</td><td>", Escape(c.model), "</td><td>",
                    ProblemCoverage(c, problems_in_set), "</td><td>", c.samples, "</td><td>", c.judged, "</td><td>", c.passed, "</td><td>",
                    c.infrastructure_failures, "</td><td>", Escape(StatusSummary(c)), "</td></tr>\n");
  }
  html += "</table>\n";
  for (const CellReport& c : report.cells) {
    if (!c.note.empty()) {
      absl::StrAppend(&html, "<p class=\"note\">", Escape(c.language), " / ", Escape(c.model), ": ",
                      Escape(c.note), "</p>\n");
    }
  }
  html += "</body></html>\n";
  return html;
}

}  // namespace lockstep::eval
