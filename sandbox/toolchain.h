// Which language toolchains this machine has, as seen from inside the sandbox,
// and which ones lockstep requires (CI installs them; their absence is an
// error, the absence of any other is reported per language and skipped).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sandbox/language.h"
#include "sandbox/runner.h"

namespace lockstep::sandbox {

// The languages CI installs with
//   scripts/install-toolchains.sh python c cpp javascript typescript go rust ocaml
// in that order.
const std::vector<std::string>& RequiredLanguages();
bool IsRequiredLanguage(std::string_view name);

struct ToolchainAvailability {
  std::string language;  // spec name
  bool installed = false;
  RunStatus status = RunStatus::kSandboxError;  // the probe's: ok, toolchain_unavailable, ...
  std::string message;                          // why not, naming the install command
};

// Probes every language of AllLanguages() with runner.ProbeToolchain (cached by
// the runner), in AllLanguages() order.
std::vector<ToolchainAvailability> ProbeAllToolchains(Runner& runner);

// The source file's extension, dot included: ".py", ".java".
std::string SourceExtension(const LanguageSpec& spec);

}  // namespace lockstep::sandbox
