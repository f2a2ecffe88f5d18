// One datagram plus file descriptors over a Unix socket (SCM_RIGHTS), sent and received the
// one way the sandbox does it: MSG_NOSIGNAL, received descriptors close-on-exec, EINTR
// retried. Header-only and libc-only, because the statically linked lockstep-sandbox-init
// (runner_init_main.cc) uses it as well as the runner's side (warm_sandbox.cc).
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

namespace lockstep::sandbox {

// Sends `size` bytes with `count` descriptors (count <= kMaxFds); the bytes sent, or -1.
template <size_t kMaxFds>
ssize_t SendWithFds(int socket_fd, const void* data, size_t size, const int* fds, size_t count) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  iovec iov{const_cast<void*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
  }
  ssize_t sent;
  do {
    sent = sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent;
}

// Receives one datagram into `data` and up to kMaxFds descriptors into `fds` (*count of
// them; any beyond are closed). Returns the bytes received (0 at EOF) or -1; *flags gets
// msg_flags, so MSG_TRUNC / MSG_CTRUNC show a datagram that did not fit.
template <size_t kMaxFds>
ssize_t ReceiveWithFds(int socket_fd, void* data, size_t size, int* fds, size_t* count,
                       int* flags) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  iovec iov{data, size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  *count = 0;
  *flags = n < 0 ? 0 : msg.msg_flags;
  if (n <= 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t in_message = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < in_message; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (*count < kMaxFds) {
        fds[(*count)++] = fd;
      } else {
        close(fd);
      }
    }
  }
  return n;
}

}  // namespace lockstep::sandbox
