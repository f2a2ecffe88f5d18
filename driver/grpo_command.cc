// `lockstep grpo CONFIG [--set KEY=VALUE]... [--out DIR] [--dry-run]` and
// `lockstep grpo --resume RUN [--set KEY=VALUE]...`: reads and checks the whole
// job (config/, jobs/grpo_options.h) before anything starts, then starts and
// watches its processes (driver/grpo_launcher.h).
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "driver/commands.h"
#include "driver/config_command.h"
#include "driver/grpo_launcher.h"
#include "jobs/grpo_options.h"
#include "sandbox/language.h"
#include "sandbox/runner.h"

namespace lockstep::driver {
namespace {

struct GrpoFlags {
  config::JobArgs job;
  bool dry_run = false;
};

// A reward that runs programs needs its language installed where the sandbox
// runs them; say so before anything starts, not at the first reward.
absl::Status CheckRewardToolchain(const jobs::GrpoOptions& options) {
  if (options.task.kind != "python_expression") return absl::OkStatus();
  const sandbox::LanguageSpec* spec = sandbox::FindLanguage("python");
  auto runner = sandbox::Runner::Create(sandbox::RunnerOptions{});
  if (spec == nullptr || !runner.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task.kind = \"python_expression\" runs programs in the sandbox, which cannot start here: ",
        runner.ok() ? "no python language spec" : std::string(runner.status().message())));
  }
  const sandbox::RunResult probe = (*runner)->ProbeToolchain(*spec);
  if (probe.status != sandbox::RunStatus::kOk) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task.kind = \"python_expression\" needs python in the sandbox: ", probe.message,
        " (scripts/install-toolchains.sh python)"));
  }
  return absl::OkStatus();
}

int RunGrpoCommand(const GrpoFlags& flags) {
  absl::StatusOr<config::Config> config = config::LoadJobConfig(flags.job);
  if (!config.ok()) {
    PrintCommandError(flags.job.command, config.status());
    return 2;
  }
  absl::StatusOr<jobs::GrpoOptions> options = jobs::ReadGrpoOptions(*config);
  absl::Status checked = options.ok() ? config->CheckNoUnknownKeys() : options.status();
  if (!checked.ok()) {
    PrintCommandError(flags.job.command, checked);
    return 2;
  }
  if (absl::Status toolchain = CheckRewardToolchain(*options); !toolchain.ok()) {
    PrintCommandError(flags.job.command, toolchain);
    return 2;
  }
  if (flags.dry_run) {
    std::printf("%s", config->ToToml().c_str());
    std::fprintf(stderr, "grpo: --dry-run: the config above is valid; nothing was started\n");
    return 0;
  }
  absl::StatusOr<config::RunDir> run_dir = config::StartRunDir(flags.job, *config);
  if (!run_dir.ok()) {
    PrintCommandError(flags.job.command, run_dir.status());
    return 2;
  }
  std::fprintf(stderr, "grpo: %s run directory %s\n", run_dir->resume ? "resuming" : "new",
               run_dir->path.c_str());
  InstallDriverSignalHandlers();
  GrpoLaunch launch;
  launch.run_dir = run_dir->path;
  launch.resume = run_dir->resume;
  return LaunchGrpo(*options, launch);
}

}  // namespace

void AddGrpoCommand(CLI::App& app, CommandAction* action) {
  CLI::App* command = app.add_subcommand(
      "grpo",
      "run a GRPO job: a trainer process, rollout engines and a sandbox pool, weights over "
      "ZeroMQ; writes RUN/config.toml, metrics.jsonl, rollouts.jsonl, checkpoints/, report.html");
  auto flags = std::make_shared<GrpoFlags>();
  flags->job.command = "grpo";
  AddConfigJobFlags(*command, &flags->job, /*resumable=*/true);
  command->add_flag("--dry-run", flags->dry_run,
                    "print the resolved config (file + --set) and exit; starts nothing");
  command->callback([=] {
    CheckConfigJobArgs(flags->job);
    *action = [=] { return RunGrpoCommand(*flags); };
  });
}

}  // namespace lockstep::driver
