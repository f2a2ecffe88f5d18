#define BOOST_PROCESS_USE_STD_FS 1

#include "sandbox/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <boost/process.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "numerics/status_macros.h"
#include "sandbox/runner_init.h"
#include "sandbox/sandbox_process.h"
#include "sandbox/warm_sandbox.h"

#ifndef LOCKSTEP_SANDBOX_INIT_PATH
#define LOCKSTEP_SANDBOX_INIT_PATH ""
#endif

namespace lockstep::sandbox {

namespace fs = std::filesystem;
namespace bp = boost::process;

struct Runner::Artefact {
  std::string dir;  // host directory; its top-level entries appear under /work
  ~Artefact() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

using internal::Execution;

namespace {

std::string ExpandPlaceholders(const std::string& text, const LanguageSpec& spec) {
  return absl::StrReplaceAll(text, {{"{src}", spec.source_file},
                                    {"{exe}", kExeName},
                                    {"{dir}", kWorkDirInSandbox}});
}

std::vector<std::string> ExpandCommand(const std::vector<std::string>& command,
                                       const LanguageSpec& spec) {
  std::vector<std::string> argv;
  for (const std::string& arg : command) argv.push_back(ExpandPlaceholders(arg, spec));
  if (!command.empty() && command[0] == "{exe}") argv[0] = absl::StrCat("./", kExeName);
  return argv;
}

bool WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  fchmod(fd, mode);
  return close(fd) == 0;
}

// Markers runtimes print when an allocation fails under RLIMIT_AS.
constexpr std::string_view kOutOfMemoryMarkers[] = {
    "MemoryError", "std::bad_alloc", "out of memory", "Out of memory",
    "OutOfMemoryError", "Cannot allocate memory", "memory allocation of",
    "Out_of_memory", "failed to allocate", "OutOfMemory", "insufficient memory",
    "Could not reserve enough space",
};

bool MentionsOutOfMemory(const std::string& text) {
  for (std::string_view marker : kOutOfMemoryMarkers) {
    if (text.find(marker) != std::string::npos) return true;
  }
  return false;
}

// Whether a failed compile step hit its memory limit: a compiler's own
// allocation-failure message, or a peak near the limit.
bool CompilerRanOutOfMemory(const StepOutput& out, int64_t data_bytes) {
  return MentionsOutOfMemory(out.stderr_data) || MentionsOutOfMemory(out.stdout_data) ||
         (data_bytes > 0 && out.peak_memory_kb * 1024 >= data_bytes * 9 / 10);
}

std::string LimitsKey(const RunLimits& l) {
  return absl::StrCat(l.cpu_time_s, "/", l.wall_time_s, "/", l.memory_mb, "/", l.max_processes,
                      "/", l.max_open_files, "/", l.max_file_bytes, "/", l.work_dir_mb, "/",
                      l.max_inodes, "/", l.output_limit_bytes, "/", l.stderr_keep_bytes);
}

std::vector<std::pair<std::string, std::string>> ExpandEnv(const LanguageSpec& spec) {
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [name, value] : spec.env) env.emplace_back(name, ExpandPlaceholders(value, spec));
  return env;
}

std::string SpecKey(const LanguageSpec& spec) {
  return absl::StrCat(spec.name, "|", spec.source_file, "|", absl::StrJoin(spec.compile, " "),
                      "|", absl::StrJoin(spec.run, " "), "|", spec.extra_memory_mb, "|",
                      spec.max_processes, "|",
                      absl::StrJoin(spec.env, " ", absl::PairFormatter("=")));
}

// Gives every entry under `dest` (a copy of `source`) its source's
// modification time. Tools compare them: Python re-compiles and tries to
// re-write the bytecode of /etc/python3.11/sitecustomize.py on every start
// when the copy looks newer than its cached .pyc (~1 ms per run).
void CopyModificationTimes(const fs::path& source, const fs::path& dest) {
  auto copy_time = [](const fs::path& from, const fs::path& to) {
    struct stat st;
    if (lstat(from.c_str(), &st) != 0) return;
    const timespec times[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW);
  };
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(source, ec))) {
    for (const auto& entry : fs::recursive_directory_iterator(source, ec)) {
      copy_time(entry.path(), dest / fs::relative(entry.path(), source, ec));
    }
  }
  copy_time(source, dest);  // last: writing inside a directory changes its time
}

absl::Status CheckInputSizes(const RunRequest& request, const InputLimits& limits) {
  auto check = [](const char* what, size_t size, int64_t cap) {
    if (static_cast<int64_t>(size) <= cap) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "the request's ", what, " is ", size, " bytes, over the limit of ", cap,
        " bytes (RunnerOptions::input_limits); send less"));
  };
  LOCKSTEP_RETURN_IF_ERROR(check("source", request.source.size(), limits.max_source_bytes));
  LOCKSTEP_RETURN_IF_ERROR(check("stdin", request.stdin_data.size(), limits.max_stdin_bytes));
  if (request.expected_stdout) {
    LOCKSTEP_RETURN_IF_ERROR(check("expected stdout", request.expected_stdout->size(),
                                   limits.max_expected_stdout_bytes));
  }
  return absl::OkStatus();
}

std::string FindInit(const RunnerOptions& options) {
  if (!options.init_path.empty()) return options.init_path;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path next_to_us = self.parent_path() / "lockstep-sandbox-init";
    if (fs::exists(next_to_us, ec)) return next_to_us.string();
  }
  return LOCKSTEP_SANDBOX_INIT_PATH;
}

}  // namespace

// ---------------------------------------------------------------------------
// Output comparison and JSON.

std::string NormaliseOutput(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    lines.emplace_back(line);
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return absl::StrJoin(lines, "\n");
}

bool OutputsMatch(std::string_view actual, std::string_view expected) {
  return NormaliseOutput(actual) == NormaliseOutput(expected);
}

