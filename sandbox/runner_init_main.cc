// lockstep-sandbox-init: pid 1 of every sandbox (see sandbox/runner_init.h).
// Kept free of the C++ standard library's heavier parts: it is exec'd once per
// run, and its start-up time is part of every run's overhead.
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sandbox/runner_init.h"
#include "sandbox/seccomp_policy.h"

namespace {

using lockstep::sandbox::InitReport;

struct Limits {
  rlim_t cpu = 0, as = 0, nproc = 0, fsize = 0, nofile = 0;
  bool seccomp = true;
};

void Report(const InitReport& report) {
  // One write of a small struct to a pipe is atomic; nothing else writes there.
  ssize_t ignored = write(lockstep::sandbox::kInitStatusFd, &report, sizeof(report));
  (void)ignored;
}

[[noreturn]] void Fail(const char* what) {
  InitReport report;
  std::snprintf(report.error, sizeof(report.error), "lockstep-sandbox-init: %s: %s", what,
                std::strerror(errno));
  Report(report);
  _exit(1);
}

bool SetLimit(int resource, rlim_t soft, rlim_t hard) {
  const rlimit limit{soft, hard};
  return setrlimit(resource, &limit) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  Limits limits;
  int first = 1;
  for (; first < argc && std::strcmp(argv[first], "--") != 0; ++first) {
    const char* arg = argv[first];
    const char* eq = std::strchr(arg, '=');
    if (eq == nullptr) { errno = EINVAL; Fail(arg); }
    const std::string name(arg, eq);
    const rlim_t value = std::strtoull(eq + 1, nullptr, 10);
    if (name == lockstep::sandbox::kInitArgCpuSeconds) limits.cpu = value;
    else if (name == lockstep::sandbox::kInitArgAddressSpace) limits.as = value;
    else if (name == lockstep::sandbox::kInitArgProcesses) limits.nproc = value;
    else if (name == lockstep::sandbox::kInitArgFileSize) limits.fsize = value;
    else if (name == lockstep::sandbox::kInitArgOpenFiles) limits.nofile = value;
    else if (name == lockstep::sandbox::kInitArgSeccomp) limits.seccomp = value != 0;
    else { errno = EINVAL; Fail(arg); }
  }
  if (first + 1 >= argc) { errno = EINVAL; Fail("no program after --"); }
  char** program = argv + first + 1;

  // The status fd must not reach the program: it could forge a report.
  if (fcntl(lockstep::sandbox::kInitStatusFd, F_SETFD, FD_CLOEXEC) != 0) Fail("status fd");

  std::string seccomp_error;
  scmp_filter_ctx filter = nullptr;
  if (limits.seccomp) {
    filter = lockstep::sandbox::BuildSeccompPolicy(&seccomp_error);
    if (filter == nullptr) { errno = EINVAL; Fail(seccomp_error.c_str()); }
  }
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) Fail("pipe2");

  const pid_t child = fork();
  if (child < 0) Fail("fork");
  if (child == 0) {
    close(exec_pipe[0]);
    int err = 0;
    // Limits apply to the program only; the init itself stays unconstrained.
    if (!SetLimit(RLIMIT_CORE, 0, 0)) err = errno;
    if (limits.cpu && !SetLimit(RLIMIT_CPU, limits.cpu, limits.cpu + 1)) err = errno;
    if (limits.as && !SetLimit(RLIMIT_AS, limits.as, limits.as)) err = errno;
    if (limits.nproc && !SetLimit(RLIMIT_NPROC, limits.nproc, limits.nproc)) err = errno;
    if (limits.fsize && !SetLimit(RLIMIT_FSIZE, limits.fsize, limits.fsize)) err = errno;
    if (limits.nofile && !SetLimit(RLIMIT_NOFILE, limits.nofile, limits.nofile)) err = errno;
    if (err == 0 && filter != nullptr) {
      const int rc = seccomp_load(filter);
      if (rc < 0) err = -rc;
    }
    if (err == 0) {
      execvp(program[0], program);
      err = errno;
    }
    // Negative: a setup failure of ours, not of the program's exec.
    const int code = (err == ENOENT || err == EACCES || err == ENOEXEC) ? err : -err;
    ssize_t ignored = write(exec_pipe[1], &code, sizeof(code));
    (void)ignored;
    _exit(127);
  }
  close(exec_pipe[1]);
  if (filter != nullptr) seccomp_release(filter);

  InitReport report;
  int code = 0;
  ssize_t got;
  do {
    got = read(exec_pipe[0], &code, sizeof(code));
  } while (got < 0 && errno == EINTR);
  close(exec_pipe[0]);
  if (got == sizeof(code)) {
    if (code < 0) {
      std::snprintf(report.error, sizeof(report.error),
                    "lockstep-sandbox-init: setting up the program failed: %s",
                    std::strerror(-code));
    } else {
      report.exec_errno = code;
    }
  }

  // Reap everything; orphans re-parent to us, the init of the pid namespace.
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: should not happen before the program is reaped
    }
    if (pid != child) continue;
    if (WIFEXITED(status)) report.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) report.term_signal = WTERMSIG(status);
    break;
  }
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  report.cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL +
                  usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
  report.maxrss_kb = usage.ru_maxrss;
  Report(report);
  // Returning ends pid 1; the kernel then kills every process left in the
  // namespace (double-forked daemons included).
  return 0;
}
