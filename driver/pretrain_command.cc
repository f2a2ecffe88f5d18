// `lockstep pretrain CONFIG [--set key=value]... [--out DIR] [--resume RUN]`
#include <cstdio>
#include <filesystem>
#include <string>

#include "driver/commands.h"
#include "config/config.h"
#include "config/config_job.h"
#include "jobs/pretrain.h"

namespace lockstep::driver {

int RunPretrainCommand(const Args& args) {
  constexpr char kUsage[] =
      "usage: lockstep pretrain CONFIG [--set key=value]... [--out DIR] [--resume RUN]\n";
  // With --resume RUN the CONFIG argument is optional: the run's resolved
  // config.toml is the source of truth.
  Args effective = args;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--resume" && (args.size() == 2 || args[0].rfind("--", 0) == 0)) {
      effective.insert(effective.begin(), args[i + 1] + "/config.toml");
      break;
    }
  }
  auto parsed = config::ParseConfigCommandArgs(effective, {"--resume"});
  if (!parsed.ok()) {
    std::fprintf(stderr, "lockstep pretrain: %s\n%s", std::string(parsed.status().message()).c_str(),
                 kUsage);
    return 2;
  }
  std::string resume_dir;
  for (size_t i = 0; i < parsed->rest.size(); ++i) {
    if (parsed->rest[i] == "--resume" && i + 1 < parsed->rest.size()) {
      resume_dir = parsed->rest[++i];
    } else {
      std::fprintf(stderr, "lockstep pretrain: unexpected argument '%s'\n%s",
                   parsed->rest[i].c_str(), kUsage);
      return 2;
    }
  }
  config::JobArgs job_args;
  job_args.command = "pretrain";
  job_args.config_path = parsed->config_path;
  job_args.overrides = parsed->overrides;
  job_args.out_dir = parsed->out_dir;
  job_args.resume_dir = resume_dir;
  auto job = config::PrepareJob(job_args, jobs::ReadPretrainOptions);
  if (!job.ok()) {
    std::fprintf(stderr, "lockstep pretrain: %s\n", std::string(job.status().message()).c_str());
    return 2;
  }
  std::fprintf(stderr, "pretrain: run directory %s\n", job->run_dir.path.c_str());
  auto summary = config::RunPreparedJob(*job, [](const jobs::PretrainOptions& o, const config::RunDir& dir) {
    return jobs::RunPretrain(o, dir.path, dir.resume);
  });
  if (!summary.ok()) {
    std::fprintf(stderr, "lockstep pretrain: %s\n", std::string(summary.status().message()).c_str());
    return 1;
  }
  std::printf("pretrain: %lld steps, loss %.4f -> %.4f (mean of the last 10 steps)\n",
              static_cast<long long>(summary->steps), summary->first_loss, summary->last_loss);
  if (summary->eval_accuracy >= 0.0) {
    std::printf("pretrain: greedy exact-match on held-out problems: %.1f%%\n",
                100.0 * summary->eval_accuracy);
  }
  std::printf("pretrain: model written to %s (HF layout: config.json + model.safetensors)\n",
              summary->final_dir.c_str());
  return 0;
}

}  // namespace lockstep::driver
