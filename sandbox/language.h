// Language specs for the sandbox: how to compile and run one program in a
// language, and how to probe for its toolchain. A spec is data only; the
// runner executes it. Placeholders in commands and env values: {src} (source
// file name), {exe} (output binary name), {dir} (work directory inside the
// sandbox). Every spec works offline and writes only under {dir} and /tmp.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lockstep::sandbox {

struct LanguageSpec {
  std::string name;                        // "python", "cpp", ...
  std::vector<std::string> aliases;        // "py", "c++", ...
  std::string source_file;                 // "main.py"
  std::vector<std::string> compile;        // empty: no compile step
  std::vector<std::string> run;            // argv run inside the work directory
  std::vector<std::string> version_probe;  // argv whose success means "installed"
  // Set for the probe, the compile step and the run, over the runner's base
  // environment (PATH, HOME=/tmp, TMPDIR=/tmp, LANG). Values may hold placeholders.
  std::vector<std::pair<std::string, std::string>> env;
  double compile_time_limit_s = 30.0;
  int extra_memory_mb = 0;  // runtimes that reserve address space (JVM, Go)
  int max_processes = 64;   // some toolchains need threads (JVM, Go)
};

// The twelve languages, in a fixed order (python first, java last).
std::span<const LanguageSpec> AllLanguages();
// By name or alias, case-insensitive; nullptr if unknown.
const LanguageSpec* FindLanguage(std::string_view name_or_alias);

}  // namespace lockstep::sandbox
