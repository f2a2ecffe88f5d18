// Process plumbing shared by the two ways the runner starts a sandbox (a
// one-shot bubblewrap per step in runner.cc, a warm sandbox reused across runs
// in warm_sandbox.cc): owned descriptors, host uid leases, the bubblewrap
// spawn, and the supervision loop that drains a run's output while it runs,
// enforces the wall and output limits, and reads the init's report.
// Internal to sandbox/; not part of its API.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sandbox/runner.h"

namespace lockstep::sandbox::internal {

using Clock = std::chrono::steady_clock;

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1);
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

bool MakePipe(Fd* read_end, Fd* write_end);  // both ends close-on-exec
int PidfdOpen(pid_t pid);
int PidfdSendSignal(int pidfd, int sig);

// Output of one stream: the first `keep` bytes, and a count of everything.
struct Capture {
  explicit Capture(int64_t keep_bytes) : keep(keep_bytes) {}
  std::string data;
  int64_t total = 0;
  int64_t keep = 0;
  bool eof = false;

  void Append(const char* bytes, ssize_t n) {
    total += n;
    const int64_t room = keep - static_cast<int64_t>(data.size());
    if (room > 0) data.append(bytes, static_cast<size_t>(std::min<int64_t>(room, n)));
  }
};

// Reads what is available (fd non-blocking); returns false at EOF or error.
bool Drain(int fd, Capture* capture);

// A host uid for one sandbox. With RunnerOptions::per_run_uid and root, each
// live lease is a distinct uid (claimed with flock() under /tmp, so several
// server processes never share one); otherwise it is the caller's uid.
class UidLease {
 public:
  explicit UidLease(bool per_run_uid);
  ~UidLease();
  UidLease(UidLease&& other) noexcept;
  UidLease& operator=(UidLease&&) = delete;
  const absl::Status& status() const { return status_; }
  uid_t uid() const { return uid_; }
  bool changes_uid() const { return pooled_; }

 private:
  absl::Status status_;
  uid_t uid_ = 0;
  bool pooled_ = false;
};

// One process to run in a sandbox, one-shot or warm.
struct Execution {
  std::vector<std::string> argv;
  const std::string* stdin_data = nullptr;
  // Compile step (one-shot only): copied into the capped tmpfs /work and,
  // after a successful compile, back (kInitArgCompileOutput).
  std::string rw_work_dir;
  std::string artefact_dir;  // else: tmpfs /work holding this host directory's entries read-only
  // The language's variables (LanguageSpec::env, placeholders expanded), set
  // over the base environment (ProgramEnvironment).
  std::vector<std::pair<std::string, std::string>> env;
  RunLimits limits;
  int64_t memory_bytes = 0;  // RLIMIT_AS; 0 = unlimited
  int64_t data_bytes = 0;    // RLIMIT_DATA (compile steps; one-shot only); 0 = unlimited
  int max_processes = 0;
  // The host uid of a one-shot sandbox (a warm sandbox brings its own).
  uid_t uid = 0;
  gid_t gid = 0;
  bool change_uid = false;
};

// The program's whole environment: a fixed base (PATH, HOME=/tmp, TMPDIR,
// LANG) with the execution's variables over it.
std::vector<std::pair<std::string, std::string>> ProgramEnvironment(const Execution& execution);

// Starts bubblewrap with `args`, the environment `env`, descriptors `fds`
// placed at 0..4 (nothing else crosses the exec), as `uid`/`gid` when
// `change_uid`, dying with the calling thread. Returns its pid, not reaped.
absl::StatusOr<pid_t> SpawnBubblewrap(const std::string& bwrap_path,
                                      const std::vector<std::string>& args,
                                      const std::vector<std::pair<std::string, std::string>>& env,
                                      const std::array<int, 5>& fds, uid_t uid, gid_t gid,
                                      bool change_uid);

// Opens a pidfd for the sandbox's pid 1 from bubblewrap's --info-fd JSON,
// checking that it is bubblewrap's child and not a recycled pid. -1 if unknown.
int OpenSandboxInitPidfd(const std::string& info_json, pid_t bwrap_pid);

// The descriptors of one run: stdin (a sealed memfd or /dev/null), and the
// pipes for stdout, stderr and the init's InitReport.
struct RunPipes {
  Fd stdin_fd, out_r, out_w, err_r, err_w, status_r, status_w;
  void CloseChildEnds();
};
absl::Status MakeRunPipes(const std::string* stdin_data, RunPipes* pipes);

// How the supervisor learns that a run is over, and how it kills one.
class RunEnd {
 public:
  virtual ~RunEnd() = default;
  virtual int fd() const = 0;  // readable when Ended() may have news
  virtual bool Ended() = 0;    // called when fd() is readable
  // Kills every process of the run. Ended() becomes true within bounded time.
  virtual void Kill() = 0;
  // If Ended() needs polling rather than fd() (no pidfd), how often (ms).
  virtual int poll_interval_ms() const { return -1; }
  // Why the run ended without the init's report (called after Ended()).
  virtual std::string DescribeMissingReport() = 0;
  // The init kills and reaps every process of the run before it reports; if
  // true, a complete report therefore ends the run without waiting for
  // fd(), and OnEndedByReport() is called.
  virtual bool ReportEndsRun() const { return false; }
  virtual void OnEndedByReport() {}
};

struct Supervised {
  StepOutput out;
  bool wall_killed = false, output_killed = false;
  int exec_errno = 0;
  uint32_t work_full = 0;  // compile steps: kWorkFull* bits of the init's report
  std::string error;  // the sandbox's own failure, empty if none
};

// Drains stdout/stderr/report until `end` says the run is over, killing it at
// the wall deadline (start + limits.wall_time_s) or when an output exceeds
// limits.output_limit_bytes; then reads the init's report into the result.
Supervised SuperviseRun(RunPipes& pipes, const RunLimits& limits, Clock::time_point start,
                        RunEnd& end);

}  // namespace lockstep::sandbox::internal