namespace {

std::string Utf8Safe(const std::string& bytes) {
  // nlohmann's dump() with error_handler::replace does the U+FFFD substitution;
  // here we only need a string the JSON value can hold.
  return bytes;
}

nlohmann::json StepToJson(const StepOutput& step, bool include_output) {
  nlohmann::json json;
  json["exit_code"] = step.exit_code ? nlohmann::json(*step.exit_code) : nlohmann::json();
  json["signal"] = step.signal ? nlohmann::json(SignalName(*step.signal)) : nlohmann::json();
  json["signal_number"] = step.signal ? nlohmann::json(*step.signal) : nlohmann::json();
  if (include_output) {
    json["stdout"] = Utf8Safe(step.stdout_data);
    json["stderr"] = Utf8Safe(step.stderr_data);
  }
  json["stdout_truncated"] = step.stdout_truncated;
  json["stderr_truncated"] = step.stderr_truncated;
  json["stdout_bytes"] = step.stdout_bytes;
  json["stderr_bytes"] = step.stderr_bytes;
  json["wall_ms"] = step.wall_ms;
  json["cpu_ms"] = step.cpu_ms;
  json["peak_memory_kb"] = step.peak_memory_kb;
  return json;
}

StepOutput StepFromJson(const nlohmann::json& json) {
  StepOutput step;
  if (json.contains("exit_code") && !json["exit_code"].is_null()) {
    step.exit_code = json["exit_code"].get<int>();
  }
  if (json.contains("signal_number") && !json["signal_number"].is_null()) {
    step.signal = json["signal_number"].get<int>();
  }
  step.stdout_data = json.value("stdout", "");
  step.stderr_data = json.value("stderr", "");
  step.stdout_truncated = json.value("stdout_truncated", false);
  step.stderr_truncated = json.value("stderr_truncated", false);
  step.stdout_bytes = json.value("stdout_bytes", int64_t{0});
  step.stderr_bytes = json.value("stderr_bytes", int64_t{0});
  step.wall_ms = json.value("wall_ms", int64_t{0});
  step.cpu_ms = json.value("cpu_ms", int64_t{0});
  step.peak_memory_kb = json.value("peak_memory_kb", int64_t{0});
  return step;
}

}  // namespace

nlohmann::json ResultToJson(const RunResult& result, bool include_output) {
  nlohmann::json json = StepToJson(result.run, include_output);
  json["status"] = std::string(RunStatusName(result.status));
  json["time_limit_kind"] = result.time_limit_kind
                                ? nlohmann::json(std::string(TimeLimitKindName(*result.time_limit_kind)))
                                : nlohmann::json();
  json["language"] = result.language;
  json["message"] = result.message;
  json["cached"] = result.cached;
  json["compile"] = result.compile ? StepToJson(*result.compile, true) : nlohmann::json();
  return json;
}

absl::StatusOr<RunResult> ResultFromJson(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("status") || !json["status"].is_string()) {
    return absl::InvalidArgumentError("run result JSON has no string field 'status'");
  }
  RunResult result;
  try {
    auto status = ParseRunStatus(json["status"].get<std::string>());
    if (!status.ok()) return status.status();
    result.status = *status;
    if (json.contains("time_limit_kind") && json["time_limit_kind"].is_string()) {
      auto kind = ParseTimeLimitKind(json["time_limit_kind"].get<std::string>());
      if (!kind.ok()) return kind.status();
      result.time_limit_kind = *kind;
    }
    result.run = StepFromJson(json);
    result.language = json.value("language", "");
    result.message = json.value("message", "");
    result.cached = json.value("cached", false);
    if (json.contains("compile") && json["compile"].is_object()) {
      result.compile = StepFromJson(json["compile"]);
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed run result JSON: ", e.what()));
  }
  return result;
}

absl::Status ValidateLimits(const RunLimits& l) {
  auto bad = [](const char* name, const std::string& value, const char* rule) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit ", name, " = ", value, " is invalid: it must be ", rule));
  };
  // Written so that NaN fails too.
  const std::string time_rule = absl::StrCat("a finite number of seconds > 0 and <= ",
                                             kMaxTimeLimitS);
  if (!(l.cpu_time_s > 0 && l.cpu_time_s <= kMaxTimeLimitS)) {
    return bad("cpu_time_s", absl::StrCat(l.cpu_time_s), time_rule.c_str());
  }
  if (!(l.wall_time_s > 0 && l.wall_time_s <= kMaxTimeLimitS)) {
    return bad("wall_time_s", absl::StrCat(l.wall_time_s), time_rule.c_str());
  }
  if (l.memory_mb < 0) return bad("memory_mb", absl::StrCat(l.memory_mb), ">= 0 (0 = unlimited)");
  if (l.max_processes < 1) return bad("max_processes", absl::StrCat(l.max_processes), ">= 1");
  if (l.max_open_files < 1) return bad("max_open_files", absl::StrCat(l.max_open_files), ">= 1");
  if (l.max_file_bytes < 0) return bad("max_file_bytes", absl::StrCat(l.max_file_bytes), ">= 0");
  if (l.work_dir_mb < 1) return bad("work_dir_mb", absl::StrCat(l.work_dir_mb), ">= 1");
  if (l.max_inodes < 1) return bad("max_inodes", absl::StrCat(l.max_inodes), ">= 1");
  if (l.output_limit_bytes < 0) {
    return bad("output_limit_bytes", absl::StrCat(l.output_limit_bytes), ">= 0");
  }
  if (l.stderr_keep_bytes < 0) {
    return bad("stderr_keep_bytes", absl::StrCat(l.stderr_keep_bytes), ">= 0");
  }
  return absl::OkStatus();
}

nlohmann::json LimitsToJson(const RunLimits& l) {
  return {{"cpu_time_s", l.cpu_time_s},         {"wall_time_s", l.wall_time_s},
          {"memory_mb", l.memory_mb},           {"max_processes", l.max_processes},
          {"max_open_files", l.max_open_files}, {"max_file_bytes", l.max_file_bytes},
          {"work_dir_mb", l.work_dir_mb},       {"output_limit_bytes", l.output_limit_bytes},
          {"stderr_keep_bytes", l.stderr_keep_bytes}, {"max_inodes", l.max_inodes}};
}

