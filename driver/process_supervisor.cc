#include "driver/process_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <deque>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace lockstep::driver {
namespace {

namespace bp = boost::process;

// Runs in the child between fork and exec: stdout and stderr to the log
// (append), stdin from /dev/null, and death with the driver. Only
// async-signal-safe calls here.
struct ChildSetup : bp::extend::handler {
  int log_fd = -1;
  int null_fd = -1;
  pid_t parent = 0;

  template <class Executor>
  void on_exec_setup(Executor&) const {
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    // Its own process group: a terminal's Ctrl-C reaches the driver alone,
    // which forwards it to the trainer (which must checkpoint before the
    // others stop).
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The driver may have died between fork and prctl: then nobody would kill us.
    if (getppid() != parent) _exit(1);
    // Signals the driver ignores or blocks must not stay so in the child.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
  }
};

}  // namespace

struct ProcessSupervisor::Child {
  ChildSpec spec;
  pid_t pid = 0;  // 0 when not running
  int restarts = -1;
};

std::string ChildExit::Describe() const {
  if (signal != 0) return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return absl::StrCat("exited with status ", exit_code);
}

ProcessSupervisor::ProcessSupervisor() = default;

ProcessSupervisor::~ProcessSupervisor() {
  for (auto& c : children_) {
    if (c->pid > 0) {
      kill(c->pid, SIGKILL);
      waitpid(c->pid, nullptr, 0);
    }
  }
}

ProcessSupervisor::Child* ProcessSupervisor::Find(const std::string& name) const {
  for (const auto& c : children_) {
    if (c->spec.name == name) return c.get();
  }
  return nullptr;
}

absl::Status ProcessSupervisor::Start(const ChildSpec& spec) {
  Child* child = Find(spec.name);
  if (child == nullptr) {
    children_.push_back(std::make_unique<Child>());
    child = children_.back().get();
  }
  if (child->pid > 0) return absl::FailedPreconditionError(absl::StrCat(spec.name, " is running"));
  child->spec = spec;
  const int log_fd = open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", spec.log_path, ": ", strerror(errno)));
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ChildSetup setup;
  setup.log_fd = log_fd;
  setup.null_fd = null_fd;
  setup.parent = getpid();
  std::error_code ec;
  bp::child process(bp::exe = spec.exe, bp::args = spec.args, setup, ec);
  close(log_fd);
  close(null_fd);
  if (ec || !process.valid()) {
    return absl::InternalError(
        absl::StrCat("cannot start ", spec.name, " (", spec.exe, "): ", ec.message()));
  }
  child->pid = process.id();
  process.detach();  // reaped by Poll with waitpid
  ++child->restarts;
  return absl::OkStatus();
}

std::vector<ChildExit> ProcessSupervisor::Poll() {
  std::vector<ChildExit> exits;
  for (auto& c : children_) {
    if (c->pid <= 0) continue;
    int status = 0;
    const pid_t r = waitpid(c->pid, &status, WNOHANG);
    if (r != c->pid) continue;
    ChildExit e{.name = c->spec.name, .pid = c->pid};
    if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
    if (WIFEXITED(status)) e.exit_code = WEXITSTATUS(status);
    c->pid = 0;
    exits.push_back(std::move(e));
  }
  return exits;
}

bool ProcessSupervisor::Running(const std::string& name) const { return Pid(name) > 0; }

pid_t ProcessSupervisor::Pid(const std::string& name) const {
  const Child* c = Find(name);
  return c == nullptr ? 0 : c->pid;
}

int ProcessSupervisor::Restarts(const std::string& name) const {
  const Child* c = Find(name);
  return c == nullptr ? 0 : c->restarts;
}

const ChildSpec* ProcessSupervisor::Spec(const std::string& name) const {
  const Child* c = Find(name);
  return c == nullptr ? nullptr : &c->spec;
}

void ProcessSupervisor::Signal(const std::string& name, int sig) const {
  const pid_t pid = Pid(name);
  if (pid > 0) kill(pid, sig);
}

void ProcessSupervisor::StopAll(std::chrono::milliseconds grace) {
  for (auto& c : children_) {
    if (c->pid > 0) kill(c->pid, SIGTERM);
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    Poll();
    bool any = false;
    for (auto& c : children_) any = any || c->pid > 0;
    if (!any) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& c : children_) {
    if (c->pid > 0) {
      kill(c->pid, SIGKILL);
      waitpid(c->pid, nullptr, 0);
      c->pid = 0;
    }
  }
}

std::string LastLines(const std::string& path, int n) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (static_cast<int>(lines.size()) > n) lines.pop_front();
  }
  std::string out;
  for (const std::string& l : lines) absl::StrAppend(&out, "    ", l, "\n");
  return out;
}

}  // namespace lockstep::driver
