// Runs a shell command line for the CLI tests: its exit status and its stdout and stderr
// together, as a user at a terminal sees them.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace lockstep::driver::testing {

struct CommandResult {
  int exit_code = -1;  // -1: the command could not be started or did not exit normally
  std::string output;  // stdout and stderr together
};

inline CommandResult RunCommand(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = popen((command_line + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  for (size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) {
    result.output.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace lockstep::driver::testing
