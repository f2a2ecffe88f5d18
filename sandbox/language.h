// Language specs for the sandbox: how to compile and run one program in a
// language, and how to probe for its toolchain. A spec is data only; the
// runner executes it. Placeholders in commands: {src} (source file name),
// {exe} (output binary name), {dir} (work directory inside the sandbox).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::sandbox {

struct LanguageSpec {
  std::string name;                       // "python", "cpp", ...
  std::vector<std::string> aliases;       // "py", "c++", ...
  std::string source_file;                // "main.py"
  std::vector<std::string> compile;       // empty: no compile step
  std::vector<std::string> run;           // argv run inside the work directory
  std::vector<std::string> version_probe; // argv whose success means "installed"
  double compile_time_limit_s = 30.0;
  int extra_memory_mb = 0;                // runtimes that reserve address space (JVM, Go)
  int max_processes = 64;                 // some toolchains need threads (JVM, Go)
};

std::span<const LanguageSpec> AllLanguages();
// By name or alias, case-insensitive; nullptr if unknown.
const LanguageSpec* FindLanguage(std::string_view name_or_alias);

}  // namespace lockstep::sandbox
