#define BOOST_PROCESS_USE_STD_FS 1
// glibc declares vfork(); Boost only assumes so for old POSIX levels.
#define BOOST_POSIX_HAS_VFORK 1

#include "sandbox/sandbox_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <system_error>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/posix.hpp>

#include "absl/strings/str_cat.h"
#include "sandbox/runner_init.h"

namespace lockstep::sandbox::internal {

namespace bp = boost::process;

void Fd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

bool MakePipe(Fd* read_end, Fd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  return true;
}

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

namespace {

// ---------------------------------------------------------------------------
// Host uids for sandbox runs. Each concurrent run gets its own host uid so that
// RLIMIT_NPROC and signal permissions never couple two runs (kernels before
// 5.14 count processes per host uid, across user namespaces). A uid is claimed
// with flock() on a lock file, so several server processes on one host never
// share one; locks are kept for the process lifetime and uids reused locally.

constexpr uid_t kUidBase = 1'200'000'000;
constexpr int kUidSlots = 4096;
constexpr char kUidLockDir[] = "/tmp/lockstep-sandbox-uid-locks";

class UidPool {
 public:
  static UidPool& Get() {
    static UidPool* pool = new UidPool();  // never destroyed: lock fds live until exit
    return *pool;
  }

  absl::StatusOr<uid_t> Acquire() {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      const uid_t uid = free_.back();
      free_.pop_back();
      return uid;
    }
    if (!dir_checked_) {
      mkdir(kUidLockDir, 0700);
      struct stat st;
      if (lstat(kUidLockDir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
          (st.st_mode & 077) != 0) {
        return absl::FailedPreconditionError(
            absl::StrCat(kUidLockDir, " must be a directory owned by uid ", geteuid(),
                         " with mode 0700; remove it and retry"));
      }
      dir_checked_ = true;
    }
    for (int i = 0; i < kUidSlots; ++i) {
      const int slot = (next_ + i) % kUidSlots;
      const std::string path = absl::StrCat(kUidLockDir, "/", slot);
      const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0) continue;
      if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        next_ = slot + 1;
        return kUidBase + slot;  // fd stays open: the lock is ours until exit
      }
      close(fd);
    }
    return absl::ResourceExhaustedError(
        absl::StrCat("all ", kUidSlots, " sandbox uids are in use (", kUidLockDir, ")"));
  }

  void Release(uid_t uid) {
    std::lock_guard lock(mutex_);
    free_.push_back(uid);
  }

 private:
  std::mutex mutex_;
  std::vector<uid_t> free_;
  int next_ = 0;
  bool dir_checked_ = false;
};

}  // namespace

UidLease::UidLease(bool per_run_uid) {
  if (per_run_uid && geteuid() == 0) {
    auto uid = UidPool::Get().Acquire();
    if (!uid.ok()) {
      status_ = uid.status();
      return;
    }
    uid_ = *uid;
    pooled_ = true;
  } else {
    uid_ = geteuid();
  }
}

UidLease::UidLease(UidLease&& other) noexcept
    : status_(std::move(other.status_)), uid_(other.uid_), pooled_(std::exchange(other.pooled_, false)) {}

UidLease::~UidLease() {
  if (pooled_) UidPool::Get().Release(uid_);
}

// ---------------------------------------------------------------------------
// Spawning bubblewrap.

namespace {

// Set-up done in the child right before it execs bubblewrap: place the pipes
// at fds 0-4, let no other descriptor of this (multi-threaded) process cross
// the exec, and drop to the run's host uid.
//
// The child is made with vfork (bp::posix::use_vfork): it shares this
// process's memory until it execs, so the spawn costs no copy of the page
// tables and no copy-on-write faults afterwards (fork() of a large, threaded
// server was a measurable part of every run). Hence, in the child:
// - only async-signal-safe calls that touch no shared state: the uid and
//   group changes are raw syscalls, because glibc's setresuid() and friends
//   would signal every thread of the *parent* (its thread list is shared) to
//   change uid too;
// - signals stay blocked (the parent blocks them all around the spawn) until
//   every caught signal is reset to its default, so no handler of this process
//   ever runs on the parent's memory in the child; then the caller's mask is
//   restored for bubblewrap, exactly as fork() would have passed it on.
struct ChildSetup : bp::extend::handler {
  int fds[5];  // stdin, stdout, stderr, init status, bwrap info
  uid_t uid;
  gid_t gid;
  bool change_uid;
  const sigset_t* restore_mask;  // the spawning thread's mask before the spawn

