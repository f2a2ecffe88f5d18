// `lockstep sandbox run` (one program, printed result) and `lockstep sandbox
// serve` (the pool server): the command line of sandbox/runner.h and
// sandbox/pool_server.h. Exit codes of `run`: 0 the program passed (ok),
// 1 it ran and did not pass (any other status), 2 bad input (usage, missing
// file, unknown language), 3 the sandbox cannot work on this machine.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "driver/commands.h"
#include "sandbox/input_file.h"
#include "sandbox/language.h"
#include "sandbox/pool_server.h"
#include "sandbox/runner.h"

namespace lockstep::driver {
namespace {

std::string LanguageNames() {
  std::string names;
  for (const auto& spec : sandbox::AllLanguages()) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", spec.name);
  }
  return names;
}

// One captured stream, at most `preview_bytes` of it (0: all that was kept),
// so a program that floods its output does not bury the status line.
void PrintStream(const char* name, const std::string& data, int64_t produced, bool truncated,
                 size_t preview_bytes) {
  const size_t shown =
      preview_bytes == 0 ? data.size() : std::min(data.size(), preview_bytes);
  std::string note = absl::StrCat(produced, " bytes");
  if (truncated) absl::StrAppend(&note, ", ", data.size(), " kept by the sandbox");
  if (shown < data.size()) absl::StrAppend(&note, ", first ", shown, " shown");
  std::printf("--- %s (%s) ---\n", name, note.c_str());
  std::fwrite(data.data(), 1, shown, stdout);
  if (shown > 0 && data[shown - 1] != '\n') std::printf("\n");
  if (shown < data.size()) {
    std::printf("--- %lld more bytes not shown (--preview-bytes 0 or --json: all the sandbox "
                "kept) ---\n",
                static_cast<long long>(produced - static_cast<int64_t>(shown)));
  }
}

// Returns whether a stream was cut short in the preview.
bool PrintHuman(const sandbox::RunResult& result, size_t preview_bytes) {
  std::string status(sandbox::RunStatusName(result.status));
  if (result.time_limit_kind) {
    absl::StrAppend(&status, " (", std::string(sandbox::TimeLimitKindName(*result.time_limit_kind)), ")");
  }
  std::printf("status: %s%s\n", status.c_str(), result.cached ? " [cached]" : "");
  if (!result.message.empty()) std::printf("reason: %s\n", result.message.c_str());
  const sandbox::StepOutput& run = result.run;
  // A program the sandbox killed (output limit) has no exit code or signal of
  // its own, but it ran: its output and wall time say so.
  const bool ran = run.wall_ms > 0 || run.stdout_bytes > 0 || run.stderr_bytes > 0;
  std::string ended = run.exit_code ? absl::StrCat("exit code ", *run.exit_code)
                      : run.signal  ? absl::StrCat("signal ", sandbox::SignalName(*run.signal))
                      : ran         ? "ran; killed by the sandbox"
                                    : "not run";
  if (ran && !run.exit_code && !run.signal && run.cpu_ms == 0 && run.peak_memory_kb == 0) {
    std::printf("%s, wall %lld ms (cpu and memory not measured)\n", ended.c_str(),
                static_cast<long long>(run.wall_ms));
  } else {
    std::printf("%s, wall %lld ms, cpu %lld ms, peak memory %lld KB\n", ended.c_str(),
                static_cast<long long>(run.wall_ms), static_cast<long long>(run.cpu_ms),
                static_cast<long long>(run.peak_memory_kb));
  }
  const auto cut = [preview_bytes](const std::string& data) {
    return preview_bytes != 0 && data.size() > preview_bytes;
  };
  bool cut_short = false;
  if (result.compile && (result.status == sandbox::RunStatus::kCompileError ||
                         !result.compile->stderr_data.empty())) {
    const std::string compiler = result.compile->stdout_data + result.compile->stderr_data;
    PrintStream("compiler output", compiler, static_cast<int64_t>(compiler.size()), false,
                preview_bytes);
    cut_short = cut_short || cut(compiler);
  }
  PrintStream("stdout", run.stdout_data, run.stdout_bytes, run.stdout_truncated, preview_bytes);
  cut_short = cut_short || cut(run.stdout_data);
  if (!run.stderr_data.empty()) {
    PrintStream("stderr", run.stderr_data, run.stderr_bytes, run.stderr_truncated, preview_bytes);
    cut_short = cut_short || cut(run.stderr_data);
  }
  return cut_short;
}

// What `sandbox run`'s flags say.
struct RunFlags {
  std::string file;
  std::string language;  // empty: from the file's extension
  std::string stdin_path;
  std::string expect_path;
  double time_limit_s = 0;  // 0: the runner's default
  int memory_limit_mb = 0;  // 0: the runner's default
  bool json = false;
  size_t preview_bytes = 4096;  // per stream in the human output; 0: all captured
};

// The language whose source file has FILE's extension, if exactly one does.
const sandbox::LanguageSpec* LanguageOfFile(const std::string& file) {
  const std::string extension = std::filesystem::path(file).extension().string();
  const sandbox::LanguageSpec* found = nullptr;
  for (const auto& spec : sandbox::AllLanguages()) {
    if (extension.empty() || std::filesystem::path(spec.source_file).extension() != extension) {
      continue;
    }
    if (found != nullptr) return nullptr;
    found = &spec;
  }
  return found;
}

// Bad input: one line on stderr, exit 2.
int BadInput(const std::string& error) {
  std::fprintf(stderr, "lockstep sandbox run: %s\n", error.c_str());
  return 2;
}

int RunOne(const RunFlags& flags) {
  sandbox::RunRequest request;
  if (flags.language.empty()) {
    const sandbox::LanguageSpec* spec = LanguageOfFile(flags.file);
    if (spec == nullptr) {
      return BadInput(absl::StrCat("cannot tell the language of '", flags.file,
                                   "' from its extension; pass --lang LANG (known: ",
                                   LanguageNames(), ")"));
    }
    request.language = spec->name;
  } else if (sandbox::FindLanguage(flags.language) == nullptr) {
    return BadInput(absl::StrCat("unknown language '", flags.language, "' (known: ",
                                 LanguageNames(), ")"));
  } else {
    request.language = flags.language;
  }
  if (flags.time_limit_s > 0) {
    request.limits.cpu_time_s = flags.time_limit_s;
    request.limits.wall_time_s = 2 * flags.time_limit_s + 1;
  }
  if (flags.memory_limit_mb > 0) request.limits.memory_mb = flags.memory_limit_mb;
  // Regular files only, each within its cap (sandbox/input_file.h); then the
  // limits are checked: a directory, /dev/zero or --time-limit inf is a usage error.
  absl::Status read = sandbox::LoadRunRequestFiles(flags.file, flags.stdin_path, flags.expect_path,
                                                   {}, &request);
  if (!read.ok()) return BadInput(std::string(read.message()));

  sandbox::RunnerOptions options;
  options.cache_results = false;  // one run: nothing to reuse
  auto runner = sandbox::Runner::Create(options);
  if (!runner.ok()) {
    sandbox::RunResult failed;
    failed.status = sandbox::RunStatus::kSandboxError;
    failed.language = request.language;
    failed.message = std::string(runner.status().message());
    if (flags.json) {
      std::printf("%s\n", sandbox::ResultToJson(failed).dump(2, ' ', false,
                                                             nlohmann::json::error_handler_t::replace).c_str());
    }
    std::fprintf(stderr, "lockstep sandbox: %s\n", failed.message.c_str());
    return 3;
  }
  const sandbox::RunResult result = (*runner)->Run(request);
  if (flags.json) {
    std::printf("%s\n", sandbox::ResultToJson(result)
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else if (PrintHuman(result, flags.preview_bytes)) {
    // The status again, below the preview, where a terminal leaves the eye.
    std::printf("status: %s\n", std::string(sandbox::RunStatusName(result.status)).c_str());
  }
  return result.status == sandbox::RunStatus::kOk ? 0 : 1;
}

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int Serve(const sandbox::PoolServerOptions& options) {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto server = sandbox::PoolServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "lockstep sandbox serve: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  const nlohmann::json stats = (*server)->Stats();
  std::fprintf(stderr,
               "lockstep sandbox serve: listening on %s with %d workers, warm sandboxes %s "
               "(Ctrl-C stops)\n",
               options.bind.c_str(), stats["workers"].get<int>(),
               stats.value("warm_sandboxes", std::string("n/a")).c_str());
  (*server)->Wait(g_stop);
  (*server)->Stop();
  return 0;
}

void AddRunCommand(CLI::App& sandbox_app, CommandAction* action) {
  CLI::App* command = sandbox_app.add_subcommand(
      "run",
      "run one untrusted program isolated and print its status; exit 0 if the status is ok, "
      "1 for any other status, 2 for bad input, 3 if the sandbox cannot work here");
  auto flags = std::make_shared<RunFlags>();
  command->add_option("FILE", flags->file, "the program's source file")->required();
  command->add_option("--lang", flags->language,
                      "the language, by name or alias (default: from FILE's extension)")
      ->type_name("LANG");
  command->add_option("--stdin", flags->stdin_path, "feed this file to the program's stdin")
      ->type_name("FILE");
  command->add_option("--expect", flags->expect_path,
                      "the expected stdout; a different output is wrong_answer")
      ->type_name("FILE");
  command->add_option("--time-limit", flags->time_limit_s,
                      "CPU-time limit in seconds (default 2); the wall-clock limit is 2*S+1")
      ->type_name("S")
      ->check(CLI::Range(1e-3, 86400.0));
  command->add_option("--memory-limit", flags->memory_limit_mb, "memory limit in MB")
      ->type_name("MB")
      ->check(CLI::Range(1, 1 << 20));
  command->add_flag("--json", flags->json, "print the result as JSON (all captured output)");
  command->add_option("--preview-bytes", flags->preview_bytes,
                      "print at most N bytes of each output stream (0: all the sandbox kept)")
      ->type_name("N")
      ->capture_default_str();
  command->callback([flags, action] { *action = [flags] { return RunOne(*flags); }; });
}

void AddServeCommand(CLI::App& sandbox_app, CommandAction* action) {
  CLI::App* command = sandbox_app.add_subcommand(
      "serve", "run the sandbox as a ZeroMQ pool server (warm sandboxes; Ctrl-C stops)");
  auto options = std::make_shared<sandbox::PoolServerOptions>();
  command->add_option("--bind", options->bind, "the endpoint: ipc:///path or tcp://host:port")
      ->type_name("ENDPOINT")
      ->required();
  command->add_option("--workers", options->workers, "worker threads (default: one per CPU core)")
      ->type_name("N")
      ->check(CLI::Range(1, 4096));
  command->add_option("--queue", options->queue_capacity, "queued runs at most (default: 4 per worker)")
      ->type_name("N")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  command->add_option("--stats-interval", options->stats_log_interval_s,
                      "seconds between stats log lines (0: none)")
      ->type_name("S")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  command->callback([options, action] { *action = [options] { return Serve(*options); }; });
}

}  // namespace

void AddSandboxCommand(CLI::App& app, CommandAction* action) {
  CLI::App* command = app.add_subcommand(
      "sandbox", "run untrusted programs in isolation (one, or as a pool server)");
  command->require_subcommand(1);
  AddRunCommand(*command, action);
  AddServeCommand(*command, action);
}

}  // namespace lockstep::driver
