// The seccomp filter applied to every sandboxed program (not to bubblewrap,
// which needs mount(2) to build the sandbox). It denies the syscalls a judged
// program never needs and that widen the kernel attack surface; denied calls
// fail with EPERM (clone3 with ENOSYS so libc falls back to clone, whose flags
// the filter can inspect). socket(2) and socketpair(2) are limited to
// AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK/NETLINK_ROUTE; other families fail
// with EAFNOSUPPORT. Foreign-architecture syscalls kill the process.
#pragma once

#include <seccomp.h>

#include <string>

namespace lockstep::sandbox {

// Builds the filter; returns nullptr and fills *error on failure. The caller
// loads it with seccomp_load() (which also sets no_new_privs), or exports it
// once with seccomp_export_bpf() and installs the BPF itself after setting
// no_new_privs (lockstep-sandbox-init does), and releases it with
// seccomp_release().
scmp_filter_ctx BuildSeccompPolicy(std::string* error);

}  // namespace lockstep::sandbox
