// The driver's children (trainer, rollout engines, sandbox pool), started with
// Boost.Process and watched. Guarantees: each child's stdout and stderr go to
// its own log file (appended across restarts, so nothing is lost); every child
// dies with the driver, even when the driver is SIGKILLed (PR_SET_PDEATHSIG);
// a death is reported with the exit status and the log's last lines.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace lockstep::driver {

struct ChildSpec {
  std::string name;  // "trainer", "rollout-0", "sandbox"
  std::string exe;   // absolute path
  std::vector<std::string> args;
  std::string log_path;
};

// What happened to a child since the last Poll.
struct ChildExit {
  std::string name;
  pid_t pid = 0;
  int exit_code = -1;   // when it exited
  int signal = 0;       // when a signal killed it
  std::string Describe() const;  // "exited with status 1" / "killed by signal 9 (Killed)"
};

class ProcessSupervisor {
 public:
  ProcessSupervisor();
  ~ProcessSupervisor();  // kills (SIGKILL) and reaps every child still running
  ProcessSupervisor(const ProcessSupervisor&) = delete;
  ProcessSupervisor& operator=(const ProcessSupervisor&) = delete;

  // Starts (or, for a name already known, restarts) a child.
  absl::Status Start(const ChildSpec& spec);
  // Reaps children that ended since the last call (without blocking).
  std::vector<ChildExit> Poll();
  bool Running(const std::string& name) const;
  pid_t Pid(const std::string& name) const;  // 0 when not running
  int Restarts(const std::string& name) const;
  const ChildSpec* Spec(const std::string& name) const;

  void Signal(const std::string& name, int signal) const;
  // SIGTERM to every running child, SIGKILL to those still running after `grace`.
  void StopAll(std::chrono::milliseconds grace);

 private:
  struct Child;
  std::vector<std::unique_ptr<Child>> children_;
  Child* Find(const std::string& name) const;
};

// The last `n` lines of a text file ("" when it cannot be read).
std::string LastLines(const std::string& path, int n);

}  // namespace lockstep::driver
