// lockstep-sandbox-init: pid 1 of every sandbox run (see sandbox/runner_init.h).
// Kept free of the C++ standard library's heavier parts: it is exec'd once per
// one-shot sandbox and cloned once per warm run, and its start-up time is part
// of every run's overhead.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <net/if.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "sandbox/fd_passing.h"
#include "sandbox/runner_init.h"
#include "sandbox/seccomp_policy.h"

extern char** environ;

namespace {

using lockstep::sandbox::InitReport;
using lockstep::sandbox::kInitStatusFd;

struct Limits {
  rlim_t cpu = 0, as = 0, data = 0, nproc = 0, fsize = 0, nofile = 0;
  bool seccomp = true;
  // Zygote mode: the init holds capabilities in the sandbox's user namespace
  // (it mounts); the program must get none, not even ambient ones.
  bool drop_capabilities = false;
  // Zygote mode: the namespace watch (seccomp_policy.h) on the program, its
  // notifications answered by this init, which notes them in g_shared.
  bool watch_namespaces = false;
};

// Shared by the zygote and every run's init: one MAP_SHARED page the zygote
// maps before it clones any run (a program loses it at exec).
struct ZygoteShared {
  // Set by a run's init before it lets a socket of a family other than
  // AF_UNIX come into existence: the network namespace the run shares with
  // the zygote may now hold state of that run. Cleared by the zygote when it
  // moves to an unused namespace (see EnterUnspentNetwork).
  std::atomic<uint32_t> network_touched;
  // The same for System V and POSIX IPC objects and the ipc namespace (see
  // EnterUnspentIpc).
  std::atomic<uint32_t> ipc_touched;
};
static_assert(std::atomic<uint32_t>::is_always_lock_free, "shared between processes");
ZygoteShared* g_shared = nullptr;

void Report(const InitReport& report) {
  // One write of a small struct to a pipe is atomic; nothing else writes there.
  ssize_t ignored = write(kInitStatusFd, &report, sizeof(report));
  (void)ignored;
}

[[noreturn]] void Fail(const char* what) {
  InitReport report;
  std::snprintf(report.error, sizeof(report.error), "lockstep-sandbox-init: %s: %s", what,
                std::strerror(errno));
  Report(report);
  _exit(1);
}

[[noreturn]] void FailRun(const char* what, const char* path) {
  const int saved = errno;
  char text[96];
  std::snprintf(text, sizeof(text), "%s %s", what, path);
  errno = saved;
  Fail(text);
}

bool SetLimit(int resource, rlim_t soft, rlim_t hard) {
  const rlimit limit{soft, hard};
  return setrlimit(resource, &limit) == 0;
}

// Empties every capability set of the calling process (bounding, ambient,
// inheritable, permitted, effective). Returns 0 or an errno.
int DropAllCapabilities() {
  for (int cap = 0; cap <= 63; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap) != 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      return errno;
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return errno;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  return 0;
}

// The seccomp policy compiled to BPF once per init process (a zygote serves
// many runs with it): libseccomp's generation and its kernel-feature probes
// then cost nothing per run. Returns false and sets *error on failure.
std::vector<sock_filter> g_seccomp_program;
std::vector<sock_filter> g_namespace_watch_program = lockstep::sandbox::NamespaceWatchFilter();

bool CompileSeccompPolicy(std::string* error) {
  if (!g_seccomp_program.empty()) return true;
  scmp_filter_ctx filter = lockstep::sandbox::BuildSeccompPolicy(error);
  if (filter == nullptr) return false;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    seccomp_release(filter);
    *error = "pipe2 for the seccomp program failed";
    return false;
  }
  // The program is a few hundred instructions at most: it fits the pipe.
  const int rc = seccomp_export_bpf(filter, pipe_fds[1]);
  close(pipe_fds[1]);
  seccomp_release(filter);
  std::vector<char> bytes;
  char buffer[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof(buffer))) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  close(pipe_fds[0]);
  if (rc < 0 || bytes.empty() || bytes.size() % sizeof(sock_filter) != 0) {
    *error = "exporting the seccomp program failed";
    return false;
  }
  g_seccomp_program.resize(bytes.size() / sizeof(sock_filter));
  std::memcpy(g_seccomp_program.data(), bytes.data(), bytes.size());
  return true;
}

// ---------------------------------------------------------------------------
// Compile steps: the host directory is copied into the capped tmpfs /work and
// back (see kInitArgCompileOutput). Nothing of the run is alive during either
// copy, and both sides are opened without following symlinks.

int g_compile_dir_fd = -1;  // the host compile directory, its bind detached
constexpr int kMaxCopyDepth = 64;

