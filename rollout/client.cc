#include "rollout/client.h"

#include <zmq.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"
#include "rollout/weight_snapshot.h"
#include "wire/bulk_frames.h"
#include "wire/message.h"
#include "wire/rollout_messages.h"
#include "wire/weight_hash.h"

namespace lockstep::rollout {
namespace {

using Clock = std::chrono::steady_clock;

// A request of a batch: (ticket, position in the batch).
using RequestRef = std::pair<uint64_t, size_t>;

double MillisecondsSince(Clock::time_point t, Clock::time_point now) {
  return std::chrono::duration<double, std::milli>(now - t).count();
}

}  // namespace

struct RolloutClient::State {
  struct Engine {
    int index = 0;
    std::string endpoint;
    void* socket = nullptr;
    std::string instance_id;      // "" until its first status reply
    int64_t loaded_version = -1;  // the version it acknowledged with our set hash
    Clock::time_point last_heard, last_ping;
    // When the oldest ping still unanswered was sent. Silence is counted only
    // from there, so a client that did not look for a while (the trainer
    // between steps) does not take a quiet engine for a dead one.
    std::optional<Clock::time_point> unanswered_since;
    // Weight sync of the current snapshot, while `syncing`.
    bool syncing = false;
    std::vector<bool> bucket_acked;
    std::vector<int> bucket_resends;
    int commit_retries = 0;
    bool commit_sent = false;
    Clock::time_point commit_sent_at;
    absl::Status failure;  // a sync that cannot succeed (e.g. a bucket rejected too often)
    std::set<RequestRef> outstanding;
  };

  struct Batch {
    int64_t weight_version = 0;
    std::vector<RolloutRequest> requests;
    std::vector<std::optional<RolloutResult>> results;
    std::vector<uint64_t> wire_batch;  // per request: the wire batch it was last sent in (0: none)
    std::vector<int> engine;           // per request: the engine it was last sent to (-1: none)
    std::map<std::pair<uint32_t, uint32_t>, size_t> index;
    size_t answered = 0;
    absl::Status error;
  };

  ClientOptions options;
  void* context = nullptr;
  std::vector<Engine> engines;
  std::shared_ptr<WeightSnapshot> snapshot;  // the current version's, kept for re-sends
  int64_t current_version = -1;
  std::map<uint64_t, Batch> batches;               // by ticket
  std::map<uint64_t, uint64_t> wire_batch_ticket;  // wire batch id -> ticket
  std::deque<RequestRef> orphans;                  // requests that wait for a live engine
  uint64_t next_ticket = 1, next_wire_batch = 1, next_ping = 1;
  bool corruption_done = false;
  size_t round_robin = 0;
  ClientStats stats;

  ~State() {
    for (Engine& e : engines) {
      if (e.socket) zmq_close(e.socket);
    }
    if (context) zmq_ctx_term(context);  // waits until ZeroMQ released every borrowed frame
  }

  absl::Status OpenSocket(Engine& e);
  void Send(Engine& e, const wire::Message& message);
  bool Live(const Engine& e) const {
    return !e.syncing && current_version >= 0 && e.loaded_version == current_version;
  }

  // Weight sync.
  void StartSync(Engine& e);
  void SendBucket(Engine& e, size_t k);
  void OnBucketAck(Engine& e, const wire::WeightsBucketAck& ack);
  void OnWeightsAck(Engine& e, const wire::WeightsAck& ack);

  // Requests.
  void SendRequests(Engine& e, uint64_t ticket, const std::vector<size_t>& positions);
  void Orphan(const RequestRef& ref);
  void OrphanAll(Engine& e);
  void AssignOrphans();
  void OnResult(Engine& e, const wire::ResultMessage& result);

