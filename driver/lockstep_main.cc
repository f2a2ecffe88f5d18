// The `lockstep` command: dispatches to one subcommand (driver/commands.h).
#include <cstdio>
#include <string>
#include <vector>

#include "driver/commands.h"

namespace {

constexpr char kUsage[] =
    "usage: lockstep <command> [args]\n"
    "\n"
    "commands:\n"
    "  verify [--backend cpu] [--dtype fp16|bf16|both] [--json]\n"
    "      prove rollout and trainer log-probabilities are bitwise equal\n"
    "  pretrain CONFIG [--set key=value]... [--out DIR] [--resume RUN]\n"
    "      train a small base model (next-token loss) on generated or file text\n"
    "  eval passk CONFIG [--samples FILE.jsonl] [--set key=value]... [--out DIR]\n"
    "      pass@k with bootstrap intervals per language and model (programs judged in the sandbox)\n"
    "  sandbox run --lang LANG FILE [--stdin F] [--expect F] [--time-limit S]\n"
    "              [--memory-limit MB] [--json]\n"
    "  sandbox serve --bind ENDPOINT [--workers N]\n"
    "      run untrusted programs in isolation (one, or as a pool server)\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "verify") return lockstep::driver::RunVerifyCommand(args);
  if (command == "sandbox") return lockstep::driver::RunSandboxCommand(args);
  if (command == "pretrain") return lockstep::driver::RunPretrainCommand(args);
  if (command == "eval") return lockstep::driver::RunEvalCommand(args);
  std::fprintf(stderr, "lockstep: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
