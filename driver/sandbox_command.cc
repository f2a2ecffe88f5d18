// `lockstep sandbox run` (one program, printed result) and `lockstep sandbox
// serve` (the pool server). Exit codes of `run`: 0 the program passed (ok),
// 1 it ran and did not pass (any other status), 2 bad input (usage, missing
// file, unknown language), 3 the sandbox cannot work on this machine.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "driver/commands.h"
#include "sandbox/language.h"
#include "sandbox/pool_server.h"
#include "sandbox/runner.h"

namespace lockstep::driver {
namespace {

constexpr char kUsage[] =
    "usage: lockstep sandbox run --lang LANG FILE [--stdin FILE] [--expect FILE]\n"
    "                            [--time-limit S] [--memory-limit MB] [--json]\n"
    "       lockstep sandbox serve --bind ENDPOINT [--workers N] [--queue N]\n"
    "                              [--stats-interval S]\n"
    "\n"
    "run: --time-limit S is the CPU limit (default 2); the wall-clock limit is 2*S+1.\n"
    "     Exit code 0 if the status is ok, 1 for any other status, 2 for bad input.\n";

int Usage(const std::string& error) {
  std::fprintf(stderr, "lockstep sandbox: %s\n\n%s", error.c_str(), kUsage);
  return 2;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::stringstream buffer;
  buffer << file.rdbuf();
  *out = buffer.str();
  return !file.bad();
}

std::string LanguageNames() {
  std::string names;
  for (const auto& spec : sandbox::AllLanguages()) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", spec.name);
  }
  return names;
}

void PrintHuman(const sandbox::RunResult& result) {
  std::string status(sandbox::RunStatusName(result.status));
  if (result.time_limit_kind) {
    absl::StrAppend(&status, " (", std::string(sandbox::TimeLimitKindName(*result.time_limit_kind)), ")");
  }
  std::printf("status: %s%s\n", status.c_str(), result.cached ? " [cached]" : "");
  if (!result.message.empty()) std::printf("reason: %s\n", result.message.c_str());
  const sandbox::StepOutput& run = result.run;
  std::string ended = run.exit_code ? absl::StrCat("exit code ", *run.exit_code)
                      : run.signal  ? absl::StrCat("signal ", sandbox::SignalName(*run.signal))
                                    : "not run";
  std::printf("%s, wall %lld ms, cpu %lld ms, peak memory %lld KB\n", ended.c_str(),
              static_cast<long long>(run.wall_ms), static_cast<long long>(run.cpu_ms),
              static_cast<long long>(run.peak_memory_kb));
  if (result.compile && (result.status == sandbox::RunStatus::kCompileError ||
                         !result.compile->stderr_data.empty())) {
    std::printf("--- compiler output ---\n%s%s", result.compile->stdout_data.c_str(),
                result.compile->stderr_data.c_str());
  }
  std::printf("--- stdout (%lld bytes%s) ---\n", static_cast<long long>(run.stdout_bytes),
              run.stdout_truncated ? ", truncated" : "");
  std::fwrite(run.stdout_data.data(), 1, run.stdout_data.size(), stdout);
  if (!run.stdout_data.empty() && run.stdout_data.back() != '\n') std::printf("\n");
  if (!run.stderr_data.empty()) {
    std::printf("--- stderr (%lld bytes%s) ---\n", static_cast<long long>(run.stderr_bytes),
                run.stderr_truncated ? ", truncated" : "");
    std::fwrite(run.stderr_data.data(), 1, run.stderr_data.size(), stdout);
    if (run.stderr_data.back() != '\n') std::printf("\n");
  }
}

int RunOne(const Args& args) {
  sandbox::RunRequest request;
  std::string file, stdin_path, expect_path;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string text;
    if (arg == "--json") {
      json = true;
    } else if (arg == "--lang") {
      if (!value(&request.language)) return Usage("--lang needs a language");
    } else if (arg == "--stdin") {
      if (!value(&stdin_path)) return Usage("--stdin needs a file");
    } else if (arg == "--expect") {
      if (!value(&expect_path)) return Usage("--expect needs a file");
    } else if (arg == "--time-limit") {
      double seconds = 0;
      if (!value(&text) || !absl::SimpleAtod(text, &seconds) || seconds <= 0) {
        return Usage("--time-limit needs a positive number of seconds");
      }
      request.limits.cpu_time_s = seconds;
      request.limits.wall_time_s = 2 * seconds + 1;
    } else if (arg == "--memory-limit") {
      int mb = 0;
      if (!value(&text) || !absl::SimpleAtoi(text, &mb) || mb <= 0) {
        return Usage("--memory-limit needs a positive number of MB");
      }
      request.limits.memory_mb = mb;
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage(absl::StrCat("unknown option '", arg, "'"));
    } else if (file.empty()) {
      file = arg;
    } else {
      return Usage(absl::StrCat("one program at a time (got '", file, "' and '", arg, "')"));
    }
  }
  if (request.language.empty()) return Usage("--lang LANG is required");
  if (file.empty()) return Usage("a program FILE is required");
  if (sandbox::FindLanguage(request.language) == nullptr) {
    return Usage(absl::StrCat("unknown language '", request.language, "' (known: ",
                              LanguageNames(), ")"));
  }
  if (!ReadFile(file, &request.source)) {
    return Usage(absl::StrCat("cannot read program file '", file, "'"));
  }
  if (!stdin_path.empty() && !ReadFile(stdin_path, &request.stdin_data)) {
    return Usage(absl::StrCat("cannot read --stdin file '", stdin_path, "'"));
  }
  if (!expect_path.empty()) {
    std::string expected;
    if (!ReadFile(expect_path, &expected)) {
      return Usage(absl::StrCat("cannot read --expect file '", expect_path, "'"));
    }
    request.expected_stdout = std::move(expected);
  }

