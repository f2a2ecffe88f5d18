// A warm sandbox: one bubblewrap sandbox, started ahead of the runs it serves,
// whose pid 1 is lockstep-sandbox-init in zygote mode (sandbox/runner_init.h).
// Runs go through it one at a time; each gets fresh pid and mount
// namespaces, network and ipc namespaces no earlier run left anything in (a
// fresh one whenever an earlier run may have: sandbox/runner_init_main.cc), a fresh
// /proc, fresh size- and inode-limited /work, /tmp and /dev/shm, its own
// artefact files read-only, rlimits, seccomp and no capabilities, like a
// one-shot sandbox, while bubblewrap's set-up
// (user, uts and cgroup namespaces, read-only system binds) is paid once per warm sandbox
// instead of once per run. A run that is killed (wall or output limit) takes
// its whole pid namespace with it; the sandbox stays usable.
// Internal to sandbox/; the Runner keeps a pool of these.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/runner.h"
#include "sandbox/runner_init.h"
#include "sandbox/sandbox_process.h"

namespace lockstep::sandbox::internal {

class WarmSandbox {
 public:
  // Starts bubblewrap with `args` (which must end in the init and
  // kInitArgZygote) as the lease's uid, and waits for the zygote's kReady.
  // Call on a thread that outlives the sandbox: bubblewrap dies with the
  // thread that started it (--die-with-parent).
  static absl::StatusOr<std::unique_ptr<WarmSandbox>> Start(
      const std::string& bwrap_path, const std::vector<std::string>& args,
      const std::vector<std::pair<std::string, std::string>>& env, UidLease lease);
  // Ends the sandbox; returns once every process of it is gone.
  ~WarmSandbox();
  WarmSandbox(const WarmSandbox&) = delete;
  WarmSandbox& operator=(const WarmSandbox&) = delete;

  // Runs one program (its artefact_dir must lie in the artefact store bound
  // at kArtefactStoreInSandbox; rw_work_dir and the uid fields are not used).
  // `*delivered` is false when the request never reached the zygote (it had
  // died while idle): nothing ran, and the caller may retry on another sandbox.
  Supervised Run(const Execution& run, bool* delivered);

  // False once the zygote died or misbehaved; such a sandbox is not reused.
  bool healthy() const { return healthy_; }

 private:
  class End;
  WarmSandbox(UidLease lease) : lease_(std::move(lease)) {}
  void Destroy();  // kills pid 1 (and with it everything inside), reaps bubblewrap

  // Runs that ended by their report and whose kDone has not come yet (their
  // namespaces are being torn down): at most one may remain while the next
  // run starts (sandbox/runner_init.h, ZygoteRequest). Waits for the oldest
  // until only `keep` remain; false (and the sandbox destroyed) if the zygote
  // does not answer or reports an error.
  bool AwaitEarlierRuns(size_t keep);
  // A kDone for one of those runs: collected. False if it carried an error.
  bool CollectEarlierRun(const ZygoteEvent& event, bool* was_earlier);

  UidLease lease_;
  pid_t bwrap_pid_ = -1;
  uint64_t next_run_id_ = 1;
  std::vector<uint64_t> reported_runs_;  // oldest first
  Fd control_;       // SOCK_SEQPACKET to the zygote
  Fd zygote_pidfd_;  // pid 1 of the sandbox
  Fd stderr_r_;      // bubblewrap's stderr, for error messages
  bool healthy_ = true;
  bool destroyed_ = false;
};

// A thread that starts warm sandboxes, so that each lives exactly as long as
// the Runner that owns this thread (see WarmSandbox::Start).
class SandboxStarter {
 public:
  SandboxStarter();
  ~SandboxStarter();
  // Runs `job` on the starter thread and waits for it.
  void RunOnStarterThread(const std::function<void()>& job);

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::queue<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lockstep::sandbox::internal