absl::StatusOr<RunLimits> LimitsFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return absl::InvalidArgumentError("limits must be a JSON object");
  RunLimits l;
  for (const auto& [key, value] : json.items()) {
    if (!value.is_number()) {
      return absl::InvalidArgumentError(absl::StrCat("limit '", key, "' must be a number"));
    }
    if (key == "cpu_time_s") l.cpu_time_s = value.get<double>();
    else if (key == "wall_time_s") l.wall_time_s = value.get<double>();
    else if (key == "memory_mb") l.memory_mb = value.get<int>();
    else if (key == "max_processes") l.max_processes = value.get<int>();
    else if (key == "max_open_files") l.max_open_files = value.get<int>();
    else if (key == "max_file_bytes") l.max_file_bytes = value.get<int64_t>();
    else if (key == "work_dir_mb") l.work_dir_mb = value.get<int>();
    else if (key == "max_inodes") l.max_inodes = value.get<int64_t>();
    else if (key == "output_limit_bytes") l.output_limit_bytes = value.get<int64_t>();
    else if (key == "stderr_keep_bytes") l.stderr_keep_bytes = value.get<int64_t>();
    else return absl::InvalidArgumentError(absl::StrCat("unknown limit '", key, "'"));
  }
  if (absl::Status valid = ValidateLimits(l); !valid.ok()) return valid;
  return l;
}

// ---------------------------------------------------------------------------
// Runner.

Runner::Runner(RunnerOptions options) : options_(std::move(options)) {}

Runner::~Runner() {
  {
    std::lock_guard lock(warm_mutex_);
    idle_warm_.clear();
  }
  starter_.reset();
  artefacts_.reset();
  if (work_root_mounted_) umount2(work_root_.c_str(), MNT_DETACH);
  if (owns_work_root_) {
    std::error_code ignored;
    fs::remove_all(work_root_, ignored);
  }
}

absl::StatusOr<std::unique_ptr<Runner>> Runner::Create(RunnerOptions options) {
  std::unique_ptr<Runner> runner(new Runner(std::move(options)));
  if (absl::Status status = runner->Init(); !status.ok()) return status;
  return runner;
}

const LanguageSpec* Runner::FindSpec(std::string_view language) const {
  if (options_.languages.empty()) return FindLanguage(language);
  for (const LanguageSpec& spec : options_.languages) {
    if (absl::EqualsIgnoreCase(spec.name, std::string(language))) return &spec;
    for (const std::string& alias : spec.aliases) {
      if (absl::EqualsIgnoreCase(alias, std::string(language))) return &spec;
    }
  }
  return nullptr;
}