  sandbox::RunnerOptions options;
  options.cache_results = false;  // one run: nothing to reuse
  auto runner = sandbox::Runner::Create(options);
  if (!runner.ok()) {
    sandbox::RunResult failed;
    failed.status = sandbox::RunStatus::kSandboxError;
    failed.language = request.language;
    failed.message = std::string(runner.status().message());
    if (json) {
      std::printf("%s\n", sandbox::ResultToJson(failed).dump(2, ' ', false,
                                                             nlohmann::json::error_handler_t::replace).c_str());
    }
    std::fprintf(stderr, "lockstep sandbox: %s\n", failed.message.c_str());
    return 3;
  }
  const sandbox::RunResult result = (*runner)->Run(request);
  if (json) {
    std::printf("%s\n", sandbox::ResultToJson(result)
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else {
    PrintHuman(result);
  }
  return result.status == sandbox::RunStatus::kOk ? 0 : 1;
}

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int Serve(const Args& args) {
  auto options = sandbox::ParsePoolServerArgs(args);
  if (!options.ok()) return Usage(std::string(options.status().message()));
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto server = sandbox::PoolServer::Start(*options);
  if (!server.ok()) {
    std::fprintf(stderr, "lockstep sandbox serve: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  const nlohmann::json stats = (*server)->Stats();
  std::fprintf(stderr,
               "lockstep sandbox serve: listening on %s with %d workers, warm sandboxes %s "
               "(Ctrl-C stops)\n",
               options->bind.c_str(), stats["workers"].get<int>(),
               stats.value("warm_sandboxes", std::string("n/a")).c_str());
  (*server)->Wait(g_stop);
  (*server)->Stop();
  return 0;
}

}  // namespace

int RunSandboxCommand(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "run") return RunOne(rest);
  if (args[0] == "serve") return Serve(rest);
  return Usage(absl::StrCat("unknown sandbox subcommand '", args[0], "' (run or serve)"));
}

}  // namespace lockstep::driver