// Copies regular files, directories and symlinks under `from` into `to`
// (files replaced, directories merged); others (fifos, sockets) are skipped.
// Returns 0 or an errno, with *failed naming the entry.
int CopyTree(int from, int to, int depth, const char** failed) {
  if (depth > kMaxCopyDepth) return ELOOP;
  const int listing_fd = dup(from);
  DIR* listing = listing_fd < 0 ? nullptr : fdopendir(listing_fd);
  if (listing == nullptr) return errno;
  int err = 0;
  while (dirent* entry = readdir(listing)) {
    const char* name = entry->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    *failed = name;
    struct stat st;
    if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) != 0) { err = errno; break; }
    const mode_t mode = st.st_mode & 0777;
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(to, name, mode | 0700) != 0 && errno != EEXIST) { err = errno; break; }
      const int sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      const int sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      err = sub_from < 0 || sub_to < 0 ? errno : CopyTree(sub_from, sub_to, depth + 1, failed);
      if (sub_from >= 0) close(sub_from);
      if (sub_to >= 0) close(sub_to);
      if (err == 0 && fchmodat(to, name, mode, 0) != 0) err = errno;
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      const ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);
      if (n < 0) { err = errno; break; }
      target[n] = '\0';
      unlinkat(to, name, 0);
      if (symlinkat(target, to, name) != 0) err = errno;
    } else if (S_ISREG(st.st_mode)) {
      // Replaced, not rewritten: the host's copy of the source is the runner's.
      if (unlinkat(to, name, 0) != 0 && errno != ENOENT) { err = errno; break; }
      const int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      const int out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
      if (in < 0 || out < 0) err = errno;
      char buffer[65536];
      for (ssize_t n; err == 0 && (n = read(in, buffer, sizeof(buffer))) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { err = errno; break; }
        for (ssize_t done = 0; err == 0 && done < n;) {
          const ssize_t w = write(out, buffer + done, static_cast<size_t>(n - done));
          if (w < 0 && errno != EINTR) err = errno;
          if (w > 0) done += w;
        }
      }
      if (err == 0 && fchmod(out, mode) != 0) err = errno;
      if (in >= 0) close(in);
      if (out >= 0) close(out);
    }
    if (err != 0) break;
  }
  closedir(listing);
  return err;
}

// Before the compiler: the host directory's files into /work, then the bind
// detached, so the only way back to the host is our descriptor.
void StartCompile() {
  // Our descriptors stay ours: no process of the run may read them via /proc.
  prctl(PR_SET_DUMPABLE, 0);
  g_compile_dir_fd = open(lockstep::sandbox::kCompileDirInSandbox,
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (g_compile_dir_fd < 0) Fail(lockstep::sandbox::kCompileDirInSandbox);
  const int work_fd = open("/work", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (work_fd < 0) Fail("/work");
  const char* failed = "";
  const int err = CopyTree(g_compile_dir_fd, work_fd, 0, &failed);
  close(work_fd);
  if (err != 0) {
    errno = err;
    FailRun("copying the compile directory into /work:", failed);
  }
  if (umount2(lockstep::sandbox::kCompileDirInSandbox, MNT_DETACH) != 0) {
    FailRun("detaching", lockstep::sandbox::kCompileDirInSandbox);
  }
}

// After the compiler (every process of the run reaped): say whether /work
// filled up, and on success copy it back to the host directory.
void FinishCompile(InitReport* report) {
  struct statfs fs;
  if (statfs("/work", &fs) == 0) {
    if (fs.f_files > 0 && fs.f_ffree == 0) report->work_full |= lockstep::sandbox::kWorkFullInodes;
    if (fs.f_bfree == 0) report->work_full |= lockstep::sandbox::kWorkFullBytes;
  }
  const bool compiled = report->error[0] == '\0' && report->exec_errno == 0 &&
                        report->term_signal == 0 && report->exit_code == 0;
  if (!compiled) return;
  const int work_fd = open("/work", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const char* failed = "/work";
  const int err = work_fd < 0 ? errno : CopyTree(work_fd, g_compile_dir_fd, 0, &failed);
  if (work_fd >= 0) close(work_fd);
  if (err != 0) {
    std::snprintf(report->error, sizeof(report->error),
                  "lockstep-sandbox-init: copying the compile output back (%s): %s", failed,
                  std::strerror(err));
  }
}

// ---------------------------------------------------------------------------
// The namespace watch (zygote runs): the program's child loads it and hands
// its listener to the init over a socketpair; the init answers every
// notification, after noting it in g_shared, with "continue" while it waits.

bool SendFd(int socket_fd, int fd) {
  const char byte = 0;
  return lockstep::sandbox::SendWithFds<1>(socket_fd, &byte, 1, &fd, 1) == 1;
}

// The descriptor sent by SendFd, or -1 (the sender ended without sending).
int ReceiveFd(int socket_fd) {
  char byte;
  int fd = -1;
  size_t count = 0;
  int flags = 0;
  const ssize_t n = lockstep::sandbox::ReceiveWithFds<1>(socket_fd, &byte, 1, &fd, &count, &flags);
  if (count == 1 && (n != 1 || (flags & MSG_CTRUNC) != 0)) {
    close(fd);
    return -1;
  }
  return count == 1 ? fd : -1;
}

// In the program's child, after the policy: loads the watch and hands its
// listener (close-on-exec) to the init. Returns 0 or an errno.
int LoadNamespaceWatch(int pass_fd) {
  const sock_fprog watch{static_cast<unsigned short>(g_namespace_watch_program.size()),
                         g_namespace_watch_program.data()};
  const int listener = static_cast<int>(
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &watch));
  if (listener < 0) return errno;
  const int err = SendFd(pass_fd, listener) ? 0 : (errno != 0 ? errno : EPROTO);
  close(listener);
  return err;
}

// Buffers sized by the kernel's own structures (SECCOMP_GET_NOTIF_SIZES),
// which may be larger than this build's headers say.
union NotificationBuffer {
  seccomp_notif notif;
  seccomp_notif_resp resp;
  char bytes[512];
};

// Answers one pending notification: notes it in g_shared, then lets the call
// proceed. A caller that died meanwhile is skipped (ENOENT).
void AnswerWatchNotification(int listener) {
  static seccomp_notif_sizes sizes{};
  if (sizes.seccomp_notif == 0 &&
      syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
    sizes = {sizeof(seccomp_notif), sizeof(seccomp_notif_resp), sizeof(seccomp_data)};
  }
  if (sizes.seccomp_notif > sizeof(NotificationBuffer) ||
      sizes.seccomp_notif_resp > sizeof(NotificationBuffer)) {
    Fail("the kernel's seccomp notification is larger than expected");
  }
  NotificationBuffer request, response;
  std::memset(&request, 0, sizeof(request));
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) return;
  // Before the socket or IPC object can exist (the call waits for our answer).
  if (lockstep::sandbox::IsIpcCreation(request.notif.data.nr)) {
    g_shared->ipc_touched.store(1);
  } else {
    g_shared->network_touched.store(1);
  }
  std::memset(&response, 0, sizeof(response));
  response.resp.id = request.notif.id;
  response.resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) != 0 && errno != ENOENT) {
    // Cannot let it proceed: fail the call rather than leave it waiting.
    response.resp.flags = 0;
    response.resp.error = -EPERM;
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response);
  }
}

