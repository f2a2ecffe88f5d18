// Shared helpers for the sandbox tests: a Runner with private language specs
// (python3 and C, whose toolchains every dev machine and CI image has), and
// checks that a run left no process and no file behind.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "sandbox/runner.h"

namespace lockstep::sandbox::testing {

// Every process a test's programs start carries `marker` in its argv, so a
// survivor can be found in /proc without confusing it with other tests' runs.
inline std::vector<LanguageSpec> TestLanguages(const std::string& marker) {
  LanguageSpec python;
  python.name = "python";
  python.aliases = {"py"};
  python.source_file = "main.py";
  python.run = {"python3", "{src}", marker};
  python.version_probe = {"python3", "--version"};
  LanguageSpec c;
  c.name = "c";
  c.source_file = "main.c";
  c.compile = {"gcc", "-O1", "-o", "{exe}", "{src}"};
  c.run = {"{exe}", marker};
  c.version_probe = {"gcc", "--version"};
  LanguageSpec missing;
  missing.name = "missing";
  missing.source_file = "main.x";
  missing.run = {"lockstep-no-such-interpreter", "{src}"};
  missing.version_probe = {"lockstep-no-such-interpreter", "--version"};
  return {python, c, missing};
}

inline std::unique_ptr<Runner> MakeRunner(const std::string& marker, bool cache = false,
                                          bool warm = true) {
  RunnerOptions options;
  options.languages = TestLanguages(marker);
  options.cache_results = cache;
  options.warm_sandboxes = warm;
  auto runner = Runner::Create(options);
  EXPECT_TRUE(runner.ok()) << runner.status();
  return runner.ok() ? std::move(*runner) : nullptr;
}

inline std::string UniqueMarker(const std::string& test) {
  return "lockstep-test-" + test + "-" + std::to_string(getpid());
}

// Every process on the host, as (pid, command line with NUL separators).
inline std::vector<std::pair<int, std::string>> ProcessCommandLines() {
  std::vector<std::pair<int, std::string>> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* entry = readdir(proc)) {
    const int pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream file(std::string("/proc/") + entry->d_name + "/cmdline");
    std::stringstream text;
    text << file.rdbuf();
    found.emplace_back(pid, text.str());
  }
  closedir(proc);
  return found;
}

// Pids whose command line contains `marker` (this test process excluded).
inline std::vector<int> ProcessesWithMarker(const std::string& marker) {
  std::vector<int> found;
  for (const auto& [pid, cmdline] : ProcessCommandLines()) {
    if (pid != getpid() && cmdline.find(marker) != std::string::npos) found.push_back(pid);
  }
  return found;
}

// Host pids of the warm sandboxes' zygotes started by this process (each is
// the child of a bubblewrap that is our child).
inline std::vector<int> OurZygotes() {
  auto parent_of = [](int pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(file, line);
    const size_t paren = line.rfind(')');
    int ppid = -1;
    if (paren != std::string::npos) std::sscanf(line.c_str() + paren + 2, "%*c %d", &ppid);
    return ppid;
  };
  const std::string zygote = std::string("/.sandbox/init") + '\0' + "--zygote";
  std::vector<int> found;
  for (const auto& [pid, cmdline] : ProcessCommandLines()) {
    if (cmdline.rfind(zygote, 0) == 0 && parent_of(parent_of(pid)) == getpid()) {
      found.push_back(pid);
    }
  }
  return found;
}

inline RunRequest Request(const std::string& language, const std::string& source,
                          double cpu_s = 2, double wall_s = 5) {
  RunRequest request;
  request.language = language;
  request.source = source;
  request.limits.cpu_time_s = cpu_s;
  request.limits.wall_time_s = wall_s;
  return request;
}

}  // namespace lockstep::sandbox::testing
