// The endpoint client of eval/http_client.h on cpp-httplib (with OpenSSL).
#include "eval/http_client.h"

#include <httplib.h>

#include <cctype>

#include "absl/strings/str_cat.h"

namespace lockstep::eval {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// What went wrong, in words a user can act on.
std::string Describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "connection failed (refused, or the host is unreachable)";
    case httplib::Error::ConnectionTimeout:
      return "connecting timed out";
    case httplib::Error::Read:
      return "no complete response (timed out, or the server closed the connection)";
    case httplib::Error::Write:
      return "sending the request failed";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates (check endpoint.ca_file)";
    case httplib::Error::SSLServerVerification:
      return "the server's certificate is not trusted or is not for this host (set "
             "endpoint.ca_file to the PEM of its CA)";
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

absl::StatusOr<HttpUrl> HttpUrl::Parse(const std::string& url) {
  HttpUrl out;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    out.https = true;
    out.port = 443;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint '", url, "': must start with http:// or https://"));
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    try {
      size_t used = 0;
      const std::string port = authority.substr(colon + 1);
      out.port = std::stoi(port, &used);
      if (used != port.size()) throw std::invalid_argument(port);
    } catch (...) {
      return absl::InvalidArgumentError(absl::StrCat("endpoint '", url, "': bad port"));
    }
    authority = authority.substr(0, colon);
  }
  if (authority.size() >= 2 && authority.front() == '[' && authority.back() == ']') {
    authority = authority.substr(1, authority.size() - 2);
  }
  if (authority.empty() || out.port <= 0 || out.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint '", url, "': needs http[s]://HOST[:PORT]/PATH"));
  }
  out.host = authority;
  return out;
}

absl::StatusOr<HttpResponse> HttpPost(const std::string& url_text, const std::string& body,
                                      const std::vector<std::pair<std::string, std::string>>& headers,
                                      const HttpOptions& options) {
  absl::StatusOr<HttpUrl> url = HttpUrl::Parse(url_text);
  if (!url.ok()) return url.status();
  const std::string name = absl::StrCat("endpoint ", url_text);
  std::unique_ptr<httplib::ClientImpl> client;
  if (url->https) {
    auto ssl = std::make_unique<httplib::SSLClient>(url->host, url->port);
    ssl->enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) ssl->set_ca_cert_path(options.ca_file);
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(url->host, url->port);
  }
  const auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(options.timeout);
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  client->set_keep_alive(false);
  httplib::Headers request_headers;
  std::string content_type = "application/json";
  for (const auto& [key, value] : headers) {
    if (Lower(key) == "content-type") {
      content_type = value;
    } else {
      request_headers.emplace(key, value);
    }
  }
  httplib::Result result = client->Post(url->path, request_headers, body, content_type);
  if (!result) {
    return absl::UnavailableError(absl::StrCat(name, ": ", url->host, ":", url->port, ": ",
                                               Describe(result.error())));
  }
  HttpResponse response;
  response.status = result->status;
  for (const auto& [key, value] : result->headers) response.headers.emplace_back(Lower(key), value);
  response.body = result->body;
  return response;
}

}  // namespace lockstep::eval