absl::Status Runner::Init() {
  results_ = std::make_unique<ResultCache<RunResult>>(
      options_.cache_results ? options_.result_cache_entries : 0);
  artefacts_ = std::make_unique<ResultCache<std::shared_ptr<const Artefact>>>(
      options_.artefact_cache_entries);

  if (options_.compile_max_inodes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RunnerOptions::compile_max_inodes = ", options_.compile_max_inodes,
        " is invalid; give at least 1 (default 32768)"));
  }
  if (options_.compile_memory_mb < 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RunnerOptions::compile_memory_mb = ", options_.compile_memory_mb,
        " is too small for any compiler; give at least 64 (default 2048)"));
  }
  bwrap_path_ = options_.bwrap_path;
  if (bwrap_path_.empty()) bwrap_path_ = bp::search_path("bwrap").string();
  if (bwrap_path_.empty() || access(bwrap_path_.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        "bubblewrap (bwrap) is not installed or not executable; install it with "
        "scripts/setup.sh (Debian package 'bubblewrap')");
  }

  // A private work root; world-traversable so the unprivileged sandbox uid can
  // reach the read-only files bound from it.
  if (options_.work_root.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/lockstep-sandbox.XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("cannot create ", pattern, ": ", strerror(errno)));
    }
    work_root_ = pattern;
    owns_work_root_ = true;
  } else {
    work_root_ = options_.work_root;
    std::error_code ec;
    fs::create_directories(work_root_, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("cannot create ", work_root_, ": ", ec.message()));
    }
  }
  // The staging folder is a tmpfs of its own where we may mount one (as
  // root): binds from it then show paths relative to it ("/art/3/main.py")
  // in a sandbox's /proc/self/mountinfo, never the host path. Unprivileged,
  // the host path stays visible there (docs/architecture.md, "The sandbox").
  if (owns_work_root_ && geteuid() == 0 &&
      mount("lockstep", work_root_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0) {
    work_root_mounted_ = true;
    mount(nullptr, work_root_.c_str(), nullptr, MS_PRIVATE, nullptr);  // nothing propagates
  }
  chmod(work_root_.c_str(), 0755);
  for (const char* sub : {"/art", "/etc", "/bin"}) {
    const std::string dir = work_root_ + sub;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", strerror(errno)));
    }
  }

  // The init helper is copied into the work root so the sandbox uid can always
  // execute it, whatever the permissions of the build directory.
  const std::string init_source = FindInit(options_);
  init_path_ = work_root_ + "/bin/lockstep-sandbox-init";
  std::error_code ec;
  if (init_source.empty() ||
      !fs::copy_file(init_source, init_path_, fs::copy_options::overwrite_existing, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lockstep-sandbox-init not found (looked next to this executable and at '", init_source,
        "'); build the lockstep-sandbox-init target or set RunnerOptions::init_path"));
  }
  chmod(init_path_.c_str(), 0755);

  // Minimal identity files: no host account names, no password hashes.
  const bool wrote = WriteFile(work_root_ + "/etc/passwd",
                               "root:x:0:0:root:/tmp:/usr/sbin/nologin\n"
                               "sandbox:x:65534:65534:sandbox:/tmp:/usr/sbin/nologin\n",
                               0644) &&
                     WriteFile(work_root_ + "/etc/group", "root:x:0:\nsandbox:x:65534:\n", 0644) &&
                     WriteFile(work_root_ + "/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n",
                               0644);
  if (!wrote) return absl::InternalError(absl::StrCat("cannot write files under ", work_root_));

  // System binds, computed once. /usr holds every toolchain; of /etc only what
  // the dynamic loader and the toolchains read (no shadow, no ssh, no secrets).
  std::vector<std::string>& b = system_bind_args_;
  b = {"--ro-bind", "/usr", "/usr"};
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    const fs::path path(top);
    if (fs::is_symlink(path, ec)) {
      b.insert(b.end(), {"--symlink", fs::read_symlink(path, ec).string(), top});
    } else if (fs::is_directory(path, ec)) {
      b.insert(b.end(), {"--ro-bind", top, top});
    }
  }
  // The sandbox's /etc is one read-only bind of work_root/etc: the identity
  // files above plus a copy, made here once, of the host entries below (a
  // top-level symlink is copied as the file or directory it points to, as a
  // bind of it would show). One bind instead of one per entry: bubblewrap
  // re-reads the whole mount table for every bind, which was the largest
  // controllable part of each run's set-up cost. An entry that cannot be
  // copied is bound on its own, as before. Being a copy, a later change to
  // these host files is seen by a new Runner only (as with the toolchain
  // probes, which are also made once per Runner).
  std::vector<std::string> etc = {"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf",
                                  "/etc/ld.so.conf.d", "/etc/localtime", "/etc/ocamlfind.conf",
                                  "/etc/nsswitch.conf"};
  for (const auto& entry : fs::directory_iterator("/etc", ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "java-") || absl::StartsWith(name, "python3")) {
      etc.push_back(entry.path().string());
    }
  }
  std::vector<std::string> etc_binds;  // entries that could not be copied
  for (const std::string& path : etc) {
    if (!fs::exists(path, ec)) continue;
    const fs::path source = fs::canonical(path, ec);
    const std::string dest = absl::StrCat(work_root_, "/etc/", fs::path(path).filename().string());
    fs::remove_all(dest, ec);
    std::error_code copy_ec;
    if (!source.empty()) {
      fs::copy(source, dest, fs::copy_options::recursive | fs::copy_options::copy_symlinks,
               copy_ec);
      if (!copy_ec) CopyModificationTimes(source, dest);
    }
    if (source.empty() || copy_ec) {
      // A mount point for the bind inside the read-only /etc.
      fs::remove_all(dest, ec);
      if (fs::is_directory(path, ec)) {
        fs::create_directory(dest, ec);
      } else {
        WriteFile(dest, "", 0644);
      }
      etc_binds.push_back(path);
    }
  }
  // Mount points for extra binds that land inside /etc.
  for (const std::string& path : options_.extra_ro_binds) {
    if (!absl::StartsWith(path, "/etc/")) continue;
    const std::string dest = absl::StrCat(work_root_, path);
    if (fs::exists(dest, ec)) continue;
    fs::create_directories(fs::path(dest).parent_path(), ec);
    if (fs::is_directory(path, ec)) {
      fs::create_directory(dest, ec);
    } else {
      WriteFile(dest, "", 0644);
    }
  }
  chmod((work_root_ + "/etc").c_str(), 0755);
  b.insert(b.end(), {"--ro-bind", work_root_ + "/etc", "/etc"});
  for (const std::string& path : etc_binds) b.insert(b.end(), {"--ro-bind", path, path});
  for (const std::string& path : options_.extra_ro_binds) {
    b.insert(b.end(), {"--ro-bind", path, path});
  }

  // Self-check: one empty program. Fails here, loudly, where user namespaces
  // or bubblewrap do not work, instead of running anything unisolated.
  internal::UidLease lease(options_.per_run_uid);
  if (!lease.status().ok()) return lease.status();
  Execution check;
  check.argv = {"true"};
  check.uid = lease.uid();
  check.gid = lease.uid();
  check.change_uid = lease.changes_uid();
  auto artefact = std::make_shared<Artefact>();
  artefact->dir = work_root_ + "/art/selfcheck";
  mkdir(artefact->dir.c_str(), 0755);
  check.artefact_dir = artefact->dir;
  check.limits.wall_time_s = 10;
  const internal::Supervised checked = Execute(check);
  const std::string& error = checked.error;
  const StepOutput& out = checked.out;
  if (!error.empty() || checked.exec_errno != 0 || out.exit_code != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the sandbox does not work on this machine (bubblewrap could not create user, pid, "
        "net, ipc, uts and mount namespaces, or the init helper failed): ",
        error.empty() ? out.stderr_data : error,
        " -- check that unprivileged user namespaces are enabled "
        "(sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1) and that "
        "the container allows them; lockstep never runs programs unisolated"));
  }
  // Warm sandboxes where they work here; else every run gets a one-shot
  // sandbox (equally isolated, slower), and warm_sandbox_status() says why.
  warm_status_ = options_.warm_sandboxes
                     ? StartWarmSandboxes(check)
                     : absl::FailedPreconditionError("disabled (RunnerOptions::warm_sandboxes)");
  return absl::OkStatus();
}

std::vector<std::string> Runner::SandboxBaseArgs() const {
  std::vector<std::string> args = {
      "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
      "--unshare-cgroup-try", "--uid", "65534", "--gid", "65534", "--hostname", "sandbox",
      "--die-with-parent", "--new-session", "--as-pid-1", "--info-fd", "4"};
  args.insert(args.end(), system_bind_args_.begin(), system_bind_args_.end());
  args.insert(args.end(), {"--proc", "/proc"});
  // A minimal /dev of character devices; /dev itself stays on the read-only
  // root. (Not bubblewrap's --dev: it costs more per sandbox, and it makes
  // bubblewrap nest a second user namespace, whose locked mounts a warm
  // sandbox could then not rearrange per run.)
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}) {
    args.insert(args.end(), {"--dev-bind", dev, dev});
  }
  args.insert(args.end(), {"--symlink", "/proc/self/fd", "/dev/fd", "--symlink",
                           "/proc/self/fd/0", "/dev/stdin", "--symlink", "/proc/self/fd/1",
                           "/dev/stdout", "--symlink", "/proc/self/fd/2", "/dev/stderr"});
  return args;
}

