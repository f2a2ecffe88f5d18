// `lockstep serve MODEL [--bind ADDR:PORT] [--served-model-name NAME] ...`: an
// OpenAI-compatible HTTP server over the rollout engine (serve/). MODEL is a
// model directory (HF layout) or a lockstep run directory (its newest
// checkpoint). SIGINT/SIGTERM end it cleanly: unfinished requests get an
// error, the port is released, exit code 0. Exit codes: 0 stopped by a
// signal, 1 the server failed, 2 bad usage or an unloadable model.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "driver/commands.h"
#include "jobs/run_checkpoints.h"
#include "model/kv_cache_flag.h"
#include "model/kv_cache_sizing.h"
#include "serve/openai_server.h"
#include "serve/served_model.h"

namespace lockstep::driver {
namespace {

namespace fs = std::filesystem;

struct ServeFlags {
  std::string model;
  std::string bind = "127.0.0.1:8000";
  std::string served_model_name;
  std::string tokenizer;
  std::string dtype = "bf16";
  int max_batch = 32;
  int max_prefill_tokens = 4096;
  int kv_blocks = 1024;
  double kv_memory_fraction = 0.0;  // 0: kv_blocks
  int kv_block_size = 16;
  int max_n = 64;
  int http_threads = 32;
  std::string api_key_env;
  bool quiet = false;
};

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "lockstep serve: %s\n", message.c_str());
  return code;
}

// HOST:PORT, [V6]:PORT, or PORT alone (on 127.0.0.1).
bool ParseBind(const std::string& text, std::string* host, int* port) {
  std::string port_text = text;
  *host = "127.0.0.1";
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos) {
    *host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
      *host = host->substr(1, host->size() - 2);
    }
    if (host->empty()) *host = "0.0.0.0";
  }
  try {
    size_t used = 0;
    *port = std::stoi(port_text, &used);
    return used == port_text.size() && *port >= 0 && *port <= 65535;
  } catch (const std::exception&) {
    return false;
  }
}

// A run directory (RUN/checkpoints/step_N) serves its newest checkpoint.
absl::StatusOr<std::string> ResolveModelDir(const std::string& path) {
  if (fs::exists(fs::path(path) / "config.json") || !fs::is_directory(fs::path(path) / "checkpoints")) {
    return path;
  }
  const std::string checkpoints = (fs::path(path) / "checkpoints").string();
  absl::StatusOr<int64_t> step = jobs::NewestCheckpointStep(checkpoints);
  if (!step.ok()) return step.status();
  return (fs::path(checkpoints) / absl::StrCat("step_", *step)).string();
}

