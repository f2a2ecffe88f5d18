// `lockstep eval passk CONFIG [--samples FILE.jsonl] [--set KEY=VALUE]... [--out DIR]`:
// the command line of eval/passk.h. An eval writes its outputs only at the
// end, so Ctrl-C (SIGINT/SIGTERM) of a fresh run removes the run directory it
// made (when it still holds nothing but config.toml): `--out` can be reused.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "driver/commands.h"
#include "driver/config_command.h"
#include "eval/passk.h"
#include "eval/passk_report.h"

namespace lockstep::driver {
namespace {

// Set before the handler is installed; the handler only calls
// async-signal-safe functions (unlink, rmdir, signal, raise).
char g_config_path[4096];
char g_run_dir[4096];

void RemoveUnstartedRunAndDie(int signal_number) {
  unlink(g_config_path);
  rmdir(g_run_dir);  // fails, and keeps everything, unless the directory is now empty
  signal(signal_number, SIG_DFL);
  raise(signal_number);
}

// While a fresh eval runs: a signal removes its run directory (if it holds
// only config.toml) and then ends the process as the signal would have.
class RemoveRunDirOnSignal {
 public:
  explicit RemoveRunDirOnSignal(const config::RunDir& run_dir) {
    const std::string config_path = run_dir.path + "/config.toml";
    active_ = !run_dir.resume && config_path.size() < sizeof(g_config_path);
    if (!active_) return;
    std::snprintf(g_config_path, sizeof(g_config_path), "%s", config_path.c_str());
    std::snprintf(g_run_dir, sizeof(g_run_dir), "%s", run_dir.path.c_str());
    struct sigaction action {};
    action.sa_handler = RemoveUnstartedRunAndDie;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~RemoveRunDirOnSignal() {
    if (!active_) return;
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  RemoveRunDirOnSignal(const RemoveRunDirOnSignal&) = delete;
  RemoveRunDirOnSignal& operator=(const RemoveRunDirOnSignal&) = delete;

 private:
  bool active_ = false;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

void PrintSummary(const eval::PassKEvalSummary& summary, const config::RunDir& run_dir) {
  for (const auto& cell : summary.report.cells) {
    const auto judged_problems =
        static_cast<long long>(cell.problems.size() - cell.unjudged_problems.size());
    std::printf("%-12s %-20s problems %lld samples %lld judged %lld passed %lld",
                cell.language.c_str(), cell.model.c_str(), judged_problems,
                static_cast<long long>(cell.samples), static_cast<long long>(cell.judged),
                static_cast<long long>(cell.passed));
    for (int64_t k : summary.report.ks) {
      if (k <= cell.max_k) {
        const auto& i = cell.curve[k - 1];
        std::printf("  pass@%lld %s [%s, %s]", static_cast<long long>(k),
                    eval::FormatRate(i.estimate).c_str(), eval::FormatRate(i.low).c_str(),
                    eval::FormatRate(i.high).c_str());
      }
    }
    if (cell.curve.empty()) std::printf("  NOT JUDGED: %s", cell.note.c_str());
    std::printf("\n");
  }
  std::printf("eval: %lld samples scored in %.1f s; report in %s/passk.{json,md,html}\n",
              static_cast<long long>(summary.samples), summary.score_seconds,
              run_dir.path.c_str());
}

void AddPassKCommand(CLI::App& eval_app, CommandAction* action) {
  auto samples_file = std::make_shared<std::string>();
  CLI::App* command = AddConfigJobCommand(
      eval_app, "passk", "eval passk",
      "pass@k with bootstrap intervals per language and model (programs judged in the sandbox); "
      "writes RUN/passk.{json,md,html} and samples.jsonl",
      /*resumable=*/false, action,
      [samples_file](const config::Config& config) {
        return eval::ReadPassKOptions(config, *samples_file);
      },
      [](const eval::PassKOptions& options, const config::RunDir& run_dir) {
        RemoveRunDirOnSignal remove_on_signal(run_dir);
        return eval::RunPassKEval(options, run_dir.path, stderr);
      },
      PrintSummary);
  command->add_option("--samples", *samples_file,
                      "score the completions in this JSONL file (one {\"problem\", \"language\", "
                      "\"completion\"[, \"model\"]} per line) instead of eval.samples")
      ->type_name("FILE.jsonl");
}

}  // namespace

void AddEvalCommand(CLI::App& app, CommandAction* action) {
  CLI::App* command = app.add_subcommand("eval", "evaluate models (pass@k on programs)");
  command->require_subcommand(1);
  AddPassKCommand(*command, action);
}

}  // namespace lockstep::driver
