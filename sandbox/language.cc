#include "sandbox/language.h"

#include <cctype>
#include <vector>

namespace lockstep::sandbox {
namespace {

// Why the limits hints are what they are (measured with bubblewrap and
// RLIMIT_AS on Debian 12, x86-64):
//  - A Go 1.19 binary reserves ~650 MB of address space at start (page
//    summaries), Node 20 ~750 MB (V8 cages): both need extra_memory_mb.
//  - The JVM sizes its default heap to half of RLIMIT_AS and reserves code
//    cache, class space and one -Xss stack per Java thread on top. With the
//    flags below, MALLOC_ARENA_MAX=2 and 1 GB extra, a 512 MB limit gives a
//    ~740 MB heap and the rest fits; without the arena cap glibc's per-thread
//    arenas alone exhaust the limit.
//  - Compilers run without an address-space limit (the runner's choice), so
//    only their time limits are set here: kotlinc starts a JVM and loads the
//    whole compiler (~5-10 s), zig builds its compiler_rt into an empty cache
//    on every compile (~3 s).
// Caches that toolchains insist on (Go build cache, Zig caches) go to /tmp,
// a private tmpfs discarded after the step, so they never land in the
// compiled artefact that later runs bind.

constexpr int kRuntimeExtraMb = 1024;

// ASCII case-insensitive equality (names and aliases are ASCII).
bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const std::vector<std::string>& JvmRunFlags() {
  static const std::vector<std::string> flags = {
      "-XX:+UseSerialGC",                  // one GC thread, least reserved memory
      "-Xss16m",                           // deep recursion in judged programs
      "-XX:ReservedCodeCacheSize=64m",     // default 240 MB reservation
      "-XX:CompressedClassSpaceSize=64m",  // default 1 GB reservation
      "-XX:MaxMetaspaceSize=256m",
      "-XX:CICompilerCount=2",
      "-XX:-UsePerfData",  // no /tmp/hsperfdata_* files
  };
  return flags;
}

std::vector<std::string> Concat(std::vector<std::string> head,
                                const std::vector<std::string>& middle,
                                const std::vector<std::string>& tail) {
  head.insert(head.end(), middle.begin(), middle.end());
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

std::vector<LanguageSpec> MakeLanguages() {
  std::vector<LanguageSpec> all;

  LanguageSpec python;
  python.name = "python";
  python.aliases = {"py", "python3"};
  python.source_file = "main.py";
  python.run = {"python3", "-B", "{src}"};  // -B: no __pycache__ writes
  python.version_probe = {"python3", "--version"};
  python.env = {{"PYTHONHASHSEED", "0"}, {"PYTHONDONTWRITEBYTECODE", "1"}};
  all.push_back(python);

  LanguageSpec javascript;
  javascript.name = "javascript";
  javascript.aliases = {"js", "node", "nodejs"};
  javascript.source_file = "main.js";
  javascript.run = {"node", "{src}"};
  javascript.version_probe = {"node", "--version"};
  javascript.extra_memory_mb = kRuntimeExtraMb;
  all.push_back(javascript);

  // esbuild strips the types (no type check, as ts-node --transpile-only)
  // and bundles into one CommonJS file that node runs.
  LanguageSpec typescript;
  typescript.name = "typescript";
  typescript.aliases = {"ts"};
  typescript.source_file = "main.ts";
  typescript.compile = {"esbuild",      "{src}",           "--outfile={exe}.js", "--platform=node",
                        "--format=cjs", "--target=node18", "--log-level=warning"};
  typescript.run = {"node", "{exe}.js"};
  typescript.version_probe = {"esbuild", "--version"};
  typescript.extra_memory_mb = kRuntimeExtraMb;
  all.push_back(typescript);

  LanguageSpec go;
  go.name = "go";
  go.aliases = {"golang"};
  go.source_file = "main.go";
  go.compile = {"go", "build", "-o", "{exe}", "{src}"};
  go.run = {"{exe}"};
  go.version_probe = {"go", "version"};
  go.env = {{"GOCACHE", "/tmp/go-cache"}, {"GOPATH", "/tmp/go-path"},     {"GOPROXY", "off"},
            {"GOTOOLCHAIN", "local"},     {"GOFLAGS", "-buildvcs=false"}, {"CGO_ENABLED", "0"}};
  go.compile_time_limit_s = 60.0;
  go.extra_memory_mb = kRuntimeExtraMb;
  go.max_processes = 128;
  all.push_back(go);

  LanguageSpec rust;
  rust.name = "rust";
  rust.aliases = {"rs"};
  rust.source_file = "main.rs";
  rust.compile = {"rustc", "--edition=2021", "-O", "-o", "{exe}", "{src}"};
  rust.run = {"{exe}"};
  rust.version_probe = {"rustc", "--version"};
  rust.compile_time_limit_s = 60.0;
  all.push_back(rust);

  LanguageSpec kotlin;
  kotlin.name = "kotlin";
  kotlin.aliases = {"kt"};
  kotlin.source_file = "main.kt";
  // C1 only while compiling: kotlinc is a short JVM run where C2 never pays off.
  kotlin.compile = {"kotlinc",  "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC",
                    "{src}",    "-include-runtime",          "-d",
                    "{exe}.jar"};
  kotlin.run = Concat({"java"}, JvmRunFlags(), {"-jar", "{exe}.jar"});
  kotlin.version_probe = {"kotlinc", "-version"};
  kotlin.env = {{"MALLOC_ARENA_MAX", "2"}};
  kotlin.compile_time_limit_s = 90.0;
  kotlin.extra_memory_mb = kRuntimeExtraMb;
  kotlin.max_processes = 256;
  all.push_back(kotlin);

  // Str and Unix are linked because judged programs commonly use them.
  LanguageSpec ocaml;
  ocaml.name = "ocaml";
  ocaml.aliases = {"ml"};
  ocaml.source_file = "main.ml";
  ocaml.compile = {"ocamlfind", "ocamlopt", "-package", "str,unix",
                   "-linkpkg",  "-o",       "{exe}",    "{src}"};
  ocaml.run = {"{exe}"};
  ocaml.version_probe = {"ocamlfind", "ocamlopt", "-version"};
  all.push_back(ocaml);

  // ReleaseSafe keeps overflow and bounds checks, so a judged program that
  // breaks them ends as runtime_error (with the panic message) instead of
  // printing garbage. -fstrip drops debug info: a panic prints no symbolised
  // stack trace, and compiling takes ~3 s instead of ~12 s.
  LanguageSpec zig;
  zig.name = "zig";
  zig.source_file = "main.zig";
  zig.compile = {"zig", "build-exe", "-O", "ReleaseSafe", "-fstrip", "-femit-bin={exe}", "{src}"};
  zig.run = {"{exe}"};
  zig.version_probe = {"zig", "version"};
  zig.env = {{"ZIG_GLOBAL_CACHE_DIR", "/tmp/zig-global-cache"},
             {"ZIG_LOCAL_CACHE_DIR", "/tmp/zig-local-cache"}};
  zig.compile_time_limit_s = 60.0;
  all.push_back(zig);

  // HHVM runs .hack files directly; its bytecode cache goes to /tmp.
  LanguageSpec hack;
  hack.name = "hack";
  hack.aliases = {"hhvm", "hh"};
  hack.source_file = "main.hack";
  hack.run = {"hhvm", "-d", "hhvm.repo.central.path=/tmp/hhvm.hhbc", "{src}"};
  hack.version_probe = {"hhvm", "--version"};
  hack.extra_memory_mb = kRuntimeExtraMb;
  hack.max_processes = 128;  // not measured here: hhvm is not packaged for Debian 12
  all.push_back(hack);

  LanguageSpec c;
  c.name = "c";
  c.aliases = {"gcc"};
  c.source_file = "main.c";
  c.compile = {"gcc", "-O2", "-std=gnu17", "-pipe", "-o", "{exe}", "{src}", "-lm"};
  c.run = {"{exe}"};
  c.version_probe = {"gcc", "--version"};
  all.push_back(c);

  LanguageSpec cpp;
  cpp.name = "cpp";
  cpp.aliases = {"c++", "cxx", "cc", "g++"};
  cpp.source_file = "main.cpp";
  cpp.compile = {"g++", "-O2", "-std=gnu++20", "-pipe", "-o", "{exe}", "{src}"};
  cpp.run = {"{exe}"};
  cpp.version_probe = {"g++", "--version"};
  cpp.compile_time_limit_s = 60.0;
  all.push_back(cpp);

  // The public class must be Main (the file is Main.java).
  LanguageSpec java;
  java.name = "java";
  java.source_file = "Main.java";
  java.compile = {"javac", "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-encoding", "UTF-8",
                  "{src}"};
  java.run = Concat({"java"}, JvmRunFlags(), {"-cp", ".", "Main"});
  java.version_probe = {"javac", "-version"};
  java.env = {{"MALLOC_ARENA_MAX", "2"}};
  java.compile_time_limit_s = 60.0;
  java.extra_memory_mb = kRuntimeExtraMb;
  java.max_processes = 256;
  all.push_back(java);

  return all;
}

}  // namespace

std::span<const LanguageSpec> AllLanguages() {
  static const std::vector<LanguageSpec> languages = MakeLanguages();
  return languages;
}

const LanguageSpec* FindLanguage(std::string_view name_or_alias) {
  for (const LanguageSpec& spec : AllLanguages()) {
    if (SameName(spec.name, name_or_alias)) return &spec;
    for (const std::string& alias : spec.aliases) {
      if (SameName(alias, name_or_alias)) return &spec;
    }
  }
  return nullptr;
}

}  // namespace lockstep::sandbox
