// `lockstep eval passk CONFIG [--samples FILE.jsonl] [--set KEY=VALUE]... [--out DIR]`:
// the command line of eval/passk.h.
#include <cstdio>
#include <memory>

#include "driver/commands.h"
#include "driver/config_command.h"
#include "eval/passk.h"
#include "eval/passk_report.h"

namespace lockstep::driver {
namespace {

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
