// The HTTP endpoints of `lockstep serve` (serve/openai_server.h).
#include "serve/openai_server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "serve/openai_response.h"

namespace lockstep::serve {
namespace {

using nlohmann::json;

constexpr size_t kMaxBodyBytes = 64 << 20;

void SendError(httplib::Response& res, const ApiError& error) {
  res.status = error.http_status;
  res.set_content(JsonText(error.ToJson()), "application/json");
}

ApiError FromStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return BadRequest(std::string(status.message()));
    case absl::StatusCode::kUnavailable:
      return ApiError{503, std::string(status.message()), "server_error", "", ""};
    default:
      return ApiError{500, std::string(status.message()), "server_error", "", ""};
  }
}

// SplitMix64: the sampling request id of prompt `index` under `seed`, so the
// same (seed, prompt, n) gives the same tokens whatever else is running.
uint32_t RequestKey(uint64_t seed, size_t index) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<uint32_t>(z ^ (z >> 31));
}

uint64_t RandomSeed() {
  static std::mutex mutex;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mutex);
  return rng();
}

// Writes one streamed request's events as SSE chunks (serve/openai_response.h).
class StreamWriter {
 public:
  StreamWriter(const ServedModel& model, const CompletionRequest& request, ResponseHeader header)
      : model_(model), request_(request), header_(std::move(header)),
        offsets_(request.prompts.size() * request.n, 0) {}

  // The chat stream opens every choice with the assistant role.
  std::string Opening() const {
    if (!header_.chat) return "";
    std::string out;
    for (size_t i = 0; i < offsets_.size(); ++i) {
      out += SseData(Chunk(header_, json::array({{{"index", i},
                                                  {"delta", {{"role", "assistant"}, {"content", ""}}},
                                                  {"logprobs", nullptr},
                                                  {"finish_reason", nullptr}}})));
    }
    return out;
  }

  std::string Events(const std::vector<ChoiceEvent>& events) {
    std::string out;
    for (const ChoiceEvent& e : events) {
      completion_tokens_ += static_cast<int64_t>(e.tokens.size());
      if (!e.delta.empty() || !e.tokens.empty() || !header_.chat) {
        json choice = {{"index", e.choice}};
        if (header_.chat) {
          choice["delta"] = {{"content", e.delta}};
          choice["logprobs"] = request_.logprobs ? ChatLogprobs(model_, e.tokens, e.logprobs) : json();
          choice["finish_reason"] = nullptr;
        } else {
          choice["text"] = e.delta;
          choice["logprobs"] = request_.logprobs
                                   ? CompletionLogprobs(model_, e.tokens, e.logprobs, offsets_[e.choice])
                                   : json();
          choice["finish_reason"] = e.finished ? json(e.finish_reason) : json();
        }
        for (int32_t t : e.tokens) offsets_[e.choice] += static_cast<int64_t>(model_.DecodeOne(t).size());
        out += SseData(Chunk(header_, json::array({choice})));
      }
      if (header_.chat && e.finished) {
        out += SseData(Chunk(header_, json::array({{{"index", e.choice},
                                                    {"delta", json::object()},
                                                    {"logprobs", nullptr},
                                                    {"finish_reason", e.finish_reason}}})));
      }
    }
    return out;
  }

  std::string Closing(int64_t prompt_tokens) const {
    std::string out;
    if (request_.include_usage) {
      json chunk = Chunk(header_, json::array());
      chunk["usage"] = UsageJson(prompt_tokens, completion_tokens_);
      out += SseData(chunk);
    }
    return out + "data: [DONE]\n\n";
  }

 private:
  const ServedModel& model_;
  const CompletionRequest& request_;
  ResponseHeader header_;
  std::vector<int64_t> offsets_;  // text offset of each choice's next token
  int64_t completion_tokens_ = 0;
};

}  // namespace

struct OpenAiServer::Impl {
  Impl(const ServedModel& m, ServerOptions o) : model(m), options(std::move(o)), loop(m.transformer(), options.engine) {}

  bool Authorized(const httplib::Request& req, httplib::Response& res) const {
    if (options.api_key.empty()) return true;
    if (req.get_header_value("Authorization") == "Bearer " + options.api_key) return true;
    SendError(res, ApiError{401, "Incorrect API key provided (send Authorization: Bearer <key>)",
                            "invalid_request_error", "", "invalid_api_key"});
    return false;
  }

