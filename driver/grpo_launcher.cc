#include "driver/grpo_launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "driver/process_supervisor.h"
#include "jobs/grpo_job.h"

namespace lockstep::driver {
namespace {

namespace fs = std::filesystem;

std::atomic<int> g_signals{0};
std::atomic<int> g_last_signal{0};

void OnSignal(int sig) {
  g_last_signal.store(sig);
  g_signals.fetch_add(1);
}

// Binds a TCP socket on 127.0.0.1:port (0: any free port); returns the port,
// or -1 when it is taken.
int ProbeTcpPort(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int result = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    result = ntohs(addr.sin_port);
  }
  close(fd);
  return result;
}

// Prints the lines a child appended to its log since the last call.
class LogFollower {
 public:
  explicit LogFollower(std::string path) : path_(std::move(path)) {}
  void PrintNew(FILE* to) {
    std::ifstream in(path_);
    if (!in) return;
    in.seekg(offset_);
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a partial line: wait for its newline
      std::fprintf(to, "%s\n", line.c_str());
      offset_ = in.tellg();
    }
  }

 private:
  std::string path_;
  std::streamoff offset_ = 0;
};

std::string ExeDir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

}  // namespace

void InstallDriverSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

absl::StatusOr<GrpoEndpointPlan> PlanEndpoints(const jobs::GrpoOptions& options, bool needs_sandbox) {
  GrpoEndpointPlan plan;
  const int engines = options.rollout.engines;
  if (options.rollout.transport == "ipc") {
    // ipc:// paths are limited to ~107 bytes, so not under the run directory.
    std::string dir_template = (fs::temp_directory_path() / "lockstep-XXXXXX").string();
    if (mkdtemp(dir_template.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("cannot create a socket directory under ",
                                              fs::temp_directory_path().string()));
    }
    plan.socket_dir = dir_template;
    for (int i = 0; i < engines; ++i) {
      plan.rollout.push_back(absl::StrCat("ipc://", plan.socket_dir, "/rollout-", i));
    }
    if (needs_sandbox) plan.sandbox = absl::StrCat("ipc://", plan.socket_dir, "/sandbox");
    return plan;
  }
  const int count = engines + (needs_sandbox ? 1 : 0);
  for (int i = 0; i < count; ++i) {
    int port = 0;
    if (options.rollout.base_port > 0) {
      port = ProbeTcpPort(options.rollout.base_port + i);
      if (port < 0) {
        return absl::UnavailableError(absl::StrCat(
            "rollout.base_port = ", options.rollout.base_port, ": port ",
            options.rollout.base_port + i,
            " on 127.0.0.1 is already in use; pick a free base port or set rollout.base_port = 0"));
      }
    } else {
      port = ProbeTcpPort(0);
      if (port < 0) return absl::UnavailableError("no free TCP port on 127.0.0.1");
    }
    const std::string endpoint = absl::StrCat("tcp://127.0.0.1:", port);
    if (i < engines) {
      plan.rollout.push_back(endpoint);
    } else {
      plan.sandbox = endpoint;
    }
  }
  return plan;
}

std::vector<std::string> RolloutEngineArgs(const std::string& endpoint,
                                           const jobs::GrpoRolloutOptions& rollout) {
  std::vector<std::string> args{"--bind", endpoint, "--max-batch",
                                std::to_string(rollout.max_batch)};
  if (rollout.kv_memory_fraction > 0.0) {
    args.insert(args.end(), {"--kv-memory-fraction", absl::StrCat(rollout.kv_memory_fraction)});
  } else {
    args.insert(args.end(), {"--kv-blocks", std::to_string(rollout.kv_blocks)});
  }
  args.insert(args.end(), {"--device", rollout.device, "--mode", rollout.mode});
  return args;
}

