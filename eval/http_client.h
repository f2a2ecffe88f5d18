// A minimal HTTP/1.1 client over a plain TCP socket, for OpenAI-compatible
// endpoints in `lockstep eval passk`: one POST per connection
// (Connection: close), Content-Length or chunked responses, a deadline on
// connect, send and every read. http:// only; an https:// URL is refused with
// an error saying so (put a local TLS-terminating proxy in front).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lockstep::eval {

struct HttpUrl {
  std::string host;
  int port = 80;
  std::string path = "/";  // with the query, if any
  static absl::StatusOr<HttpUrl> Parse(const std::string& url);
};

struct HttpResponse {
  int status = 0;  // 200, 404, ...
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
};

// POSTs `body`; a non-2xx status is returned as a response, not an error.
// Errors: bad URL, unresolvable host, refused connection, timeout, malformed response.
absl::StatusOr<HttpResponse> HttpPost(const std::string& url, const std::string& body,
                                      const std::vector<std::pair<std::string, std::string>>& headers,
                                      std::chrono::milliseconds timeout);

}  // namespace lockstep::eval