  void Models(const httplib::Request& req, httplib::Response& res) const {
    if (!Authorized(req, res)) return;
    res.set_content(JsonText({{"object", "list"}, {"data", json::array({ModelCard()})}}),
                    "application/json");
  }

  void Model(const httplib::Request& req, httplib::Response& res) const {
    if (!Authorized(req, res)) return;
    if (req.matches.size() < 2 || req.matches[1] != model.name()) {
      SendError(res, ApiError{404, absl::StrCat("The model `", req.matches.size() > 1 ? std::string(req.matches[1]) : "",
                                                "` does not exist"),
                              "invalid_request_error", "model", "model_not_found"});
      return;
    }
    res.set_content(JsonText(ModelCard()), "application/json");
  }

  json ModelCard() const {
    return {{"id", model.name()},
            {"object", "model"},
            {"created", started},
            {"owned_by", "lockstep"},
            {"max_model_len", model.max_positions()}};
  }

  void Generate(const httplib::Request& req, httplib::Response& res, bool chat) {
    if (!Authorized(req, res)) return;
    json body;
    try {
      body = json::parse(req.body);
    } catch (const json::exception& e) {
      SendError(res, BadRequest(absl::StrCat("the request body is not valid JSON: ", e.what())));
      return;
    }
    ParseResult parsed = ParseCompletionRequest(body, chat, model, options.limits);
    if (const ApiError* error = std::get_if<ApiError>(&parsed)) {
      SendError(res, *error);
      return;
    }
    auto request = std::make_shared<CompletionRequest>(std::move(std::get<CompletionRequest>(parsed)));
    const uint64_t seed = request->seed ? *request->seed : RandomSeed();
    std::vector<SequenceSpec> sequences;
    int64_t prompt_tokens = 0;
    for (size_t p = 0; p < request->prompts.size(); ++p) {
      prompt_tokens += static_cast<int64_t>(request->prompts[p].size());
      for (int j = 0; j < request->n; ++j) {
        SequenceSpec s;
        s.prompt = request->prompts[p];
        s.max_tokens = request->max_tokens[p];
        s.sampling = request->sampling;
        s.seed = seed;
        s.request_id = RequestKey(seed, p);
        s.sample_index = static_cast<uint32_t>(j);
        s.stop_tokens = request->stop_token_ids;
        sequences.push_back(std::move(s));
      }
    }
    const ServedModel& m = model;
    auto job = std::make_shared<GenerationJob>(
        std::move(sequences), [&m](const std::vector<int32_t>& ids) { return m.Decode(ids); },
        request->stop, /*incremental=*/request->stream || !request->stop.empty());
    if (absl::Status s = loop.Submit(job); !s.ok()) {
      SendError(res, FromStatus(s));
      return;
    }
    ResponseHeader header = NewResponseHeader(model.name(), chat);
    if (request->stream) {
      Stream(res, request, job, std::move(header), prompt_tokens);
      return;
    }
    std::vector<ChoiceResult> choices(job->sequences().size());
    while (true) {
      GenerationJob::Poll poll = job->Wait();
      if (!poll.error.ok()) {
        SendError(res, FromStatus(poll.error));
        return;
      }
      for (const ChoiceEvent& e : poll.events) {
        ChoiceResult& c = choices[e.choice];
        c.text += e.delta;
        c.tokens.insert(c.tokens.end(), e.tokens.begin(), e.tokens.end());
        c.logprobs.insert(c.logprobs.end(), e.logprobs.begin(), e.logprobs.end());
        if (e.finished) c.finish_reason = e.finish_reason;
      }
      if (poll.done) break;
    }
    res.set_content(JsonText(FullResponse(header, model, choices, request->logprobs, prompt_tokens)),
                    "application/json");
  }

