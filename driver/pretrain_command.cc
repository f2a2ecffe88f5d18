// `lockstep pretrain CONFIG [--set KEY=VALUE]... [--out DIR]` and
// `lockstep pretrain --resume RUN [--set KEY=VALUE]...`: the command line of
// jobs/pretrain.h.
#include <cstdio>

#include "driver/commands.h"
#include "driver/config_command.h"
#include "jobs/pretrain.h"

namespace lockstep::driver {
namespace {

void PrintSummary(const jobs::PretrainSummary& summary, const config::RunDir&) {
  std::printf("pretrain: %lld steps, loss %.4f -> %.4f (mean of the last 10 steps)\n",
              static_cast<long long>(summary.steps), summary.first_loss, summary.last_loss);
  if (summary.eval_accuracy >= 0.0) {
    std::printf("pretrain: greedy exact-match on held-out problems: %.1f%%\n",
                100.0 * summary.eval_accuracy);
  }
  std::printf("pretrain: model written to %s (HF layout: config.json + model.safetensors)\n",
              summary.final_dir.c_str());
}

}  // namespace

void AddPretrainCommand(CLI::App& app, CommandAction* action) {
  AddConfigJobCommand(
      app, "pretrain", "pretrain",
      "train a small base model (next-token loss) on generated or file text; writes "
      "RUN/config.toml, metrics.jsonl, checkpoints/step_N/ and final/",
      /*resumable=*/true, action, jobs::ReadPretrainOptions,
      [](const jobs::PretrainOptions& options, const config::RunDir& run_dir) {
        return jobs::RunPretrain(options, run_dir.path, run_dir.resume);
      },
      PrintSummary);
}

}  // namespace lockstep::driver
