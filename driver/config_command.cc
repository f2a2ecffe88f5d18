// The shared flags of config-driven commands (driver/config_command.h).
#include "driver/config_command.h"

#include <CLI/CLI.hpp>

namespace lockstep::driver {

void AddConfigJobFlags(CLI::App& command, config::JobArgs* args, bool resumable) {
  command.add_option("CONFIG", args->config_path, "the job's TOML config file")
      ->type_name("FILE");
  command
      .add_option("--set", args->overrides,
                  "override one config key, e.g. --set optim.lr=1e-4 (repeatable; later wins)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->check([](const std::string& value) -> std::string {
        if (value.find('=') != std::string::npos) return "";
        return "expected dotted.key=value (e.g. --set optim.lr=1e-6), got '" + value + "'";
      });
  CLI::Option* out =
      command.add_option("--out", args->out_dir, "the run directory (default: runs/<command>-<UTC time>)")
          ->type_name("DIR")
          ->check([](const std::string& value) -> std::string {
            return value.empty() ? "needs a non-empty DIR" : "";
          });
  if (resumable) {
    command
        .add_option("--resume", args->resume_dir,
                    "continue the run in RUN from its newest checkpoint, with RUN/config.toml "
                    "(--set still applies and is recorded there)")
        ->type_name("RUN")
        ->excludes(out);
  }
}

void CheckConfigJobArgs(const config::JobArgs& args) {
  if (args.config_path.empty() && args.resume_dir.empty()) {
    throw CLI::RequiredError(
        "CONFIG (the path of the job's TOML config file, e.g. under configs/)");
  }
  if (!args.config_path.empty() && !args.resume_dir.empty()) {
    throw CLI::ValidationError(
        "CONFIG", "give CONFIG or --resume RUN, not both: a resumed run reads RUN/config.toml "
                  "(change it with --set)");
  }
}

void PrintCommandError(const std::string& command, const absl::Status& status) {
  std::fprintf(stderr, "lockstep %s: %s\n", command.c_str(), std::string(status.message()).c_str());
}

}  // namespace lockstep::driver