void RecordExit(int status, InitReport* report) {
  if (WIFEXITED(status)) report->exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) report->term_signal = WTERMSIG(status);
}

// Waits for the program, reaping orphans (re-parented to us, the init of the
// pid namespace) as they end.
void WaitForProgram(pid_t program, InitReport* report) {
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      return;  // ECHILD: should not happen before the program is reaped
    }
    if (pid == program) return RecordExit(status, report);
  }
}

// The same while answering the namespace watch's notifications: SIGCHLD
// (blocked) arrives on `sigchld_fd`.
void WaitForProgramAnsweringWatch(pid_t program, int listener, int sigchld_fd,
                                   InitReport* report) {
  for (;;) {
    for (;;) {
      int status = 0;
      const pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid < 0 && errno == EINTR) continue;
      if (pid < 0) return;  // ECHILD
      if (pid == 0) break;
      if (pid == program) return RecordExit(status, report);
    }
    pollfd fds[2] = {{sigchld_fd, POLLIN, 0}, {listener, POLLIN, 0}};  // -1 is skipped
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return WaitForProgram(program, report);  // still reaps; the watch then answers nothing
    }
    if ((fds[1].revents & POLLIN) != 0) {
      AnswerWatchNotification(listener);
    } else if (fds[1].revents != 0) {
      close(listener);  // POLLHUP: no process of the run is filtered any more
      listener = -1;
    }
    if (fds[0].revents != 0) {
      signalfd_siginfo info;
      while (read(sigchld_fd, &info, sizeof(info)) > 0) {
      }
    }
  }
}

// What the program's child needs to set itself up and exec.
struct ProgramStart {
  const Limits& limits;
  const sock_fprog* filter;
  bool watch;
  int exec_pipe_w;      // gets a code if the program could not be started
  int listener_pass_w;  // gets the namespace watch's listener
  sigset_t signal_mask;  // the program's (the init blocks SIGCHLD when watching)
  char** program;
  char** envp;  // null: this process's environ
};