  // The loop.
  void OnStatus(Engine& e, const wire::StatusReply& reply);
  void ResetEngine(Engine& e);
  void Maintain(Clock::time_point now);
  absl::Status Pump(Clock::time_point deadline);
  void Dispatch(Engine& e, const wire::Message& message);
  std::string Describe(const Engine& e, Clock::time_point now) const;
};

absl::Status RolloutClient::State::OpenSocket(Engine& e) {
  e.socket = zmq_socket(context, ZMQ_DEALER);
  if (e.socket == nullptr)
    return absl::InternalError(absl::StrCat("zmq_socket: ", zmq_strerror(errno)));
  const int linger = 0, unlimited = 0, reconnect_ms = 50;
  zmq_setsockopt(e.socket, ZMQ_LINGER, &linger, sizeof(linger));
  // Weight frames are borrowed, not copied, so queueing them costs no memory:
  // sends never block on a queue limit.
  zmq_setsockopt(e.socket, ZMQ_SNDHWM, &unlimited, sizeof(unlimited));
  zmq_setsockopt(e.socket, ZMQ_RCVHWM, &unlimited, sizeof(unlimited));
  zmq_setsockopt(e.socket, ZMQ_RECONNECT_IVL, &reconnect_ms, sizeof(reconnect_ms));
  if (zmq_connect(e.socket, e.endpoint.c_str()) != 0) {
    const std::string error = zmq_strerror(errno);
    zmq_close(e.socket);
    e.socket = nullptr;
    return absl::InvalidArgumentError(absl::StrCat("cannot connect to rollout engine '", e.endpoint,
                                                   "': ", error,
                                                   " (expected ipc:///path or tcp://host:port)"));
  }
  e.last_ping = Clock::now() - std::chrono::hours(1);  // ping at the next chance
  e.last_heard = Clock::now();
  e.unanswered_since.reset();
  return absl::OkStatus();
}

void RolloutClient::State::Send(Engine& e, const wire::Message& message) {
  // With no queue limit a send only fails when the context is going away.
  (void)wire::SendFrames(e.socket, wire::EncodeMessage(message), /*dont_wait=*/false);
}

// ---- Weight sync ----

void RolloutClient::State::StartSync(Engine& e) {
  const size_t n = snapshot->buckets.size();
  e.syncing = true;
  e.loaded_version = -1;
  e.bucket_acked.assign(n, false);
  e.bucket_resends.assign(n, 0);
  e.commit_sent = false;
  for (size_t k = 0; k < n; ++k) SendBucket(e, k);
}

void RolloutClient::State::SendBucket(Engine& e, size_t k) {
  const WeightBucket& bucket = snapshot->buckets[k];
  std::vector<std::string> copied = {wire::WeightsBucketHeader(bucket.header).dump()};
  std::span<const wire::BorrowedFrame> borrowed(bucket.frames);
  if (!corruption_done && options.corrupt_bucket_on_first_send == static_cast<int>(k)) {
    corruption_done = true;
    std::string corrupted(static_cast<const char*>(bucket.frames[0].data), bucket.frames[0].size);
    corrupted[corrupted.size() / 2] ^= 0x01;
    copied.push_back(std::move(corrupted));
    borrowed = borrowed.subspan(1);
  }
  (void)wire::SendFramesBorrowing(e.socket, copied, borrowed, snapshot);
  stats.bytes_sent += static_cast<int64_t>(bucket.bytes);
}

void RolloutClient::State::OnBucketAck(Engine& e, const wire::WeightsBucketAck& ack) {
  if (!e.syncing || ack.weight_version != current_version ||
      ack.bucket_index >= e.bucket_acked.size()) {
    return;  // about an earlier sync
  }
  if (!ack.ok) {
    if (++e.bucket_resends[ack.bucket_index] > options.max_bucket_resends) {
      e.failure = absl::DataLossError(
          absl::StrCat("rollout engine ", e.endpoint, " rejected bucket ", ack.bucket_index,
                       " of weight version ", ack.weight_version, " ",
                       e.bucket_resends[ack.bucket_index], " times; last: ", ack.error,
                       ack.tensor.empty() ? "" : absl::StrCat(" (tensor '", ack.tensor, "')")));
      e.syncing = false;
      return;
    }
    ++stats.buckets_resent;
    SendBucket(e, ack.bucket_index);
    return;
  }
  e.bucket_acked[ack.bucket_index] = true;
  if (!e.commit_sent &&
      std::all_of(e.bucket_acked.begin(), e.bucket_acked.end(), [](bool b) { return b; })) {
    Send(e, wire::Encode(wire::WeightsCommit{.weight_version = current_version,
                                             .set_hash = snapshot->set_hash}));
    e.commit_sent = true;
    e.commit_sent_at = Clock::now();
  }
}

void RolloutClient::State::OnWeightsAck(Engine& e, const wire::WeightsAck& ack) {
  if (!e.syncing || !e.commit_sent || ack.weight_version != current_version) return;
  if (ack.error) {
    // A bucket went missing between ack and commit (e.g. a restart in between): start over.
    if (++e.commit_retries > options.max_bucket_resends) {
      e.failure = absl::DataLossError(
          absl::StrCat("rollout engine ", e.endpoint, " refused weight version ", current_version,
                       " ", e.commit_retries, " times; last: ", ack.error->message));
      e.syncing = false;
      return;
    }
    StartSync(e);
    return;
  }
  if (ack.set_hash != snapshot->set_hash) {
    e.failure = absl::DataLossError(
        absl::StrCat("rollout engine ", e.endpoint, " acknowledged weight version ",
                     current_version, " with set hash ", wire::HashToHex(ack.set_hash),
                     ", ours is ", wire::HashToHex(snapshot->set_hash)));
    e.syncing = false;
    return;
  }
  e.syncing = false;
  e.loaded_version = current_version;
  stats.weight_commit_seconds +=
      std::chrono::duration<double>(Clock::now() - e.commit_sent_at).count();
}

// ---- Requests ----

void RolloutClient::State::SendRequests(Engine& e, uint64_t ticket,
                                        const std::vector<size_t>& positions) {
  Batch& batch = batches.at(ticket);
  wire::GenerateMessage message;
  message.batch_id = next_wire_batch++;
  message.weight_version = batch.weight_version;
  for (size_t i : positions) {
    const RolloutRequest& r = batch.requests[i];
    message.requests.push_back(
        wire::GenerateItem{.request_id = r.request_id,
                           .sample_index = r.sample_index,
                           .num_samples = 1,
                           .max_new_tokens = r.max_new_tokens,
                           .sampling = {.temperature = r.sampling.temperature,
                                        .top_k = r.sampling.top_k,
                                        .top_p = r.sampling.top_p},
                           .seed = r.seed,
                           .stop_tokens = r.stop_tokens,
                           .prompt = r.prompt});
    batch.wire_batch[i] = message.batch_id;
    batch.engine[i] = e.index;
    e.outstanding.insert({ticket, i});
  }
  wire_batch_ticket[message.batch_id] = ticket;
  Send(e, wire::Encode(message));
}

void RolloutClient::State::Orphan(const RequestRef& ref) {
  auto it = batches.find(ref.first);
  if (it == batches.end() || it->second.results[ref.second]) return;
  Batch& batch = it->second;
  if (batch.engine[ref.second] >= 0) engines[batch.engine[ref.second]].outstanding.erase(ref);
  batch.engine[ref.second] = -1;
  batch.wire_batch[ref.second] = 0;
  orphans.push_back(ref);
}

void RolloutClient::State::OrphanAll(Engine& e) {
  const std::set<RequestRef> lost = std::move(e.outstanding);
  e.outstanding.clear();
  for (const RequestRef& ref : lost) {
    auto it = batches.find(ref.first);
    if (it == batches.end()) continue;
    it->second.engine[ref.second] = -1;
    Orphan(ref);
  }
}

void RolloutClient::State::AssignOrphans() {
  std::vector<int> live;
  for (const Engine& e : engines) {
    if (Live(e)) live.push_back(e.index);
  }
  if (live.empty() || orphans.empty()) return;
  std::map<std::pair<int, uint64_t>, std::vector<size_t>> groups;  // (engine, ticket) -> positions
  while (!orphans.empty()) {
    const RequestRef ref = orphans.front();
    orphans.pop_front();
    auto it = batches.find(ref.first);
    if (it == batches.end() || it->second.results[ref.second] || it->second.engine[ref.second] >= 0)
      continue;
    if (it->second.weight_version != current_version) {
      it->second.error = absl::FailedPreconditionError(absl::StrCat(
          "request ", it->second.requests[ref.second].request_id, " asked for weight version ",
          it->second.weight_version, ", which was replaced by ", current_version,
          " before an engine that lost it could generate it again"));
      continue;
    }
    const int engine = live[round_robin++ % live.size()];
    groups[{engine, ref.first}].push_back(ref.second);
    ++stats.requests_reissued;
  }
  for (const auto& [key, positions] : groups)
    SendRequests(engines[key.first], key.second, positions);
}

void RolloutClient::State::OnResult(Engine& e, const wire::ResultMessage& result) {
  auto ticket_it = wire_batch_ticket.find(result.batch_id);
  if (ticket_it == wire_batch_ticket.end()) return;
  auto batch_it = batches.find(ticket_it->second);
  if (batch_it == batches.end()) return;
  const uint64_t ticket = batch_it->first;
  Batch& batch = batch_it->second;
  if (result.error) {
    if (result.error->code == wire::kBadRequestError) {
      batch.error = absl::InvalidArgumentError(absl::StrCat(
          "rollout engine ", e.endpoint, " rejected a request: ", result.error->message));
      return;
    }
    // stale_weights / no_weights: the engine lacks our weights (restarted, or
    // not yet synced). Re-issue what this wire batch still holds, and re-send
    // the weights unless the engine already has them again.
    for (size_t i = 0; i < batch.requests.size(); ++i) {
      if (batch.wire_batch[i] == result.batch_id && !batch.results[i]) Orphan({ticket, i});
    }
    if (!e.syncing && result.error->weight_version != current_version) StartSync(e);
    return;
  }
  for (const wire::SampleResult& sample : result.results) {
    auto it = batch.index.find({sample.request_id, sample.sample_index});
    if (it == batch.index.end() || batch.results[it->second]) continue;  // unknown or a duplicate
    if (sample.weight_version != batch.weight_version) {
      batch.error = absl::InternalError(absl::StrCat(
          "rollout engine ", e.endpoint, " answered request ", sample.request_id,
          " with weight version ", sample.weight_version, ", asked for ", batch.weight_version));
      return;
    }
    const size_t i = it->second;
    batch.results[i] =
        RolloutResult{.request_id = sample.request_id,
                      .sample_index = sample.sample_index,
                      .tokens = sample.tokens,
                      .logprobs = sample.logprobs,
                      .finish_reason = sample.finish_reason == "stop" ? FinishReason::kStop
                                                                      : FinishReason::kLength,
                      .weight_version = sample.weight_version,
                      .engine_index = e.index};
    ++batch.answered;
    if (batch.engine[i] >= 0) engines[batch.engine[i]].outstanding.erase({ticket, i});
  }
}

// ---- The loop ----

void RolloutClient::State::OnStatus(Engine& e, const wire::StatusReply& reply) {
  if (!e.instance_id.empty() && reply.instance_id != e.instance_id) {
    // A new process at this endpoint: what the old one held is gone.
    ++stats.restarts_seen;
    OrphanAll(e);
    e.syncing = false;
    e.loaded_version = -1;
  }
  e.instance_id = reply.instance_id;
  if (e.syncing || current_version < 0 || !e.failure.ok()) return;
  if (reply.weight_version == current_version) {
    e.loaded_version = current_version;
  } else {
    StartSync(e);
  }
}

void RolloutClient::State::ResetEngine(Engine& e) {
  ++stats.engines_reset;
  OrphanAll(e);
  zmq_close(e.socket);  // drops what was queued for it; replies to the old socket are lost
  e.socket = nullptr;
  e.syncing = false;
  e.loaded_version = -1;
  (void)OpenSocket(e);  // the endpoint connected before, so it connects again
}

void RolloutClient::State::Maintain(Clock::time_point now) {
  for (Engine& e : engines) {
    // One ping in flight at a time (a busy engine would otherwise find a
    // backlog of them), unless it went unanswered for a second: it may have
    // gone to a process that died.
    const auto interval = e.unanswered_since ? std::max<std::chrono::milliseconds>(
                                                   options.ping_interval, std::chrono::seconds(1))
                                             : options.ping_interval;
    if (now - e.last_ping >= interval) {
      Send(e, wire::Encode(wire::StatusRequest{.ping_id = next_ping++}));
      e.last_ping = now;
      if (!e.unanswered_since) e.unanswered_since = now;
    }
    if (e.unanswered_since && now - *e.unanswered_since > options.engine_timeout) ResetEngine(e);
  }
  AssignOrphans();
}

void RolloutClient::State::Dispatch(Engine& e, const wire::Message& message) {
  const std::string type = message.header["type"].get<std::string>();
  if (type == wire::kRolloutResultType) {
    if (auto m = wire::DecodeResult(message); m.ok()) OnResult(e, *m);
  } else if (type == wire::kRolloutStatusType) {
    if (auto m = wire::DecodeStatusReply(message); m.ok()) OnStatus(e, *m);
  } else if (type == wire::kRolloutWeightsBucketAckType) {
    if (auto m = wire::DecodeWeightsBucketAck(message); m.ok()) OnBucketAck(e, *m);
  } else if (type == wire::kRolloutWeightsAckType) {
    if (auto m = wire::DecodeWeightsAck(message); m.ok()) OnWeightsAck(e, *m);
  }
}

absl::Status RolloutClient::State::Pump(Clock::time_point deadline) {
  std::vector<zmq_pollitem_t> items;
  for (const Engine& e : engines) items.push_back({e.socket, 0, ZMQ_POLLIN, 0});
  const auto now = Clock::now();
  const auto wait =
      std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                 std::chrono::milliseconds(0), options.ping_interval);
  if (zmq_poll(items.data(), static_cast<int>(items.size()), wait.count()) < 0 && errno != EINTR) {
    return absl::InternalError(absl::StrCat("zmq_poll: ", zmq_strerror(errno)));
  }
  for (size_t i = 0; i < engines.size(); ++i) {
    if (!(items[i].revents & ZMQ_POLLIN)) continue;
    Engine& e = engines[i];
    for (;;) {
      absl::StatusOr<std::vector<std::string>> frames =
          wire::ReceiveFrames(e.socket, /*dont_wait=*/true);
      if (!frames.ok()) break;
      e.last_heard = Clock::now();
      e.unanswered_since.reset();
      absl::StatusOr<wire::Message> message = wire::DecodeMessage(std::move(*frames));
      if (message.ok()) Dispatch(e, *message);
    }
  }
  Maintain(Clock::now());
  return absl::OkStatus();
}

