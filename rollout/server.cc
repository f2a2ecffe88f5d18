#include "rollout/server.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "model/transformer.h"
#include "numerics/backends/create_backend.h"
#include "numerics/status_macros.h"
#include "rollout/weight_staging.h"
#include "wire/bulk_frames.h"
#include "wire/message.h"
#include "wire/rollout_messages.h"
#include "wire/weight_hash.h"

namespace lockstep::rollout {
namespace {

// Where a queued sample's result goes.
struct Origin {
  std::string peer;  // ROUTER identity of the client
  uint64_t batch_id = 0;
};

// One committed weight set with the engine that serves it.
struct LoadedModel {
  int64_t version = 0;
  uint64_t set_hash = 0;
  std::unique_ptr<ModelWeights> weights;
  std::unique_ptr<Transformer> model;
  std::unique_ptr<RolloutEngine> engine;
  // (request_id, sample_index) -> origins in submission order (a client may
  // re-issue a sample; both copies are answered, in order).
  std::map<std::pair<uint32_t, uint32_t>, std::deque<Origin>> origins;
};

std::string RandomInstanceId() {
  std::random_device device;
  const uint64_t high = device(), low = device();
  return wire::HashToHex((high << 32) ^ low ^ (static_cast<uint64_t>(getpid()) << 20));
}

// ZeroMQ's ipc:// bind replaces a socket file another process is serving on;
// refuse instead, so two servers never share one endpoint.
absl::Status CheckIpcEndpointFree(const std::string& endpoint) {
  constexpr std::string_view kIpc = "ipc://";
  if (endpoint.rfind(kIpc, 0) != 0) return absl::OkStatus();
  const std::string path = endpoint.substr(kIpc.size());
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint '", endpoint,
                                                   "': the path must have 1 to ",
                                                   sizeof(address.sun_path) - 1, " characters"));
  }
  std::memcpy(address.sun_path, path.c_str(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket(AF_UNIX) failed");
  const bool in_use = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  if (in_use) {
    return absl::AlreadyExistsError(
        absl::StrCat("endpoint '", endpoint,
                     "' is in use by another running server; stop it or "
                     "choose another --bind path"));
  }
  return absl::OkStatus();
}

// A numeric header field for an error reply about a header that failed to decode.
template <typename T>
T NumberOr(const nlohmann::json& header, const char* key, T fallback) {
  if (!header.is_object()) return fallback;
  auto it = header.find(key);
  if (it == header.end() || !it->is_number_integer()) return fallback;
  return it->get<T>();
}

}  // namespace

struct RolloutServer::State {
  RolloutServerOptions options;
  std::unique_ptr<Backend> backend;  // every loaded model runs here; outlives them
  std::string instance_id = RandomInstanceId();
  void* context = nullptr;
  void* router = nullptr;
  WeightStaging staging;
  std::unique_ptr<LoadedModel> serving;    // its engine is stepped
  std::unique_ptr<LoadedModel> committed;  // replaces `serving` once that is idle

  ~State() {
    if (router) zmq_close(router);
    if (context) zmq_ctx_term(context);
  }

  void Send(const std::string& peer, const wire::Message& message);
  void ReplyError(const std::string& peer, uint64_t batch_id, const char* code,
                  const std::string& why);
  void Handle(wire::ReceivedFrames frames);
  void HandleGenerate(const std::string& peer, const wire::Message& message);
  void HandleBucket(const std::string& peer, const nlohmann::json& header,
                    const std::vector<std::string_view>& frames);
  void HandleCommit(const std::string& peer, const wire::Message& message);
  void HandleStatus(const std::string& peer, const wire::Message& message);
  LoadedModel* ModelFor(int64_t version);
  int64_t NewestVersion() const;
  void FailQueued(LoadedModel& model, const std::string& why);
  void MaybeSwap();
  absl::Status Step();
};

void RolloutServer::State::Send(const std::string& peer, const wire::Message& message) {
  std::vector<std::string> frames = wire::EncodeMessage(message);
  frames.insert(frames.begin(), peer);
  const absl::Status status = wire::SendFrames(router, frames, /*dont_wait=*/false);
  // Only lost results are worth a line: status replies and acks to a client
  // that left (e.g. pings queued while a long step ran) are of no use to anyone.
  if (!status.ok() && message.header.value("type", "") == wire::kRolloutResultType) {
    std::fprintf(stderr, "lockstep-rollout: dropping a %s reply: %s\n",
                 message.header.value("type", "").c_str(), std::string(status.message()).c_str());
  }
}

