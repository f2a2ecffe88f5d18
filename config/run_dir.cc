// Run directory creation and checks (config/run_dir.h).
#include "config/run_dir.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "config/toml_writer.h"

namespace lockstep::config {

namespace fs = std::filesystem;

namespace {

std::string UtcTimestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%d-%H%M%S", &tm);
  return buffer;
}

bool IsNonEmptyDirectory(const fs::path& dir) {
  std::error_code ec;
  return fs::directory_iterator(dir, ec) != fs::directory_iterator();
}

}  // namespace

absl::StatusOr<std::string> PrepareRunDir(const std::string& command, const std::string& out_dir,
                                          bool resume) {
  std::error_code ec;
  if (resume) {
    if (out_dir.empty()) {
      return absl::InvalidArgumentError("resume needs the run directory to continue");
    }
    if (!fs::is_directory(out_dir, ec)) {
      return absl::NotFoundError(
          absl::StrCat("run directory ", out_dir, " does not exist; nothing to resume"));
    }
    if (!fs::exists(fs::path(out_dir) / "config.toml", ec)) {
      return absl::InvalidArgumentError(absl::StrCat(
          out_dir, " is not a lockstep run directory (no config.toml); nothing to resume"));
    }
    return out_dir;
  }

  if (!out_dir.empty()) {
    if (fs::exists(out_dir, ec)) {
      if (!fs::is_directory(out_dir, ec)) {
        return absl::AlreadyExistsError(absl::StrCat(
            "--out ", out_dir, " exists and is not a directory; choose another --out"));
      }
      if (IsNonEmptyDirectory(out_dir)) {
        return absl::AlreadyExistsError(
            absl::StrCat("run directory ", out_dir,
                         " already exists and is not empty; choose another --out, or --resume ",
                         out_dir, " to continue that run"));
      }
      return out_dir;
    }
    if (!fs::create_directories(out_dir, ec) && ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create run directory ", out_dir, ": ", ec.message()));
    }
    return out_dir;
  }

  std::string name = command;
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !IsBareKeyChar(c); }, '-');
  const fs::path runs("runs");
  if (!fs::create_directories(runs, ec) && ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create directory runs/: ", ec.message(), "; pass --out DIR"));
  }
  const std::string base = absl::StrCat(name, "-", UtcTimestamp());
  for (int attempt = 1; attempt <= 100; ++attempt) {
    const fs::path dir = runs / (attempt == 1 ? base : absl::StrCat(base, "-", attempt));
    // create_directory is atomic: false with no error means another run took the name.
    if (fs::create_directory(dir, ec)) return dir.string();
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create run directory ", dir.string(), ": ", ec.message()));
    }
  }
  return absl::AlreadyExistsError(
      absl::StrCat("runs/", base, " and 99 numbered variants exist; pass --out DIR"));
}

}  // namespace lockstep::config
