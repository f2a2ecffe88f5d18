// The shared load -> read -> check -> prepare -> run sequence (config/config_job.h).
#include "config/config_job.h"

#include <filesystem>
#include <system_error>

#include "config/file_io.h"
#include "config/run_dir.h"

namespace lockstep::config {

namespace fs = std::filesystem;

absl::StatusOr<Config> LoadJobConfig(const JobArgs& args) {
  const std::string path =
      args.resume() ? (fs::path(args.resume_dir) / "config.toml").string() : args.config_path;
  if (args.resume() && !fs::exists(path)) {
    // PrepareRunDir's message says what is wrong with RUN; prefer it to "no such file".
    LOCKSTEP_RETURN_IF_ERROR(PrepareRunDir(args.command, args.resume_dir, true).status());
  }
  return Config::LoadFileWithOverrides(path, args.overrides);
}

absl::StatusOr<RunDir> StartRunDir(const JobArgs& args, const Config& config) {
  LOCKSTEP_ASSIGN_OR_RETURN(
      std::string path,
      PrepareRunDir(args.command, args.resume() ? args.resume_dir : args.out_dir, args.resume()));
  LOCKSTEP_RETURN_IF_ERROR(
      WriteFileAtomically((fs::path(path) / "config.toml").string(), config.ToToml()));
  return RunDir{path, args.resume()};
}

void DiscardEmptyRunDir(const RunDir& run_dir) {
  if (run_dir.resume) return;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_dir.path, ec)) {
    if (entry.path().filename() != "config.toml") return;
  }
  if (!ec) fs::remove_all(run_dir.path, ec);
}

}  // namespace lockstep::config
