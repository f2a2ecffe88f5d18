// Rollout throughput of lockstep's own engine (continuous batching over the paged KV cache,
// sampling on the backend): decode tokens/s at several batch sizes and prefill tokens/s, in
// the batch-invariant mode and in `fast` mode (library GEMM defaults) in the same process,
// on a random-initialised Qwen2-0.5B-shaped model. The Hugging Face baseline on the same GPU
// is scripts/hf-decode-bench.py (run both in one device call; bench/RESULTS.md records them).
//
//   decode_throughput_bench --device cuda --batches 1,64,256 --new-tokens 256 --json out.json
//   decode_throughput_bench --device cpu --shape small          (a quick look on a laptop)
//
// Every sequence decodes exactly --new-tokens tokens (no stop tokens), temperature 1, no
// top-k/top-p, so decode tokens/s = batch * new_tokens / (wall time after the prefill step).
// --graphs on,off runs every batch with decode steps as CUDA graphs and op by op, in the
// same process (the first decode step at a batch size runs eagerly, the second captures).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "model/config.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "numerics/backends/create_backend.h"
#include "numerics/status_macros.h"
#include "rollout/engine.h"

namespace lockstep {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

struct BenchOptions {
  std::string device = "cuda";
  std::string modes = "invariant,fast";
  std::string batches = "1,64,256";
  std::string graphs = "on";
  std::string shape = "qwen2-0.5b";
  std::string dtype = "bf16";
  int prompt_tokens = 32;
  int new_tokens = 256;
  std::string json_path;
};

ModelConfig ConfigFor(const std::string& shape) {
  ModelConfig c;
  c.family = ModelFamily::kQwen2;
  c.attention_bias = true;
  c.tie_word_embeddings = true;
  c.rope_theta = 1000000.0;
  if (shape == "qwen2-0.5b") {
    c.hidden_size = 896;
    c.num_layers = 24;
    c.num_heads = 14;
    c.num_kv_heads = 2;
    c.head_dim = 64;
    c.intermediate_size = 4864;
    c.vocab_size = 151936;
  } else {  // "small": a few layers, for a look on the CPU
    c.hidden_size = 256;
    c.num_layers = 4;
    c.num_heads = 8;
    c.num_kv_heads = 2;
    c.head_dim = 32;
    c.intermediate_size = 512;
    c.vocab_size = 4096;
  }
  c.max_position_embeddings = 4096;
  return c;
}

struct RunResult {
  int batch = 0;
  int64_t decode_tokens = 0;
  double prefill_seconds = 0.0;  // the first engine step (whole prompts + first token)
  double decode_seconds = 0.0;   // every later step
  int64_t steps = 0;
  model::DecodeGraphStats graph_stats;
};

// One engine, `batch` requests admitted together: step 1 prefills, the rest decode.
absl::StatusOr<RunResult> RunBatch(const Transformer& model, int batch, const BenchOptions& o,
                                   bool graphs, uint64_t seed) {
  const int per_sequence = o.prompt_tokens + o.new_tokens;
  EngineOptions options;
  options.max_batch_sequences = batch;
  options.max_prefill_tokens = batch * o.prompt_tokens;
  options.kv_cache.block_size = 16;
  options.kv_cache.num_blocks = batch * ((per_sequence + 15) / 16) + 1;
  options.cuda_graphs = graphs;
  RolloutEngine engine(model, options);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_int_distribution<int32_t> token(0, model.config().vocab_size - 1);
  for (int i = 0; i < batch; ++i) {
    GenerationRequest r;
    r.request_id = static_cast<uint32_t>(i);
    r.max_new_tokens = o.new_tokens;
    r.seed = seed;
    r.sampling.temperature = 1.0f;
    for (int t = 0; t < o.prompt_tokens; ++t) r.prompt.push_back(token(rng));
    LOCKSTEP_RETURN_IF_ERROR(engine.Submit(std::move(r)));
  }
  RunResult result;
  result.batch = batch;
  auto start = Clock::now();
  LOCKSTEP_RETURN_IF_ERROR(engine.Step().status());
  result.prefill_seconds = Seconds(start);
  start = Clock::now();
  int64_t tokens = 0;
  while (!engine.Idle()) {
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<GenerationResult> done, engine.Step());
    for (const GenerationResult& g : done) tokens += static_cast<int64_t>(g.tokens.size());
  }
  result.decode_seconds = Seconds(start);
  result.steps = engine.steps();
  result.graph_stats = engine.workspace().decode_graphs().stats();
  // The first token of each sequence came from the prefill step.
  result.decode_tokens = tokens - batch;
  return result;
}

