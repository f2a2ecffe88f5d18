// `lockstep pretrain CONFIG [--set KEY=VALUE]... [--out DIR]` and
// `lockstep pretrain --resume RUN [--set KEY=VALUE]...`: the command line of
// jobs/pretrain.h. SIGINT/SIGTERM finish the step in progress, save a
// checkpoint and say how to resume; a second signal ends the process at once.
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "driver/commands.h"
#include "driver/config_command.h"
#include "jobs/pretrain.h"

namespace lockstep::driver {
namespace {

std::atomic<bool> g_stop_requested{false};

void RequestStop(int) { g_stop_requested.store(true); }

// Until the run returns: the first SIGINT/SIGTERM asks the loop to stop;
// SA_RESETHAND restores the default, so a second one kills.
class StopOnSignal {
 public:
  StopOnSignal() {
    struct sigaction action {};
    action.sa_handler = RequestStop;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopOnSignal() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Exit code 0 when the run is done (or was already), 130 when a signal stopped it
// (as a shell reports Ctrl-C), so `pretrain && next` does not go on with half a run.
int PrintSummary(const jobs::PretrainSummary& summary, const config::RunDir& run_dir) {
  if (summary.already_finished) {
    std::printf("pretrain: %s is already finished: its newest checkpoint %s is at step %lld and "
                "the run ends at step %lld; nothing to do, nothing rewritten. To train longer: "
                "lockstep pretrain --resume %s --set train.steps=N (and "
                "--set train.stop_at_step=0 if it was set)\n",
                run_dir.path.c_str(), summary.checkpoint_dir.c_str(),
                static_cast<long long>(summary.steps), static_cast<long long>(summary.last_step),
                run_dir.path.c_str());
    return 0;
  }
  if (summary.interrupted) {
    std::printf("pretrain: interrupted after step %lld; checkpoint saved to %s\n"
                "pretrain: continue with: lockstep pretrain --resume %s\n",
                static_cast<long long>(summary.steps), summary.checkpoint_dir.c_str(),
                run_dir.path.c_str());
    return 130;
  }
  std::printf("pretrain: %lld steps, loss %.4f -> %.4f (step %lld's loss -> mean of the last "
              "10 steps)\n",
              static_cast<long long>(summary.steps), summary.first_loss, summary.last_loss,
              static_cast<long long>(summary.first_step + 1));
  if (summary.eval_accuracy >= 0.0) {
    std::printf("pretrain: greedy exact-match on held-out problems: %.1f%%\n",
                100.0 * summary.eval_accuracy);
  }
  std::printf("pretrain: model written to %s (HF layout: config.json + model.safetensors)\n",
              summary.final_dir.c_str());
  return 0;
}

}  // namespace

void AddPretrainCommand(CLI::App& app, CommandAction* action) {
  AddConfigJobCommand(
      app, "pretrain", "pretrain",
      "train a small base model (next-token loss) on generated or file text; writes "
      "RUN/config.toml, metrics.jsonl, checkpoints/step_N/ and final/. Ctrl-C (SIGINT/SIGTERM) "
      "saves a checkpoint; --resume RUN continues (a run without one starts over)",
      /*resumable=*/true, action, jobs::ReadPretrainOptions,
      [](const jobs::PretrainOptions& options, const config::RunDir& run_dir) {
        StopOnSignal stop_on_signal;
        return jobs::RunPretrain(options, run_dir.path, run_dir.resume, &g_stop_requested);
      },
      PrintSummary);
}

}  // namespace lockstep::driver
