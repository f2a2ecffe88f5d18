#include "sandbox/pool_server.h"

#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sandbox/client.h"
#include "wire/message.h"
#include "wire/sandbox_messages.h"

namespace lockstep::sandbox {

using Clock = std::chrono::steady_clock;

struct PoolServer::State {
  void* context = nullptr;
  void* router = nullptr;
  int wake_fd = -1;  // eventfd: workers signal the I/O thread that results wait

  struct Job {
    std::string peer;  // ROUTER identity of the client
    uint64_t id = 0;
    RunRequest request;
  };
  mutable std::mutex jobs_mutex;
  std::condition_variable jobs_cv;
  std::deque<Job> jobs;

  std::mutex results_mutex;
  std::deque<std::vector<std::string>> results;  // full frames, peer first

  std::atomic<bool> stopping{false};
  std::atomic<int64_t> in_flight{0}, received{0}, completed{0}, worker_failures{0};
  mutable std::mutex rate_mutex;
  mutable std::deque<Clock::time_point> completions;  // last 10 s, for runs_per_s
  Clock::time_point started = Clock::now();
  size_t capacity = 0;
  int workers = 0;
};

absl::StatusOr<PoolServerOptions> ParsePoolServerArgs(const std::vector<std::string>& args) {
  PoolServerOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (i + 1 >= args.size()) {
      return absl::InvalidArgumentError(absl::StrCat("'", flag, "' needs a value"));
    }
    const std::string& value = args[++i];
    int number = 0;
    double seconds = 0;
    if (flag == "--bind") {
      options.bind = value;
    } else if (flag == "--workers") {
      if (!absl::SimpleAtoi(value, &number) || number < 1) {
        return absl::InvalidArgumentError(absl::StrCat("--workers must be a positive integer, got '", value, "'"));
      }
      options.workers = number;
    } else if (flag == "--queue") {
      if (!absl::SimpleAtoi(value, &number) || number < 1) {
        return absl::InvalidArgumentError(absl::StrCat("--queue must be a positive integer, got '", value, "'"));
      }
      options.queue_capacity = static_cast<size_t>(number);
    } else if (flag == "--stats-interval") {
      if (!absl::SimpleAtod(value, &seconds) || seconds < 0) {
        return absl::InvalidArgumentError(absl::StrCat("--stats-interval must be seconds >= 0, got '", value, "'"));
      }
      options.stats_log_interval_s = seconds;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option '", flag, "'"));
    }
  }
  if (options.bind.empty()) {
    return absl::InvalidArgumentError("--bind ENDPOINT is required (ipc:///path or tcp://host:port)");
  }
  return options;
}

PoolServer::PoolServer(PoolServerOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {}

absl::StatusOr<std::unique_ptr<PoolServer>> PoolServer::Start(PoolServerOptions options) {
  std::unique_ptr<PoolServer> server(new PoolServer(std::move(options)));
  PoolServerOptions& o = server->options_;
  State& s = *server->state_;
  if (o.workers <= 0) o.workers = std::max(1u, std::thread::hardware_concurrency());
  if (o.queue_capacity == 0) o.queue_capacity = 4 * static_cast<size_t>(o.workers);
  s.capacity = o.queue_capacity;
  s.workers = o.workers;
  if (!o.job) {
    auto runner = Runner::Create(o.runner);
    if (!runner.ok()) return runner.status();
    server->runner_ = std::move(*runner);
    Runner* r = server->runner_.get();
    o.job = [r](const RunRequest& request) { return r->Run(request); };
  }
  s.context = zmq_ctx_new();
  s.router = zmq_socket(s.context, ZMQ_ROUTER);
  const int on = 1, linger = 0;
  // Mandatory routing: a reply to a vanished client is an error we see, not a silent drop.
  zmq_setsockopt(s.router, ZMQ_ROUTER_MANDATORY, &on, sizeof(on));
  zmq_setsockopt(s.router, ZMQ_LINGER, &linger, sizeof(linger));
  // A request larger than any valid one is dropped (and its peer
  // disconnected) by ZeroMQ before it is buffered whole: the runner's input
  // caps, with room for the worst-case escaping of bytes on the wire.
  const InputLimits& caps = o.runner.input_limits;
  const int64_t max_message = 6 * (caps.max_source_bytes + caps.max_stdin_bytes +
                                   caps.max_expected_stdout_bytes) + (1 << 20);
  zmq_setsockopt(s.router, ZMQ_MAXMSGSIZE, &max_message, sizeof(max_message));
  if (zmq_bind(s.router, o.bind.c_str()) != 0) {
    const std::string error = zmq_strerror(errno);
    zmq_close(s.router);
    zmq_ctx_term(s.context);
    s.router = s.context = nullptr;
    return absl::UnavailableError(absl::StrCat("cannot bind sandbox server to '", o.bind, "': ",
                                               error, " (is another server using it?)"));
  }
  s.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s.wake_fd < 0) return absl::InternalError("eventfd failed");
  for (int i = 0; i < o.workers; ++i) {
    server->workers_.emplace_back([p = server.get(), i] { p->WorkerLoop(i); });
  }
  server->io_thread_ = std::thread([p = server.get()] { p->IoLoop(); });
  return server;
}