// The program's child: limits, no capabilities, no_new_privs, seccomp (and
// the namespace watch), exec. It runs in the init's memory (CLONE_VM |
// CLONE_VFORK) while the init waits, so it changes no state the init reads
// afterwards (`environ` aside, which the init no longer uses).
int StartProgram(void* arg) {
  const ProgramStart& start = *static_cast<ProgramStart*>(arg);
  const Limits& limits = start.limits;
  int err = 0;
  if (start.watch && sigprocmask(SIG_SETMASK, &start.signal_mask, nullptr) != 0) err = errno;
  // Limits apply to the program only; the init itself stays unconstrained.
  if (!SetLimit(RLIMIT_CORE, 0, 0)) err = errno;
  if (limits.cpu && !SetLimit(RLIMIT_CPU, limits.cpu, limits.cpu + 1)) err = errno;
  if (limits.as && !SetLimit(RLIMIT_AS, limits.as, limits.as)) err = errno;
  if (limits.data && !SetLimit(RLIMIT_DATA, limits.data, limits.data)) err = errno;
  if (limits.nproc && !SetLimit(RLIMIT_NPROC, limits.nproc, limits.nproc)) err = errno;
  if (limits.fsize && !SetLimit(RLIMIT_FSIZE, limits.fsize, limits.fsize)) err = errno;
  if (limits.nofile && !SetLimit(RLIMIT_NOFILE, limits.nofile, limits.nofile)) err = errno;
  if (err == 0 && limits.drop_capabilities) err = DropAllCapabilities();
  // no_new_privs: exec can never add privileges (setuid or file
  // capabilities), and an unprivileged process may then install a filter.
  if (err == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) err = errno;
  if (err == 0 && limits.seccomp &&
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, start.filter) != 0) {
    err = errno;
  }
  if (err == 0 && start.watch) err = LoadNamespaceWatch(start.listener_pass_w);
  if (err == 0) {
    // execvp searches the PATH of `environ`, so the program's environment
    // is installed first.
    if (start.envp != nullptr) environ = start.envp;
    execvp(start.program[0], start.program);
    err = errno;
  }
  // Negative: a setup failure of ours, not of the program's exec.
  const int code = (err == ENOENT || err == EACCES || err == ENOEXEC) ? err : -err;
  ssize_t ignored = write(start.exec_pipe_w, &code, sizeof(code));
  (void)ignored;
  _exit(127);
}

// Starts the program with the limits, waits for it while reaping orphans, and
// reports how it ended on kInitStatusFd. `envp` null: this process's environ.
int SuperviseProgram(const Limits& limits, char** program, char** envp) {
  // The status fd must not reach the program: it could forge a report.
  if (fcntl(kInitStatusFd, F_SETFD, FD_CLOEXEC) != 0) Fail("status fd");

  std::string seccomp_error;
  if (limits.seccomp && !CompileSeccompPolicy(&seccomp_error)) {
    errno = EINVAL;
    Fail(seccomp_error.c_str());
  }
  const sock_fprog filter{static_cast<unsigned short>(g_seccomp_program.size()),
                          g_seccomp_program.data()};
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) Fail("pipe2");
  const bool watch = limits.seccomp && limits.watch_namespaces;
  int listener_pass[2] = {-1, -1};  // child -> init: the watch's listener
  int sigchld_fd = -1;
  sigset_t sigchld, old_mask;
  sigemptyset(&sigchld);
  sigaddset(&sigchld, SIGCHLD);
  sigemptyset(&old_mask);
  if (watch) {
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, listener_pass) != 0) {
      Fail("socketpair");
    }
    if (sigprocmask(SIG_BLOCK, &sigchld, &old_mask) != 0) Fail("sigprocmask");
    sigchld_fd = signalfd(-1, &sigchld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigchld_fd < 0) Fail("signalfd");
  }

  ProgramStart start{limits, &filter, watch, exec_pipe[1], listener_pass[1], old_mask, program,
                     envp};
  // The child shares our memory until it execs (we wait meanwhile), so no
  // page table is copied and nothing of ours is copied on write.
  alignas(16) static char child_stack[256 << 10];
  const pid_t child = clone(StartProgram, child_stack + sizeof(child_stack),
                            CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  if (child < 0) Fail("clone of the program");
  close(exec_pipe[1]);
  int listener = -1;
  if (watch) {
    // The child sends it before it execs, or ends without (then it reports
    // why on exec_pipe). Both ends closed: no socket of ours outlives this.
    close(listener_pass[1]);
    listener = ReceiveFd(listener_pass[0]);
    close(listener_pass[0]);
  }
  // The program's stdin/stdout/stderr are its alone now: once it and its
  // descendants are gone, the runner sees end-of-file.
  for (int fd = 0; fd <= 2; ++fd) close(fd);

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

  if (watch) {
    WaitForProgramAnsweringWatch(child, listener, sigchld_fd, &report);
  } else {
    WaitForProgram(child, &report);
  }
  // Nothing of the run outlives its report: every other process of the
  // namespace (setsid'd, double-forked, ...) is killed and reaped first. So
  // the report's CPU time covers them too, and the runner may take the
  // report as the end of the run (sandbox/warm_sandbox.cc does).
  kill(-1, SIGKILL);
  while (waitpid(-1, nullptr, __WALL) > 0 || errno == EINTR) {
  }
  if (g_compile_dir_fd >= 0) FinishCompile(&report);
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  report.cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL +
                  usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
  report.maxrss_kb = usage.ru_maxrss;
  Report(report);
  // Returning ends pid 1, which also tears the namespace down.
  return 0;
}

