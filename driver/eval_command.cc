// `lockstep eval passk CONFIG [--samples FILE.jsonl] [--set key=value]... [--out DIR]`
#include <cstdio>
#include <filesystem>
#include <string>

#include "driver/commands.h"
#include "config/config.h"
#include "config/run_dir.h"
#include "driver/eval_passk.h"
#include "driver/eval_report.h"

namespace lockstep::driver {

int RunEvalCommand(const Args& args) {
  constexpr char kUsage[] =
      "usage: lockstep eval passk CONFIG [--samples FILE.jsonl] [--set key=value]... [--out DIR]\n";
  if (args.empty() || args[0] != "passk") {
    std::fprintf(stderr, "lockstep eval: expected the evaluation name 'passk'\n%s", kUsage);
    return 2;
  }
  const Args rest(args.begin() + 1, args.end());
  auto parsed = config::ParseConfigCommandArgs(rest, {"--samples"});
  if (!parsed.ok()) {
    std::fprintf(stderr, "lockstep eval passk: %s\n%s", std::string(parsed.status().message()).c_str(), kUsage);
    return 2;
  }
  std::string samples_file;
  for (size_t i = 0; i < parsed->rest.size(); ++i) {
    const std::string& a = parsed->rest[i];
    if (a == "--samples" && i + 1 < parsed->rest.size()) {
      samples_file = parsed->rest[++i];
    } else if (a.rfind("--samples=", 0) == 0) {
      samples_file = a.substr(10);
    } else {
      std::fprintf(stderr, "lockstep eval passk: unexpected argument '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  auto config = config::Config::LoadFileWithOverrides(parsed->config_path, parsed->overrides);
  if (!config.ok()) {
    std::fprintf(stderr, "lockstep eval passk: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  auto run_dir = config::PrepareRunDir("eval passk", parsed->out_dir);
  if (!run_dir.ok()) {
    std::fprintf(stderr, "lockstep eval passk: %s\n", std::string(run_dir.status().message()).c_str());
    return 2;
  }
  std::fprintf(stderr, "eval: run directory %s\n", run_dir->c_str());
  auto summary = RunPassKEval(*config, *run_dir, samples_file, stderr);
  if (!summary.ok()) {
    // Nothing half-written stays behind: outputs are only written at the end.
    std::error_code ec;
    std::filesystem::remove_all(*run_dir, ec);
    std::fprintf(stderr, "lockstep eval passk: %s\n", std::string(summary.status().message()).c_str());
    return 1;
  }
  for (const auto& cell : summary->report.cells) {
    std::printf("%-12s %-20s samples %lld judged %lld passed %lld", cell.language.c_str(), cell.model.c_str(),
                static_cast<long long>(cell.samples), static_cast<long long>(cell.judged),
                static_cast<long long>(cell.passed));
    for (int64_t k : summary->report.ks) {
      if (k <= cell.max_k) {
        const auto& i = cell.curve[k - 1];
        std::printf("  pass@%lld %s [%s, %s]", static_cast<long long>(k), FormatRate(i.estimate).c_str(),
                    FormatRate(i.low).c_str(), FormatRate(i.high).c_str());
      }
    }
    if (cell.curve.empty()) std::printf("  NOT JUDGED: %s", cell.note.c_str());
    std::printf("\n");
  }
  std::printf("eval: %lld samples scored in %.1f s; report in %s/passk.{json,md,html}\n",
              static_cast<long long>(summary->samples), summary->score_seconds, run_dir->c_str());
  return 0;
}

}  // namespace lockstep::driver