int RunServe(const ServeFlags& flags) {
  std::string host;
  int port = 0;
  if (!ParseBind(flags.bind, &host, &port)) {
    return Fail(2, absl::StrCat("--bind '", flags.bind, "': expected ADDR:PORT, e.g. 127.0.0.1:8000"));
  }
  absl::StatusOr<std::string> dir = ResolveModelDir(flags.model);
  if (!dir.ok()) return Fail(2, std::string(dir.status().message()));
  serve::ServedModelOptions model_options{*dir, flags.tokenizer, flags.dtype, flags.served_model_name};
  if (model_options.name.empty() && *dir != flags.model) {
    model_options.name = fs::path(flags.model).lexically_normal().filename().string();
  }
  auto model = serve::ServedModel::Load(model_options);
  if (!model.ok()) return Fail(2, std::string(model.status().message()));

  serve::ServerOptions options;
  options.engine.engine.max_batch_sequences = flags.max_batch;
  options.engine.engine.max_prefill_tokens = flags.max_prefill_tokens;
  // Sized once, here: the request limits need the capacity, and an engine restarted after
  // a failed step must get the same pool, not a fraction of what is free then.
  const Transformer& transformer = (*model)->transformer();
  absl::StatusOr<KvCacheOptions> kv = ResolveKvCacheOptions(
      transformer.backend(), transformer.config(), transformer.dtype(),
      KvCacheOptions{.block_size = flags.kv_block_size,
                     .num_blocks = flags.kv_blocks,
                     .memory_fraction = flags.kv_memory_fraction});
  if (!kv.ok()) return Fail(2, absl::StrCat("--kv-memory-fraction: ", kv.status().message()));
  if (flags.kv_memory_fraction > 0.0) {
    std::fprintf(stderr, "lockstep serve: %s (--kv-memory-fraction %g of free memory)\n",
                 DescribeKvPool(transformer.config(), transformer.dtype(), *kv).c_str(),
                 flags.kv_memory_fraction);
  }
  options.engine.engine.kv_cache = *kv;
  options.limits.max_n = flags.max_n;
  options.http_threads = flags.http_threads;
  options.log_requests = !flags.quiet;
  if (!flags.api_key_env.empty()) {
    const char* key = std::getenv(flags.api_key_env.c_str());
    if (key == nullptr || *key == '\0') {
      return Fail(2, absl::StrCat("--api-key-env names $", flags.api_key_env, ", which is not set"));
    }
    options.api_key = key;
  }

  // SIGINT/SIGTERM are taken by a watcher thread (sigwait), never by a handler:
  // block them before any thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  serve::OpenAiServer server(**model, options);
  absl::StatusOr<int> bound = server.Bind(host, port);
  if (!bound.ok()) return Fail(1, std::string(bound.status().message()));
  const bool v6 = host.find(':') != std::string::npos;
  std::fprintf(stderr,
               "lockstep serve: model '%s' (%s) listening on http://%s%s%s:%d "
               "(GET /v1/models, POST /v1/completions, POST /v1/chat/completions)\n",
               (*model)->name().c_str(), (*model)->Description().c_str(), v6 ? "[" : "",
               host.c_str(), v6 ? "]" : "", *bound);
  std::fflush(stderr);

  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    const timespec tick{0, 200'000'000};
    while (!finished) {
      const int signal = sigtimedwait(&signals, nullptr, &tick);
      if (signal == SIGINT || signal == SIGTERM) {
        std::fprintf(stderr, "lockstep serve: %s, shutting down\n",
                     signal == SIGINT ? "SIGINT" : "SIGTERM");
        server.Stop();
        return;
      }
    }
  });
  absl::Status served = server.Run();
  finished = true;
  watcher.join();
  server.Stop();
  if (!served.ok()) return Fail(1, std::string(served.message()));
  std::fprintf(stderr, "lockstep serve: stopped\n");
  return 0;
}

}  // namespace

void AddServeModelCommand(CLI::App& app, CommandAction* action) {
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve a model over an OpenAI-compatible HTTP API (/v1/completions, "
               "/v1/chat/completions, /v1/models)");
  auto flags = std::make_shared<ServeFlags>();
  cmd->add_option("MODEL", flags->model,
                  "model directory (config.json, *.safetensors, tokenizer.json, "
                  "tokenizer_config.json), or a lockstep run directory (newest checkpoint)")
      ->required();
  cmd->add_option("--bind", flags->bind, "ADDR:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--served-model-name", flags->served_model_name,
                  "the model name clients send and /v1/models lists (default: the directory's name)");
  cmd->add_option("--tokenizer", flags->tokenizer,
                  "tokenizer.json (or a directory with it and tokenizer_config.json) when MODEL has none");
  cmd->add_option("--dtype", flags->dtype, "weights dtype: bf16, fp16 or fp32")->capture_default_str();
  cmd->add_option("--max-batch", flags->max_batch, "sequences per engine step")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--max-prefill-tokens", flags->max_prefill_tokens, "prompt tokens admitted per step")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  CLI::Option* kv_blocks =
      cmd->add_option("--kv-blocks", flags->kv_blocks, "KV cache blocks (of --kv-block-size tokens)")
          ->check(CLI::Range(1, 1 << 24))
          ->capture_default_str();
  cmd->add_option("--kv-memory-fraction", flags->kv_memory_fraction,
                  "size the KV cache as this fraction (0, 1) of the free memory after the model "
                  "is loaded, instead of --kv-blocks")
      ->check(KvMemoryFractionValidator("--kv-memory-fraction"))
      ->excludes(kv_blocks);
  cmd->add_option("--kv-block-size", flags->kv_block_size, "tokens per KV cache block")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--max-n", flags->max_n, "largest n one request may ask for")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--http-threads", flags->http_threads, "concurrent HTTP connections")
      ->check(CLI::Range(2, 4096))
      ->capture_default_str();
  cmd->add_option("--api-key-env", flags->api_key_env,
                  "require Authorization: Bearer $VAR (the environment variable's name)");
  cmd->add_flag("--quiet", flags->quiet, "no per-request log lines");
  cmd->callback([flags, action] { *action = [flags] { return RunServe(*flags); }; });
}

}  // namespace lockstep::driver