std::string RolloutClient::State::Describe(const Engine& e, Clock::time_point now) const {
  return absl::StrCat(e.endpoint, " (", e.outstanding.size(), " requests outstanding, ",
                      e.syncing ? "weight sync in progress, " : "", "weights v", e.loaded_version,
                      ", last heard ",
                      static_cast<int64_t>(MillisecondsSince(e.last_heard, now)), " ms ago)");
}

// ---- Public API ----

RolloutClient::RolloutClient(std::unique_ptr<State> state) : state_(std::move(state)) {}
RolloutClient::~RolloutClient() = default;

absl::StatusOr<std::unique_ptr<RolloutClient>> RolloutClient::Connect(
    std::vector<std::string> endpoints, ClientOptions options) {
  if (endpoints.empty())
    return absl::InvalidArgumentError("RolloutClient: no rollout endpoints given");
  if (options.bucket_bytes == 0)
    return absl::InvalidArgumentError("ClientOptions.bucket_bytes must be > 0");
  auto state = std::make_unique<State>();
  state->options = options;
  state->context = zmq_ctx_new();
  if (state->context == nullptr) return absl::InternalError("zmq_ctx_new failed");
  for (size_t i = 0; i < endpoints.size(); ++i) {
    State::Engine& e = state->engines.emplace_back();
    e.index = static_cast<int>(i);
    e.endpoint = endpoints[i];
    LOCKSTEP_RETURN_IF_ERROR(state->OpenSocket(e));
  }
  return std::unique_ptr<RolloutClient>(new RolloutClient(std::move(state)));
}

