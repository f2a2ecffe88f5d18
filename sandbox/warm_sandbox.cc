#include "sandbox/warm_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>

#include "absl/strings/str_cat.h"
#include "sandbox/fd_passing.h"

namespace lockstep::sandbox::internal {
namespace {

// How long a killed run may take to be reported done before the whole warm
// sandbox is torn down instead.
constexpr auto kKillGrace = std::chrono::seconds(5);
constexpr int kStartTimeoutMs = 20000;

// One event from the zygote, read without blocking.
enum class Received { kEvent, kNothingYet, kGone };
Received ReceiveEvent(int control_fd, ZygoteEvent* event) {
  const ssize_t n = recv(control_fd, event, sizeof(*event), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return Received::kNothingYet;
  // EOF, an error, or something that is not an event: the zygote is gone
  // or cannot be trusted.
  if (n != sizeof(*event) || event->magic != kZygoteMagic) return Received::kGone;
  event->error[sizeof(event->error) - 1] = '\0';
  return Received::kEvent;
}

std::string ReadAll(int fd) {
  Capture capture(4096);
  Drain(fd, &capture);
  return capture.data;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WarmSandbox>> WarmSandbox::Start(
    const std::string& bwrap_path, const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env, UidLease lease) {
  if (!lease.status().ok()) return lease.status();
  std::unique_ptr<WarmSandbox> sandbox(new WarmSandbox(std::move(lease)));
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0) {
    return absl::InternalError(absl::StrCat("socketpair: ", strerror(errno)));
  }
  sandbox->control_.reset(sockets[0]);
  Fd child_control(sockets[1]);
  Fd null_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
  Fd err_w, info_r, info_w;
  if (!null_fd.valid() || !MakePipe(&sandbox->stderr_r_, &err_w) || !MakePipe(&info_r, &info_w)) {
    return absl::InternalError(absl::StrCat("cannot create pipes: ", strerror(errno)));
  }
  fcntl(sandbox->stderr_r_.get(), F_SETFL, O_NONBLOCK);
  fcntl(info_r.get(), F_SETFL, O_NONBLOCK);
  static_assert(kZygoteControlFd == 3, "the control socket is the fourth spawned descriptor");
  auto pid = SpawnBubblewrap(bwrap_path, args, env,
                             {null_fd.get(), null_fd.get(), err_w.get(), child_control.get(),
                              info_w.get()},
                             sandbox->lease_.uid(), sandbox->lease_.uid(),
                             sandbox->lease_.changes_uid());
  if (!pid.ok()) return pid.status();
  sandbox->bwrap_pid_ = *pid;
  child_control.reset();
  err_w.reset();
  info_w.reset();

  // Wait for the zygote's kReady and bubblewrap's info (pid 1's host pid).
  std::string info;
  bool ready = false;
  std::string failure;
  const auto deadline = Clock::now() + std::chrono::milliseconds(kStartTimeoutMs);
  while (!(ready && sandbox->zygote_pidfd_.valid()) && failure.empty()) {
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          deadline - Clock::now())
                                          .count());
    if (left <= 0) {
      failure = "the warm sandbox did not start within 20 s";
      break;
    }
    pollfd fds[2] = {{sandbox->control_.get(), POLLIN, 0}, {info_r.get(), POLLIN, 0}};
    if (poll(fds, info_r.valid() ? 2 : 1, left) < 0 && errno != EINTR) {
      failure = absl::StrCat("poll: ", strerror(errno));
      break;
    }
    if (fds[0].revents != 0) {
      ZygoteEvent event;
      const Received got = ReceiveEvent(sandbox->control_.get(), &event);
      if (got == Received::kGone) {
        failure = "the warm sandbox exited while starting";
      } else if (got == Received::kEvent && event.kind == ZygoteEventKind::kReady) {
        ready = true;
      } else if (got == Received::kEvent) {
        failure = absl::StrCat("the warm sandbox's zygote failed to start: ", event.error);
      }
    }
    if (info_r.valid() && fds[1].revents != 0) {
      Capture capture(4096);
      const bool open = Drain(info_r.get(), &capture);
      info += capture.data;
      if (!open) info_r.reset();
      if (info.find('}') != std::string::npos) {
        sandbox->zygote_pidfd_.reset(OpenSandboxInitPidfd(info, sandbox->bwrap_pid_));
        if (!sandbox->zygote_pidfd_.valid()) failure = "cannot find the warm sandbox's pid 1";
        info_r.reset();
      }
    }
    if (!info_r.valid() && !sandbox->zygote_pidfd_.valid() && failure.empty()) {
      failure = "bubblewrap did not report the warm sandbox's pid 1";
    }
  }
  if (!failure.empty()) {
    // Let bubblewrap finish writing why it failed, if it is failing.
    pollfd p{sandbox->stderr_r_.get(), POLLIN, 0};
    poll(&p, 1, 200);
    const std::string bwrap_said = ReadAll(sandbox->stderr_r_.get());
    sandbox->Destroy();
    return absl::FailedPreconditionError(
        absl::StrCat(failure, bwrap_said.empty() ? "" : ": ", bwrap_said));
  }
  return sandbox;
}

WarmSandbox::~WarmSandbox() { Destroy(); }

void WarmSandbox::Destroy() {
  if (destroyed_) return;
  destroyed_ = true;
  healthy_ = false;
  control_.reset();  // an idle zygote exits on EOF; a busy one kills its run first
  if (zygote_pidfd_.valid()) {
    // Pid 1 of the sandbox: its death takes every process inside with it,
    // and its pidfd turns readable only once they are all gone.
    PidfdSendSignal(zygote_pidfd_.get(), SIGKILL);
    pollfd p{zygote_pidfd_.get(), POLLIN, 0};
    poll(&p, 1, 10000);
  }
  if (bwrap_pid_ > 0) {
    kill(bwrap_pid_, SIGKILL);  // not reaped yet, so the pid cannot be recycled
    while (waitpid(bwrap_pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    bwrap_pid_ = -1;
  }
}

// The supervisor's view of a run in a warm sandbox: it is over when the
// zygote says kDone (sent only after the run's pid namespace is empty), or
// when the zygote is gone (then the whole sandbox is torn down).
class WarmSandbox::End : public RunEnd {
 public:
  End(WarmSandbox* sandbox, uint64_t run_id) : sandbox_(sandbox), run_id_(run_id) {}
  int fd() const override { return sandbox_->control_.get(); }
  int poll_interval_ms() const override { return kill_sent_ ? 100 : -1; }

  bool Ended() override {
    ZygoteEvent event;
    const Received got = ReceiveEvent(fd(), &event);
    if (got == Received::kEvent && event.kind == ZygoteEventKind::kDone) {
      bool was_earlier = false;
      // An earlier run's teardown ended: this run goes on (a failure there
      // only retires the sandbox after this run).
      if (!sandbox_->CollectEarlierRun(event, &was_earlier)) sandbox_->healthy_ = false;
      if (was_earlier) return false;
      zygote_error_ = event.error;
      if (event.run_id != run_id_ && zygote_error_.empty()) {
        zygote_error_ = "the warm sandbox's zygote reported the end of a run it was not running";
      }
      if (!zygote_error_.empty()) sandbox_->healthy_ = false;
      return true;
    }
    if (got != Received::kNothingYet) {
      zygote_error_ = "the warm sandbox's zygote died during the run";
      died_ = true;
      sandbox_->Destroy();
      return true;
    }
    if (kill_sent_ && Clock::now() - kill_sent_at_ > kKillGrace) {
      zygote_error_ = "the warm sandbox did not end a killed run in time";
      died_ = true;
      sandbox_->Destroy();
      return true;
    }
    return false;
  }

  void Kill() override {
    ZygoteRequest request;
    request.kind = ZygoteRequestKind::kKill;
    kill_sent_ = true;
    kill_sent_at_ = Clock::now();
    if (send(fd(), &request, sizeof(request), MSG_NOSIGNAL) != sizeof(request)) {
      sandbox_->Destroy();  // cannot ask: end everything instead
      died_ = true;
    }
  }

  // The run is over when its report is complete (the init kills and reaps
  // everything first); the zygote's kDone, which follows once the run's
  // namespaces are torn down, is collected during the next run (or before
  // the one after it) instead of being waited for here.
  bool ReportEndsRun() const override { return !kill_sent_; }
  void OnEndedByReport() override { sandbox_->reported_runs_.push_back(run_id_); }

  std::string DescribeMissingReport() override {
    return absl::StrCat("the warm sandbox's run ended without a report from its init",
                        zygote_error_.empty() ? "" : " (", zygote_error_,
                        zygote_error_.empty() ? "" : ")");
  }

  const std::string& zygote_error() const { return zygote_error_; }
  bool died() const { return died_; }

 private:
  WarmSandbox* sandbox_;
  uint64_t run_id_;
  std::string zygote_error_;
  bool kill_sent_ = false;
  bool died_ = false;
  Clock::time_point kill_sent_at_;
};

bool WarmSandbox::CollectEarlierRun(const ZygoteEvent& event, bool* was_earlier) {
  auto it = std::find(reported_runs_.begin(), reported_runs_.end(), event.run_id);
  *was_earlier = it != reported_runs_.end();
  if (*was_earlier) reported_runs_.erase(it);
  return !*was_earlier || event.error[0] == '\0';
}

bool WarmSandbox::AwaitEarlierRuns(size_t keep) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (reported_runs_.size() > keep) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{control_.get(), POLLIN, 0};
    ZygoteEvent event;
    bool was_earlier = false;
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) != 1 ||
        ReceiveEvent(control_.get(), &event) != Received::kEvent ||
        event.kind != ZygoteEventKind::kDone || !CollectEarlierRun(event, &was_earlier) ||
        !was_earlier) {
      Destroy();
      return false;
    }
  }
  return true;
}