// One-shot: a fresh bubblewrap sandbox for this one process.
internal::Supervised Runner::Execute(const Execution& ex) {
  internal::Supervised failed;
  const RunLimits& limits = ex.limits;
  internal::RunPipes pipes;
  internal::Fd info_r, info_w;
  if (absl::Status status = internal::MakeRunPipes(ex.stdin_data, &pipes); !status.ok()) {
    failed.error = std::string(status.message());
    return failed;
  }
  if (!internal::MakePipe(&info_r, &info_w)) {
    failed.error = absl::StrCat("cannot create pipes: ", strerror(errno));
    return failed;
  }
  fcntl(info_r.get(), F_SETFL, O_NONBLOCK);

  const std::string tmpfs_size = absl::StrCat(static_cast<int64_t>(limits.work_dir_mb) << 20);
  std::vector<std::string> args = SandboxBaseArgs();
  // Every writable place is a size-limited tmpfs, inode-capped by the init.
  args.insert(args.end(), {"--size", tmpfs_size, "--tmpfs", "/tmp", "--size", tmpfs_size,
                           "--tmpfs", "/dev/shm"});
  args.insert(args.end(), {"--size", tmpfs_size, "--tmpfs", kWorkDirInSandbox});
  if (!ex.rw_work_dir.empty()) {
    // The init copies it into /work and back (kInitArgCompileOutput), so the
    // compile step's files count against the tmpfs's size and inodes.
    args.insert(args.end(), {"--bind", ex.rw_work_dir, kCompileDirInSandbox});
  } else {
    if (!ex.artefact_dir.empty()) {
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(ex.artefact_dir, ec)) {
        const std::string name = entry.path().filename().string();
        const std::string dest = absl::StrCat(kWorkDirInSandbox, "/", name);
        // A symlink left by a compiler must resolve inside the sandbox, never
        // be followed on the host side of a bind.
        if (entry.is_symlink(ec)) {
          args.insert(args.end(), {"--symlink", fs::read_symlink(entry.path(), ec).string(), dest});
        } else {
          args.insert(args.end(), {"--ro-bind", entry.path().string(), dest});
        }
      }
    }
  }
  // The init needs CAP_SYS_ADMIN in the sandbox's user namespace to cap the
  // tmpfs inodes (bubblewrap cannot), and CAP_SETPCAP to then empty the
  // program's bounding set; the program holds no capability.
  args.insert(args.end(), {"--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP",
                           "--ro-bind", init_path_, kInitPathInSandbox, "--chdir",
                           kWorkDirInSandbox, "--remount-ro", "/", kInitPathInSandbox});
  const int64_t cpu_seconds = static_cast<int64_t>(std::ceil(limits.cpu_time_s));
  args.push_back(absl::StrCat(kInitArgCpuSeconds, "=", std::max<int64_t>(cpu_seconds, 1)));
  args.push_back(absl::StrCat(kInitArgAddressSpace, "=", ex.memory_bytes));
  args.push_back(absl::StrCat(kInitArgDataSize, "=", ex.data_bytes));
  args.push_back(absl::StrCat(kInitArgProcesses, "=", ex.max_processes));
  args.push_back(absl::StrCat(kInitArgFileSize, "=", limits.max_file_bytes));
  args.push_back(absl::StrCat(kInitArgOpenFiles, "=", limits.max_open_files));
  args.push_back(absl::StrCat(kInitArgTmpfsInodes, "=", limits.max_inodes));
  if (!ex.rw_work_dir.empty()) args.push_back(absl::StrCat(kInitArgCompileOutput, "=1"));
  args.push_back("--");
  args.insert(args.end(), ex.argv.begin(), ex.argv.end());

  const auto start = internal::Clock::now();
  auto pid = internal::SpawnBubblewrap(
      bwrap_path_, args, internal::ProgramEnvironment(ex),
      {pipes.stdin_fd.get(), pipes.out_w.get(), pipes.err_w.get(), pipes.status_w.get(),
       info_w.get()},
      ex.uid, ex.gid, ex.change_uid);
  if (!pid.ok()) {
    failed.error = std::string(pid.status().message());
    return failed;
  }
  pipes.CloseChildEnds();
  info_w.reset();

  // The run is over when bubblewrap has exited. It is killed through its
  // pid 1: the kernel then kills every process in the pid namespace, and pid
  // 1 only finishes exiting after all of them have, so once its pidfd is
  // readable nothing of the run is left.
  class OneShotEnd : public internal::RunEnd {
   public:
    OneShotEnd(pid_t bwrap_pid, int info_fd)
        : bwrap_pid_(bwrap_pid), bwrap_pidfd_(internal::PidfdOpen(bwrap_pid)), info_fd_(info_fd) {}
    ~OneShotEnd() override { Reap(); }
    int fd() const override { return bwrap_pidfd_.get(); }
    int poll_interval_ms() const override { return bwrap_pidfd_.valid() ? -1 : 10; }
    bool Ended() override {
      if (bwrap_pidfd_.valid()) return true;  // readable: bubblewrap exited
      siginfo_t info{};
      return waitid(P_PID, bwrap_pid_, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
             info.si_pid == bwrap_pid_;
    }
    void Kill() override {
      internal::Capture info(4096);
      internal::Drain(info_fd_, &info);
      internal::Fd init_pidfd(internal::OpenSandboxInitPidfd(info.data, bwrap_pid_));
      if (init_pidfd.valid()) {
        internal::PidfdSendSignal(init_pidfd.get(), SIGKILL);
        pollfd p{init_pidfd.get(), POLLIN, 0};
        poll(&p, 1, 10000);
      }
      kill(bwrap_pid_, SIGKILL);  // not reaped yet, so the pid cannot be recycled
    }
    std::string DescribeMissingReport() override {
      Reap();
      return absl::StrCat("the sandbox ended without a report from its init (bubblewrap ",
                          WIFEXITED(status_) ? absl::StrCat("exited ", WEXITSTATUS(status_))
                                             : absl::StrCat("killed by signal ", WTERMSIG(status_)),
                          ")");
    }

   private:
    void Reap() {
      if (reaped_) return;
      reaped_ = true;
      while (waitpid(bwrap_pid_, &status_, 0) < 0 && errno == EINTR) {
      }
    }
    pid_t bwrap_pid_;
    internal::Fd bwrap_pidfd_;
    int info_fd_;
    int status_ = 0;
    bool reaped_ = false;
  };
  OneShotEnd end(*pid, info_r.get());
  return internal::SuperviseRun(pipes, limits, start, end);
}