absl::Status RolloutClient::PublishWeights(int64_t version, const ModelWeights& weights) {
  State& s = *state_;
  const auto start = Clock::now();
  const auto deadline = start + s.options.total_timeout;
  s.snapshot =
      WeightSnapshot::Take(version, weights, s.options.bucket_bytes, std::move(s.snapshot));
  s.stats.weight_snapshot_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  s.current_version = version;
  for (State::Engine& e : s.engines) {
    e.failure = absl::OkStatus();
    e.commit_retries = 0;
    s.StartSync(e);
  }
  for (;;) {
    bool done = true;
    for (const State::Engine& e : s.engines) {
      if (!e.failure.ok()) return e.failure;
      done = done && s.Live(e);
    }
    if (done) break;
    const auto now = Clock::now();
    if (now >= deadline) {
      std::string waiting;
      for (const State::Engine& e : s.engines) {
        if (!s.Live(e)) absl::StrAppend(&waiting, waiting.empty() ? "" : "; ", s.Describe(e, now));
      }
      return absl::DeadlineExceededError(absl::StrCat(
          "weight version ", version, " not acknowledged within ", s.options.total_timeout.count(),
          " ms by ", waiting, "; is lockstep-rollout running there?"));
    }
    LOCKSTEP_RETURN_IF_ERROR(s.Pump(deadline));
  }
  s.stats.weight_sync_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RolloutClient::Submit(const std::vector<RolloutRequest>& requests,
                                               int64_t weight_version) {
  State& s = *state_;
  if (weight_version != s.current_version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "weight version ", weight_version, " was not the last one published (",
        s.current_version < 0 ? std::string("none yet") : absl::StrCat(s.current_version),
        "); call PublishWeights first"));
  }
  State::Batch batch;
  batch.weight_version = weight_version;
  batch.requests = requests;
  batch.results.resize(requests.size());
  batch.wire_batch.assign(requests.size(), 0);
  batch.engine.assign(requests.size(), -1);
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!batch.index.emplace(std::pair{requests[i].request_id, requests[i].sample_index}, i)
             .second) {
      return absl::InvalidArgumentError(absl::StrCat("request ", requests[i].request_id, " sample ",
                                                     requests[i].sample_index,
                                                     " appears twice in the batch"));
    }
  }
  const uint64_t ticket = s.next_ticket++;
  s.batches.emplace(ticket, std::move(batch));
  std::vector<std::vector<size_t>> per_engine(s.engines.size());
  for (size_t i = 0; i < requests.size(); ++i) per_engine[i % s.engines.size()].push_back(i);
  for (size_t e = 0; e < s.engines.size(); ++e) {
    if (per_engine[e].empty()) continue;
    if (s.Live(s.engines[e])) {
      s.SendRequests(s.engines[e], ticket, per_engine[e]);
    } else {
      for (size_t i : per_engine[e]) s.orphans.push_back({ticket, i});
    }
  }
  return ticket;
}

