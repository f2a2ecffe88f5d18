// Small static charts as inline SVG (no script, no external resource): line
// charts with an optional band, and stacked bar charts. Non-finite values are
// skipped (a line breaks around them), so any input gives well-formed SVG.
// Generic on purpose (x/y numbers, names, colours) so that other reports can use it.
#pragma once

#include <string>
#include <vector>

namespace lockstep::report {

struct LineSeries {
  std::string name;
  std::string color;  // any SVG colour, e.g. "#1f77b4"
  std::vector<double> x, y;
  // Optional band drawn under the line (e.g. mean ± std); same length as x, or empty.
  std::vector<double> band_low, band_high;
};

struct LineChart {
  std::string title;
  std::string x_label;  // with units, e.g. "step"
  std::string y_label;  // with units, e.g. "reward", "tokens", "nats"
  std::vector<LineSeries> series;
};

struct StackedBarLayer {
  std::string name;
  std::string color;
  std::vector<double> values;  // one per bar; non-finite or negative counts as 0
};

struct StackedBarChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<double> x;  // bar positions (e.g. steps), ascending
  std::vector<StackedBarLayer> layers;
};

// True when some series has at least one point with finite x and y.
bool HasData(const LineChart& chart);
bool HasData(const StackedBarChart& chart);

// A complete <svg> element. The chart scales with its container (viewBox).
std::string RenderLineChart(const LineChart& chart);
std::string RenderStackedBarChart(const StackedBarChart& chart);

// "Nice" tick values (1, 2 or 5 times a power of ten apart) covering [low, high],
// about `target` of them. low < high and both finite.
std::vector<double> NiceTicks(double low, double high, int target);

// A tick label with just enough digits to tell ticks `step` apart ("0.25", "1200",
// "1e+06"), no trailing zeros.
std::string FormatTick(double value, double step);

}  // namespace lockstep::report