// Warm: the run goes to a pre-started sandbox (sandbox/warm_sandbox.h).
internal::Supervised Runner::ExecuteWarm(const Execution& ex) {
  // A sandbox that died while idle never saw the request: one retry on a
  // fresh one. Anything else is the run's result.
  for (int attempt = 0;; ++attempt) {
    auto sandbox = TakeWarmSandbox();
    if (!sandbox.ok()) {
      internal::Supervised failed;
      failed.error = absl::StrCat("cannot start a warm sandbox: ", sandbox.status().message());
      return failed;
    }
    bool delivered = false;
    internal::Supervised result = (*sandbox)->Run(ex, &delivered);
    if ((*sandbox)->healthy()) ReturnWarmSandbox(std::move(*sandbox));
    if (delivered || attempt == 1) return result;
  }
}

absl::StatusOr<std::unique_ptr<internal::WarmSandbox>> Runner::TakeWarmSandbox() {
  {
    std::lock_guard lock(warm_mutex_);
    if (!idle_warm_.empty()) {
      std::unique_ptr<internal::WarmSandbox> sandbox = std::move(idle_warm_.back());
      idle_warm_.pop_back();
      return sandbox;
    }
  }
  absl::StatusOr<std::unique_ptr<internal::WarmSandbox>> started =
      absl::InternalError("not started");
  internal::UidLease lease(options_.per_run_uid);
  if (!lease.status().ok()) return lease.status();
  starter_->RunOnStarterThread([&] {
    started = internal::WarmSandbox::Start(bwrap_path_, warm_args_, {{"PATH", "/usr/bin:/bin"}},
                                           std::move(lease));
  });
  if (started.ok()) ++warm_started_;
  return started;
}

void Runner::ReturnWarmSandbox(std::unique_ptr<internal::WarmSandbox> sandbox) {
  std::lock_guard lock(warm_mutex_);
  if (idle_warm_.size() < options_.max_idle_warm_sandboxes) {
    idle_warm_.push_back(std::move(sandbox));
  }
}

absl::Status Runner::StartWarmSandboxes(const Execution& check) {
  std::vector<std::string>& args = warm_args_;
  args = SandboxBaseArgs();
  // Mount points only: each run mounts its own, sized, over these.
  for (const char* dir : {"/tmp", "/dev/shm", kWorkDirInSandbox}) {
    args.insert(args.end(), {"--size", "65536", "--tmpfs", dir});
  }
  // The zygote needs CAP_SYS_ADMIN in the sandbox's user namespace to give
  // each run its own namespaces and mounts, CAP_NET_ADMIN to bring up the
  // loopback of each fresh network namespace it moves to, and CAP_SETPCAP to
  // empty the program's bounding set; the program never has any capability (the
  // init drops them all, sets no_new_privs and loads seccomp before exec).
  args.insert(args.end(), {"--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_NET_ADMIN",
                           "--cap-add", "CAP_SETPCAP",
                           "--ro-bind", work_root_ + "/art", kArtefactStoreInSandbox,
                           "--ro-bind", init_path_, kInitPathInSandbox, "--chdir", "/",
                           "--remount-ro", "/", kInitPathInSandbox, kInitArgZygote});
  starter_ = std::make_unique<internal::SandboxStarter>();
  const internal::Supervised out = ExecuteWarm(check);
  if (!out.error.empty() || out.exec_errno != 0 || out.out.exit_code != 0) {
    std::lock_guard lock(warm_mutex_);
    idle_warm_.clear();
    return absl::FailedPreconditionError(
        out.error.empty() ? absl::StrCat("an empty program failed: ", out.out.stderr_data)
                          : out.error);
  }
  return absl::OkStatus();
}

RunResult Runner::ProbeToolchain(const LanguageSpec& spec) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = toolchains_.find(spec.name); it != toolchains_.end()) return it->second;
  }
  RunResult result;
  result.language = spec.name;
  result.status = RunStatus::kOk;
  if (spec.version_probe.empty()) {
    std::lock_guard lock(mutex_);
    return toolchains_[spec.name] = result;
  }
  internal::UidLease lease(options_.per_run_uid);
  if (!lease.status().ok()) {
    result.status = RunStatus::kSandboxError;
    result.message = std::string(lease.status().message());
    return result;  // not cached: may succeed later
  }
  Execution ex;
  ex.argv = ExpandCommand(spec.version_probe, spec);
  ex.env = ExpandEnv(spec);
  ex.limits.cpu_time_s = 30;
  ex.limits.wall_time_s = 60;
  ex.max_processes = 4096;
  ex.uid = ex.gid = lease.uid();
  ex.change_uid = lease.changes_uid();
  const internal::Supervised probed = Execute(ex);
  const std::string& error = probed.error;
  const int exec_errno = probed.exec_errno;
  const StepOutput& out = probed.out;
  if (!error.empty()) {
    result.status = RunStatus::kSandboxError;
    result.message = absl::StrCat("probing the ", spec.name, " toolchain failed: ", error);
    return result;  // not cached
  }
  if (exec_errno != 0 || out.exit_code != 0) {
    result.status = RunStatus::kToolchainUnavailable;
    result.message = absl::StrCat(
        "the ", spec.name, " toolchain is not installed here ('",
        absl::StrJoin(ex.argv, " "), "' ",
        exec_errno != 0 ? absl::StrCat("could not start: ", strerror(exec_errno))
                        : absl::StrCat("failed: ", out.stderr_data.substr(0, 200)),
        "); install it with scripts/install-toolchains.sh ", spec.name);
  }
  std::lock_guard lock(mutex_);
  return toolchains_[spec.name] = result;
}