absl::StatusOr<std::vector<RolloutResult>> RolloutClient::Wait(uint64_t ticket) {
  State& s = *state_;
  auto it = s.batches.find(ticket);
  if (it == s.batches.end())
    return absl::NotFoundError(absl::StrCat("no outstanding rollout ticket ", ticket));
  const auto deadline = Clock::now() + s.options.total_timeout;
  auto finish = [&](absl::Status status) -> absl::StatusOr<std::vector<RolloutResult>> {
    State::Batch batch = std::move(s.batches.at(ticket));
    s.batches.erase(ticket);
    for (State::Engine& e : s.engines) {
      std::erase_if(e.outstanding, [&](const RequestRef& ref) { return ref.first == ticket; });
    }
    std::erase_if(s.wire_batch_ticket, [&](const auto& entry) { return entry.second == ticket; });
    if (!status.ok()) return status;
    std::vector<RolloutResult> results;
    for (auto& r : batch.results) results.push_back(std::move(*r));
    std::sort(results.begin(), results.end(), [](const RolloutResult& a, const RolloutResult& b) {
      return std::pair{a.request_id, a.sample_index} < std::pair{b.request_id, b.sample_index};
    });
    return results;
  };
  // A wait that makes no progress says so every 30 s, with each engine's
  // state, so a stalled job is visible in the trainer's log long before the
  // total timeout.
  constexpr auto kStallReport = std::chrono::seconds(30);
  auto last_progress = Clock::now();
  size_t answered_before = 0;
  for (;;) {
    State::Batch& batch = s.batches.at(ticket);
    if (!batch.error.ok()) return finish(batch.error);
    if (batch.answered == batch.requests.size()) return finish(absl::OkStatus());
    for (const State::Engine& e : s.engines) {
      if (!e.failure.ok()) return finish(e.failure);
    }
    const auto now = Clock::now();
    if (batch.answered != answered_before) {
      answered_before = batch.answered;
      last_progress = now;
    } else if (now - last_progress >= kStallReport) {
      std::string engines;
      for (const State::Engine& e : s.engines)
        absl::StrAppend(&engines, engines.empty() ? "" : "; ", s.Describe(e, now));
      std::fprintf(stderr,
                   "rollout client: batch %llu (weight version %lld): %zu of %zu results after "
                   "%lld s without progress; %zu orphaned; engines: %s\n",
                   static_cast<unsigned long long>(ticket),
                   static_cast<long long>(batch.weight_version), batch.answered,
                   batch.requests.size(),
                   static_cast<long long>(
                       std::chrono::duration_cast<std::chrono::seconds>(now - last_progress).count()),
                   s.orphans.size(), engines.c_str());
      last_progress = now;
    }
    if (now >= deadline) {
      std::string engines;
      for (const State::Engine& e : s.engines)
        absl::StrAppend(&engines, engines.empty() ? "" : "; ", s.Describe(e, now));
      return finish(absl::DeadlineExceededError(
          absl::StrCat("rollout batch ", ticket, ": ", batch.requests.size() - batch.answered,
                       " of ", batch.requests.size(), " requests unanswered after ",
                       s.options.total_timeout.count(), " ms; engines: ", engines)));
    }
    LOCKSTEP_RETURN_IF_ERROR(s.Pump(deadline));
  }
}

absl::StatusOr<std::vector<RolloutResult>> RolloutClient::Generate(
    const std::vector<RolloutRequest>& requests, int64_t weight_version) {
  LOCKSTEP_ASSIGN_OR_RETURN(uint64_t ticket, Submit(requests, weight_version));
  return Wait(ticket);
}

ClientStats RolloutClient::stats() const { return state_->stats; }
int RolloutClient::num_engines() const { return static_cast<int>(state_->engines.size()); }

}  // namespace lockstep::rollout
