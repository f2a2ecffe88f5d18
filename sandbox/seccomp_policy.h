// The seccomp filter applied to every sandboxed program (not to bubblewrap,
// which needs mount(2) to build the sandbox). It denies the syscalls a judged
// program never needs and that widen the kernel attack surface; denied calls
// fail with EPERM (clone3 with ENOSYS so libc falls back to clone, whose flags
// the filter can inspect). socket(2) and socketpair(2) are limited to
// AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK/NETLINK_ROUTE; other families fail
// with EAFNOSUPPORT. Foreign-architecture syscalls kill the process.
// Warm runs also get the namespace watch: every socket(2)/socketpair(2) of a
// family other than AF_UNIX, and every System V / POSIX IPC creation, is held
// until the run's init has noted it.
#pragma once

#include <linux/filter.h>
#include <seccomp.h>

#include <string>
#include <vector>

namespace lockstep::sandbox {

// Builds the filter; returns nullptr and fills *error on failure. The caller
// loads it with seccomp_load() (which also sets no_new_privs), or exports it
// once with seccomp_export_bpf() and installs the BPF itself after setting
// no_new_privs (lockstep-sandbox-init does), and releases it with
// seccomp_release().
scmp_filter_ctx BuildSeccompPolicy(std::string* error);

// The namespace watch, a second filter loaded after the policy with
// SECCOMP_FILTER_FLAG_NEW_LISTENER. It turns into a user notification (the
// call waits until the listener, the run's init, answers) every call that
// can leave state in a namespace a warm sandbox's runs may share:
// socket(2) and socketpair(2) with any family but AF_UNIX (network
// namespace), and shmget, semget, msgget and mq_open (ipc namespace: no
// System V or POSIX IPC object exists without one of them). Everything else
// is allowed here (the policy still decides). Arguments are register values,
// the family compared as the kernel truncates it (its low 32 bits), so no
// later change can alter what was checked. Calls the policy denies never
// reach the listener: its SECCOMP_RET_ERRNO outranks a notification.
// Foreign-architecture syscalls kill the process here too (on x86-64 the x32
// bit is masked off, so x32 calls are watched as well).
std::vector<sock_filter> NamespaceWatchFilter();
// Whether a notified syscall number is one of the watch's IPC creations
// (else it is a socket call).
bool IsIpcCreation(int syscall_nr);

}  // namespace lockstep::sandbox