void RolloutServer::State::ReplyError(const std::string& peer, uint64_t batch_id, const char* code,
                                      const std::string& why) {
  wire::ResultMessage reply;
  reply.batch_id = batch_id;
  reply.error = wire::RolloutError{.code = code, .message = why, .weight_version = NewestVersion()};
  Send(peer, wire::Encode(reply));
}

int64_t RolloutServer::State::NewestVersion() const {
  return committed ? committed->version : serving ? serving->version : -1;
}

LoadedModel* RolloutServer::State::ModelFor(int64_t version) {
  if (serving && serving->version == version) return serving.get();
  if (committed && committed->version == version) return committed.get();
  return nullptr;
}

void RolloutServer::State::HandleGenerate(const std::string& peer, const wire::Message& message) {
  const uint64_t batch_id = NumberOr<uint64_t>(message.header, "batch_id", 0);
  absl::StatusOr<wire::GenerateMessage> generate = wire::DecodeGenerate(message);
  if (!generate.ok()) {
    ReplyError(peer, batch_id, wire::kBadRequestError, std::string(generate.status().message()));
    return;
  }
  if (!serving && !committed) {
    ReplyError(peer, batch_id, wire::kNoWeightsError,
               absl::StrCat("lockstep-rollout at ", options.bind,
                            " has no weights loaded yet; publish weights (rollout.weights_bucket + "
                            "rollout.weights_commit) before generating"));
    return;
  }
  LoadedModel* target = ModelFor(generate->weight_version);
  if (target == nullptr) {
    ReplyError(
        peer, batch_id, wire::kStaleWeightsError,
        absl::StrCat("lockstep-rollout at ", options.bind, " has weight version ", NewestVersion(),
                     ", not the requested ", generate->weight_version, "; re-send the weights"));
    return;
  }
  std::vector<GenerationRequest> requests;
  for (size_t i = 0; i < generate->requests.size(); ++i) {
    const wire::GenerateItem& item = generate->requests[i];
    for (uint32_t s = 0; s < item.num_samples; ++s) {
      GenerationRequest r;
      r.request_id = item.request_id;
      r.sample_index = item.sample_index + s;
      r.prompt = item.prompt;
      r.max_new_tokens = item.max_new_tokens;
      r.sampling = {.temperature = item.sampling.temperature,
                    .top_k = item.sampling.top_k,
                    .top_p = item.sampling.top_p};
      r.seed = item.seed;
      r.stop_tokens = item.stop_tokens;
      if (absl::Status status = target->engine->Validate(r); !status.ok()) {
        ReplyError(peer, batch_id, wire::kBadRequestError,
                   absl::StrCat("requests[", i, "]: ", status.message()));
        return;
      }
      requests.push_back(std::move(r));
    }
  }
  for (GenerationRequest& r : requests) {
    target->origins[{r.request_id, r.sample_index}].push_back({peer, batch_id});
    (void)target->engine->Submit(std::move(r));  // validated above
  }
}

void RolloutServer::State::HandleBucket(const std::string& peer, const nlohmann::json& header,
                                        const std::vector<std::string_view>& frames) {
  std::string bad_tensor;
  absl::StatusOr<wire::WeightsBucket> bucket =
      wire::DecodeWeightsBucket(header, frames, &bad_tensor);
  wire::WeightsBucketAck ack;
  if (bucket.ok()) {
    ack = staging.AddBucket(*bucket, frames);
  } else {
    ack.weight_version = NumberOr<int64_t>(header, "weight_version", -1);
    ack.bucket_index = NumberOr<uint32_t>(header, "bucket_index", 0);
    ack.ok = false;
    ack.error = std::string(bucket.status().message());
    ack.tensor = bad_tensor;
  }
  if (!ack.ok) {
    std::fprintf(stderr, "lockstep-rollout: rejected bucket %u of weight version %lld: %s\n",
                 ack.bucket_index, static_cast<long long>(ack.weight_version), ack.error.c_str());
  }
  Send(peer, wire::Encode(ack));
}

void RolloutServer::State::FailQueued(LoadedModel& model, const std::string& why) {
  std::set<std::pair<std::string, uint64_t>> told;
  for (const auto& [key, origins] : model.origins) {
    for (const Origin& origin : origins) {
      if (told.insert({origin.peer, origin.batch_id}).second) {
        ReplyError(origin.peer, origin.batch_id, wire::kStaleWeightsError, why);
      }
    }
  }
}

