#include "sandbox/seccomp_policy.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cstddef>

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

// The socket families a judged program may open: local sockets, and IPv4/IPv6
// inside the run's own network namespace (loopback only). AF_NETLINK is
// allowed for NETLINK_ROUTE alone (libc's getaddrinfo and interface listing
// use it); every other family (AF_VSOCK shares the host's vsock port space,
// AF_PACKET, AF_ALG, AF_BLUETOOTH, ...) fails with EAFNOSUPPORT.
constexpr int kAllowedSocketFamilies[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};

// Adds the rules that deny every other family to socket(2) and socketpair(2).
// The domain is an int: the rules compare its low 32 bits, and any value with
// high bits set (which the kernel would truncate) is denied outright.
int AddSocketFamilyRules(scmp_filter_ctx ctx, std::string* failed) {
  const int deny = SCMP_ACT_ERRNO(EAFNOSUPPORT);
  for (const char* name : {"socket", "socketpair"}) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    *failed = name;
    for (int family = 0; family < AF_MAX; ++family) {
      bool allowed = false;
      for (int ok : kAllowedSocketFamilies) allowed = allowed || ok == family;
      if (allowed) continue;
      if (int rc = seccomp_rule_add(ctx, deny, nr, 1,
                                    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu,
                                            static_cast<scmp_datum_t>(family)));
          rc < 0) {
        return rc;
      }
    }
    if (int rc = seccomp_rule_add(ctx, deny, nr, 1,
                                  SCMP_A0(SCMP_CMP_GE, static_cast<scmp_datum_t>(AF_MAX)));
        rc < 0) {
      return rc;
    }
    // AF_NETLINK with any protocol but NETLINK_ROUTE (0).
    if (int rc = seccomp_rule_add(ctx, deny, nr, 2,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu,
                                          static_cast<scmp_datum_t>(AF_NETLINK)),
                                  SCMP_A2(SCMP_CMP_NE, static_cast<scmp_datum_t>(NETLINK_ROUTE)));
        rc < 0) {
      return rc;
    }
  }
  return 0;
}

#if defined(__x86_64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
constexpr uint32_t kX32SyscallBit = 0x40000000;
#elif defined(__aarch64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
constexpr uint32_t kX32SyscallBit = 0;
#else
#error "the namespace watch knows x86-64 and aarch64 only"
#endif
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the namespace watch reads the low half of args[0] at its address");

constexpr sock_filter Statement(uint16_t code, uint32_t k) { return {code, 0, 0, k}; }
constexpr sock_filter Jump(uint16_t code, uint32_t k, uint8_t if_true, uint8_t if_false) {
  return {code, if_true, if_false, k};
}

}  // namespace

std::vector<sock_filter> NamespaceWatchFilter() {
  constexpr uint32_t kArchAt = offsetof(seccomp_data, arch);
  constexpr uint32_t kNrAt = offsetof(seccomp_data, nr);
  constexpr uint32_t kFamilyAt = offsetof(seccomp_data, args);  // low 32 bits of args[0]
  constexpr uint16_t kLoad = BPF_LD | BPF_W | BPF_ABS, kIs = BPF_JMP | BPF_JEQ | BPF_K;
  constexpr uint16_t kReturn = BPF_RET | BPF_K;
  return {
      /*0*/ Statement(kLoad, kArchAt),
      /*1*/ Jump(kIs, kNativeArch, 1, 0),
      /*2*/ Statement(kReturn, SECCOMP_RET_KILL_PROCESS),
      /*3*/ Statement(kLoad, kNrAt),
      /*4*/ Statement(BPF_ALU | BPF_AND | BPF_K, ~kX32SyscallBit),
      /*5*/ Jump(kIs, SYS_socket, 6, 0),      // to 12
      /*6*/ Jump(kIs, SYS_socketpair, 5, 0),  // to 12
      /*7*/ Jump(kIs, SYS_shmget, 3, 0),      // to 11
      /*8*/ Jump(kIs, SYS_semget, 2, 0),      // to 11
      /*9*/ Jump(kIs, SYS_msgget, 1, 0),      // to 11
      /*10*/ Jump(kIs, SYS_mq_open, 0, 4),    // to 11 or 15
      /*11*/ Statement(kReturn, SECCOMP_RET_USER_NOTIF),
      /*12*/ Statement(kLoad, kFamilyAt),
      /*13*/ Jump(kIs, AF_UNIX, 1, 0),        // to 15 or 14
      /*14*/ Statement(kReturn, SECCOMP_RET_USER_NOTIF),
      /*15*/ Statement(kReturn, SECCOMP_RET_ALLOW),
  };
}

bool IsIpcCreation(int syscall_nr) {
  const uint32_t nr = static_cast<uint32_t>(syscall_nr) & ~kX32SyscallBit;
  return nr == SYS_shmget || nr == SYS_semget || nr == SYS_msgget || nr == SYS_mq_open;
}

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
  std::string socket_call;
  if (int rc = AddSocketFamilyRules(ctx, &socket_call); rc < 0) {
    return fail("seccomp_rule_add " + socket_call + " (socket families)", rc);
  }
  return ctx;
}

}  // namespace lockstep::sandbox
