#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report/html.h"

namespace lockstep::report {
namespace {

// Canvas and margins (SVG user units; the viewBox scales them to the page).
constexpr double kWidth = 560, kHeight = 280;
constexpr double kLeft = 70, kRight = 16, kTop = 46, kBottom = 42;
constexpr double kPlotW = kWidth - kLeft - kRight;
constexpr double kLegendRow = 14;  // each further legend row moves the plot down this much

// Each chart carries its own style, so that it looks the same wherever it is pasted.
constexpr const char* kChartStyle =
    "<style>text{font-family:system-ui,sans-serif;fill:#222}"
    ".chart-title{font-size:14px;font-weight:600}.legend{font-size:11px}"
    ".tick{font-size:11px;fill:#555}.axis-label{font-size:12px}"
    ".grid{stroke:#e6e6e6}.axis{stroke:#555}.frame{fill:none;stroke:#999}</style>\n";

std::string Coord(double v) { return absl::StrFormat("%.1f", v); }

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    if (!std::isfinite(v)) return;
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool Empty() const { return !(low <= high); }
  // A range of one value gets some room around it so that it is drawn mid-plot.
  Range Widened() const {
    Range r = *this;
    if (r.low == r.high) {
      const double pad = r.low == 0.0 ? 1.0 : std::fabs(r.low) * 0.1;
      r.low -= pad;
      r.high += pad;
    }
    return r;
  }
};

// Maps data coordinates into the plot area, which starts below the legend.
struct Frame {
  Range x, y;
  double top = kTop;
  double PlotH() const { return kHeight - top - kBottom; }
  double X(double v) const { return kLeft + (v - x.low) / (x.high - x.low) * kPlotW; }
  double Y(double v) const { return top + (1.0 - (v - y.low) / (y.high - y.low)) * PlotH(); }
};

std::string SvgOpen(const std::string& title) {
  return absl::StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", kWidth, " ",
                      kHeight, "\" role=\"img\" aria-label=\"", EscapeHtml(title), "\">\n",
                      kChartStyle, "<text x=\"", kLeft, "\" y=\"18\" class=\"chart-title\">",
                      EscapeHtml(title), "</text>\n");
}

// Legend under the title: a swatch and a name per entry, wrapping onto further
// rows when the names do not fit the width. Returns the SVG; *rows says how many.
std::string Legend(const std::vector<std::pair<std::string, std::string>>& entries, int* rows) {
  std::string svg;
  double x = kLeft, y = 34;
  *rows = 1;
  for (const auto& [name, color] : entries) {
    const double width = 30 + 6.2 * static_cast<double>(name.size());
    if (x > kLeft && x + width > kWidth - kRight) {
      x = kLeft;
      y += kLegendRow;
      ++*rows;
    }
    absl::StrAppend(&svg, "<rect x=\"", Coord(x), "\" y=\"", Coord(y - 6),
                    "\" width=\"14\" height=\"4\" fill=\"", EscapeHtml(color), "\"/><text x=\"",
                    Coord(x + 18), "\" y=\"", Coord(y), "\" class=\"legend\">", EscapeHtml(name),
                    "</text>\n");
    x += width;
  }
  return svg;
}

