// Weight transfer: a Qwen2-0.5B-shaped BF16 tensor set (~1 GB) published by
// RolloutClient to a lockstep-rollout process over ipc:// and tcp://127.0.0.1,
// every tensor hashed on both ends and the set hash compared, against a plain
// memcpy of the same bytes measured in the same run. Also times hashing
// alone and the fused copy+hash, to show where the time goes.
//   weight_transfer_bench [PUBLISHES_PER_TRANSPORT]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/weights.h"
#include "rollout/client.h"
#include "wire/weight_hash.h"

namespace {

using Clock = std::chrono::steady_clock;
using lockstep::ModelWeights;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

lockstep::ModelConfig Qwen2HalfBillion() {
  lockstep::ModelConfig c;
  c.family = lockstep::ModelFamily::kQwen2;
  c.hidden_size = 896;
  c.num_layers = 24;
  c.num_heads = 14;
  c.num_kv_heads = 2;
  c.head_dim = 64;
  c.intermediate_size = 4864;
  c.vocab_size = 151936;
  c.tie_word_embeddings = true;
  c.attention_bias = true;
  c.max_position_embeddings = 4096;
  return c;
}

// Pseudo-random bytes (xorshift64*): incompressible, and quick to make.
void Fill(ModelWeights& w) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (auto& [name, tensor] : w.MutableNamedTensors()) {
    auto* words = static_cast<unsigned char*>(tensor->data());
    for (size_t i = 0; i < tensor->nbytes(); i += 8) {
      state ^= state >> 12;
      state ^= state << 25;
      state ^= state >> 27;
      const uint64_t v = state * 0x2545F4914F6CDD1Dull;
      std::memcpy(words + i, &v, std::min<size_t>(8, tensor->nbytes() - i));
    }
  }
}

int FreeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

pid_t StartRollout(const std::string& endpoint) {
  const std::string binary =
      (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "lockstep-rollout").string();
  const pid_t pid = fork();
  if (pid == 0) {
    execl(binary.c_str(), binary.c_str(), "--bind", endpoint.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

struct Baselines {
  double memcpy_s = 1e9, hash_s = 1e9, copy_hash_s = 1e9;
};

// Best of `rounds` for each: memcpy into a touched buffer, TensorHash alone, CopyAndHash.
Baselines MeasureBaselines(const ModelWeights& w, size_t total, int rounds) {
  std::vector<char> buffer(total, 1);  // touched, so page faults stay out of the timing
  Baselines b;
  uint64_t sink = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t = Clock::now();
    size_t offset = 0;
    for (const auto& [name, tensor] : w.NamedTensors()) {
      std::memcpy(buffer.data() + offset, tensor->data(), tensor->nbytes());
      offset += tensor->nbytes();
    }
    b.memcpy_s = std::min(b.memcpy_s, Seconds(t));
    t = Clock::now();
    for (const auto& [name, tensor] : w.NamedTensors()) {
      sink ^= lockstep::wire::TensorHash(
          std::string_view(static_cast<const char*>(tensor->data()), tensor->nbytes()));
    }
    b.hash_s = std::min(b.hash_s, Seconds(t));
    t = Clock::now();
    offset = 0;
    for (const auto& [name, tensor] : w.NamedTensors()) {
      sink ^= lockstep::wire::CopyAndHash(
          std::string_view(static_cast<const char*>(tensor->data()), tensor->nbytes()),
          buffer.data() + offset);
      offset += tensor->nbytes();
    }
    b.copy_hash_s = std::min(b.copy_hash_s, Seconds(t));
  }
  if (sink == 42) std::puts("");  // keep the hashes alive
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  const int publishes = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  ModelWeights weights =
      lockstep::AllocateWeights(Qwen2HalfBillion(), lockstep::DType::kBF16).value();
  Fill(weights);
  size_t total = 0;
  for (const auto& [name, tensor] : weights.NamedTensors()) total += tensor->nbytes();
  const double gb = static_cast<double>(total) / 1e9;
  std::printf("tensor set: Qwen2-0.5B shape, bf16, %zu tensors, %.3f GB\n",
              weights.NamedTensors().size(), gb);

  const Baselines before = MeasureBaselines(weights, total, 3);
  std::printf("%-34s %8.3f s %8.2f GB/s\n", "memcpy (baseline)", before.memcpy_s,
              gb / before.memcpy_s);
  std::printf("%-34s %8.3f s %8.2f GB/s\n", "xxh64 alone", before.hash_s, gb / before.hash_s);
  std::printf("%-34s %8.3f s %8.2f GB/s\n", "copy+xxh64 fused (one pass)", before.copy_hash_s,
              gb / before.copy_hash_s);

  const std::string endpoints[] = {
      "ipc:///tmp/lockstep-weight-bench-" + std::to_string(getpid()) + ".sock",
      "tcp://127.0.0.1:" + std::to_string(FreeTcpPort())};
  for (const std::string& endpoint : endpoints) {
    const pid_t server = StartRollout(endpoint);
    lockstep::rollout::ClientOptions options;
    options.total_timeout = std::chrono::minutes(10);
    options.engine_timeout = std::chrono::minutes(2);  // the engine builds a 0.5B model on commit
    auto client = lockstep::rollout::RolloutClient::Connect({endpoint}, options).value();
    for (int p = 1; p <= publishes; ++p) {
      const lockstep::rollout::ClientStats s0 = client->stats();
      const auto t = Clock::now();
      const absl::Status published = client->PublishWeights(p, weights);
      const double seconds = Seconds(t);
      if (!published.ok()) {
        std::fprintf(stderr, "publish failed: %s\n", std::string(published.message()).c_str());
        kill(server, SIGKILL);
        return 1;
      }
      const lockstep::rollout::ClientStats s = client->stats();
      const double snapshot = s.weight_snapshot_seconds - s0.weight_snapshot_seconds;
      const double commit = s.weight_commit_seconds - s0.weight_commit_seconds;
      const double transfer = seconds - snapshot - commit;
      std::printf(
          "%-5s publish %d: %6.3f s total (%5.2f GB/s, %4.1f%% of memcpy) = snapshot copy+hash "
          "%5.3f s"
          " + send/receive/copy+hash %5.3f s (%5.2f GB/s, %4.1f%% of memcpy) + commit %5.3f s\n",
          endpoint.substr(0, 3).c_str(), p, seconds, gb / seconds, 100 * before.memcpy_s / seconds,
          snapshot, transfer, gb / transfer, 100 * before.memcpy_s / transfer, commit);
    }
    client.reset();
    kill(server, SIGTERM);
    int status = 0;
    waitpid(server, &status, 0);
  }
  const Baselines after = MeasureBaselines(weights, total, 2);
  std::printf("%-34s %8.3f s %8.2f GB/s (after the transfers)\n", "memcpy (baseline)",
              after.memcpy_s, gb / after.memcpy_s);
  return 0;
}
