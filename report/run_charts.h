// The charts of a GRPO run report, drawn from metrics.jsonl columns under the
// field's metric names (reward/mean, actor/ppo_kl, timing/rollout_s, ...). A chart
// whose fields are all missing or non-finite is not drawn but named as omitted.
#pragma once

#include <string>
#include <vector>

#include "report/run_metrics.h"

namespace lockstep::report {

struct RunCharts {
  std::vector<std::string> svgs;     // in page order
  std::vector<std::string> omitted;  // "Entropy (actor/entropy)" for charts without data
};

RunCharts RenderRunCharts(const MetricsTable& metrics);

}  // namespace lockstep::report
