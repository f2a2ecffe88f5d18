// The HTTP client of `lockstep eval passk`'s OpenAI-compatible endpoint source,
// over cpp-httplib: http:// and https:// (OpenSSL; the server's certificate is
// verified against the system CA store, or against `ca_file` when given), a
// timeout on connect and on every read and write.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lockstep::eval {

struct HttpUrl {
  bool https = false;
  std::string host;
  int port = 80;           // 443 for https when the URL names none
  std::string path = "/";  // with the query, if any
  static absl::StatusOr<HttpUrl> Parse(const std::string& url);
};

struct HttpResponse {
  int status = 0;  // 200, 404, ...
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
};

struct HttpOptions {
  std::chrono::milliseconds timeout{120000};
  std::string ca_file;  // PEM bundle to trust for https; empty: the system's CA store
};

// POSTs `body`; a non-2xx status is returned as a response, not an error.
// Errors: bad URL, unresolvable host, refused connection, TLS failure
// (certificate not trusted, wrong host), timeout, malformed response.
absl::StatusOr<HttpResponse> HttpPost(const std::string& url, const std::string& body,
                                      const std::vector<std::pair<std::string, std::string>>& headers,
                                      const HttpOptions& options);

}  // namespace lockstep::eval
