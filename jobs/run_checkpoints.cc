#include "jobs/run_checkpoints.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "config/file_io.h"
#include "nlohmann/json.hpp"
#include "numerics/status_macros.h"

namespace lockstep::jobs {

namespace fs = std::filesystem;

absl::StatusOr<int64_t> NewestCheckpointStep(const std::string& checkpoints_dir) {
  int64_t newest = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir, ec)) {
    const std::string name = entry.path().filename().string();
    int64_t step = 0;
    if (name.rfind("step_", 0) != 0 || !absl::SimpleAtoi(name.substr(5), &step)) continue;
    if (!fs::exists(entry.path() / "trainer_state.json")) continue;
    newest = std::max(newest, step);
  }
  if (newest < 0) {
    return absl::NotFoundError(absl::StrCat("no checkpoint under ", checkpoints_dir,
                                            " (the run stopped before its first checkpoint)"));
  }
  return newest;
}

absl::Status TruncateJsonlAfterStep(const std::string& path, int64_t last_step) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return absl::OkStatus();
  LOCKSTEP_ASSIGN_OR_RETURN(std::string text, config::ReadFile(path));
  std::string kept;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;  // a line cut short by a crash
    if (j.contains("step") && j["step"].is_number_integer() && j["step"].get<int64_t>() > last_step) {
      continue;
    }
    absl::StrAppend(&kept, line, "\n");
  }
  return config::WriteFileAtomically(path, kept);
}

}  // namespace lockstep::jobs
