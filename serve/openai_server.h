// `lockstep serve`'s HTTP server (cpp-httplib): GET /v1/models, /v1/models/NAME,
// /health; POST /v1/completions and /v1/chat/completions, answered whole or
// streamed as server-sent events. Handler threads parse and validate, then hand
// the sequences to the one engine thread (serve/engine_loop.h) and wait. Every
// error is an OpenAI error object with a 4xx/5xx status; a bad request never
// stops the server.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "serve/engine_loop.h"
#include "serve/openai_request.h"
#include "serve/served_model.h"

namespace lockstep::serve {

struct ServerOptions {
  ServeLimits limits;        // limits.kv_capacity_tokens is filled from the engine's cache
  EngineLoopOptions engine;
  int http_threads = 32;     // concurrent connections (a stream holds one while it runs)
  std::string api_key;       // when set, requests need "Authorization: Bearer <key>"
  bool log_requests = false; // one stderr line per request
};

class OpenAiServer {
 public:
  OpenAiServer(const ServedModel& model, ServerOptions options);
  ~OpenAiServer();
  OpenAiServer(const OpenAiServer&) = delete;
  OpenAiServer& operator=(const OpenAiServer&) = delete;

  // Binds host:port (port 0: a free port) and returns the port.
  absl::StatusOr<int> Bind(const std::string& host, int port);
  // Serves on the bound port until Stop().
  absl::Status Run();
  // Ends unfinished requests (503 / an error event), stops listening; Run returns.
  // Safe from any thread.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lockstep::serve