int LaunchGrpo(const jobs::GrpoOptions& options, const GrpoLaunch& launch) {
  const bool needs_sandbox = options.task.kind == "python_expression";
  absl::StatusOr<GrpoEndpointPlan> plan = PlanEndpoints(options, needs_sandbox);
  if (!plan.ok()) {
    std::fprintf(stderr, "lockstep grpo: %s\n", std::string(plan.status().message()).c_str());
    return 1;
  }
  const std::string bin = launch.binary_dir.empty() ? ExeDir() : launch.binary_dir;
  const fs::path logs = fs::path(launch.run_dir) / "logs";
  fs::create_directories(logs);

  ProcessSupervisor supervisor;
  std::vector<ChildSpec> services;
  if (needs_sandbox) {
    services.push_back({.name = "sandbox",
                        .exe = bin + "/lockstep-sandbox",
                        .args = {"--bind", plan->sandbox, "--workers",
                                 std::to_string(options.sandbox_workers)},
                        .log_path = (logs / "sandbox.log").string()});
  }
  for (int i = 0; i < options.rollout.engines; ++i) {
    services.push_back({.name = absl::StrCat("rollout-", i),
                        .exe = bin + "/lockstep-rollout",
                        .args = RolloutEngineArgs(plan->rollout[i], options.rollout),
                        .log_path = (logs / absl::StrCat("rollout-", i, ".log")).string()});
  }
  ChildSpec trainer{.name = "trainer",
                    .exe = bin + "/lockstep-trainer",
                    .args = {"grpo", launch.run_dir},
                    .log_path = (logs / "trainer.log").string()};
  for (const std::string& endpoint : plan->rollout) {
    trainer.args.push_back("--rollout");
    trainer.args.push_back(endpoint);
  }
  if (needs_sandbox) {
    trainer.args.push_back("--sandbox");
    trainer.args.push_back(plan->sandbox);
  }
  if (launch.resume) trainer.args.push_back("--resume");

  auto fail = [&](const std::string& message) {
    std::fprintf(stderr, "lockstep grpo: %s\n", message.c_str());
    supervisor.StopAll(std::chrono::seconds(5));
    if (!plan->socket_dir.empty()) fs::remove_all(plan->socket_dir);
    return 1;
  };
  for (const ChildSpec& spec : services) {
    if (absl::Status s = supervisor.Start(spec); !s.ok()) return fail(std::string(s.message()));
  }
  if (absl::Status s = supervisor.Start(trainer); !s.ok()) return fail(std::string(s.message()));
  std::fprintf(stderr, "lockstep grpo: trainer pid %d", supervisor.Pid("trainer"));
  for (const ChildSpec& spec : services) {
    std::fprintf(stderr, ", %s pid %d", spec.name.c_str(), supervisor.Pid(spec.name));
  }
  std::fprintf(stderr, "; logs in %s\n", logs.string().c_str());

  LogFollower trainer_log(trainer.log_path);
  int signals_forwarded = 0;
  int exit_code = 1;
  bool trainer_done = false;
  while (!trainer_done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    trainer_log.PrintNew(stderr);
    const int signals = g_signals.load();
    if (signals > signals_forwarded) {
      if (signals_forwarded == 0) {
        std::fprintf(stderr, "lockstep grpo: %s: asking the trainer to checkpoint and stop "
                             "(again to kill everything)\n", strsignal(g_last_signal.load()));
        supervisor.Signal("trainer", SIGINT);
      } else {
        supervisor.Signal("trainer", SIGKILL);
      }
      signals_forwarded = signals;
    }
    for (const ChildExit& e : supervisor.Poll()) {
      const ChildSpec* spec = supervisor.Spec(e.name);
      if (e.name == "trainer") {
        trainer_log.PrintNew(stderr);
        trainer_done = true;
        // 0: finished; 130: stopped by a signal after its checkpoint; else failed.
        exit_code = e.exit_code == 0 || e.exit_code == 130 ? e.exit_code : 1;
        if (exit_code == 1) {
          std::fprintf(stderr,
                       "lockstep grpo: the trainer (pid %d) %s; last lines of %s:\n%s"
                       "continue from the last checkpoint with: lockstep grpo --resume %s\n",
                       e.pid, e.Describe().c_str(), spec->log_path.c_str(),
                       LastLines(spec->log_path, 12).c_str(), launch.run_dir.c_str());
        }
        continue;
      }
      if (signals_forwarded > 0) continue;  // stopping anyway
      std::fprintf(stderr, "lockstep grpo: %s (pid %d) %s; last lines of %s:\n%s", e.name.c_str(),
                   e.pid, e.Describe().c_str(), spec->log_path.c_str(),
                   LastLines(spec->log_path, 8).c_str());
      if (supervisor.Restarts(e.name) >= launch.max_restarts) {
        supervisor.Signal("trainer", SIGINT);
        std::fprintf(stderr, "lockstep grpo: %s died %d times; stopping the job\n", e.name.c_str(),
                     supervisor.Restarts(e.name) + 1);
        continue;
      }
      const ChildSpec restart = *spec;
      if (absl::Status s = supervisor.Start(restart); !s.ok()) {
        supervisor.Signal("trainer", SIGINT);
        std::fprintf(stderr, "lockstep grpo: cannot restart %s: %s\n", e.name.c_str(),
                     std::string(s.message()).c_str());
      } else {
        std::fprintf(stderr, "lockstep grpo: restarted %s (pid %d); %s\n", e.name.c_str(),
                     supervisor.Pid(e.name),
                     e.name == "sandbox"
                         ? "reward runs that were in flight are retried"
                         : "the trainer re-sends the current weights and re-issues its requests");
      }
    }
  }
  supervisor.StopAll(std::chrono::seconds(5));
  if (!plan->socket_dir.empty()) fs::remove_all(plan->socket_dir);
  absl::StatusOr<jobs::GrpoRunSummary> summary = jobs::ReadGrpoRunSummary(launch.run_dir);
  if (exit_code != 1 && summary.ok()) {
    std::fprintf(stderr, "\n%s", jobs::FormatGrpoSummary(*summary, launch.run_dir).c_str());
  }
  return exit_code;
}

}  // namespace lockstep::driver
