// Runs one untrusted program (optional compile step, then run) inside a
// bubblewrap sandbox and reports exactly how it ended (sandbox/status.h).
// Program runs go to warm sandboxes (sandbox/warm_sandbox.h: started once,
// fresh pid/mount/ipc namespaces and filesystems per run); compile steps and
// toolchain probes get a one-shot sandbox each.
// Guarantees: user/pid/net/ipc/uts/mount namespaces, read-only system binds and
// no host home or secrets, a private size-limited /work and /tmp, an
// unprivileged uid, rlimits and a seccomp filter on the program, a wall-clock
// limit that kills the whole process tree, and stdout/stderr drained while the
// program runs and capped. Run() is thread-safe and never throws.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "sandbox/language.h"
#include "sandbox/result_cache.h"
#include "sandbox/status.h"

namespace lockstep::sandbox {

// Placeholders in LanguageSpec commands expand to these. A command whose
// argv[0] is exactly {exe} runs the binary from the work directory.
inline constexpr char kWorkDirInSandbox[] = "/work";  // {dir}
inline constexpr char kExeName[] = "main";            // {exe}

struct RunLimits {
  double cpu_time_s = 2.0;     // RLIMIT_CPU (rounded up); measured CPU above it is time_limit
  double wall_time_s = 5.0;    // then the whole sandbox is killed: time_limit (wall)
  int memory_mb = 512;         // RLIMIT_AS, plus the language's extra_memory_mb
  int max_processes = 64;      // RLIMIT_NPROC (the language's max_processes if larger)
  int max_open_files = 256;    // RLIMIT_NOFILE
  int64_t max_file_bytes = 16 << 20;  // RLIMIT_FSIZE
  int work_dir_mb = 64;        // size of the tmpfs at /work (and of /tmp, /dev/shm)
  // Files, directories and links each of those tmpfs may hold (nr_inodes):
  // inodes cost kernel memory that no size limit counts.
  int64_t max_inodes = 8192;
  // stdout or stderr beyond this many bytes kills the run (output_limit); the
  // first output_limit_bytes are kept and the rest counted.
  int64_t output_limit_bytes = 1 << 20;
  int64_t stderr_keep_bytes = 64 << 10;  // stderr kept in the result (rest counted)
};

// The longest CPU or wall-clock limit a request may set (one day): anything
// longer (1e300, inf) is a mistake, rejected by ValidateLimits before
// anything runs, never reported as the program's time_limit.
inline constexpr double kMaxTimeLimitS = 86400;

// Caps on a request's inputs, checked before anything runs (Runner::Run
// answers sandbox_error naming the input and the cap; the CLI reads files
// within them, sandbox/input_file.h).
struct InputLimits {
  int64_t max_source_bytes = 1 << 20;
  int64_t max_stdin_bytes = 64 << 20;
  int64_t max_expected_stdout_bytes = 64 << 20;
};

struct RunRequest {
  std::string language;  // name or alias (sandbox/language.h)
  std::string source;
  std::string stdin_data;
  std::optional<std::string> expected_stdout;  // compared after NormaliseOutput
  RunLimits limits;
};

// One process run inside the sandbox (the compile step or the program).
struct StepOutput {
  std::optional<int> exit_code;  // set when the process exited
  std::optional<int> signal;     // set when a signal killed it
  std::string stdout_data, stderr_data;
  bool stdout_truncated = false, stderr_truncated = false;
  int64_t stdout_bytes = 0, stderr_bytes = 0;  // total produced, kept or not
  int64_t wall_ms = 0, cpu_ms = 0, peak_memory_kb = 0;
};

struct RunResult {
  RunStatus status = RunStatus::kSandboxError;
  std::optional<TimeLimitKind> time_limit_kind;  // set iff status == kTimeLimit
  std::string language;
  StepOutput run;                      // the program (empty if it never ran)
  std::optional<StepOutput> compile;   // the compile step, for compiled languages
  std::string message;  // why, in words, for every status but ok/wrong_answer
  bool cached = false;  // served from the result cache
};

// stdout comparison for wrong_answer: "\r\n" becomes "\n", trailing spaces,
// tabs and carriage returns are removed from every line, and trailing empty
// lines are dropped. Nothing else (case, inner whitespace) is changed.
std::string NormaliseOutput(std::string_view text);
bool OutputsMatch(std::string_view actual, std::string_view expected);

// JSON form used by the CLI and the wire: status, exit_code, signal, stdout,
// stderr, stdout_truncated, wall_ms, cpu_ms, peak_memory_kb, time_limit_kind,
// compile {...}, message, ... Bytes that are not UTF-8 are replaced by U+FFFD.
nlohmann::json ResultToJson(const RunResult& result, bool include_output = true);
absl::StatusOr<RunResult> ResultFromJson(const nlohmann::json& json);

// Every limit in its valid range (times finite, > 0 and <= kMaxTimeLimitS,
// sizes >= 0, work_dir_mb and max_inodes >= 1, ...); the error names the
// limit. Runner::Run answers an invalid request with sandbox_error and that
// message.
absl::Status ValidateLimits(const RunLimits& limits);

// Limits as JSON (the wire form); missing keys keep their defaults, unknown
// keys, wrong types and invalid values are errors.
nlohmann::json LimitsToJson(const RunLimits& limits);
absl::StatusOr<RunLimits> LimitsFromJson(const nlohmann::json& json);

struct RunnerOptions {
  std::string bwrap_path;  // empty: "bwrap" on PATH
  std::string init_path;   // empty: lockstep-sandbox-init next to this executable, else the build's
  std::string work_root;   // empty: a fresh directory under $TMPDIR (or /tmp), removed on exit
  // Languages to use instead of AllLanguages() (tests, or a restricted server).
  std::vector<LanguageSpec> languages;
  // The request's inputs beyond these sizes are refused (see InputLimits).
  InputLimits input_limits;
  // Memory of every compile-step process (compiler, assembler, linker): RLIMIT_DATA,
  // i.e. heap and other private writable memory, not address-space
  // reservations, which JVMs, rustc and go make far beyond what they use.
  // Above it the compiler's allocations fail: compile_error, saying so.
  int compile_memory_mb = 2048;
  // Files, directories and links a compile step may create in its /work
  // (a tmpfs copied back to the host after a successful compile; the
  // request's max_inodes if larger). Beyond it: compile_error, saying so.
  int64_t compile_max_inodes = 32768;
  bool cache_results = true;
  size_t result_cache_entries = 4096;
  size_t artefact_cache_entries = 256;
  // Host directories bound read-only at the same path, beyond /usr and /etc's
  // toolchain entries (for toolchains installed elsewhere, e.g. /opt/...).
  std::vector<std::string> extra_ro_binds;
  // Run the sandbox as a distinct host uid per concurrent run (needs root;
  // a warm sandbox keeps its uid for the runs it serves one after another).
  // Without root every run uses the caller's uid.
  bool per_run_uid = true;
  // Program runs reuse pre-started sandboxes (one per concurrent run; the
  // isolation of each run is the same, bubblewrap's set-up is paid once).
  // Where they cannot work here, runs fall back to one-shot sandboxes and
  // Runner::warm_sandbox_status() says why.
  bool warm_sandboxes = true;
  size_t max_idle_warm_sandboxes = 64;
};

namespace internal {
struct Execution;
class SandboxStarter;
class WarmSandbox;
struct Supervised;
}  // namespace internal

class Runner {
 public:
  // Checks that bubblewrap, the init helper and user namespaces work here by
  // running one empty program; fails with a message naming what is missing.
  static absl::StatusOr<std::unique_ptr<Runner>> Create(RunnerOptions options = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  RunResult Run(const RunRequest& request);

  // Whether the language's toolchain is installed (probed once, in the sandbox).
  RunResult ProbeToolchain(const LanguageSpec& spec);
  const LanguageSpec* FindSpec(std::string_view language) const;
  const std::string& work_root() const { return work_root_; }
  // Ok when program runs use warm sandboxes; else why they do not.
  const absl::Status& warm_sandbox_status() const { return warm_status_; }
  // Warm sandboxes started so far (one per concurrent run at most, plus
  // replacements for any that died).
  int64_t warm_sandboxes_started() const { return warm_started_.load(); }

  struct Artefact;  // compiled files of one (language, source), in the cache

 private:
  explicit Runner(RunnerOptions options);
  absl::Status Init();
  RunResult RunUncached(const RunRequest& request, const LanguageSpec& spec);
  absl::StatusOr<std::shared_ptr<const Artefact>> PrepareArtefact(
      const RunRequest& request, const LanguageSpec& spec, RunResult* result);
  std::vector<std::string> SandboxBaseArgs() const;
  internal::Supervised Execute(const internal::Execution& execution);      // one-shot sandbox
  internal::Supervised ExecuteWarm(const internal::Execution& execution);  // a warm sandbox
  // Starts the first warm sandbox and runs `check` (an empty program) in it.
  absl::Status StartWarmSandboxes(const internal::Execution& check);
  absl::StatusOr<std::unique_ptr<internal::WarmSandbox>> TakeWarmSandbox();
  void ReturnWarmSandbox(std::unique_ptr<internal::WarmSandbox> sandbox);

  RunnerOptions options_;
  std::string work_root_;
  bool owns_work_root_ = false;
  bool work_root_mounted_ = false;  // a tmpfs of ours is mounted on it
  std::string bwrap_path_, init_path_;
  std::vector<std::string> system_bind_args_;  // computed once: binds of /usr, /etc, ...
  std::mutex mutex_;  // guards the maps below
  std::map<std::string, RunResult> toolchains_;  // language → probe result
  std::unique_ptr<ResultCache<RunResult>> results_;
  std::unique_ptr<ResultCache<std::shared_ptr<const Artefact>>> artefacts_;
  uint64_t next_dir_ = 0;
  // Warm sandboxes: started on starter_'s thread (they die with the thread
  // that started them), idle ones kept here between runs.
  absl::Status warm_status_ = absl::FailedPreconditionError("not started");
  std::vector<std::string> warm_args_;
  std::unique_ptr<internal::SandboxStarter> starter_;
  std::mutex warm_mutex_;
  std::vector<std::unique_ptr<internal::WarmSandbox>> idle_warm_;
  std::atomic<int64_t> warm_started_{0};
};

}  // namespace lockstep::sandbox