  template <class Executor>
  void on_exec_setup(Executor& exec) const {
    int moved[5];
    for (int i = 0; i < 5; ++i) {
      // Above every target first, so no dup2 below clobbers a later source.
      moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16);
      if (moved[i] < 0) Abort(exec, "fcntl(F_DUPFD_CLOEXEC)");
    }
    for (int i = 0; i < 5; ++i) {
      if (dup2(moved[i], i) < 0) Abort(exec, "dup2");
    }
    // Everything else (other runs' pipes, sockets) closes at exec.
    if (close_range(5, ~0U, CLOSE_RANGE_CLOEXEC) != 0) Abort(exec, "close_range");
    if (change_uid) {
      if (syscall(SYS_setgroups, 0, nullptr) != 0) Abort(exec, "setgroups");
      if (syscall(SYS_setresgid, gid, gid, gid) != 0) Abort(exec, "setresgid");
      if (syscall(SYS_setresuid, uid, uid, uid) != 0) Abort(exec, "setresuid");
    }
    // After the uid change, which clears it: bubblewrap dies with this thread.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The child has its own copy of the signal dispositions (no CLONE_SIGHAND).
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      struct sigaction action;
      if (sigaction(sig, nullptr, &action) != 0) continue;  // glibc-internal signals
      if (action.sa_handler == SIG_DFL || action.sa_handler == SIG_IGN) continue;
      action.sa_handler = SIG_DFL;
      action.sa_flags = 0;
      sigaction(sig, &action, nullptr);
    }
    pthread_sigmask(SIG_SETMASK, restore_mask, nullptr);
  }

  template <class Executor>
  [[noreturn]] static void Abort(Executor& exec, const char* what) {
    exec.set_error(std::error_code(errno, std::system_category()), what);
    _exit(126);
  }
};

// Blocks every signal in the calling thread for its lifetime.
struct SignalsBlocked {
  sigset_t saved;
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;
};

// Serialises spawns, so one thread's spawn window (signals blocked, child
// running on our memory) never overlaps another's.
std::mutex& SpawnMutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

// Reads what is available; returns false at EOF or error.
bool Drain(int fd, Capture* capture) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      capture->Append(buffer, n);
      if (n < static_cast<ssize_t>(sizeof(buffer))) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    capture->eof = true;
    return false;
  }
}


absl::StatusOr<pid_t> SpawnBubblewrap(const std::string& bwrap_path,
                                      const std::vector<std::string>& args,
                                      const std::vector<std::pair<std::string, std::string>>& env,
                                      const std::array<int, 5>& fds, uid_t uid, gid_t gid,
                                      bool change_uid) {
  bp::environment environment;
  for (const auto& [name, value] : env) environment[name] = value;
  ChildSetup setup;
  for (int i = 0; i < 5; ++i) setup.fds[i] = fds[i];
  setup.uid = uid;
  setup.gid = gid;
  setup.change_uid = change_uid;
  std::lock_guard lock(SpawnMutex());
  SignalsBlocked blocked;  // until the child has exec'd (see ChildSetup)
  setup.restore_mask = &blocked.saved;
  std::error_code ec;
  bp::child child(bp::exe = bwrap_path, bp::args = args, bp::env = environment, setup,
                  bp::posix::use_vfork, ec);
  if (ec || !child.valid()) {
    return absl::InternalError(
        absl::StrCat("cannot start bubblewrap (", bwrap_path, "): ", ec.message()));
  }
  const pid_t pid = child.id();
  child.detach();  // reaped by the caller; Boost must not touch the pid again
  return pid;
}

int OpenSandboxInitPidfd(const std::string& info_json, pid_t bwrap_pid) {
  const size_t at = info_json.find("\"child-pid\":");
  if (at == std::string::npos) return -1;
  const pid_t pid = std::atoi(info_json.c_str() + at + 12);
  Fd pidfd(PidfdOpen(pid));
  if (!pidfd.valid()) return -1;
  // A pidfd names one process for good; check it is bubblewrap's child and
  // not a recycled pid.
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat_line;
  std::getline(stat_file, stat_line);
  const size_t paren = stat_line.rfind(')');
  int ppid = -1;
  if (paren != std::string::npos) {
    char state;
    std::sscanf(stat_line.c_str() + paren + 2, "%c %d", &state, &ppid);
  }
  if (ppid != bwrap_pid) return -1;
  return pidfd.release();
}

std::vector<std::pair<std::string, std::string>> ProgramEnvironment(const Execution& ex) {
  std::vector<std::pair<std::string, std::string>> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                                          {"HOME", "/tmp"},
                                                          {"TMPDIR", "/tmp"},
                                                          {"LANG", "C.UTF-8"}};
  env.insert(env.end(), ex.env.begin(), ex.env.end());
  return env;
}

// ---------------------------------------------------------------------------
// One run's descriptors and its supervision.

void RunPipes::CloseChildEnds() {
  stdin_fd.reset();
  out_w.reset();
  err_w.reset();
  status_w.reset();
}

