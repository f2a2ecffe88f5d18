#include "sandbox/seccomp_policy.h"

#include <errno.h>
#include <sched.h>

namespace lockstep::sandbox {
namespace {

// Syscalls no judged program needs. Grouped by why they are dangerous.
constexpr const char* kDenied[] = {
    // Inspecting or modifying other processes.
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    // Changing the filesystem view or escaping the sandbox's namespaces.
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount",
    "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "open_by_handle_at", "name_to_handle_at",
    // Kernel-side programs and exploit primitives.
    "bpf", "userfaultfd", "perf_event_open", "io_uring_setup", "io_uring_enter",
    "io_uring_register",
    // Keyring.
    "keyctl", "add_key", "request_key",
    // Whole-machine administration.
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "settimeofday",
    "clock_settime", "adjtimex", "clock_adjtime", "sethostname", "setdomainname",
    "iopl", "ioperm", "vhangup", "lookup_dcookie", "fanotify_init", "nfsservctl",
    "personality",
};

// Namespace flags that clone(2) must not carry. CLONE_NEWTIME is left out: it
// shares its bit with the exit-signal byte of clone's flags.
constexpr unsigned long kNamespaceFlags[] = {
    CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,   CLONE_NEWUSER,
    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

}  // namespace

scmp_filter_ctx BuildSeccompPolicy(std::string* error) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) {
    *error = "seccomp_init failed";
    return nullptr;
  }
  auto fail = [&](const std::string& what, int rc) -> scmp_filter_ctx {
    *error = what + " (errno " + std::to_string(-rc) + ")";
    seccomp_release(ctx);
    return nullptr;
  };
  for (const char* name : kDenied) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0); rc < 0) {
      return fail(std::string("seccomp_rule_add ") + name, rc);
    }
  }
  // A binary search over syscall numbers instead of a linear chain of
  // comparisons: the filter runs on every syscall of the program.
  if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0) {
    return fail("seccomp_attr_set optimize", rc);
  }
  if (int nr = seccomp_syscall_resolve_name("clone3"); nr != __NR_SCMP_ERROR) {
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0); rc < 0) {
      return fail("seccomp_rule_add clone3", rc);
    }
  }
  for (unsigned long flag : kNamespaceFlags) {
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
        rc < 0) {
      return fail("seccomp_rule_add clone", rc);
    }
  }
  return ctx;
}

}  // namespace lockstep::sandbox