void RolloutServer::State::HandleCommit(const std::string& peer, const wire::Message& message) {
  wire::WeightsAck ack;
  ack.weight_version = NumberOr<int64_t>(message.header, "weight_version", -1);
  auto fail = [&](const absl::Status& status) {
    ack.error = wire::RolloutError{.code = wire::kBadWeightsError,
                                   .message = std::string(status.message()),
                                   .weight_version = NewestVersion()};
    std::fprintf(stderr, "lockstep-rollout: weight commit %lld refused: %s\n",
                 static_cast<long long>(ack.weight_version), ack.error->message.c_str());
    Send(peer, wire::Encode(ack));
  };
  absl::StatusOr<wire::WeightsCommit> commit = wire::DecodeWeightsCommit(message);
  if (!commit.ok()) return fail(commit.status());
  if (LoadedModel* loaded = ModelFor(commit->weight_version);
      loaded != nullptr && loaded->set_hash == commit->set_hash) {
    ack.set_hash = loaded->set_hash;  // the same set again (the client re-synced): nothing to swap
    Send(peer, wire::Encode(ack));
    return;
  }
  absl::StatusOr<CommittedWeights> weights = staging.Commit(*commit);
  if (!weights.ok()) return fail(weights.status());
  auto model = std::make_unique<LoadedModel>();
  model->version = weights->version;
  model->set_hash = weights->set_hash;
  model->weights = std::move(weights->weights);
  absl::StatusOr<std::unique_ptr<Transformer>> transformer =
      Transformer::Create(*model->weights, *backend);
  if (!transformer.ok()) return fail(transformer.status());
  model->model = std::move(*transformer);
  absl::StatusOr<std::unique_ptr<RolloutEngine>> engine =
      RolloutEngine::Create(*model->model, options.engine);
  if (!engine.ok()) return fail(engine.status());
  // A KV cache sized from free memory is sized once, by the first engine: later versions
  // reuse its block count, so capacity does not depend on what the old version still held.
  options.engine.kv_cache = (*engine)->kv_cache_options();
  model->engine = std::move(*engine);
  if (committed) {
    FailQueued(*committed,
               absl::StrCat("weight version ", committed->version, " was replaced by version ",
                            model->version, " before it served; re-issue with the new version"));
  }
  committed = std::move(model);
  ack.set_hash = committed->set_hash;
  std::fprintf(stderr, "lockstep-rollout: committed weight version %lld (set hash %s)\n",
               static_cast<long long>(committed->version),
               wire::HashToHex(committed->set_hash).c_str());
  Send(peer, wire::Encode(ack));
}

void RolloutServer::State::HandleStatus(const std::string& peer, const wire::Message& message) {
  wire::StatusReply reply;
  reply.ping_id = NumberOr<uint64_t>(message.header, "ping_id", 0);
  reply.instance_id = instance_id;
  reply.pid = getpid();
  reply.weight_version = NewestVersion();
  for (LoadedModel* model : {serving.get(), committed.get()}) {
    if (model == nullptr) continue;
    reply.running += model->engine->running();
    reply.waiting += model->engine->waiting();
    reply.steps += model->engine->steps();
  }
  Send(peer, wire::Encode(reply));
}

void RolloutServer::State::Handle(wire::ReceivedFrames frames) {
  if (frames.size() < 2) return;  // no header: nothing to answer
  const std::string peer(frames[0]);
  absl::StatusOr<nlohmann::json> header = wire::DecodeHeader(frames[1]);
  if (!header.ok()) {
    ReplyError(peer, 0, wire::kBadRequestError,
               absl::StrCat("malformed message: ", header.status().message()));
    return;
  }
  const std::string type = (*header)["type"].get<std::string>();
  if (type == wire::kRolloutWeightsBucketType) {
    HandleBucket(peer, *header, frames.Views(2));  // tensor bytes stay in ZeroMQ's buffers
    return;
  }
  wire::Message message;
  message.header = std::move(*header);
  for (std::string_view frame : frames.Views(2)) message.frames.emplace_back(frame);
  if (type == wire::kRolloutGenerateType) {
    HandleGenerate(peer, message);
  } else if (type == wire::kRolloutWeightsCommitType) {
    HandleCommit(peer, message);
  } else if (type == wire::kRolloutStatusType) {
    HandleStatus(peer, message);
  } else {
    ReplyError(peer, NumberOr<uint64_t>(message.header, "batch_id", 0), wire::kBadRequestError,
               absl::StrCat("unknown message type '", type, "' for lockstep-rollout"));
  }
}

void RolloutServer::State::MaybeSwap() {
  if (!committed || (serving && !serving->engine->Idle())) return;
  if (serving) {
    serving->engine.reset();
    serving->model.reset();
    staging.Recycle(std::move(serving->weights));
  }
  serving = std::move(committed);
  std::fprintf(stderr, "lockstep-rollout: serving weight version %lld\n",
               static_cast<long long>(serving->version));
}

