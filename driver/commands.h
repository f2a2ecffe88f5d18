// The `lockstep` command line: one file per command, each adding its CLI11
// subcommand (flags, help text) to the app and, when it is the one parsed,
// setting the action main() runs. A command parses flags and calls the
// libraries (config/, jobs/, eval/, sandbox/); the work itself never lives here.
//
// Adding a config-driven command (the coming `grpo`, say):
//   1. jobs/grpo.h: a GrpoOptions struct, ReadGrpoOptions(const config::Config&)
//      -> absl::StatusOr<GrpoOptions> (reads every key, builds nothing), and
//      RunGrpo(const GrpoOptions&, run_dir, resume) -> absl::StatusOr<Summary>.
//   2. driver/grpo_command.cc: AddGrpoCommand, one AddConfigJobCommand call
//      (driver/config_command.h: CONFIG, --set, --out, --resume, then load ->
//      read -> check -> run dir -> config.toml -> run) with jobs::ReadGrpoOptions,
//      a lambda calling RunGrpo, and a function printing the summary; add the
//      command's own flags to the subcommand it returns.
//   3. Declare AddGrpoCommand below and call it in lockstep_main.cc; add its
//      --help case to tests/driver/cli_test.cc.
// Commands that start processes (grpo's trainer and rollout engines) do so
// from their action here in driver/, with the job logic in libraries.
#pragma once

#include <functional>

namespace CLI {
class App;
}  // namespace CLI

namespace lockstep::driver {

// What main() runs once the whole command line parsed: the exit code
// (0 success, 1 the work failed, 2 bad usage or config, 3 sandbox unavailable).
using CommandAction = std::function<int()>;

void AddVerifyCommand(CLI::App& app, CommandAction* action);    // lockstep verify
void AddPretrainCommand(CLI::App& app, CommandAction* action);  // lockstep pretrain
void AddEvalCommand(CLI::App& app, CommandAction* action);      // lockstep eval passk
void AddSandboxCommand(CLI::App& app, CommandAction* action);   // lockstep sandbox run|serve
void AddGrpoCommand(CLI::App& app, CommandAction* action);      // lockstep grpo
void AddTokenizeCommand(CLI::App& app, CommandAction* action);  // lockstep tokenize
void AddServeModelCommand(CLI::App& app, CommandAction* action);     // lockstep serve

}  // namespace lockstep::driver