absl::Status MakeRunPipes(const std::string* stdin_data, RunPipes* pipes) {
  // stdin is a memfd: the program reads it like a file, and the parent never
  // blocks writing to a program that does not read.
  if (stdin_data == nullptr || stdin_data->empty()) {
    pipes->stdin_fd.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
  } else {
    pipes->stdin_fd.reset(memfd_create("lockstep-stdin", MFD_CLOEXEC));
    if (pipes->stdin_fd.valid()) {
      size_t done = 0;
      while (done < stdin_data->size()) {
        const ssize_t n =
            write(pipes->stdin_fd.get(), stdin_data->data() + done, stdin_data->size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      if (done != stdin_data->size() || lseek(pipes->stdin_fd.get(), 0, SEEK_SET) != 0) {
        pipes->stdin_fd.reset();
      }
    }
  }
  if (!pipes->stdin_fd.valid() || !MakePipe(&pipes->out_r, &pipes->out_w) ||
      !MakePipe(&pipes->err_r, &pipes->err_w) || !MakePipe(&pipes->status_r, &pipes->status_w)) {
    return absl::InternalError(absl::StrCat("cannot create pipes: ", strerror(errno)));
  }
  for (int fd : {pipes->out_r.get(), pipes->err_r.get(), pipes->status_r.get()}) {
    fcntl(fd, F_SETFL, O_NONBLOCK);
  }
  return absl::OkStatus();
}

Supervised SuperviseRun(RunPipes& pipes, const RunLimits& limits, Clock::time_point start,
                        RunEnd& end) {
  Supervised result;
  StepOutput& out = result.out;
  Capture out_cap(limits.output_limit_bytes);
  Capture err_cap(std::min(limits.stderr_keep_bytes, limits.output_limit_bytes));
  Capture status_cap(sizeof(InitReport));
  const auto deadline =
      start + std::chrono::microseconds(static_cast<int64_t>(limits.wall_time_s * 1e6));

  bool ended = false;
  bool killed = false;
  while (!ended) {
    const auto now = Clock::now();
    if (now >= deadline && !killed) {
      result.wall_killed = true;
      end.Kill();
      killed = true;
    }
    int timeout_ms = killed ? 100
                            : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(
                                                   deadline - now)
                                                   .count());
    if (end.poll_interval_ms() >= 0) timeout_ms = std::min(timeout_ms, end.poll_interval_ms());
    pollfd fds[4];
    int n = 0;
    auto add = [&](int fd, bool eof) {
      if (fd >= 0 && !eof) fds[n++] = {fd, POLLIN, 0};
    };
    add(pipes.out_r.get(), out_cap.eof);
    add(pipes.err_r.get(), err_cap.eof);
    add(pipes.status_r.get(), status_cap.eof);
    add(end.fd(), false);
    const int ready = poll(fds, static_cast<nfds_t>(n), std::max(timeout_ms, 0));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      const int fd = fds[i].fd;
      if (fd == pipes.out_r.get()) Drain(fd, &out_cap);
      else if (fd == pipes.err_r.get()) Drain(fd, &err_cap);
      else if (fd == pipes.status_r.get()) Drain(fd, &status_cap);
      else if (fd == end.fd()) ended = end.Ended();
    }
    if (!ended && end.ReportEndsRun() && status_cap.data.size() == sizeof(InitReport)) {
      end.OnEndedByReport();
      ended = true;
    }
    if (!ended && end.poll_interval_ms() >= 0) ended = end.Ended();
    if (!killed && (out_cap.total > limits.output_limit_bytes ||
                    err_cap.total > limits.output_limit_bytes)) {
      result.output_killed = true;
      end.Kill();
      killed = true;
    }
  }
  out.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  // Everything of the run is gone now; read what is left in the pipes.
  while (!out_cap.eof && Drain(pipes.out_r.get(), &out_cap) &&
         out_cap.total <= limits.output_limit_bytes) {
    pollfd p{pipes.out_r.get(), POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) break;
  }
  Drain(pipes.err_r.get(), &err_cap);
  Drain(pipes.status_r.get(), &status_cap);

  out.stdout_data = std::move(out_cap.data);
  out.stderr_data = std::move(err_cap.data);
  out.stdout_bytes = out_cap.total;
  out.stderr_bytes = err_cap.total;
  out.stdout_truncated = out_cap.total > static_cast<int64_t>(out.stdout_data.size());
  out.stderr_truncated = err_cap.total > static_cast<int64_t>(out.stderr_data.size());

  InitReport report;
  if (status_cap.data.size() == sizeof(InitReport)) {
    std::memcpy(&report, status_cap.data.data(), sizeof(report));
  }
  if (status_cap.data.size() != sizeof(InitReport) || report.magic != kInitReportMagic) {
    if (killed) return result;  // we killed it before the init could report
    result.error = absl::StrCat(end.DescribeMissingReport(), ": ", out.stderr_data);
    return result;
  }
  result.work_full = report.work_full;
  if (report.error[0] != '\0') {
    report.error[sizeof(report.error) - 1] = '\0';
    result.error = report.error;
    return result;
  }
  result.exec_errno = report.exec_errno;
  if (report.exec_errno == 0) {
    if (report.term_signal != 0) out.signal = report.term_signal;
    else out.exit_code = report.exit_code;
  }
  out.cpu_ms = report.cpu_us / 1000;
  out.peak_memory_kb = report.maxrss_kb;
  return result;
}

}  // namespace lockstep::sandbox::internal