absl::StatusOr<std::shared_ptr<const Runner::Artefact>> Runner::PrepareArtefact(
    const RunRequest& request, const LanguageSpec& spec, RunResult* result) {
  const std::string key = CacheKey({"artefact", SpecKey(spec), request.source});
  if (auto hit = artefacts_->Get(key)) return *hit;

  uint64_t serial;
  {
    std::lock_guard lock(mutex_);
    serial = next_dir_++;
  }
  auto artefact = std::make_shared<Artefact>();
  artefact->dir = absl::StrCat(work_root_, "/art/", serial);
  if (mkdir(artefact->dir.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("cannot create ", artefact->dir, ": ", strerror(errno)));
  }
  const std::string source_path = absl::StrCat(artefact->dir, "/", spec.source_file);
  if (!WriteFile(source_path, request.source, 0644)) {
    return absl::InternalError(absl::StrCat("cannot write ", source_path));
  }
  if (spec.compile.empty()) {
    artefacts_->Put(key, artefact);
    return artefact;
  }

  // The compile step writes into the artefact directory itself, owned by the
  // run's uid for the duration; RLIMIT_FSIZE bounds what it can write.
  internal::UidLease lease(options_.per_run_uid);
  if (!lease.status().ok()) return lease.status();
  if (lease.changes_uid() && chown(artefact->dir.c_str(), lease.uid(), lease.uid()) != 0) {
    return absl::InternalError(absl::StrCat("cannot chown ", artefact->dir, ": ", strerror(errno)));
  }
  Execution ex;
  ex.argv = ExpandCommand(spec.compile, spec);
  ex.env = ExpandEnv(spec);
  ex.rw_work_dir = artefact->dir;
  ex.limits = request.limits;
  ex.limits.cpu_time_s = spec.compile_time_limit_s;
  ex.limits.wall_time_s = spec.compile_time_limit_s * 2;
  ex.limits.max_file_bytes = std::max<int64_t>(request.limits.max_file_bytes, 256 << 20);
  ex.limits.max_open_files = std::max(request.limits.max_open_files, 1024);
  ex.limits.work_dir_mb = std::max(request.limits.work_dir_mb, 512);
  ex.limits.max_inodes = std::max<int64_t>(request.limits.max_inodes, options_.compile_max_inodes);
  ex.limits.output_limit_bytes = 1 << 20;
  ex.memory_bytes = 0;  // compilers (JVM, rustc, go) reserve large address spaces...
  ex.data_bytes = static_cast<int64_t>(options_.compile_memory_mb) << 20;  // ...but use less
  ex.max_processes = 4096;
  ex.uid = ex.gid = lease.uid();
  ex.change_uid = lease.changes_uid();
  const internal::Supervised compiled = Execute(ex);
  const std::string& error = compiled.error;
  const bool wall_killed = compiled.wall_killed, output_killed = compiled.output_killed;
  const int exec_errno = compiled.exec_errno;
  const StepOutput& out = compiled.out;
  if (lease.changes_uid()) {
    // Back to our ownership, read-only for the sandboxes that bind it.
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(artefact->dir, ec)) {
      lchown(entry.path().c_str(), geteuid(), getegid());
    }
    chown(artefact->dir.c_str(), geteuid(), getegid());
  }
  result->compile = out;
  if (!error.empty()) return absl::InternalError(absl::StrCat("compile step: ", error));
  if (exec_errno != 0) {
    result->status = RunStatus::kToolchainUnavailable;
    result->message = absl::StrCat("cannot start the ", spec.name, " compiler '", ex.argv[0],
                                   "': ", strerror(exec_errno));
    return std::shared_ptr<const Artefact>();
  }
  if (wall_killed || output_killed || out.exit_code != 0) {
    result->status = RunStatus::kCompileError;
    const std::string memory_note =
        CompilerRanOutOfMemory(out, ex.data_bytes)
            ? absl::StrCat(" (it ran out of memory: compile steps may use ",
                           options_.compile_memory_mb, " MB, RunnerOptions::compile_memory_mb)")
            : "";
    const std::string full_note =
        (compiled.work_full & kWorkFullInodes) != 0
            ? absl::StrCat(" (its /work ran out of inodes: compile steps may create ",
                           ex.limits.max_inodes,
                           " files and directories, RunnerOptions::compile_max_inodes)")
        : (compiled.work_full & kWorkFullBytes) != 0
            ? absl::StrCat(" (its /work is full: compile steps may write ", ex.limits.work_dir_mb,
                           " MB, RunLimits::work_dir_mb or 512)")
            : "";
    result->message =
        wall_killed ? absl::StrCat("compilation exceeded ", ex.limits.wall_time_s, " s", full_note)
        : output_killed ? "compiler output exceeded 1 MiB"
        : out.signal    ? absl::StrCat("compiler killed by ", SignalName(*out.signal), memory_note,
                                       full_note)
                        : absl::StrCat("compiler exited with code ", *out.exit_code, memory_note,
                                       full_note);
    return std::shared_ptr<const Artefact>();
  }
  artefacts_->Put(key, artefact);
  return artefact;
}

