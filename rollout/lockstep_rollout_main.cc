// lockstep-rollout: the rollout engine process (rollout/server.h).
//   lockstep-rollout --bind ENDPOINT [--max-batch N] [--kv-blocks N | --kv-memory-fraction F]
//                    [--kv-block-size N] [--max-prefill-tokens N] [--device cpu|cuda] [--mode invariant|fast]
// Exit status: 0 after SIGINT/SIGTERM, 1 if it cannot serve (endpoint in use,
// engine failure), 2 for bad arguments.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "model/kv_cache_flag.h"
#include "rollout/server.h"

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

// ZeroMQ allocates a buffer for every frame it receives, and weight tensors
// are large: with glibc's defaults each is a fresh mmap whose pages fault in
// on every update, which more than doubled the time of a 1 GB transfer
// (bench/RESULTS.md). One heap that keeps freed memory lets the next update
// reuse the last one's pages.
void KeepFreedMemoryForReuse() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  mallopt(M_ARENA_MAX, 1);
}

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  lockstep::rollout::RolloutServerOptions options;
  lockstep::EngineOptions& engine = options.engine;
  CLI::App app(
      "lockstep-rollout: serves rollout.generate with the continuous-batching engine and "
      "takes weight updates in hashed buckets (see wire/rollout_messages.h).",
      "lockstep-rollout");
  app.set_version_flag("--version", std::string("lockstep-rollout ") + LOCKSTEP_VERSION);
  app.add_option("--bind", options.bind, "endpoint to serve on: ipc:///path or tcp://host:port")
      ->required();
  app.add_option("--max-batch", engine.max_batch_sequences, "running sequences per engine step")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  CLI::Option* kv_blocks =
      app.add_option("--kv-blocks", engine.kv_cache.num_blocks, "KV cache blocks (whole pool)")
          ->check(CLI::Range(1, 1 << 24))
          ->capture_default_str();
  app.add_option("--kv-memory-fraction", engine.kv_cache.memory_fraction,
                 "size the KV cache as this fraction (0, 1) of the device's free memory once "
                 "the first weights are loaded, instead of --kv-blocks")
      ->check(lockstep::KvMemoryFractionValidator("--kv-memory-fraction"))
      ->excludes(kv_blocks);
  app.add_option("--kv-block-size", engine.kv_cache.block_size, "tokens per KV cache block")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  app.add_option("--max-prefill-tokens", engine.max_prefill_tokens,
                 "prompt tokens admitted per step (at least one prompt)")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  std::string device = "cpu", mode = "invariant";
  app.add_option("--device", device, "where the engine runs (cuda needs a CUDA build and a GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--mode", mode,
                 "numerics mode: invariant (batch-invariant, the contract) or fast (library "
                 "defaults; not batch-invariant on cuda)")
      ->check(CLI::IsMember({"invariant", "fast"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::printf("%s\n", app.version().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "lockstep-rollout: %s\nrun 'lockstep-rollout --help' for usage\n",
                 e.what());
    return 2;
  }

  options.backend.device = device == "cuda" ? lockstep::Device::kCuda : lockstep::Device::kCpu;
  options.backend.mode = lockstep::ParseNumericsMode(mode).value();  // checked by the flag
  InstallStopHandlers();
  KeepFreedMemoryForReuse();
  auto server = lockstep::rollout::RolloutServer::Bind(options);
  if (!server.ok()) {
    std::fprintf(stderr, "lockstep-rollout: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "lockstep-rollout: serving on %s (pid %d)\n", options.bind.c_str(),
               static_cast<int>(getpid()));
  const absl::Status served = (*server)->Serve(g_stop);
  server->reset();  // closes the socket before exit
  if (!served.ok()) {
    std::fprintf(stderr, "lockstep-rollout: %s\n", std::string(served.message()).c_str());
    return 1;
  }
  return 0;
}