  void Stream(httplib::Response& res, std::shared_ptr<CompletionRequest> request,
              std::shared_ptr<GenerationJob> job, ResponseHeader header, int64_t prompt_tokens) {
    auto writer = std::make_shared<StreamWriter>(model, *request, std::move(header));
    auto opened = std::make_shared<bool>(false);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [request, job, writer, opened, prompt_tokens](size_t, httplib::DataSink& sink) {
          auto send = [&sink](const std::string& text) {
            return text.empty() || sink.write(text.data(), text.size());
          };
          if (!*opened) {
            *opened = true;
            if (!send(writer->Opening())) return false;
          }
          GenerationJob::Poll poll = job->Wait();
          if (!send(writer->Events(poll.events))) return false;
          if (!poll.done) return true;
          if (!poll.error.ok()) {
            if (!send(SseData(FromStatus(poll.error).ToJson()))) return false;
            send("data: [DONE]\n\n");
          } else if (!send(writer->Closing(prompt_tokens))) {
            return false;
          }
          sink.done();
          return true;
        },
        [job](bool success) {
          if (!success) job->Cancel();  // the client went away: stop extending its sequences
        });
  }

  const ServedModel& model;
  ServerOptions options;
  EngineLoop loop;
  httplib::Server http;
  int64_t started = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  std::atomic<bool> stopped{false};
  std::atomic<bool> run_entered{false};
};

OpenAiServer::OpenAiServer(const ServedModel& model, ServerOptions options) {
  const int64_t kv_tokens = static_cast<int64_t>(options.engine.engine.kv_cache.num_blocks) *
                            options.engine.engine.kv_cache.block_size;
  options.limits.kv_capacity_tokens = kv_tokens;
  impl_ = std::make_unique<Impl>(model, std::move(options));
  Impl* impl = impl_.get();
  httplib::Server& http = impl->http;
  const int threads = std::max(impl->options.http_threads, 2);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(kMaxBodyBytes);
  http.Get("/v1/models", [impl](const httplib::Request& q, httplib::Response& r) { impl->Models(q, r); });
  http.Get(R"(/v1/models/(.+))",
           [impl](const httplib::Request& q, httplib::Response& r) { impl->Model(q, r); });
  http.Get("/health", [](const httplib::Request&, httplib::Response& r) { r.set_content("", "text/plain"); });
  http.Post("/v1/completions",
            [impl](const httplib::Request& q, httplib::Response& r) { impl->Generate(q, r, false); });
  http.Post("/v1/chat/completions",
            [impl](const httplib::Request& q, httplib::Response& r) { impl->Generate(q, r, true); });
  for (const char* path : {"/v1/completions", "/v1/chat/completions"}) {
    http.Get(path, [path](const httplib::Request&, httplib::Response& r) {
      SendError(r, ApiError{405, absl::StrCat("use POST for ", path), "invalid_request_error", "", ""});
    });
  }
  // Unrouted paths (and a route's error without a body) get an OpenAI error object too.
  http.set_error_handler([](const httplib::Request& q, httplib::Response& r) {
    if (!r.body.empty()) return;
    SendError(r, ApiError{r.status, absl::StrCat("no such endpoint: ", q.method, " ", q.path,
                                                 " (lockstep serve has GET /v1/models, POST "
                                                 "/v1/completions, POST /v1/chat/completions)"),
                          "invalid_request_error", "", ""});
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& r, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendError(r, ApiError{500, absl::StrCat("internal error: ", what), "server_error", "", ""});
  });
  if (impl->options.log_requests) {
    http.set_logger([](const httplib::Request& q, const httplib::Response& r) {
      std::fprintf(stderr, "lockstep serve: %s %s %d\n", q.method.c_str(), q.path.c_str(), r.status);
    });
  }
}

OpenAiServer::~OpenAiServer() { Stop(); }

absl::StatusOr<int> OpenAiServer::Bind(const std::string& host, int port) {
  if (port == 0) {
    const int bound = impl_->http.bind_to_any_port(host);
    if (bound > 0) return bound;
  } else if (impl_->http.bind_to_port(host, port)) {
    return port;
  }
  return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port,
                                             " (address in use, or not an address of this machine)"));
}

absl::Status OpenAiServer::Run() {
  impl_->run_entered = true;
  if (impl_->stopped) return absl::OkStatus();
  if (!impl_->http.listen_after_bind() && !impl_->stopped) {
    return absl::UnavailableError("the HTTP server stopped unexpectedly");
  }
  return absl::OkStatus();
}

void OpenAiServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->loop.Shutdown();  // wakes every waiting handler with an error
  // A Run() that has not reached its accept loop yet cannot be stopped: wait for it.
  for (int i = 0; i < 200 && impl_->run_entered && !impl_->http.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->http.stop();
}

}  // namespace lockstep::serve
