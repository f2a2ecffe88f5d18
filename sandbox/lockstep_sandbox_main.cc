// lockstep-sandbox: the sandbox pool server process (sandbox/pool_server.h).
//   lockstep-sandbox --bind ENDPOINT [--workers N] [--queue N] [--stats-interval S]
// Runs until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "sandbox/pool_server.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  constexpr char kUsage[] =
      "usage: lockstep-sandbox --bind ENDPOINT [--workers N] [--queue N] [--stats-interval S]\n";
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.size() == 1 && args[0] == "--version") {
    std::printf("lockstep-sandbox %s\n", LOCKSTEP_VERSION);
    return 0;
  }
  auto options = lockstep::sandbox::ParsePoolServerArgs(args);
  if (!options.ok()) {
    std::fprintf(stderr, "lockstep-sandbox: %s\n%s", std::string(options.status().message()).c_str(),
                 kUsage);
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto server = lockstep::sandbox::PoolServer::Start(*options);
  if (!server.ok()) {
    std::fprintf(stderr, "lockstep-sandbox: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "lockstep-sandbox: serving on %s with %d workers\n",
               options->bind.c_str(), (*server)->Stats()["workers"].get<int>());
  (*server)->Wait(g_stop);
  (*server)->Stop();
  return 0;
}