absl::Status RolloutServer::State::Step() {
  LOCKSTEP_ASSIGN_OR_RETURN(std::vector<GenerationResult> done, serving->engine->Step());
  std::map<std::pair<std::string, uint64_t>, wire::ResultMessage> replies;
  for (GenerationResult& r : done) {
    auto it = serving->origins.find({r.request_id, r.sample_index});
    if (it == serving->origins.end() || it->second.empty()) {
      return absl::InternalError(absl::StrCat("result for request ", r.request_id, " sample ",
                                              r.sample_index, " has no origin"));
    }
    const Origin origin = it->second.front();
    it->second.pop_front();
    if (it->second.empty()) serving->origins.erase(it);
    wire::ResultMessage& reply = replies[{origin.peer, origin.batch_id}];
    reply.batch_id = origin.batch_id;
    reply.results.push_back(wire::SampleResult{.request_id = r.request_id,
                                               .sample_index = r.sample_index,
                                               .tokens = std::move(r.tokens),
                                               .logprobs = std::move(r.logprobs),
                                               .finish_reason = FinishReasonName(r.finish_reason),
                                               .weight_version = serving->version});
  }
  for (const auto& [key, reply] : replies) Send(key.first, wire::Encode(reply));
  return absl::OkStatus();
}

RolloutServer::RolloutServer(std::unique_ptr<State> state) : state_(std::move(state)) {}
RolloutServer::~RolloutServer() = default;

const std::string& RolloutServer::endpoint() const { return state_->options.bind; }
const std::string& RolloutServer::instance_id() const { return state_->instance_id; }

absl::StatusOr<std::unique_ptr<RolloutServer>> RolloutServer::Bind(RolloutServerOptions options) {
  if (options.bind.empty()) {
    return absl::InvalidArgumentError(
        "no endpoint to bind (expected ipc:///path or tcp://host:port)");
  }
  LOCKSTEP_RETURN_IF_ERROR(CheckIpcEndpointFree(options.bind));
  auto state = std::make_unique<State>();
  LOCKSTEP_ASSIGN_OR_RETURN(state->backend, CreateBackend(options.backend));
  std::fprintf(stderr, "lockstep-rollout: backend %s\n", state->backend->Describe().c_str());
  state->options = std::move(options);
  state->context = zmq_ctx_new();
  if (state->context == nullptr) return absl::InternalError("zmq_ctx_new failed");
  state->router = zmq_socket(state->context, ZMQ_ROUTER);
  const int on = 1, linger = 0, unlimited = 0;
  // Mandatory routing: a reply to a client that left is an error we log, not a silent drop.
  zmq_setsockopt(state->router, ZMQ_ROUTER_MANDATORY, &on, sizeof(on));
  zmq_setsockopt(state->router, ZMQ_LINGER, &linger, sizeof(linger));
  // Replies are small and a client reads them all: never block on a queue limit.
  zmq_setsockopt(state->router, ZMQ_SNDHWM, &unlimited, sizeof(unlimited));
  zmq_setsockopt(state->router, ZMQ_RCVHWM, &unlimited, sizeof(unlimited));
  if (zmq_bind(state->router, state->options.bind.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot bind lockstep-rollout to '",
                                               state->options.bind, "': ", zmq_strerror(errno),
                                               " (is another server using it?)"));
  }
  return std::unique_ptr<RolloutServer>(new RolloutServer(std::move(state)));
}

absl::Status RolloutServer::Serve(const std::atomic<bool>& stop) {
  State& s = *state_;
  while (!stop.load()) {
    const bool busy = (s.serving && !s.serving->engine->Idle()) || s.committed != nullptr;
    zmq_pollitem_t item{s.router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, busy ? 0 : 50) < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("zmq_poll: ", zmq_strerror(errno)));
    }
    for (;;) {
      absl::StatusOr<wire::ReceivedFrames> frames = wire::ReceivedFrames::Receive(s.router, true);
      if (absl::IsUnavailable(frames.status())) break;
      if (!frames.ok()) return frames.status();
      s.Handle(std::move(*frames));
      // After every message: a commit must not replace a set that could
      // already serve (and whose queued requests would then be refused).
      s.MaybeSwap();
    }
    if (s.serving && !s.serving->engine->Idle()) LOCKSTEP_RETURN_IF_ERROR(s.Step());
  }
  return absl::OkStatus();
}

}  // namespace lockstep::rollout
