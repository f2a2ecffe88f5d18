#include "sandbox/toolchain.h"

#include <algorithm>

namespace lockstep::sandbox {

const std::vector<std::string>& RequiredLanguages() {
  static const std::vector<std::string> names = {"python",     "c",  "cpp",  "javascript",
                                                 "typescript", "go", "rust", "ocaml"};
  return names;
}

bool IsRequiredLanguage(std::string_view name) {
  const LanguageSpec* spec = FindLanguage(name);
  if (spec == nullptr) return false;
  const std::vector<std::string>& required = RequiredLanguages();
  return std::find(required.begin(), required.end(), spec->name) != required.end();
}

std::vector<ToolchainAvailability> ProbeAllToolchains(Runner& runner) {
  std::vector<ToolchainAvailability> all;
  for (const LanguageSpec& spec : AllLanguages()) {
    const RunResult probe = runner.ProbeToolchain(spec);
    ToolchainAvailability entry;
    entry.language = spec.name;
    entry.installed = probe.status == RunStatus::kOk;
    entry.status = probe.status;
    entry.message = probe.message;
    all.push_back(std::move(entry));
  }
  return all;
}

std::string SourceExtension(const LanguageSpec& spec) {
  const size_t dot = spec.source_file.rfind('.');
  return dot == std::string::npos ? std::string() : spec.source_file.substr(dot);
}

}  // namespace lockstep::sandbox
