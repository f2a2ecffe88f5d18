// Protocol between the runner (sandbox/runner.cc) and lockstep-sandbox-init,
// the tiny pid-1 process it starts inside every bubblewrap sandbox. The init
// applies rlimits and the seccomp filter to the program only, waits for it,
// reaps orphans, and reports exactly how the program ended on a status fd.
// Being pid 1 of the sandbox's pid namespace, it cannot be killed from inside
// (kill -9 -1 spares it), and its exit tears the whole namespace down.
#pragma once

#include <cstdint>

namespace lockstep::sandbox {

inline constexpr char kInitPathInSandbox[] = "/.sandbox/init";
inline constexpr int kInitStatusFd = 3;  // fd the init writes its InitReport to
inline constexpr uint32_t kInitReportMagic = 0x6c6b7370;  // "lksp"

// Written once, in one write(2), after the program has ended. The layout is
// shared by two binaries of the same build, so a raw struct is safe.
struct InitReport {
  uint32_t magic = kInitReportMagic;
  int32_t exec_errno = 0;   // non-zero: the program could not be started
  int32_t exit_code = -1;   // valid when term_signal == 0 and exec_errno == 0
  int32_t term_signal = 0;  // signal that killed the program, 0 if it exited
  int64_t cpu_us = 0;       // user + system time of the program and reaped descendants
  int64_t maxrss_kb = 0;    // largest RSS of any single reaped process (not a tree sum)
  char error[112] = {};     // the init's own failure (seccomp, rlimit), NUL-terminated
};

// Argument names the init accepts before "--" (each as name=value; 0 = unlimited).
inline constexpr char kInitArgCpuSeconds[] = "cpu";
inline constexpr char kInitArgAddressSpace[] = "as";
inline constexpr char kInitArgProcesses[] = "nproc";
inline constexpr char kInitArgFileSize[] = "fsize";
inline constexpr char kInitArgOpenFiles[] = "nofile";
inline constexpr char kInitArgSeccomp[] = "seccomp";  // 1 = load the filter

}  // namespace lockstep::sandbox
