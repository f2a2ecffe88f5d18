// The command-line half of every config-driven command: the shared flags
// (CONFIG, --set KEY=VALUE repeatable, --out DIR, --resume RUN), and
// AddConfigJobCommand, which adds such a command whose action runs
// config::PrepareJob / RunPreparedJob with the exit codes and messages every
// such command uses.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <type_traits>

#include "config/config_job.h"
#include "driver/commands.h"

namespace lockstep::driver {

// Adds CONFIG, --set and --out to `command`, bound to `args`; with
// `resumable`, also --resume RUN (excluding --out). `args` must outlive the parse.
void AddConfigJobFlags(CLI::App& command, config::JobArgs* args, bool resumable);

// Throws a CLI::ParseError (exit 2, with CLI11's message) unless exactly one
// of CONFIG and --resume RUN was given. Call it first in the command's callback.
void CheckConfigJobArgs(const config::JobArgs& args);

// "lockstep pretrain: <message>" on stderr.
void PrintCommandError(const std::string& command, const absl::Status& status);

// Runs the shared sequence. `read`: (const config::Config&) -> StatusOr<Options>;
// `run`: (const Options&, const config::RunDir&) -> StatusOr<Summary>;
// `print`: (const Summary&, const config::RunDir&) -> void, the result on
// stdout; or -> int, the exit code (e.g. 130 for a run stopped by SIGINT).
// Exit codes: 2 the config or run directory is wrong (nothing was started),
// 1 the run failed, 0 done.
template <typename Read, typename Run, typename Print>
int RunConfigJobCommand(const config::JobArgs& args, Read&& read, Run&& run, Print&& print) {
  auto job = config::PrepareJob(args, read);
  if (!job.ok()) {
    PrintCommandError(args.command, job.status());
    return 2;
  }
  std::fprintf(stderr, "%s: %s run directory %s\n", args.command.c_str(),
               job->run_dir.resume ? "resuming" : "new", job->run_dir.path.c_str());
  auto summary = config::RunPreparedJob(*job, run);
  if (!summary.ok()) {
    PrintCommandError(args.command, summary.status());
    return 1;
  }
  if constexpr (std::is_same_v<decltype(print(*summary, job->run_dir)), int>) {
    return print(*summary, job->run_dir);
  } else {
    print(*summary, job->run_dir);
    return 0;
  }
}

// Adds the subcommand `name` of `parent` with the shared flags and, when it is
// the one parsed, sets *action to RunConfigJobCommand(read, run, print).
// `command_name` is the full name for messages and run directories ("eval
// passk"). Returns the subcommand, for flags of its own.
template <typename Read, typename Run, typename Print>
CLI::App* AddConfigJobCommand(CLI::App& parent, const std::string& name,
                              const std::string& command_name, const std::string& description,
                              bool resumable, CommandAction* action, Read read, Run run,
                              Print print) {
  CLI::App* command = parent.add_subcommand(name, description);
  auto args = std::make_shared<config::JobArgs>();
  args->command = command_name;
  AddConfigJobFlags(*command, args.get(), resumable);
  command->callback([=] {
    CheckConfigJobArgs(*args);
    *action = [=] { return RunConfigJobCommand(*args, read, run, print); };
  });
  return command;
}

}  // namespace lockstep::driver