absl::Status Run(const BenchOptions& o) {
  BackendOptions backend_options;
  if (o.device == "cuda") {
    backend_options.device = Device::kCuda;
  } else if (o.device != "cpu") {
    return absl::InvalidArgumentError("--device must be cpu or cuda");
  }
  LOCKSTEP_ASSIGN_OR_RETURN(DType dtype, ParseDType(o.dtype));
  const ModelConfig config = ConfigFor(o.shape);
  std::printf("decode-bench: building a random %s-shaped model (%s)...\n", o.shape.c_str(),
              o.dtype.c_str());
  LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights weights, RandomInitWeights(config, dtype, 7, 0.02f));
  std::vector<int> batches;
  for (absl::string_view b : absl::StrSplit(o.batches, ',')) {
    int value = 0;
    if (!absl::SimpleAtoi(b, &value) || value < 1) {
      return absl::InvalidArgumentError("--batches: comma-separated positive integers");
    }
    batches.push_back(value);
  }
  nlohmann::json out = {{"shape", o.shape},
                        {"dtype", o.dtype},
                        {"prompt_tokens", o.prompt_tokens},
                        {"new_tokens", o.new_tokens},
                        {"runs", nlohmann::json::array()}};
  for (absl::string_view mode_name : absl::StrSplit(o.modes, ',')) {
    LOCKSTEP_ASSIGN_OR_RETURN(backend_options.mode, ParseNumericsMode(std::string(mode_name)));
    LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, CreateBackend(backend_options));
    std::printf("decode-bench: backend %s\n", backend->Describe().c_str());
    out["backend_" + std::string(mode_name)] = backend->Describe();
    const auto load_start = Clock::now();
    LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<Transformer> model,
                              Transformer::Create(weights, *backend));
    std::printf("decode-bench: weights on the device and plans made in %.1f s\n",
                Seconds(load_start));
    // Warm-up: a short run at the largest batch grows every buffer once.
    BenchOptions warm = o;
    warm.new_tokens = 4;
    LOCKSTEP_RETURN_IF_ERROR(RunBatch(*model, batches.back(), warm, true, 99).status());
    for (int batch : batches) {
      for (absl::string_view graphs_name : absl::StrSplit(o.graphs, ',')) {
        if (graphs_name != "on" && graphs_name != "off") {
          return absl::InvalidArgumentError("--graphs: comma-separated on / off");
        }
        const bool graphs = graphs_name == "on";
        LOCKSTEP_ASSIGN_OR_RETURN(RunResult r, RunBatch(*model, batch, o, graphs, 1));
        const double decode_tps = r.decode_tokens / r.decode_seconds;
        const double prefill_tps = double{1.0} * batch * o.prompt_tokens / r.prefill_seconds;
        const model::DecodeGraphStats& g = r.graph_stats;
        std::printf(
            "decode-bench: %-9s graphs %-3s batch %4d: decode %9.0f tok/s (%lld tokens, %lld "
            "steps, %.2f ms/step), prefill step %8.0f tok/s [graphs: %lld captured, %lld "
            "replays, %lld eager decode steps, %lld failures]\n",
            std::string(mode_name).c_str(), std::string(graphs_name).c_str(), batch, decode_tps,
            static_cast<long long>(r.decode_tokens), static_cast<long long>(r.steps - 1),
            1e3 * r.decode_seconds / static_cast<double>(r.steps - 1), prefill_tps,
            static_cast<long long>(g.captures), static_cast<long long>(g.replays),
            static_cast<long long>(g.eager_steps), static_cast<long long>(g.capture_failures));
        std::fflush(stdout);
        out["runs"].push_back({{"mode", std::string(mode_name)},
                               {"batch", batch},
                               {"graphs", graphs},
                               {"graph_replays", g.replays},
                               {"decode_tokens", r.decode_tokens},
                               {"decode_seconds", r.decode_seconds},
                               {"decode_tokens_per_s", decode_tps},
                               {"ms_per_decode_step",
                                1e3 * r.decode_seconds / static_cast<double>(r.steps - 1)},
                               {"prefill_tokens_per_s", prefill_tps}});
      }
    }
  }
  if (!o.json_path.empty()) {
    std::ofstream f(o.json_path);
    f << out.dump(2) << "\n";
    if (!f) return absl::InternalError("cannot write " + o.json_path);
    std::printf("decode-bench: results in %s\n", o.json_path.c_str());
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace lockstep

int main(int argc, char** argv) {
  lockstep::BenchOptions o;
  CLI::App app{"lockstep decode/prefill throughput on a random Qwen2-0.5B-shaped model"};
  app.add_option("--device", o.device, "cpu or cuda")->capture_default_str();
  app.add_option("--modes", o.modes, "comma-separated: invariant, fast")->capture_default_str();
  app.add_option("--batches", o.batches, "comma-separated batch sizes")->capture_default_str();
  app.add_option("--graphs", o.graphs, "comma-separated: on, off (CUDA graphs for decode)")
      ->capture_default_str();
  app.add_option("--shape", o.shape, "qwen2-0.5b or small")->capture_default_str();
  app.add_option("--dtype", o.dtype, "bf16 or fp16")->capture_default_str();
  app.add_option("--prompt-tokens", o.prompt_tokens)->capture_default_str();
  app.add_option("--new-tokens", o.new_tokens)->capture_default_str();
  app.add_option("--json", o.json_path, "write the results here");
  CLI11_PARSE(app, argc, argv);
  if (absl::Status s = lockstep::Run(o); !s.ok()) {
    std::fprintf(stderr, "decode-bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