// One-shot sandboxes: bubblewrap's tmpfs mounts get their inode cap here,
// keeping their size and contents (the artefact's mount points in /work).
void CapTmpfsInodes(rlim_t inodes) {
  for (const char* path : {"/tmp", "/dev/shm", "/work"}) {
    struct statfs fs;
    if (statfs(path, &fs) != 0) Fail(path);
    if (fs.f_type != TMPFS_MAGIC) continue;
    char options[96];
    std::snprintf(options, sizeof(options), "size=%llu,nr_inodes=%llu",
                  static_cast<unsigned long long>(fs.f_blocks) * fs.f_bsize,
                  static_cast<unsigned long long>(inodes));
    if (mount("tmpfs", path, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, options) != 0) {
      FailRun("capping the inodes of", path);
    }
  }
}

int OneShotMain(int argc, char** argv) {
  Limits limits;
  rlim_t inodes = 0;
  bool compile_output = false;
  int first = 1;
  for (; first < argc && std::strcmp(argv[first], "--") != 0; ++first) {
    const char* arg = argv[first];
    const char* eq = std::strchr(arg, '=');
    if (eq == nullptr) { errno = EINVAL; Fail(arg); }
    const std::string name(arg, eq);
    const rlim_t value = std::strtoull(eq + 1, nullptr, 10);
    if (name == lockstep::sandbox::kInitArgCpuSeconds) limits.cpu = value;
    else if (name == lockstep::sandbox::kInitArgAddressSpace) limits.as = value;
    else if (name == lockstep::sandbox::kInitArgDataSize) limits.data = value;
    else if (name == lockstep::sandbox::kInitArgProcesses) limits.nproc = value;
    else if (name == lockstep::sandbox::kInitArgFileSize) limits.fsize = value;
    else if (name == lockstep::sandbox::kInitArgOpenFiles) limits.nofile = value;
    else if (name == lockstep::sandbox::kInitArgSeccomp) limits.seccomp = value != 0;
    else if (name == lockstep::sandbox::kInitArgTmpfsInodes) inodes = value;
    else if (name == lockstep::sandbox::kInitArgCompileOutput) compile_output = value != 0;
    else { errno = EINVAL; Fail(arg); }
  }
  if (first + 1 >= argc) { errno = EINVAL; Fail("no program after --"); }
  if (inodes != 0) {
    CapTmpfsInodes(inodes);
    limits.drop_capabilities = true;  // the remount needed CAP_SYS_ADMIN; the program gets none
  }
  if (compile_output) StartCompile();
  return SuperviseProgram(limits, argv + first + 1, nullptr);
}

// ---------------------------------------------------------------------------
// Zygote mode.

using lockstep::sandbox::kArtefactStoreInSandbox;
using lockstep::sandbox::kZygoteControlFd;
using lockstep::sandbox::kZygoteMagic;
using lockstep::sandbox::kZygoteRunFds;
using lockstep::sandbox::ZygoteEvent;
using lockstep::sandbox::ZygoteEventKind;
using lockstep::sandbox::ZygoteRequest;
using lockstep::sandbox::ZygoteRequestKind;

void SendEvent(ZygoteEventKind kind, const char* error = nullptr, uint64_t run_id = 0) {
  ZygoteEvent event;
  event.kind = kind;
  event.run_id = run_id;
  if (error != nullptr) std::snprintf(event.error, sizeof(event.error), "%s", error);
  ssize_t ignored = send(kZygoteControlFd, &event, sizeof(event), MSG_NOSIGNAL);
  (void)ignored;
}

// One received datagram: the request, its strings and its descriptors.
struct Received {
  ZygoteRequest request;
  std::vector<char*> argv, envp;  // null-terminated, pointing into `payload`
  std::vector<char> payload;
  int fds[kZygoteRunFds] = {-1, -1, -1, -1};
  int nfds = 0;

  void CloseFds() {
    for (int& fd : fds) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
  }
};

// Returns 1 on a message, 0 at EOF (the runner is gone), -1 on error.
int Receive(Received* message, const char** error) {
  static std::vector<char> buffer(lockstep::sandbox::kZygoteMaxMessage);
  size_t count = 0;
  int flags = 0;
  const ssize_t n = lockstep::sandbox::ReceiveWithFds<kZygoteRunFds>(
      kZygoteControlFd, buffer.data(), buffer.size(), message->fds, &count, &flags);
  if (n == 0) return 0;
  if (n < 0) return -1;
  message->nfds = static_cast<int>(count);
  *error = nullptr;
  if ((flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
      static_cast<size_t>(n) < sizeof(ZygoteRequest)) {
    *error = "truncated request";
    return 1;
  }
  std::memcpy(&message->request, buffer.data(), sizeof(ZygoteRequest));
  const ZygoteRequest& r = message->request;
  if (r.magic != kZygoteMagic) {
    *error = "bad request magic";
    return 1;
  }
  if (r.kind != ZygoteRequestKind::kRun) return 1;
  if (message->nfds != kZygoteRunFds || r.argc == 0 ||
      r.artefact[sizeof(r.artefact) - 1] != '\0' || std::strchr(r.artefact, '/') != nullptr ||
      std::strcmp(r.artefact, "..") == 0) {
    *error = "malformed run request";
    return 1;
  }
  message->payload.assign(buffer.data() + sizeof(ZygoteRequest), buffer.data() + n);
  message->payload.push_back('\0');  // a missing final NUL cannot run off the end
  char* p = message->payload.data();
  char* const end = p + message->payload.size() - 1;
  for (uint32_t i = 0; i < r.argc + r.envc; ++i) {
    if (p >= end) {
      *error = "run request has fewer strings than it declares";
      return 1;
    }
    (i < r.argc ? message->argv : message->envp).push_back(p);
    p += std::strlen(p) + 1;
  }
  message->argv.push_back(nullptr);
  message->envp.push_back(nullptr);
  return 1;
}

void MountTmpfs(const char* path, uint64_t bytes, uint64_t inodes, const char* mode) {
  char options[128];
  std::snprintf(options, sizeof(options), "size=%llu,nr_inodes=%llu,mode=%s",
                static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(inodes),
                mode);
  if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options) != 0) {
    FailRun("mounting a tmpfs on", path);
  }
}