// Grid lines, tick labels, frame and axis labels.
std::string Axes(const Frame& frame, const std::vector<double>& x_ticks,
                 const std::vector<double>& y_ticks, const std::string& x_label,
                 const std::string& y_label) {
  std::string svg;
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 0.0;
  for (double v : y_ticks) {
    const double y = frame.Y(v);
    absl::StrAppend(&svg, "<line x1=\"", Coord(kLeft), "\" y1=\"", Coord(y), "\" x2=\"",
                    Coord(kLeft + kPlotW), "\" y2=\"", Coord(y), "\" class=\"grid\"/>",
                    "<text x=\"", Coord(kLeft - 6), "\" y=\"", Coord(y + 4),
                    "\" class=\"tick\" text-anchor=\"end\">", FormatTick(v, y_step), "</text>\n");
  }
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 0.0;
  for (double v : x_ticks) {
    const double x = frame.X(v);
    absl::StrAppend(
        &svg, "<line x1=\"", Coord(x), "\" y1=\"", Coord(frame.top + frame.PlotH()), "\" x2=\"",
        Coord(x), "\" y2=\"", Coord(frame.top + frame.PlotH() + 4), "\" class=\"axis\"/>",
        "<text x=\"", Coord(x), "\" y=\"", Coord(frame.top + frame.PlotH() + 16),
        "\" class=\"tick\" text-anchor=\"middle\">", FormatTick(v, x_step), "</text>\n");
  }
  absl::StrAppend(&svg, "<rect x=\"", Coord(kLeft), "\" y=\"", Coord(frame.top), "\" width=\"",
                  Coord(kPlotW), "\" height=\"", Coord(frame.PlotH()), "\" class=\"frame\"/>\n");
  absl::StrAppend(&svg, "<text x=\"", Coord(kLeft + kPlotW / 2), "\" y=\"", Coord(kHeight - 6),
                  "\" class=\"axis-label\" text-anchor=\"middle\">", EscapeHtml(x_label),
                  "</text>\n");
  const double mid_y = frame.top + frame.PlotH() / 2;
  absl::StrAppend(&svg, "<text x=\"14\" y=\"", Coord(mid_y), "\" transform=\"rotate(-90 14 ",
                  Coord(mid_y), ")\" class=\"axis-label\" text-anchor=\"middle\">",
                  EscapeHtml(y_label), "</text>\n");
  return svg;
}

// Ticks inside [low, high] only (the x axis spans exactly the data).
std::vector<double> TicksWithin(const Range& r, int target) {
  std::vector<double> ticks;
  for (double t : NiceTicks(r.low, r.high, target)) {
    if (t >= r.low - 1e-9 * (r.high - r.low) && t <= r.high + 1e-9 * (r.high - r.low)) {
      ticks.push_back(t);
    }
  }
  return ticks;
}

bool FinitePoint(const std::vector<double>& x, const std::vector<double>& y, size_t i) {
  return i < x.size() && i < y.size() && std::isfinite(x[i]) && std::isfinite(y[i]);
}

// One polyline per run of consecutive finite points; a lone point becomes a dot.
std::string Line(const Frame& frame, const LineSeries& s) {
  std::string svg, points;
  size_t run = 0;
  double last_x = 0, last_y = 0;
  auto flush = [&]() {
    if (run == 1) {
      absl::StrAppend(&svg, "<circle cx=\"", Coord(last_x), "\" cy=\"", Coord(last_y),
                      "\" r=\"2.5\" fill=\"", EscapeHtml(s.color), "\"/>\n");
    } else if (run > 1) {
      absl::StrAppend(&svg, "<polyline points=\"", points, "\" fill=\"none\" stroke=\"",
                      EscapeHtml(s.color), "\" stroke-width=\"1.6\" stroke-linejoin=\"round\"/>\n");
    }
    points.clear();
    run = 0;
  };
  for (size_t i = 0; i < s.x.size(); ++i) {
    if (!FinitePoint(s.x, s.y, i)) {
      flush();
      continue;
    }
    last_x = frame.X(s.x[i]);
    last_y = frame.Y(s.y[i]);
    absl::StrAppend(&points, Coord(last_x), ",", Coord(last_y), " ");
    ++run;
  }
  flush();
  return svg;
}

// One polygon per run of points where both band edges are finite.
std::string Band(const Frame& frame, const LineSeries& s) {
  if (s.band_low.size() != s.x.size() || s.band_high.size() != s.x.size()) return "";
  std::string svg;
  size_t begin = 0;
  auto flush = [&](size_t end) {
    if (end - begin >= 2) {
      std::string points;
      for (size_t i = begin; i < end; ++i) {
        absl::StrAppend(&points, Coord(frame.X(s.x[i])), ",", Coord(frame.Y(s.band_high[i])), " ");
      }
      for (size_t i = end; i-- > begin;) {
        absl::StrAppend(&points, Coord(frame.X(s.x[i])), ",", Coord(frame.Y(s.band_low[i])), " ");
      }
      absl::StrAppend(&svg, "<polygon points=\"", points, "\" fill=\"", EscapeHtml(s.color),
                      "\" fill-opacity=\"0.15\" stroke=\"none\"/>\n");
    }
  };
  for (size_t i = 0; i < s.x.size(); ++i) {
    if (!(std::isfinite(s.x[i]) && std::isfinite(s.band_low[i]) && std::isfinite(s.band_high[i]))) {
      flush(i);
      begin = i + 1;
    }
  }
  flush(s.x.size());
  return svg;
}

}  // namespace