PoolServer::~PoolServer() { Stop(); }

void PoolServer::Stop() {
  State& s = *state_;
  if (s.stopping.exchange(true)) return;
  s.jobs_cv.notify_all();
  for (auto& worker : workers_) worker.join();
  if (io_thread_.joinable()) io_thread_.join();
  if (s.router) zmq_close(s.router);
  if (s.context) zmq_ctx_term(s.context);
  if (s.wake_fd >= 0) close(s.wake_fd);
}

void PoolServer::Wait(const std::atomic<bool>& stop) {
  while (!stop.load() && !state_->stopping.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

nlohmann::json PoolServer::Stats() const {
  const State& s = *state_;
  size_t depth;
  {
    std::lock_guard lock(s.jobs_mutex);
    depth = s.jobs.size();
  }
  double rate;
  {
    std::lock_guard lock(s.rate_mutex);
    const auto now = Clock::now();
    while (!s.completions.empty() && now - s.completions.front() > std::chrono::seconds(10)) {
      s.completions.pop_front();
    }
    const double window = std::min(
        10.0, std::chrono::duration<double>(now - s.started).count());
    rate = window > 0 ? s.completions.size() / window : 0.0;
  }
  nlohmann::json stats = {{"queue_depth", depth},
          {"queue_capacity", s.capacity},
          {"in_flight", s.in_flight.load()},
          {"received", s.received.load()},
          {"completed", s.completed.load()},
          {"worker_failures", s.worker_failures.load()},
          {"workers", s.workers},
          {"runs_per_s", rate},
          {"uptime_s", std::chrono::duration<double>(Clock::now() - s.started).count()}};
  if (runner_ != nullptr) {
    // Whether runs reuse warm sandboxes, or why they get one-shot ones.
    const absl::Status& warm = runner_->warm_sandbox_status();
    stats["warm_sandboxes"] = warm.ok() ? "on" : absl::StrCat("off: ", warm.message());
    stats["warm_sandboxes_started"] = runner_->warm_sandboxes_started();
  }
  return stats;
}

void PoolServer::WorkerLoop(int index) {
  State& s = *state_;
  for (;;) {
    State::Job job;
    {
      std::unique_lock lock(s.jobs_mutex);
      s.jobs_cv.wait(lock, [&] { return s.stopping.load() || !s.jobs.empty(); });
      if (s.stopping.load()) return;
      job = std::move(s.jobs.front());
      s.jobs.pop_front();
      ++s.in_flight;
    }
    RunResult result;
    // A failure of the job logic is this request's sandbox_error; the worker
    // itself goes on to the next request as if freshly started.
    try {
      result = options_.job(job.request);
    } catch (const std::exception& e) {
      result = RunResult{};
      result.status = RunStatus::kSandboxError;
      result.language = job.request.language;
      result.message = absl::StrCat("sandbox worker ", index, " failed: ", e.what(),
                                    " (the worker was restarted)");
      ++s.worker_failures;
    } catch (...) {
      result = RunResult{};
      result.status = RunStatus::kSandboxError;
      result.language = job.request.language;
      result.message = absl::StrCat("sandbox worker ", index,
                                    " failed with a non-standard exception (the worker was restarted)");
      ++s.worker_failures;
    }
    std::vector<std::string> frames = wire::EncodeMessage(wire::Encode(ResultToWire(result, job.id)));
    frames.insert(frames.begin(), std::move(job.peer));
    {
      std::lock_guard lock(s.results_mutex);
      s.results.push_back(std::move(frames));
    }
    {
      std::lock_guard lock(s.rate_mutex);
      s.completions.push_back(Clock::now());
    }
    --s.in_flight;
    ++s.completed;
    const uint64_t one = 1;
    ssize_t ignored = write(s.wake_fd, &one, sizeof(one));
    (void)ignored;
  }
}

void PoolServer::IoLoop() {
  State& s = *state_;
  std::deque<std::vector<std::string>> outgoing;
  auto last_log = Clock::now();
  int64_t completed_at_last_log = 0;

  auto reply_error = [&](const std::string& peer, uint64_t id, const std::string& why) {
    RunResult result;
    result.status = RunStatus::kSandboxError;
    result.message = why;
    std::vector<std::string> frames = wire::EncodeMessage(wire::Encode(ResultToWire(result, id)));
    frames.insert(frames.begin(), peer);
    outgoing.push_back(std::move(frames));
  };

  while (!s.stopping.load()) {
    bool room;
    {
      std::lock_guard lock(s.jobs_mutex);
      room = s.jobs.size() < s.capacity;
    }
    zmq_pollitem_t items[2] = {{s.router, 0, static_cast<short>(room ? ZMQ_POLLIN : 0), 0},
                               {nullptr, s.wake_fd, ZMQ_POLLIN, 0}};
    // Short waits while replies are held back by a slow client, or the queue is full.
    const long timeout_ms = !outgoing.empty() ? 1 : room ? 100 : 5;
    zmq_poll(items, 2, timeout_ms);

    uint64_t count;
    if (read(s.wake_fd, &count, sizeof(count)) > 0) {
      std::lock_guard lock(s.results_mutex);
      while (!s.results.empty()) {
        outgoing.push_back(std::move(s.results.front()));
        s.results.pop_front();
      }
    }
    while (!outgoing.empty()) {
      const absl::Status status = wire::SendFrames(s.router, outgoing.front(), /*dont_wait=*/true);
      if (absl::IsUnavailable(status)) break;  // this client's queue is full: retry later
      if (!status.ok()) {
        std::fprintf(stderr, "lockstep-sandbox: dropping a result for a client that left: %s\n",
                     std::string(status.message()).c_str());
      }
      outgoing.pop_front();
    }

    // Read requests only while the queue has room: the rest wait in ZeroMQ's
    // buffers and, past its high-water mark, block the senders.
    while (room && (items[0].revents & ZMQ_POLLIN)) {
      auto frames = wire::ReceiveFrames(s.router, /*dont_wait=*/true);
      if (!frames.ok()) break;
      if (frames->size() < 2) continue;
      std::string peer = std::move((*frames)[0]);
      frames->erase(frames->begin());
      auto message = wire::DecodeMessage(std::move(*frames));
      if (!message.ok()) {
        reply_error(peer, 0, absl::StrCat("malformed request: ", message.status().message()));
        continue;
      }
      const std::string type = message->header.value("type", "");
      const uint64_t id = message->header.value("id", uint64_t{0});
      if (type == wire::kSandboxStatsType) {
        wire::Message reply;
        reply.header = {{"type", wire::kSandboxStatsType}, {"id", id}, {"stats", Stats()}};
        std::vector<std::string> out = wire::EncodeMessage(reply);
        out.insert(out.begin(), peer);
        outgoing.push_back(std::move(out));
        continue;
      }
      ++s.received;
      auto run = wire::DecodeSandboxRun(*message);
      absl::StatusOr<RunRequest> request =
          run.ok() ? RequestFromWire(*run) : absl::StatusOr<RunRequest>(run.status());
      if (!request.ok()) {
        reply_error(peer, id, absl::StrCat("malformed request: ", request.status().message()));
        continue;
      }
      {
        std::lock_guard lock(s.jobs_mutex);
        s.jobs.push_back({std::move(peer), id, std::move(*request)});
        room = s.jobs.size() < s.capacity;
      }
      s.jobs_cv.notify_one();
    }

    const auto now = Clock::now();
    if (options_.stats_log_interval_s > 0 &&
        now - last_log >= std::chrono::duration<double>(options_.stats_log_interval_s)) {
      const nlohmann::json stats = Stats();
      const int64_t completed = s.completed.load();
      std::fprintf(stderr,
                   "lockstep-sandbox: queue %zu/%zu, in flight %lld, completed %lld (+%lld), "
                   "%.1f runs/s, worker failures %lld\n",
                   stats["queue_depth"].get<size_t>(), s.capacity,
                   static_cast<long long>(s.in_flight.load()), static_cast<long long>(completed),
                   static_cast<long long>(completed - completed_at_last_log),
                   stats["runs_per_s"].get<double>(),
                   static_cast<long long>(s.worker_failures.load()));
      last_log = now;
      completed_at_last_log = completed;
    }
  }
}

}  // namespace lockstep::sandbox
