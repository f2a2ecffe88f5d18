// `lockstep eval passk CONFIG [--samples FILE.jsonl] [--set key=value]... [--out DIR]`
#include <cstdio>
#include <string>

#include "driver/commands.h"
#include "config/config.h"
#include "config/config_job.h"
#include "eval/passk.h"
#include "eval/passk_report.h"

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
  config::JobArgs job_args;
  job_args.command = "eval passk";
  job_args.config_path = parsed->config_path;
  job_args.overrides = parsed->overrides;
  job_args.out_dir = parsed->out_dir;
  auto job = config::PrepareJob(job_args, [&](const config::Config& c) {
    return eval::ReadPassKOptions(c, samples_file);
  });
  if (!job.ok()) {
    std::fprintf(stderr, "lockstep eval passk: %s\n", std::string(job.status().message()).c_str());
    return 2;
  }
  std::fprintf(stderr, "eval: run directory %s\n", job->run_dir.path.c_str());
  auto summary = config::RunPreparedJob(*job, [](const eval::PassKOptions& o, const config::RunDir& dir) {
    return eval::RunPassKEval(o, dir.path, stderr);
  });
  if (!summary.ok()) {
    std::fprintf(stderr, "lockstep eval passk: %s\n", std::string(summary.status().message()).c_str());
    return 1;
  }
  const std::string run_dir = job->run_dir.path;
  for (const auto& cell : summary->report.cells) {
    std::printf("%-12s %-20s samples %lld judged %lld passed %lld", cell.language.c_str(), cell.model.c_str(),
                static_cast<long long>(cell.samples), static_cast<long long>(cell.judged),
                static_cast<long long>(cell.passed));
    for (int64_t k : summary->report.ks) {
      if (k <= cell.max_k) {
        const auto& i = cell.curve[k - 1];
        std::printf("  pass@%lld %s [%s, %s]", static_cast<long long>(k), eval::FormatRate(i.estimate).c_str(),
                    eval::FormatRate(i.low).c_str(), eval::FormatRate(i.high).c_str());
      }
    }
    if (cell.curve.empty()) std::printf("  NOT JUDGED: %s", cell.note.c_str());
    std::printf("\n");
  }
  std::printf("eval: %lld samples scored in %.1f s; report in %s/passk.{json,md,html}\n",
              static_cast<long long>(summary->samples), summary->score_seconds, run_dir.c_str());
  return 0;
}

}  // namespace lockstep::driver