// Binds `source` read-only at `dest`, creating the mount point.
void BindReadOnly(const std::string& source, const std::string& dest, bool directory) {
  if (directory ? mkdir(dest.c_str(), 0755) != 0
                : close(open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) != 0) {
    FailRun("creating", dest.c_str());
  }
  if (mount(source.c_str(), dest.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
      mount(nullptr, dest.c_str(), nullptr,
            MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
    FailRun("binding", dest.c_str());
  }
}

// The run's own view, built in its fresh mount namespace (nothing propagates
// back to the zygote's): a /proc of its pid namespace, fresh tmpfs /work, /tmp
// and /dev/shm, the artefact's entries read-only in /work (a symlink is copied
// as a symlink, never followed on the host side), and the artefact store
// itself unmounted, so a run sees only its own files.
void BuildRunFilesystem(const ZygoteRequest& request) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) FailRun("making", "/ private");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    FailRun("mounting", "/proc");
  }
  MountTmpfs("/work", request.tmpfs_bytes, request.tmpfs_inodes, "0755");
  MountTmpfs("/tmp", request.tmpfs_bytes, request.tmpfs_inodes, "1777");
  MountTmpfs("/dev/shm", request.tmpfs_bytes, request.tmpfs_inodes, "1777");
  if (request.artefact[0] != '\0') {
    const std::string dir = std::string(kArtefactStoreInSandbox) + "/" + request.artefact;
    DIR* listing = opendir(dir.c_str());
    if (listing == nullptr) FailRun("opening", dir.c_str());
    while (dirent* entry = readdir(listing)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      const std::string source = dir + "/" + name;
      const std::string dest = "/work/" + name;
      struct stat st;
      if (lstat(source.c_str(), &st) != 0) FailRun("stat", source.c_str());
      if (S_ISLNK(st.st_mode)) {
        char target[4096];
        const ssize_t n = readlink(source.c_str(), target, sizeof(target) - 1);
        if (n < 0) FailRun("readlink", source.c_str());
        target[n] = '\0';
        if (symlink(target, dest.c_str()) != 0) FailRun("symlink", dest.c_str());
      } else {
        BindReadOnly(source, dest, S_ISDIR(st.st_mode));
      }
    }
    closedir(listing);
  }
  if (umount2(kArtefactStoreInSandbox, MNT_DETACH) != 0) {
    FailRun("hiding the artefact store", kArtefactStoreInSandbox);
  }
  // The work directory's root becomes read-only only for the artefacts bound
  // in it; the program may create files next to them, as in one-shot runs.
  if (chdir("/work") != 0) FailRun("chdir", "/work");
}

// A fresh network namespace has only a loopback interface, down; programs
// (and one-shot sandboxes, where bubblewrap does this) expect it up.
// Returns false (errno set) on failure.
bool BringUpLoopback() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq request{};
  std::snprintf(request.ifr_name, sizeof(request.ifr_name), "lo");
  const bool up = ioctl(fd, SIOCGIFFLAGS, &request) == 0 &&
                  (request.ifr_flags |= IFF_UP | IFF_RUNNING,
                   ioctl(fd, SIOCSIFFLAGS, &request) == 0);
  const int saved = errno;
  close(fd);
  errno = saved;
  return up;
}

// Network namespaces. Every run inherits the zygote's. A run may share it
// with earlier runs only while no earlier run can have left anything there
// (docs/architecture.md, "The sandbox"): none of them created a socket of a
// family other than AF_UNIX (their inits note it in g_shared before such a
// socket exists: the namespace watch), and none of their sockets is left (an
// AF_UNIX socket, abstract name and all, outlives its processes while it is
// in flight in an SCM_RIGHTS message of an unreachable cycle, until the
// kernel's garbage collector frees it). Otherwise the zygote moves to an
// unused namespace first: the spare, made ahead (a namespace costs ~0.4 ms
// to create and as much to destroy), or a new one. So runs that use no
// network sockets share one namespace and pay nothing for it.
int g_network_fd = -1;        // the namespace the zygote is in (the next run's)
int g_spare_network_fd = -1;  // an unused one with its loopback up, or -1

