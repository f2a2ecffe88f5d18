// Shared pieces of the rollout server/client tests: a tiny model, requests,
// the in-process reference, servers on threads or as lockstep-rollout
// processes, and a raw ZeroMQ peer for hand-made messages.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "rollout/client.h"
#include "rollout/engine.h"
#include "rollout/server.h"
#include "wire/message.h"

namespace lockstep::rollout::testing {

inline ModelWeights TinyWeights(uint64_t seed) {
  ModelConfig config;
  config.hidden_size = 64;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_dim = 16;
  config.intermediate_size = 96;
  config.vocab_size = 48;
  config.max_position_embeddings = 512;
  return RandomInitWeights(config, DType::kBF16, seed, 0.1f).value();
}

inline std::vector<RolloutRequest> MakeRequests(int n, int max_new_tokens,
                                                bool stop_tokens = true) {
  std::mt19937 rng(17);
  std::vector<RolloutRequest> out;
  for (int i = 0; i < n; ++i) {
    RolloutRequest r;
    r.request_id = static_cast<uint32_t>(i / 2);
    r.sample_index = static_cast<uint32_t>(i % 2);
    const int len = 1 + static_cast<int>(rng() % 20);
    for (int j = 0; j < len; ++j) r.prompt.push_back(static_cast<int32_t>(3 + rng() % 40));
    r.max_new_tokens = max_new_tokens - static_cast<int>(rng() % 4);
    r.sampling = {.temperature = 0.9f, .top_k = (i % 3) ? 12 : 0, .top_p = (i % 4) ? 0.95f : 1.0f};
    r.seed = 1000 + static_cast<uint64_t>(i % 3);  // requests of different seeds in one batch
    if (stop_tokens) r.stop_tokens = {2};
    out.push_back(r);
  }
  return out;
}

// The same requests on an in-process engine, sorted like RolloutClient's results.
inline std::vector<GenerationResult> Reference(const ModelWeights& weights,
                                               const std::vector<RolloutRequest>& requests) {
  auto model = Transformer::Create(weights).value();
  RolloutEngine engine(*model, EngineOptions{});
  for (const RolloutRequest& r : requests) {
    GenerationRequest g;
    g.request_id = r.request_id;
    g.sample_index = r.sample_index;
    g.prompt = r.prompt;
    g.max_new_tokens = r.max_new_tokens;
    g.sampling = r.sampling;
    g.seed = r.seed;
    g.stop_tokens = r.stop_tokens;
    EXPECT_TRUE(engine.Submit(g).ok());
  }
  auto results = engine.RunToCompletion().value();
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) {
    return std::pair{a.request_id, a.sample_index} < std::pair{b.request_id, b.sample_index};
  });
  return results;
}

// Tokens, logprob bits and finish reasons equal, request for request.
inline void ExpectSameAsReference(const std::vector<RolloutResult>& got,
                                  const std::vector<GenerationResult>& want, int64_t version) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(::testing::Message()
                 << "request " << want[i].request_id << " sample " << want[i].sample_index);
    EXPECT_EQ(got[i].request_id, want[i].request_id);
    EXPECT_EQ(got[i].sample_index, want[i].sample_index);
    EXPECT_EQ(got[i].tokens, want[i].tokens);
    ASSERT_EQ(got[i].logprobs.size(), want[i].logprobs.size());
    for (size_t j = 0; j < got[i].logprobs.size(); ++j) {
      EXPECT_EQ(std::bit_cast<uint32_t>(got[i].logprobs[j]),
                std::bit_cast<uint32_t>(want[i].logprobs[j]));
    }
    EXPECT_EQ(got[i].finish_reason, want[i].finish_reason);
    EXPECT_EQ(got[i].weight_version, version);
  }
}

inline std::string UniqueEndpoint() {
  static std::atomic<int> counter{0};
  return "ipc:///tmp/lockstep-rollout-test-" + std::to_string(getpid()) + "-" +
         std::to_string(counter++) + ".sock";
}

// A RolloutServer serving on its own thread until destroyed.
class ServerThread {
 public:
  explicit ServerThread(std::string endpoint, int max_batch = 8) {
    RolloutServerOptions options;
    options.bind = std::move(endpoint);
    options.engine.max_batch_sequences = max_batch;
    auto server = RolloutServer::Bind(options);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] { served_ = server_->Serve(stop_); });
  }
  ~ServerThread() {
    stop_ = true;
    thread_.join();
    EXPECT_TRUE(served_.ok()) << served_;
  }
  const std::string& endpoint() const { return server_->endpoint(); }

 private:
  std::unique_ptr<RolloutServer> server_;
  std::atomic<bool> stop_{false};
  absl::Status served_;
  std::thread thread_;
};

// lockstep-rollout as a child process.
inline pid_t StartRolloutProcess(const std::vector<std::string>& args) {
  const std::string binary = LOCKSTEP_BINARY_DIR "/bin/lockstep-rollout";
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv = {const_cast<char*>(binary.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Exit status of a child (or -1 if it was killed by a signal).
inline int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A DEALER for hand-made messages.
class RawPeer {
 public:
  explicit RawPeer(const std::string& endpoint) {
    context_ = zmq_ctx_new();
    socket_ = zmq_socket(context_, ZMQ_DEALER);
    const int linger = 0;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof(linger));
    EXPECT_EQ(zmq_connect(socket_, endpoint.c_str()), 0);
  }
  ~RawPeer() {
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }
  void Send(const wire::Message& message) {
    ASSERT_TRUE(wire::SendFrames(socket_, wire::EncodeMessage(message), false).ok());
  }
  // The next message of `type` (others are skipped), or an empty header after 20 s.
  wire::Message Receive(const std::string& type) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
      zmq_poll(&item, 1, 100);
      auto frames = wire::ReceiveFrames(socket_, true);
      if (!frames.ok()) continue;
      auto message = wire::DecodeMessage(std::move(*frames));
      if (message.ok() && message->header.value("type", "") == type) return *message;
    }
    ADD_FAILURE() << "no " << type << " message within 20 s";
    return {};
  }

 private:
  void* context_ = nullptr;
  void* socket_ = nullptr;
};

}  // namespace lockstep::rollout::testing
