// The HTTP/1.1 client of eval/http_client.h: one POST per connection, with a
// deadline on every socket operation.
#include "eval/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace lockstep::eval {
namespace {

using Clock = std::chrono::steady_clock;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits until `fd` is ready for `events` or the deadline passes.
absl::Status WaitFor(int fd, short events, Clock::time_point deadline, const std::string& what) {
  while (true) {
    pollfd p{fd, events, 0};
    const int ready = poll(&p, 1, RemainingMs(deadline));
    if (ready > 0) return absl::OkStatus();
    if (ready == 0) return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
    if (errno != EINTR) return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
  }
}

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

absl::StatusOr<int> Connect(const HttpUrl& url, Clock::time_point deadline, const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port);
  if (int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat(name, ": cannot resolve host '", url.host, "': ", gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
      absl::Status ready = WaitFor(fd, POLLOUT, deadline, absl::StrCat(name, ": connect"));
      int err = 0;
      socklen_t len = sizeof(err);
      if (ready.ok() && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
        freeaddrinfo(found);
        return fd;
      }
      last_error = ready.ok() ? std::strerror(err) : std::string(ready.message());
    } else {
      last_error = std::strerror(errno);
    }
    close(fd);
  }
  freeaddrinfo(found);
  return absl::UnavailableError(
      absl::StrCat(name, ": cannot connect to ", url.host, ":", url.port, ": ", last_error));
}

// Decodes a chunked body; an error if it is cut short.
absl::StatusOr<std::string> Dechunk(std::string_view raw) {
  std::string body;
  size_t pos = 0;
  while (true) {
    const size_t eol = raw.find("\r\n", pos);
    if (eol == std::string_view::npos) return absl::DataLossError("truncated chunked body");
    const std::string size_text(raw.substr(pos, eol - pos));
    size_t size = 0;
    try {
      size = std::stoul(size_text, nullptr, 16);
    } catch (...) {
      return absl::DataLossError(absl::StrCat("bad chunk size '", size_text, "'"));
    }
    pos = eol + 2;
    if (size == 0) return body;
    if (pos + size > raw.size()) return absl::DataLossError("truncated chunk");
    body.append(raw.substr(pos, size));
    pos += size + 2;
  }
}

}  // namespace

absl::StatusOr<HttpUrl> HttpUrl::Parse(const std::string& url) {
  if (url.rfind("https://", 0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "endpoint '", url, "': https is not supported by lockstep's HTTP client; use an http:// "
        "endpoint (e.g. a local TLS-terminating proxy such as `socat` or an SSH tunnel)"));
  }
  if (url.rfind("http://", 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint '", url, "': must start with http://"));
  }
  HttpUrl out;
  std::string rest = url.substr(7);
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    try {
      out.port = std::stoi(authority.substr(colon + 1));
    } catch (...) {
      return absl::InvalidArgumentError(absl::StrCat("endpoint '", url, "': bad port"));
    }
    authority = authority.substr(0, colon);
  }
  if (authority.empty() || out.port <= 0 || out.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint '", url, "': needs http://HOST[:PORT]/PATH"));
  }
  out.host = authority;
  return out;
}

absl::StatusOr<HttpResponse> HttpPost(const std::string& url_text, const std::string& body,
                                      const std::vector<std::pair<std::string, std::string>>& headers,
                                      std::chrono::milliseconds timeout) {
  auto url = HttpUrl::Parse(url_text);
  if (!url.ok()) return url.status();
  const std::string name = absl::StrCat("endpoint ", url_text);
  const auto deadline = Clock::now() + timeout;
  auto fd = Connect(*url, deadline, name);
  if (!fd.ok()) return fd.status();
  Socket socket(*fd);

  std::string request = absl::StrCat("POST ", url->path, " HTTP/1.1\r\nHost: ", url->host, ":",
                                     url->port, "\r\nContent-Length: ", body.size(),
                                     "\r\nConnection: close\r\n");
  for (const auto& [key, value] : headers) absl::StrAppend(&request, key, ": ", value, "\r\n");
  absl::StrAppend(&request, "\r\n", body);
  size_t sent = 0;
  while (sent < request.size()) {
    if (auto s = WaitFor(socket.fd(), POLLOUT, deadline, absl::StrCat(name, ": send")); !s.ok()) return s;
    const ssize_t n = send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat(name, ": send: ", std::strerror(errno)));
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[16384];
  while (true) {
    if (auto s = WaitFor(socket.fd(), POLLIN, deadline, absl::StrCat(name, ": waiting for the response")); !s.ok()) {
      return s;
    }
    const ssize_t n = recv(socket.fd(), buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat(name, ": recv: ", std::strerror(errno)));
    }
    raw.append(buffer, static_cast<size_t>(n));
  }
  const size_t header_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos) {
    return absl::DataLossError(absl::StrCat(name, ": malformed HTTP response (", raw.size(), " bytes)"));
  }
  HttpResponse response;
  const size_t line_end = raw.find("\r\n");
  const std::string status_line = raw.substr(0, line_end);
  const size_t space = status_line.find(' ');
  try {
    response.status = std::stoi(status_line.substr(space + 1, 3));
  } catch (...) {
    return absl::DataLossError(absl::StrCat(name, ": bad status line '", status_line, "'"));
  }
  bool chunked = false;
  long long content_length = -1;
  size_t pos = line_end + 2;
  while (pos < header_end) {
    const size_t eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    pos = eol + 2;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    if (key == "transfer-encoding" && Lower(value).find("chunked") != std::string::npos) chunked = true;
    if (key == "content-length") content_length = std::atoll(value.c_str());
    response.headers.emplace_back(std::move(key), std::move(value));
  }
  std::string_view payload(raw);
  payload.remove_prefix(header_end + 4);
  if (chunked) {
    auto decoded = Dechunk(payload);
    if (!decoded.ok()) return absl::DataLossError(absl::StrCat(name, ": ", decoded.status().message()));
    response.body = std::move(*decoded);
  } else if (content_length >= 0) {
    if (static_cast<long long>(payload.size()) < content_length) {
      return absl::DataLossError(absl::StrCat(name, ": response cut short (", payload.size(), " of ",
                                              content_length, " bytes)"));
    }
    response.body = std::string(payload.substr(0, static_cast<size_t>(content_length)));
  } else {
    response.body = std::string(payload);
  }
  return response;
}

}  // namespace lockstep::eval
