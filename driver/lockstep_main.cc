// The `lockstep` command: CLI11 parses the whole command line (every command
// adds its own subcommand, driver/commands.h), then the parsed command runs.
// --help anywhere prints that level's usage and exits 0; bad usage prints
// CLI11's message and a pointer to --help and exits 2.
#include <CLI/CLI.hpp>

#include "driver/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"lockstep: RL post-training with bitwise-matched rollout and trainer numerics",
               "lockstep"};
  app.set_version_flag("--version", std::string("lockstep ") + LOCKSTEP_VERSION);
  app.require_subcommand(1);
  lockstep::driver::CommandAction action;
  lockstep::driver::AddGrpoCommand(app, &action);
  lockstep::driver::AddVerifyCommand(app, &action);
  lockstep::driver::AddPretrainCommand(app, &action);
  lockstep::driver::AddEvalCommand(app, &action);
  lockstep::driver::AddSandboxCommand(app, &action);
  lockstep::driver::AddTokenizeCommand(app, &action);
  lockstep::driver::AddServeModelCommand(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;  // help and --version are "errors" that exit 0
  }
  return action();
}