// Sockets alive in the zygote's current network namespace ("sockets: used"
// of its sockstat: every socket a process created there, of any family, from
// creation to its final free); -1 if it cannot be read.
long SocketsInCurrentNetwork() {
  const int fd = open("/proc/self/net/sockstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[512];
  const ssize_t n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  constexpr char kUsed[] = "sockets: used ";
  const char* at = std::strstr(text, kUsed);
  if (at == nullptr) return -1;
  char* end = nullptr;
  const long used = std::strtol(at + sizeof(kUsed) - 1, &end, 10);
  return end == at + sizeof(kUsed) - 1 ? -1 : used;
}

// Makes the spare: a new namespace, entered only to bring its loopback up.
void PrepareSpareNetwork() {
  if (g_spare_network_fd >= 0 || unshare(CLONE_NEWNET) != 0) return;
  g_spare_network_fd =
      BringUpLoopback() ? open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC) : -1;
  if (setns(g_network_fd, CLONE_NEWNET) != 0) {
    // Stuck in the new one: not where the next run must be. Leave it at the
    // next run (EnterUnspentNetwork).
    g_shared->network_touched.store(1);
  }
}

// Makes sure the next run gets a namespace no earlier run left anything in.
// Returns nullptr or what failed.
const char* EnterUnspentNetwork() {
  if (g_shared->network_touched.load() == 0 && SocketsInCurrentNetwork() == 0) return nullptr;
  int entered = -1;
  if (g_spare_network_fd >= 0) {
    if (setns(g_spare_network_fd, CLONE_NEWNET) == 0) entered = g_spare_network_fd;
    else close(g_spare_network_fd);
    g_spare_network_fd = -1;
  }
  if (entered < 0) {
    if (unshare(CLONE_NEWNET) != 0) return "creating the run's network namespace failed";
    if (!BringUpLoopback()) return "bringing up the loopback of the run's network namespace failed";
    entered = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (entered < 0) return "opening the run's network namespace failed";
  }
  close(g_network_fd);
  g_network_fd = entered;
  // Only runs cloned from here on are in this namespace.
  g_shared->network_touched.store(0);
  return nullptr;
}

// IPC namespaces, like network ones: a run shares the zygote's with earlier
// runs while none of them created a System V or POSIX IPC object (or even
// tried to: the namespace watch holds every shmget, semget, msgget and
// mq_open until the init has noted it), since nothing else leaves state
// there (its sysctls need privileges a program lacks). Otherwise the zygote
// moves to a new one (~30 us; only runs that used IPC pay it, and the next
// run, on its critical path).
const char* EnterUnspentIpc() {
  if (g_shared->ipc_touched.load() == 0) return nullptr;
  if (unshare(CLONE_NEWIPC) != 0) return "creating the run's ipc namespace failed";
  // Only runs cloned from here on are in this namespace.
  g_shared->ipc_touched.store(0);
  return nullptr;
}

// Child of the zygote, pid 1 of the run's fresh pid namespace.
[[noreturn]] void RunInFreshNamespaces(Received* message) {
  // If the zygote dies, so does this run (and with it its namespace).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  close(kZygoteControlFd);
  const int fds[kZygoteRunFds] = {message->fds[0], message->fds[1], message->fds[2],
                                  message->fds[3]};
  // Place the report fd first so a failure below can be reported.
  if (dup2(fds[3], kInitStatusFd) < 0) _exit(1);
  for (int i = 0; i < 3; ++i) {
    if (dup2(fds[i], i) < 0) Fail("dup2");
  }
  if (close_range(kInitStatusFd + 1, ~0U, 0) != 0) Fail("close_range");
  setsid();
  BuildRunFilesystem(message->request);
  const ZygoteRequest& r = message->request;
  Limits limits;
  limits.cpu = r.cpu_seconds;
  limits.as = r.address_space;
  limits.nproc = r.processes;
  limits.fsize = r.file_size;
  limits.nofile = r.open_files;
  limits.seccomp = r.seccomp != 0;
  limits.drop_capabilities = true;
  limits.watch_namespaces = true;
  _exit(SuperviseProgram(limits, message->argv.data(), message->envp.data()));
}

// A run the zygote has cloned and not yet reaped.
struct ActiveRun {
  pid_t pid = -1;  // -1: none
  int pidfd = -1;
  uint64_t id = 0;
};