Supervised WarmSandbox::Run(const Execution& run, bool* delivered) {
  *delivered = false;
  Supervised result;
  // The previous run's teardown may go on while this one starts; the one
  // before it must be over.
  if (!AwaitEarlierRuns(1)) {
    result.error = "the warm sandbox did not finish an earlier run";
    return result;
  }
  if (!healthy_) {
    result.error = "the warm sandbox is not usable";
    return result;
  }
  RunPipes pipes;
  if (absl::Status status = MakeRunPipes(run.stdin_data, &pipes); !status.ok()) {
    result.error = std::string(status.message());
    return result;
  }

  ZygoteRequest request;
  request.kind = ZygoteRequestKind::kRun;
  const int64_t cpu_seconds = static_cast<int64_t>(std::ceil(run.limits.cpu_time_s));
  request.cpu_seconds = static_cast<uint64_t>(std::max<int64_t>(cpu_seconds, 1));
  request.address_space = static_cast<uint64_t>(std::max<int64_t>(run.memory_bytes, 0));
  request.processes = static_cast<uint64_t>(std::max(run.max_processes, 0));
  request.file_size = static_cast<uint64_t>(std::max<int64_t>(run.limits.max_file_bytes, 0));
  request.open_files = static_cast<uint64_t>(std::max(run.limits.max_open_files, 0));
  request.tmpfs_bytes = static_cast<uint64_t>(run.limits.work_dir_mb) << 20;  // validated >= 1
  request.tmpfs_inodes = static_cast<uint64_t>(run.limits.max_inodes);  // validated >= 1
  const std::string artefact =
      run.artefact_dir.empty() ? "" : std::filesystem::path(run.artefact_dir).filename().string();
  if (artefact.size() >= sizeof(request.artefact)) {
    result.error = "artefact directory name too long";
    return result;
  }
  std::memcpy(request.artefact, artefact.data(), artefact.size());
  request.run_id = next_run_id_++;
  std::map<std::string, std::string> environment;  // later entries win, as in a shell
  for (const auto& [name, value] : ProgramEnvironment(run)) environment[name] = value;
  request.argc = static_cast<uint32_t>(run.argv.size());
  request.envc = static_cast<uint32_t>(environment.size());
  std::string message(reinterpret_cast<const char*>(&request), sizeof(request));
  for (const std::string& arg : run.argv) message.append(arg).push_back('\0');
  for (const auto& [name, value] : environment) {
    message.append(name).append("=").append(value).push_back('\0');
  }
  if (message.size() > kZygoteMaxMessage) {
    result.error = "the program's arguments and environment exceed 64 KiB";
    return result;
  }

  const int fds[kZygoteRunFds] = {pipes.stdin_fd.get(), pipes.out_w.get(), pipes.err_w.get(),
                                  pipes.status_w.get()};
  const auto start = Clock::now();
  const ssize_t sent = SendWithFds<kZygoteRunFds>(control_.get(), message.data(),
                                                  message.size(), fds, kZygoteRunFds);
  if (sent != static_cast<ssize_t>(message.size())) {
    result.error = absl::StrCat("the warm sandbox is gone: ", strerror(errno));
    Destroy();
    return result;
  }
  *delivered = true;
  pipes.CloseChildEnds();

  End end(this, request.run_id);
  result = SuperviseRun(pipes, run.limits, start, end);
  if (!end.zygote_error().empty() && result.error.empty()) {
    if (end.died()) {
      // Whatever the run reported, it did not end on its own terms.
      const std::string bwrap_said = ReadAll(stderr_r_.get());
      result.error = absl::StrCat(end.zygote_error(), bwrap_said.empty() ? "" : ": ", bwrap_said);
    } else {
      result.error = end.zygote_error();
    }
  }
  return result;
}

// ---------------------------------------------------------------------------

SandboxStarter::SandboxStarter() {
  thread_ = std::thread([this] {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop();
      }
      job();
    }
  });
}

SandboxStarter::~SandboxStarter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void SandboxStarter::RunOnStarterThread(const std::function<void()>& job) {
  std::packaged_task<void()> task(job);
  std::future<void> done = task.get_future();
  {
    std::lock_guard lock(mutex_);
    jobs_.push([&task] { task(); });
  }
  wake_.notify_one();
  done.get();
}

}  // namespace lockstep::sandbox::internal
