#include "report/run_charts.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "report/svg_chart.h"

namespace lockstep::report {
namespace {

// One plotted field and its colour (a colour-blind-safe palette).
struct Field {
  const char* name;
  const char* color;
};

struct LineSpec {
  const char* title;
  const char* y_label;
  std::vector<Field> fields;
  const char* band_std = nullptr;  // field whose value is drawn as ± around the first field
};

const std::vector<LineSpec>& LineSpecs() {
  static const std::vector<LineSpec> specs = {
      {"Reward", "reward", {{"reward/mean", "#0072b2"}}, "reward/std"},
      {"Response length", "tokens", {{"response_length/mean", "#009e73"}}},
      {"KL divergence",
       "nats per token",
       {{"actor/ppo_kl", "#d55e00"}, {"mismatch/k3_kl", "#cc79a7"}}},
      {"Entropy", "nats per token", {{"actor/entropy", "#e69f00"}}},
      {"Rollout/trainer bitwise agreement",
       "fraction of tokens",
       {{"mismatch/bitwise_equal_fraction", "#0072b2"}}},
      {"Rollout/trainer logprob mismatch",
       "max |Δ logprob| (nats)",
       {{"mismatch/max_abs_logprob_diff", "#d55e00"}}},
      {"Policy-gradient loss", "loss", {{"actor/pg_loss", "#56b4e9"}}},
      {"Gradient norm", "L2 norm (before clipping)", {{"actor/grad_norm", "#009e73"}}},
      {"Throughput", "tokens/s", {{"perf/tokens_per_s", "#999999"}}},
  };
  return specs;
}

const std::vector<Field>& PhaseFields() {
  static const std::vector<Field> fields = {{"timing/rollout_s", "#0072b2"},
                                            {"timing/reward_s", "#e69f00"},
                                            {"timing/train_s", "#009e73"},
                                            {"timing/weight_sync_s", "#cc79a7"}};
  return fields;
}

std::string Describe(const char* title, const std::vector<Field>& fields) {
  std::vector<std::string> names;
  for (const Field& f : fields) names.emplace_back(f.name);
  return absl::StrCat(title, " (", absl::StrJoin(names, ", "), ")");
}

LineChart BuildLineChart(const LineSpec& spec, const MetricsTable& metrics) {
  LineChart chart{.title = spec.title, .x_label = "step", .y_label = spec.y_label, .series = {}};
  for (const Field& field : spec.fields) {
    const std::vector<double>* values = metrics.Find(field.name);
    if (values == nullptr) continue;
    LineSeries series{.name = field.name,
                      .color = field.color,
                      .x = metrics.steps,
                      .y = *values,
                      .band_low = {},
                      .band_high = {}};
    const std::vector<double>* stddev = spec.band_std != nullptr && &field == &spec.fields.front()
                                            ? metrics.Find(spec.band_std)
                                            : nullptr;
    if (stddev != nullptr) {
      series.name = absl::StrCat(field.name, " ± ", spec.band_std);
      for (size_t i = 0; i < values->size(); ++i) {
        series.band_low.push_back((*values)[i] - (*stddev)[i]);
        series.band_high.push_back((*values)[i] + (*stddev)[i]);
      }
    }
    chart.series.push_back(std::move(series));
  }
  return chart;
}

StackedBarChart BuildPhaseChart(const MetricsTable& metrics) {
  StackedBarChart chart{.title = "Time per phase",
                        .x_label = "step",
                        .y_label = "seconds per step",
                        .x = metrics.steps,
                        .layers = {}};
  for (const Field& field : PhaseFields()) {
    const std::vector<double>* values = metrics.Find(field.name);
    if (values == nullptr) continue;
    chart.layers.push_back({.name = field.name, .color = field.color, .values = *values});
  }
  return chart;
}

}  // namespace

RunCharts RenderRunCharts(const MetricsTable& metrics) {
  RunCharts out;
  for (const LineSpec& spec : LineSpecs()) {
    const LineChart chart = BuildLineChart(spec, metrics);
    if (HasData(chart)) {
      out.svgs.push_back(RenderLineChart(chart));
    } else {
      out.omitted.push_back(Describe(spec.title, spec.fields));
    }
  }
  const StackedBarChart phases = BuildPhaseChart(metrics);
  if (HasData(phases)) {
    out.svgs.push_back(RenderStackedBarChart(phases));
  } else {
    out.omitted.push_back(Describe("Time per phase", PhaseFields()));
  }
  return out;
}

}  // namespace lockstep::report
