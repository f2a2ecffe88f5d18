// `lockstep grpo`: starts the job's processes and watches them until the job
// ends. One `lockstep-trainer grpo` (the GRPO loop), N `lockstep-rollout`
// engines and, when rewards run programs, one `lockstep-sandbox` pool. A
// rollout engine or sandbox pool that dies is reported (exit status, last log
// lines) and restarted at the same endpoint; the trainer notices, re-sends
// the current weights and re-issues what was lost. SIGINT/SIGTERM go to the
// trainer, which checkpoints and exits; then the others are stopped. A trainer
// that dies is reported and ends the job (`--resume RUN` continues it).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "jobs/grpo_options.h"

namespace lockstep::driver {

struct GrpoLaunch {
  std::string run_dir;       // prepared, holding config.toml
  bool resume = false;
  std::string binary_dir;    // where lockstep-trainer, -rollout, -sandbox are
  int max_restarts = 5;      // per rollout engine / sandbox pool
};

// Endpoints of the job's processes: ipc:// sockets in a private directory, or
// tcp://127.0.0.1 ports. Fails when a tcp port is already in use.
struct GrpoEndpointPlan {
  std::vector<std::string> rollout;
  std::string sandbox;     // empty when the task needs no sandbox
  std::string socket_dir;  // ipc only: removed when the job ends
};
absl::StatusOr<GrpoEndpointPlan> PlanEndpoints(const jobs::GrpoOptions& options, bool needs_sandbox);

// lockstep-rollout's arguments for the engine at `endpoint`: the KV cache as
// --kv-memory-fraction when rollout.kv_memory_fraction is set, else --kv-blocks.
std::vector<std::string> RolloutEngineArgs(const std::string& endpoint,
                                           const jobs::GrpoRolloutOptions& rollout);

// Runs the job to its end; returns the process exit code (0: finished; 130:
// stopped by SIGINT/SIGTERM after a checkpoint, as `lockstep pretrain`; 1: a
// process failed).
int LaunchGrpo(const jobs::GrpoOptions& options, const GrpoLaunch& launch);

// Installs SIGINT/SIGTERM handlers that LaunchGrpo polls.
void InstallDriverSignalHandlers();

}  // namespace lockstep::driver