RunResult Runner::Run(const RunRequest& request) {
  RunResult result;
  result.language = request.language;
  try {
    const LanguageSpec* spec = FindSpec(request.language);
    if (spec == nullptr) {
      result.status = RunStatus::kToolchainUnavailable;
      result.message = absl::StrCat("unknown language '", request.language, "'");
      return result;
    }
    result.language = spec->name;
    absl::Status valid = ValidateLimits(request.limits);
    if (valid.ok()) valid = CheckInputSizes(request, options_.input_limits);
    if (!valid.ok()) {
      result.status = RunStatus::kSandboxError;
      result.message = std::string(valid.message());
      return result;
    }
    const std::string key = CacheKey({"result", SpecKey(*spec), request.source,
                                      request.stdin_data, LimitsKey(request.limits)});
    std::optional<RunResult> cached = results_->Get(key);
    if (cached) {
      result = std::move(*cached);
      result.cached = true;
    } else {
      result = RunUncached(request, *spec);
      if (result.status != RunStatus::kSandboxError &&
          result.status != RunStatus::kToolchainUnavailable) {
        results_->Put(key, result);
      }
    }
    // Judged after the cache: the cached outcome does not depend on the answer.
    if (result.status == RunStatus::kOk && request.expected_stdout &&
        !OutputsMatch(result.run.stdout_data, *request.expected_stdout)) {
      result.status = RunStatus::kWrongAnswer;
      result.message = "stdout differs from the expected output (after normalisation)";
    }
  } catch (const std::exception& e) {
    result.status = RunStatus::kSandboxError;
    result.message = absl::StrCat("runner failure: ", e.what());
  }
  return result;
}

RunResult Runner::RunUncached(const RunRequest& request, const LanguageSpec& spec) {
  RunResult result = ProbeToolchain(spec);
  if (result.status != RunStatus::kOk) return result;
  result.language = spec.name;

  auto artefact = PrepareArtefact(request, spec, &result);
  if (!artefact.ok()) {
    result.status = RunStatus::kSandboxError;
    result.message = std::string(artefact.status().message());
    return result;
  }
  if (*artefact == nullptr) return result;  // compile_error or toolchain_unavailable

  const RunLimits& limits = request.limits;
  Execution ex;
  ex.argv = ExpandCommand(spec.run, spec);
  ex.env = ExpandEnv(spec);
  ex.stdin_data = &request.stdin_data;
  ex.artefact_dir = (*artefact)->dir;
  ex.limits = limits;
  const int64_t memory_mb = static_cast<int64_t>(limits.memory_mb) + spec.extra_memory_mb;
  ex.memory_bytes = limits.memory_mb > 0 ? memory_mb << 20 : 0;
  ex.max_processes = std::max(limits.max_processes, spec.max_processes);
  internal::Supervised supervised;
  if (warm_status_.ok()) {
    supervised = ExecuteWarm(ex);  // the warm sandbox brings its own uid
  } else {
    internal::UidLease lease(options_.per_run_uid);
    if (!lease.status().ok()) {
      result.status = RunStatus::kSandboxError;
      result.message = std::string(lease.status().message());
      return result;
    }
    ex.uid = ex.gid = lease.uid();
    ex.change_uid = lease.changes_uid();
    supervised = Execute(ex);
  }
  result.run = std::move(supervised.out);
  const std::string& error = supervised.error;
  const bool wall_killed = supervised.wall_killed, output_killed = supervised.output_killed;
  const int exec_errno = supervised.exec_errno;
  const StepOutput& run = result.run;

  const bool failed = run.signal.has_value() || run.exit_code.value_or(0) != 0;
  const bool cpu_exceeded = run.cpu_ms > static_cast<int64_t>(limits.cpu_time_s * 1000) ||
                            run.signal == SIGXCPU;
  const bool oom_marker = MentionsOutOfMemory(run.stderr_data);
  const bool near_memory_limit =
      ex.memory_bytes > 0 && run.peak_memory_kb * 1024 >= ex.memory_bytes * 9 / 10;

  if (!error.empty()) {
    result.status = RunStatus::kSandboxError;
    result.message = error;
  } else if (output_killed) {
    result.status = RunStatus::kOutputLimit;
    result.message = absl::StrCat("output exceeded ", limits.output_limit_bytes,
                                  " bytes; the run was killed");
  } else if (wall_killed) {
    result.status = RunStatus::kTimeLimit;
    result.time_limit_kind = TimeLimitKind::kWall;
    result.message = absl::StrCat("wall-clock limit of ", limits.wall_time_s,
                                  " s exceeded; every process of the run was killed");
  } else if (exec_errno != 0) {
    const bool is_toolchain = spec.run.empty() || spec.run[0] != "{exe}";
    result.status = is_toolchain ? RunStatus::kToolchainUnavailable : RunStatus::kRuntimeError;
    result.message = absl::StrCat("cannot start '", ex.argv[0], "': ", strerror(exec_errno));
  } else if (cpu_exceeded) {
    result.status = RunStatus::kTimeLimit;
    result.time_limit_kind = TimeLimitKind::kCpu;
    // RLIMIT_CPU counts each process on its own and the report sums them as
    // getrusage rounds them, so SIGXCPU can come with a total just under the
    // limit: say what happened rather than claim a comparison that is false.
    result.message =
        run.signal == SIGXCPU
            ? absl::StrCat("killed by SIGXCPU at the CPU limit of ", limits.cpu_time_s,
                           " s (measured CPU time ", run.cpu_ms, " ms)")
            : absl::StrCat("CPU time ", run.cpu_ms, " ms exceeds the limit of ",
                           limits.cpu_time_s, " s");
  } else if (failed && (near_memory_limit || oom_marker)) {
    result.status = RunStatus::kMemoryLimit;
    result.message = absl::StrCat("memory limit of ", memory_mb, " MB (address space) hit: ",
                                  near_memory_limit ? "peak memory reached 90% of it"
                                                    : "the runtime reported an allocation failure");
  } else if (run.signal) {
    result.status = RunStatus::kSignal;
    result.message = absl::StrCat("killed by ", SignalName(*run.signal));
  } else if (run.exit_code.value_or(0) != 0) {
    result.status = RunStatus::kRuntimeError;
    result.message = absl::StrCat("exited with code ", *run.exit_code);
  } else {
    result.status = RunStatus::kOk;
    result.message.clear();
  }
  return result;
}

}  // namespace lockstep::sandbox
