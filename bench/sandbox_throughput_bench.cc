// Sandbox throughput: isolated runs per second of a small Python program
// (warm sandboxes: fresh pid/mount/ipc namespaces, filesystems, rlimits,
// seccomp per run; result cache off) against the same program run bare
// (posix_spawn of python3, same stdin, same parallelism), as a ratio, with
// one-shot sandboxes (a fresh bubblewrap per run) as the in-run baseline;
// then end to end through a pool server (the `lockstep sandbox serve` code
// path, ipc://, 2 workers, a unique source per request) against bare with 2
// in parallel and the in-process runner with the same unique sources, in the
// same rounds (the server's own share is in-process / server).
//   sandbox_throughput_bench [RUNS] [WORKERS] [ONLY]
// ONLY = bare | warm | one-shot runs just that loop, RUNS times on WORKERS
// threads (for profiling one path with perf, or for CPU accounting around
// the whole process); with ":true" appended it runs /bin/true instead of the
// Python program (the fixed cost of a run). ONLY = server sends RUNS unique
// sources in one batch to a pool server with WORKERS workers.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/client.h"
#include "sandbox/pool_server.h"
#include "sandbox/runner.h"

extern char** environ;

namespace {

using lockstep::sandbox::LanguageSpec;
using Clock = std::chrono::steady_clock;

constexpr char kProgram[] = "import sys\nprint(sum(int(t) for t in sys.stdin.read().split()))\n";
constexpr char kStdin[] = "1 2 3 4 5 6 7 8 9 10\n";

std::vector<LanguageSpec> Languages() {
  LanguageSpec python;
  python.name = "python";
  python.source_file = "main.py";
  python.run = {"python3", "{src}"};
  python.version_probe = {"python3", "--version"};
  // /bin/true: the fixed cost of a sandboxed run, with (almost) no program.
  LanguageSpec empty;
  empty.name = "true";
  empty.source_file = "unused";
  empty.run = {"/bin/true"};
  return {python, empty};
}

// Runs `total` jobs on `workers` threads; returns runs per second.
template <typename Job>
double Measure(int total, int workers, Job job) {
  std::atomic<int> next{0}, failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      while (next.fetch_add(1) < total) {
        if (!job()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failures > 0) std::printf("  (%d runs failed)\n", failures.load());
  return total / seconds;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// CPU time of this process's reaped children (the bare runs).
double ChildrenCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

// Bare, warm and one-shot loops alternate this many times per worker count;
// the machine's run-to-run spread (±10%) is larger than some effects measured.
constexpr int kRounds = 3;

std::atomic<int64_t> warm_cpu_ms_total{0};  // program CPU reported by warm runs

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 400;
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  const int workers = argc > 2 ? std::atoi(argv[2]) : hw;

  // Bare: python3 started directly, stdin from a file, stdout to /dev/null.
  char dir[] = "/tmp/lockstep-bench.XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;
  const std::string script = std::string(dir) + "/main.py";
  const std::string input = std::string(dir) + "/stdin";
  std::ofstream(script) << kProgram;
  std::ofstream(input) << kStdin;
  // ONLY may end in ":true" to time /bin/true instead of the Python program.
  const bool run_true = argc > 3 && std::string(argv[3]).ends_with(":true");
  const char* program_path = run_true ? "/bin/true" : "/usr/bin/python3";
  const char* program_arg = run_true ? nullptr : script.c_str();
  auto bare = [&] {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const char* args[] = {program_path, program_arg, nullptr};
    pid_t pid;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, const_cast<char**>(args), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return false;
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };

  lockstep::sandbox::RunnerOptions options;
  options.languages = Languages();
  options.cache_results = false;
  auto runner = lockstep::sandbox::Runner::Create(options);
  if (!runner.ok()) {
    std::fprintf(stderr, "sandbox unavailable: %s\n", std::string(runner.status().message()).c_str());
    return 1;
  }
  lockstep::sandbox::RunRequest request;
  request.language = "python";
  request.source = kProgram;
  request.stdin_data = kStdin;
  request.expected_stdout = "55\n";
  if (run_true) {
    request.language = "true";
    request.expected_stdout.reset();
  }
  if (!(*runner)->warm_sandbox_status().ok()) {
    std::fprintf(stderr, "warm sandboxes unavailable: %s\n",
                 std::string((*runner)->warm_sandbox_status().message()).c_str());
    return 1;
  }
  auto isolated = [&] {
    const auto result = (*runner)->Run(request);
    warm_cpu_ms_total += result.run.cpu_ms;
    return result.status == lockstep::sandbox::RunStatus::kOk;
  };
  // Baseline in the same run: a fresh one-shot sandbox per run.
  lockstep::sandbox::RunnerOptions one_shot_options = options;
  one_shot_options.warm_sandboxes = false;
  auto one_shot_runner = lockstep::sandbox::Runner::Create(one_shot_options);
  if (!one_shot_runner.ok()) return 1;
  auto one_shot = [&] {
    return (*one_shot_runner)->Run(request).status == lockstep::sandbox::RunStatus::kOk;
  };

  // A pool server (the `lockstep sandbox serve` code path, ipc://) with its
  // own runner, and a client; every request a distinct source (result cache
  // off, and no artefact reuse either: each request stages its own source,
  // as samples of a GRPO group do).
  std::atomic<int64_t> unique{0};
  auto unique_request = [&] {
    lockstep::sandbox::RunRequest distinct = request;
    distinct.source += "# " + std::to_string(unique.fetch_add(1)) + "\n";
    return distinct;
  };
  std::unique_ptr<lockstep::sandbox::PoolServer> server;
  std::unique_ptr<lockstep::sandbox::SandboxClient> client;
  auto start_server = [&](int server_workers) {
    lockstep::sandbox::PoolServerOptions server_options;
    server_options.bind = std::string("ipc://") + dir + "/pool";
    server_options.workers = server_workers;
    server_options.stats_log_interval_s = 0;
    server_options.runner = options;
    auto started = lockstep::sandbox::PoolServer::Start(server_options);
    if (!started.ok()) return false;
    server = std::move(*started);
    auto connected = lockstep::sandbox::SandboxClient::Connect(server_options.bind);
    if (!connected.ok()) return false;
    client = std::move(*connected);
    return true;
  };
  // One batch of `total` unique sources through the server: runs per second;
  // how many ended ok goes to *ok.
  auto server_batch = [&](int total, int* ok) {
    std::vector<lockstep::sandbox::RunRequest> batch;
    for (int i = 0; i < total; ++i) batch.push_back(unique_request());
    const auto start = Clock::now();
    auto results = client->RunBatch(batch, std::chrono::minutes(5));
    const double rate = total / std::chrono::duration<double>(Clock::now() - start).count();
    *ok = 0;
    if (results.ok()) {
      for (const auto& result : *results) *ok += result.status == lockstep::sandbox::RunStatus::kOk;
    }
    return rate;
  };

  if (argc > 3) {
    std::string only = argv[3];
    if (run_true) only.resize(only.size() - 5);
    if (only == "server" && !start_server(workers)) return 1;
    int server_ok = runs;
    const double rate = only == "bare"       ? Measure(runs, workers, bare)
                        : only == "warm"     ? Measure(runs, workers, isolated)
                        : only == "one-shot" ? Measure(runs, workers, one_shot)
                        : only == "server"   ? server_batch(runs, &server_ok)
                                             : -1;
    if (rate < 0) {
      std::fprintf(stderr, "ONLY must be bare, warm, one-shot or server, not '%s' (or a"
                   " server run failed)\n", only.c_str());
      return 2;
    }
    std::printf("%s: %.1f runs/s\n", only.c_str(), rate);
    if (server_ok != runs) std::printf("  (%d of %d server runs failed)\n", runs - server_ok, runs);
    if (server) server->Stop();
    return server_ok == runs ? 0 : 1;
  }
  std::printf("sandbox throughput: %d runs of a small Python program per measurement, %d cores,"
              " %d rounds (bare, warm, one-shot interleaved; medians)\n",
              runs, hw, kRounds);
  Measure(20, workers, bare);  // warm the page cache
  Measure(20, workers, isolated);
  Measure(20, workers, one_shot);
  for (int w : {1, workers, 2 * workers}) {
    std::vector<double> bare_rates, warm_rates, one_shot_rates;
    double bare_cpu_ms = 0;
    warm_cpu_ms_total = 0;
    for (int round = 0; round < kRounds; ++round) {
      const double before = ChildrenCpuSeconds();
      bare_rates.push_back(Measure(runs, w, bare));
      bare_cpu_ms += (ChildrenCpuSeconds() - before) * 1000 / runs / kRounds;
      warm_rates.push_back(Measure(runs, w, isolated));
      one_shot_rates.push_back(Measure(runs, w, one_shot));
    }
    const double bare_rate = Median(bare_rates), warm_rate = Median(warm_rates);
    const double one_shot_rate = Median(one_shot_rates);
    std::printf("  workers %d: bare %.1f runs/s, warm sandboxes %.1f runs/s (overhead %.2fx),"
                " one-shot sandboxes %.1f runs/s (%.2fx); program CPU per run: bare %.1f ms,"
                " sandboxed %.1f ms\n",
                w, bare_rate, warm_rate, bare_rate / warm_rate, one_shot_rate,
                bare_rate / one_shot_rate, bare_cpu_ms,
                static_cast<double>(warm_cpu_ms_total) / (runs * kRounds));
  }

  // End to end through a pool server, 2 workers, unique sources.
  constexpr int kServerWorkers = 2;
  if (!start_server(kServerWorkers)) return 1;
  auto in_process_unique = [&] {
    return (*runner)->Run(unique_request()).status == lockstep::sandbox::RunStatus::kOk;
  };
  int server_ok = 0, server_total = 0;
  std::vector<double> bare_rates, in_process_rates, server_rates;
  for (int round = 0; round < kRounds; ++round) {
    bare_rates.push_back(Measure(runs, kServerWorkers, bare));
    in_process_rates.push_back(Measure(runs, kServerWorkers, in_process_unique));
    int ok = 0;
    server_rates.push_back(server_batch(runs, &ok));
    server_total += runs;
    server_ok += ok;
  }
  const double bare_rate = Median(bare_rates), server_rate = Median(server_rates);
  const double in_process_rate = Median(in_process_rates);
  std::printf("  pool server, %d workers, unique sources: %d/%d ok; bare %.1f runs/s, in-process "
              "warm %.1f runs/s (%.2fx), server %.1f runs/s (%.2fx); the server's share %.2fx\n",
              kServerWorkers, server_ok, server_total, bare_rate, in_process_rate,
              bare_rate / in_process_rate, server_rate, bare_rate / server_rate,
              in_process_rate / server_rate);
  server->Stop();
  std::string cleanup = std::string("rm -rf ") + dir;
  return std::system(cleanup.c_str()) == 0 && server_ok == server_total ? 0 : 1;
}
