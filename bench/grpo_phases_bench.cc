// Where a GRPO step's time goes, phase by phase, for a finished run:
//   grpo_phases_bench RUN            (after: lockstep grpo configs/quickstart.toml --out RUN)
//   grpo_phases_bench                (runs the quick start itself into a temporary directory)
// Reads RUN/metrics.jsonl (timing/* and perf/* of every step) and prints the mean
// seconds per step of each phase, its share, and the steady-state throughput
// (the first 10 % of steps, page faults and warm-up, are reported apart).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::string run = argc > 1 ? argv[1] : "";
  if (run.empty()) {
    const fs::path bin = fs::read_symlink("/proc/self/exe").parent_path();
    run = (fs::temp_directory_path() / ("grpo_phases_bench_" + std::to_string(getpid()))).string();
    const std::string command = "cd " LOCKSTEP_SOURCE_DIR " && " + (bin / "lockstep").string() +
                                " grpo configs/quickstart.toml --out " + run + " 2> " + run + ".log";
    std::fprintf(stderr, "grpo_phases_bench: running the quick start into %s (log %s.log)\n",
                 run.c_str(), run.c_str());
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "grpo_phases_bench: the job failed; see %s.log\n", run.c_str());
      return 1;
    }
  }
  std::ifstream in(fs::path(run) / "metrics.jsonl");
  if (!in) {
    std::fprintf(stderr, "grpo_phases_bench: no %s/metrics.jsonl\n", run.c_str());
    return 2;
  }
  std::vector<nlohmann::json> steps;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) steps.push_back(nlohmann::json::parse(line));
  }
  if (steps.empty()) return 2;
  const char* phases[] = {"timing/rollout_s", "timing/reward_s", "timing/train_s",
                          "timing/weight_sync_s"};
  auto report = [&](size_t begin, size_t end, const char* label) {
    double total = 0, sums[4] = {0, 0, 0, 0}, tokens_per_s = 0;
    for (size_t i = begin; i < end; ++i) {
      total += steps[i].value("timing/step_s", 0.0);
      for (int p = 0; p < 4; ++p) sums[p] += steps[i].value(phases[p], 0.0);
      tokens_per_s += steps[i].value("perf/tokens_per_s", 0.0);
    }
    const double n = static_cast<double>(end - begin);
    std::printf("%s: steps %zu-%zu, %.1f ms/step, %.0f generated tokens/s\n", label, begin + 1, end,
                1e3 * total / n, tokens_per_s / n);
    double accounted = 0;
    for (int p = 0; p < 4; ++p) {
      accounted += sums[p];
      std::printf("  %-22s %8.2f ms  %5.1f %%\n", phases[p], 1e3 * sums[p] / n, 100 * sums[p] / total);
    }
    std::printf("  %-22s %8.2f ms  %5.1f %%\n", "other (metrics, logs)", 1e3 * (total - accounted) / n,
                100 * (total - accounted) / total);
  };
  const size_t warm = std::max<size_t>(1, steps.size() / 10);
  if (steps.size() > warm) report(0, warm, "warm-up");
  report(steps.size() > warm ? warm : 0, steps.size(), "steady state");
  std::printf("run: %s\n", run.c_str());
  return 0;
}