bool HasData(const LineChart& chart) {
  for (const LineSeries& s : chart.series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (FinitePoint(s.x, s.y, i)) return true;
    }
  }
  return false;
}

bool HasData(const StackedBarChart& chart) {
  for (const StackedBarLayer& layer : chart.layers) {
    for (size_t i = 0; i < layer.values.size() && i < chart.x.size(); ++i) {
      if (std::isfinite(chart.x[i]) && std::isfinite(layer.values[i]) && layer.values[i] > 0) {
        return true;
      }
    }
  }
  return false;
}

std::vector<double> NiceTicks(double low, double high, int target) {
  if (!(std::isfinite(low) && std::isfinite(high)) || !(low < high) || target < 1) {
    return {low, high};
  }
  const double rough = (high - low) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  const double norm = rough / magnitude;
  const double step = (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * magnitude;
  if (!(std::isfinite(step) && step > 0.0)) return {low, high};
  const double first = std::floor(low / step), last = std::ceil(high / step);
  if (!(last - first < 100.0)) return {low, high};  // values too large for their spread
  std::vector<double> ticks;
  for (double i = first; i <= last; i += 1.0) {
    const double t = i * step;
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string FormatTick(double value, double step) {
  if (value == 0.0) return "0";
  const double size = std::fabs(value);
  if (step > 0.0 && std::isfinite(step) && size >= 1e-4 && size < 1e7) {
    // Fixed point with as many decimals as the step needs ("0.25", "1200", "1.00002").
    const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(step))), 0, 12);
    std::string text = absl::StrFormat("%.*f", decimals, value);
    if (text.find('.') != std::string::npos) {
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
    }
    return text;
  }
  return absl::StrFormat("%.4g", value);  // very large or very small: "1e+09", "2.5e-07"
}

std::string RenderLineChart(const LineChart& chart) {
  Range x_range, y_range;
  for (const LineSeries& s : chart.series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!FinitePoint(s.x, s.y, i)) continue;
      x_range.Add(s.x[i]);
      y_range.Add(s.y[i]);
      if (i < s.band_low.size() && i < s.band_high.size() && std::isfinite(s.band_low[i]) &&
          std::isfinite(s.band_high[i])) {
        y_range.Add(s.band_low[i]);
        y_range.Add(s.band_high[i]);
      }
    }
  }
  std::string svg = SvgOpen(chart.title);
  if (x_range.Empty()) {
    absl::StrAppend(&svg, "<text x=\"", kLeft, "\" y=\"60\" class=\"tick\">no data</text></svg>\n");
    return svg;
  }
  std::vector<std::pair<std::string, std::string>> legend;
  for (const LineSeries& s : chart.series) legend.emplace_back(s.name, s.color);
  int legend_rows = 1;
  absl::StrAppend(&svg, Legend(legend, &legend_rows));
  Frame frame{x_range.Widened(), y_range.Widened(), kTop + kLegendRow * (legend_rows - 1)};
  const std::vector<double> y_ticks = NiceTicks(frame.y.low, frame.y.high, 5);
  frame.y = Range{y_ticks.front(), y_ticks.back()};
  absl::StrAppend(&svg,
                  Axes(frame, TicksWithin(frame.x, 6), y_ticks, chart.x_label, chart.y_label));
  for (const LineSeries& s : chart.series) absl::StrAppend(&svg, Band(frame, s));
  for (const LineSeries& s : chart.series) absl::StrAppend(&svg, Line(frame, s));
  svg += "</svg>\n";
  return svg;
}

