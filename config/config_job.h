// The one sequence every config-driven command (pretrain, eval passk, grpo)
// runs: load CONFIG (or, resuming, the run's own RUN/config.toml) with the
// --set overrides -> read the job's options struct -> CheckNoUnknownKeys ->
// prepare the run directory (fresh or resume) -> write RUN/config.toml -> run.
// Nothing is written until the whole config was read and checked, so a bad
// key or value never leaves a run directory behind.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/config.h"
#include "numerics/status_macros.h"

namespace lockstep::config {

// What a config-driven command takes from its command line.
struct JobArgs {
  std::string command;                 // "pretrain", "eval passk": names runs/<command>-<time>
  std::string config_path;             // CONFIG; not read when resuming
  std::vector<std::string> overrides;  // each --set KEY=VALUE, in order
  std::string out_dir;                 // --out DIR; empty: runs/<command>-<time>
  std::string resume_dir;              // --resume RUN; empty: a fresh run

  bool resume() const { return !resume_dir.empty(); }
};

struct RunDir {
  std::string path;
  bool resume = false;
};

// CONFIG, or RUN/config.toml when resuming (the run's resolved config is the
// source of truth), with the overrides applied in order.
absl::StatusOr<Config> LoadJobConfig(const JobArgs& args);

// Prepares the run directory (PrepareRunDir: a new empty one, or the run to
// resume) and writes the resolved config, overrides included, to
// RUN/config.toml — on resume too, so a --set given then is on record.
absl::StatusOr<RunDir> StartRunDir(const JobArgs& args, const Config& config);

// After a failed run: removes a fresh run directory that holds nothing but
// config.toml (nothing to resume or look at); anything else stays.
void DiscardEmptyRunDir(const RunDir& run_dir);

template <typename Options>
struct PreparedJob {
  Options options;
  RunDir run_dir;
};

// Every step before the run. `read_options` is
// (const Config&) -> absl::StatusOr<Options>; it reads every key the job uses
// and nothing else (no model is built, no file written).
template <typename ReadOptions>
auto PrepareJob(const JobArgs& args, ReadOptions&& read_options)
    -> absl::StatusOr<
        PreparedJob<typename std::invoke_result_t<ReadOptions, const Config&>::value_type>> {
  using Options = typename std::invoke_result_t<ReadOptions, const Config&>::value_type;
  LOCKSTEP_ASSIGN_OR_RETURN(Config config, LoadJobConfig(args));
  LOCKSTEP_ASSIGN_OR_RETURN(Options options, read_options(std::as_const(config)));
  LOCKSTEP_RETURN_IF_ERROR(config.CheckNoUnknownKeys());
  LOCKSTEP_ASSIGN_OR_RETURN(RunDir run_dir, StartRunDir(args, config));
  return PreparedJob<Options>{std::move(options), std::move(run_dir)};
}

// The run. `run` is (const Options&, const RunDir&) -> absl::StatusOr<Summary>;
// a fresh run that fails before writing anything leaves no directory behind.
template <typename Options, typename Run>
auto RunPreparedJob(const PreparedJob<Options>& job, Run&& run) {
  auto result = run(job.options, job.run_dir);
  if (!result.ok()) DiscardEmptyRunDir(job.run_dir);
  return result;
}

}  // namespace lockstep::config