// Reaps a run whose pid 1 has exited or is exiting (returns once its whole
// namespace is gone) and, unless the runner is gone, reports it done.
void FinishRun(ActiveRun* run, bool report) {
  while (waitpid(run->pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  close(run->pidfd);
  if (report) SendEvent(ZygoteEventKind::kDone, nullptr, run->id);
  *run = ActiveRun{};
}

// Clones the run into its fresh namespaces; on failure reports the run done
// with the reason and leaves *run empty.
void StartRun(Received* message, ActiveRun* run) {
  const uint64_t id = message->request.run_id;
  if (const char* failed = EnterUnspentNetwork(); failed != nullptr) {
    char text[112];
    std::snprintf(text, sizeof(text), "%s: %s", failed, std::strerror(errno));
    message->CloseFds();
    SendEvent(ZygoteEventKind::kDone, text, id);
    return;
  }
  if (const char* failed = EnterUnspentIpc(); failed != nullptr) {
    char text[112];
    std::snprintf(text, sizeof(text), "%s: %s", failed, std::strerror(errno));
    message->CloseFds();
    SendEvent(ZygoteEventKind::kDone, text, id);
    return;
  }
  // Without seccomp there is no namespace watch: whatever it does spends the namespaces.
  if (message->request.seccomp == 0) {
    g_shared->network_touched.store(1);
    g_shared->ipc_touched.store(1);
  }
  const pid_t pid = static_cast<pid_t>(
      syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
  if (pid == 0) RunInFreshNamespaces(message);
  message->CloseFds();
  // Off the run's critical path: a spare for when this namespace is spent.
  if (pid > 0) PrepareSpareNetwork();
  if (pid < 0) {
    char text[96];
    std::snprintf(text, sizeof(text), "clone of the run's namespaces failed: %s",
                  std::strerror(errno));
    SendEvent(ZygoteEventKind::kDone, text, id);
    return;
  }
  // The runner only uses warm sandboxes where pidfds work (it found this
  // sandbox's pid 1 through one), so no fallback is needed here.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    SendEvent(ZygoteEventKind::kDone, "pidfd_open of the run failed", id);
    return;
  }
  *run = ActiveRun{pid, pidfd, id};
}

// Serves runs until the runner closes the control socket: one current run,
// plus at most one earlier run whose report is in and whose pid 1 is still
// being torn down (see ZygoteRequest in sandbox/runner_init.h).
int ZygoteMain() {
  // Nothing of ours is readable through /proc by a run's processes.
  prctl(PR_SET_DUMPABLE, 0);
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    close(null_fd);
  }
  fcntl(kZygoteControlFd, F_SETFD, FD_CLOEXEC);
  std::string seccomp_error;
  if (!CompileSeccompPolicy(&seccomp_error)) {
    SendEvent(ZygoteEventKind::kDone, seccomp_error.c_str());
    return 1;
  }
  void* shared = mmap(nullptr, sizeof(ZygoteShared), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  g_network_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (shared == MAP_FAILED || g_network_fd < 0) {
    SendEvent(ZygoteEventKind::kDone, "the zygote's shared page or network namespace failed");
    return 1;
  }
  g_shared = new (shared) ZygoteShared{};
  // bubblewrap's namespaces (loopback up) are where the first run goes;
  // they are left like any other once something may be left in them.
  g_shared->network_touched.store(0);
  g_shared->ipc_touched.store(0);
  SendEvent(ZygoteEventKind::kReady);
  ActiveRun current, earlier;
  for (;;) {
    pollfd fds[3] = {{kZygoteControlFd, POLLIN, 0}, {current.pidfd, POLLIN, 0},
                     {earlier.pidfd, POLLIN, 0}};  // a negative fd is skipped
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (earlier.pid > 0 && fds[2].revents != 0) FinishRun(&earlier, true);
    if (current.pid > 0 && fds[1].revents != 0) FinishRun(&current, true);
    if (fds[0].revents == 0) continue;
    Received message;
    const char* error = nullptr;
    const int got = Receive(&message, &error);
    if (got <= 0) {
      // The runner is gone: so is this sandbox. pid 1 of a run's namespace:
      // the kernel kills everything in it.
      for (ActiveRun* run : {&current, &earlier}) {
        if (run->pid <= 0) continue;
        kill(run->pid, SIGKILL);
        FinishRun(run, false);
      }
      return 0;
    }
    if (error != nullptr) {
      message.CloseFds();
      SendEvent(ZygoteEventKind::kDone, error, message.request.run_id);
      continue;
    }
    if (message.request.kind == ZygoteRequestKind::kKill) {
      if (current.pid > 0) kill(current.pid, SIGKILL);
      continue;  // its kDone follows when it is reaped
    }
    if (message.request.kind != ZygoteRequestKind::kRun) {
      message.CloseFds();
      continue;
    }
    // A kRun while a run is unreaped: the runner has its report, so every
    // process of it but its exiting pid 1 is gone. It finishes in the
    // background; an older one must be finished first.
    if (current.pid > 0) {
      if (earlier.pid > 0) FinishRun(&earlier, true);
      earlier = current;
      current = ActiveRun{};
    }
    StartRun(&message, &current);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], lockstep::sandbox::kInitArgZygote) == 0) {
    return ZygoteMain();
  }
  return OneShotMain(argc, argv);
}