namespace {

// At most `max_bars` bars: consecutive bars are merged into their mean (x and values).
StackedBarChart Binned(const StackedBarChart& chart, size_t max_bars, size_t* per_bar) {
  const size_t n = chart.x.size();
  *per_bar = n <= max_bars ? 1 : (n + max_bars - 1) / max_bars;
  if (*per_bar == 1) return chart;
  StackedBarChart out = chart;
  out.x.clear();
  for (StackedBarLayer& layer : out.layers) layer.values.clear();
  for (size_t begin = 0; begin < n; begin += *per_bar) {
    const size_t end = std::min(n, begin + *per_bar);
    double x_sum = 0;
    for (size_t i = begin; i < end; ++i) x_sum += chart.x[i];
    out.x.push_back(x_sum / static_cast<double>(end - begin));
    for (size_t l = 0; l < chart.layers.size(); ++l) {
      double sum = 0;
      for (size_t i = begin; i < end && i < chart.layers[l].values.size(); ++i) {
        const double v = chart.layers[l].values[i];
        if (std::isfinite(v) && v > 0) sum += v;
      }
      out.layers[l].values.push_back(sum / static_cast<double>(end - begin));
    }
  }
  return out;
}

}  // namespace

std::string RenderStackedBarChart(const StackedBarChart& input) {
  size_t per_bar = 1;
  const StackedBarChart chart = Binned(input, 150, &per_bar);
  const std::string title =
      per_bar > 1 ? absl::StrCat(chart.title, " (each bar: mean of ", per_bar, " steps)")
                  : chart.title;
  std::string svg = SvgOpen(title);
  auto value = [&](size_t layer, size_t i) {
    const std::vector<double>& v = chart.layers[layer].values;
    return i < v.size() && std::isfinite(v[i]) && v[i] > 0 ? v[i] : 0.0;
  };
  Range x_range, y_range;
  y_range.Add(0.0);
  for (size_t i = 0; i < chart.x.size(); ++i) {
    if (!std::isfinite(chart.x[i])) continue;
    x_range.Add(chart.x[i]);
    double total = 0;
    for (size_t l = 0; l < chart.layers.size(); ++l) total += value(l, i);
    y_range.Add(total);
  }
  if (!HasData(chart)) {
    absl::StrAppend(&svg, "<text x=\"", kLeft, "\" y=\"60\" class=\"tick\">no data</text></svg>\n");
    return svg;
  }
  // Each bar gets the x spacing between neighbours; the x axis has half a bar of room.
  const size_t bars = chart.x.size();
  const double spacing =
      bars > 1 && x_range.high > x_range.low ? (x_range.high - x_range.low) / (bars - 1) : 1.0;
  std::vector<std::pair<std::string, std::string>> legend;
  for (const StackedBarLayer& layer : chart.layers) legend.emplace_back(layer.name, layer.color);
  int legend_rows = 1;
  absl::StrAppend(&svg, Legend(legend, &legend_rows));
  Frame frame{Range{x_range.low - spacing / 2, x_range.high + spacing / 2}, y_range.Widened(),
              kTop + kLegendRow * (legend_rows - 1)};
  frame.y.low = 0.0;
  const std::vector<double> y_ticks = NiceTicks(0.0, frame.y.high, 5);
  frame.y.high = y_ticks.back();
  absl::StrAppend(&svg,
                  Axes(frame, TicksWithin(frame.x, 6), y_ticks, chart.x_label, chart.y_label));
  const double bar_w = std::max(0.5, kPlotW * spacing / (frame.x.high - frame.x.low) * 0.85);
  for (size_t i = 0; i < bars; ++i) {
    if (!std::isfinite(chart.x[i])) continue;
    double base = 0;
    for (size_t l = 0; l < chart.layers.size(); ++l) {
      const double v = value(l, i);
      if (v <= 0) continue;
      const double y_top = frame.Y(base + v), y_bottom = frame.Y(base);
      absl::StrAppend(&svg, "<rect x=\"", Coord(frame.X(chart.x[i]) - bar_w / 2), "\" y=\"",
                      Coord(y_top), "\" width=\"", absl::StrFormat("%.2f", bar_w), "\" height=\"",
                      absl::StrFormat("%.2f", y_bottom - y_top), "\" fill=\"",
                      EscapeHtml(chart.layers[l].color), "\"/>\n");
      base += v;
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace lockstep::report
