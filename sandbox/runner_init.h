// Protocol between the runner (sandbox/runner.cc, sandbox/warm_sandbox.cc) and
// lockstep-sandbox-init, the tiny pid-1 process of every sandbox. The init
// applies rlimits, the seccomp filter and an empty capability set to the
// program only, waits for it, reaps orphans, and reports exactly how the
// program ended on a status fd. Being pid 1 of the run's pid namespace, it
// cannot be killed from inside (kill -9 -1 spares it), and its exit tears the
// whole namespace down.
//
// Two modes:
// - one-shot: `init LIMITS... -- PROGRAM...` is bubblewrap's command; the
//   sandbox lives for one process (compile steps, toolchain probes).
// - zygote: `init --zygote` is bubblewrap's command in a warm sandbox
//   (sandbox/warm_sandbox.h). It waits on kZygoteControlFd for ZygoteRequests;
//   for each run it clones a child into fresh pid and mount namespaces and
//   the zygote's network and ipc namespaces (fresh ones whenever an earlier
//   run may have left state there; see EnterUnspentNetwork), mounts a fresh /proc and fresh
//   size- and inode-limited tmpfs /work, /tmp and
//   /dev/shm, binds the run's artefact files read-only into /work, hides the
//   artefact store, and then acts as the one-shot init for the program. When
//   that child is reaped its whole namespace is gone, and the zygote sends a
//   ZygoteEvent kDone. The bubblewrap namespaces (user, uts, cgroup) and
//   read-only system binds are thus set up once per warm sandbox, not per run.
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
  // Compile steps (kInitArgCompileOutput): what of the tmpfs /work the
  // compiler used up, as seen once it had ended (kWorkFull* bits; 0 = neither).
  uint32_t work_full = 0;
};

inline constexpr uint32_t kWorkFullInodes = 1;  // no free inode left (nr_inodes)
inline constexpr uint32_t kWorkFullBytes = 2;   // no free block left (size)

// Argument names the init accepts before "--" (each as name=value; 0 = unlimited).
inline constexpr char kInitArgCpuSeconds[] = "cpu";
inline constexpr char kInitArgAddressSpace[] = "as";
inline constexpr char kInitArgDataSize[] = "data";  // RLIMIT_DATA
inline constexpr char kInitArgProcesses[] = "nproc";
inline constexpr char kInitArgFileSize[] = "fsize";
inline constexpr char kInitArgOpenFiles[] = "nofile";
inline constexpr char kInitArgSeccomp[] = "seccomp";  // 1 = load the filter
// One-shot sandboxes: the init remounts bubblewrap's tmpfs /tmp, /dev/shm
// (and /work when it is one) with nr_inodes = this (bubblewrap cannot set
// it), then drops every capability before the program starts.
inline constexpr char kInitArgTmpfsInodes[] = "inodes";
// Compile steps (value 1): /work is a size- and inode-limited tmpfs, and the
// host's compile directory is bound at kCompileDirInSandbox. The init copies
// that directory's files into /work, detaches the bind (the compiler can
// never write to the host directly, so the caps cannot be bypassed), and,
// once the compiler has exited 0 and every process of the run is gone,
// copies /work back into the directory through a descriptor it kept.
inline constexpr char kInitArgCompileOutput[] = "compile_out";
inline constexpr char kCompileDirInSandbox[] = "/.compile";

// ---------------------------------------------------------------------------
// Zygote mode.

inline constexpr char kInitArgZygote[] = "--zygote";
inline constexpr int kZygoteControlFd = 3;  // a SOCK_SEQPACKET socket to the runner
inline constexpr char kArtefactStoreInSandbox[] = "/.art";  // the runner's work_root/art, ro
inline constexpr uint32_t kZygoteMagic = 0x6c6b7a67;  // "lkzg"
inline constexpr int kZygoteRunFds = 4;  // with kRun: stdin, stdout, stderr, InitReport fd
inline constexpr size_t kZygoteMaxMessage = 64 << 10;

enum class ZygoteRequestKind : uint32_t { kRun = 1, kKill = 2 };

// Runner → zygote. A kRun message carries kZygoteRunFds descriptors
// (SCM_RIGHTS) and is followed, in the same datagram, by `argc` then `envc`
// NUL-terminated strings (envc as NAME=VALUE). A kKill kills the current run's
// whole pid namespace; the kDone event follows as usual.
// The runner may send the next kRun as soon as the current run's InitReport
// is complete (the init has then killed and reaped every other process of
// the run), before that run's kDone: the zygote starts the new run at once,
// while the earlier run's pid 1 and namespaces are still being torn down, and
// sends the earlier run's kDone when that is over. So the teardown (~0.5 ms,
// mostly kernel work) is off the next run's critical path. At most one such
// earlier run: the runner waits for its kDone before sending another kRun.
struct ZygoteRequest {
  uint32_t magic = kZygoteMagic;
  ZygoteRequestKind kind = ZygoteRequestKind::kRun;
  uint64_t cpu_seconds = 0, address_space = 0, processes = 0, file_size = 0, open_files = 0;
  uint64_t tmpfs_bytes = 0;    // size of each of /work, /tmp, /dev/shm
  uint64_t tmpfs_inodes = 0;   // nr_inodes of each of them
  uint32_t seccomp = 1;
  uint32_t argc = 0, envc = 0;
  uint64_t run_id = 0;         // echoed in the run's kDone
  char artefact[64] = {};      // directory under kArtefactStoreInSandbox; "" = empty /work
};

enum class ZygoteEventKind : uint32_t { kReady = 1, kDone = 2 };

// Zygote → runner: kReady once after start; kDone after each run, sent only
// once the run's pid namespace is empty (its init reaped), naming the run.
struct ZygoteEvent {
  uint32_t magic = kZygoteMagic;
  ZygoteEventKind kind = ZygoteEventKind::kReady;
  uint64_t run_id = 0;   // kDone: the request's run_id (0 if it could not be read)
  char error[112] = {};  // the zygote's own failure (clone, bad request), NUL-terminated
};

}  // namespace lockstep::sandbox
