// Rollout throughput of lockstep's own engine (continuous batching over the paged KV cache,
// sampling on the backend): decode tokens/s at several batch sizes and prefill tokens/s of
// long prompts, in the batch-invariant mode and in `fast` mode (library GEMM defaults) in the
// same process, on a random-initialised Qwen2-0.5B-shaped model. The Hugging Face baseline on
// the same GPU is scripts/hf-decode-bench.py (run both in one device call, as
// scripts/gpu-check.sh does with LOCKSTEP_GPU_DECODE=1; bench/RESULTS.md records them).
//
//   decode_throughput_bench --device cuda --batches 1,64,256 --new-tokens 256 --json out.json
//   decode_throughput_bench --device cpu --shape small --batches 1,4
//       --new-tokens 8 --prefill-batches 1,2 --prefill-tokens 64 --prefill-reps 3
//                                         (the same code paths on a CPU, in seconds)
//
// Decode: every sequence decodes exactly --new-tokens tokens (no stop tokens), temperature 1,
// no top-k/top-p, so decode tokens/s = batch * new_tokens / (wall time after the prefill step).
// --graphs on,off runs every batch with decode steps as CUDA graphs and op by op, in the
// same process (the first decode step at a batch size runs eagerly, the second captures).
// Prefill: B prompts of P random tokens (--prefill-batches, --prefill-tokens) admitted in one
// engine step that runs the whole prompts and samples each sequence's first token (the
// tokens are back on the host when it returns, so the device work is inside the time);
// tokens/s = B * P / that step's median wall time over --prefill-reps repetitions, after one
// warm-up repetition that is not counted. An empty --batches or --prefill-batches skips that
// part.
#include <algorithm>
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
#include "absl/strings/str_cat.h"
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
  std::string prefill_batches = "1,8,32";
  int prefill_tokens = 512;
  int prefill_reps = 5;
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

// Comma-separated positive integers ("" is none); `flag` names the option in the error.
absl::StatusOr<std::vector<int>> ParseBatchList(const std::string& text, const std::string& flag) {
  std::vector<int> values;
  if (text.empty()) return values;
  for (absl::string_view b : absl::StrSplit(text, ',')) {
    int value = 0;
    if (!absl::SimpleAtoi(b, &value) || value < 1) {
      return absl::InvalidArgumentError(flag + ": comma-separated positive integers, got \"" +
                                        text + "\"");
    }
    values.push_back(value);
  }
  return values;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

struct PrefillResult {
  std::vector<double> seconds;  // one per counted repetition, in run order
  double median_seconds = 0.0;
};

// One engine with room for `batch` prompts of o.prefill_tokens (+ the sampled token); each
// repetition submits `batch` fresh random prompts with max_new_tokens 1 and times the one
// Step() that admits them all, runs the packed prompts and samples every first token. The
// first repetition grows the workspace and is not counted.
absl::StatusOr<PrefillResult> MeasurePrefill(const Transformer& model, int batch,
                                             const BenchOptions& o) {
  const int per_sequence = o.prefill_tokens + 1;
  EngineOptions options;
  options.max_batch_sequences = batch;
  options.max_prefill_tokens = batch * o.prefill_tokens;
  options.kv_cache.block_size = 16;
  options.kv_cache.num_blocks = batch * ((per_sequence + 15) / 16) + 1;
  LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<RolloutEngine> engine,
                            RolloutEngine::Create(model, options));
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int32_t> token(0, model.config().vocab_size - 1);
  PrefillResult result;
  for (int rep = 0; rep <= o.prefill_reps; ++rep) {
    for (int i = 0; i < batch; ++i) {
      GenerationRequest r;
      r.request_id = static_cast<uint32_t>(i);
      r.sample_index = static_cast<uint32_t>(rep);
      r.max_new_tokens = 1;
      r.seed = 1;
      r.sampling.temperature = 1.0f;
      r.prompt.reserve(static_cast<size_t>(o.prefill_tokens));
      for (int t = 0; t < o.prefill_tokens; ++t) r.prompt.push_back(token(rng));
      LOCKSTEP_RETURN_IF_ERROR(engine->Submit(std::move(r)));
    }
    const auto start = Clock::now();
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<GenerationResult> done, engine->Step());
    const double seconds = Seconds(start);
    // The timed step must have been the whole batch's prefill and nothing else.
    if (static_cast<int>(done.size()) != batch || !engine->Idle()) {
      return absl::InternalError(absl::StrCat(
          "prefill bench: one step finished ", done.size(), " of ", batch,
          " prompts; the engine's sizing (max_batch_sequences, max_prefill_tokens, KV blocks) "
          "did not admit them together"));
    }
    if (rep > 0) result.seconds.push_back(seconds);
  }
  result.median_seconds = Median(result.seconds);
  return result;
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

// Fills `out` as it goes, so a failure part-way leaves the measurements made before it.
absl::Status Measure(const BenchOptions& o, nlohmann::json& out) {
  BackendOptions backend_options;
  if (o.device == "cuda") {
    backend_options.device = Device::kCuda;
  } else if (o.device != "cpu") {
    return absl::InvalidArgumentError("--device must be cpu or cuda");
  }
  LOCKSTEP_ASSIGN_OR_RETURN(DType dtype, ParseDType(o.dtype));
  const ModelConfig config = ConfigFor(o.shape);
  LOCKSTEP_ASSIGN_OR_RETURN(const std::vector<int> batches, ParseBatchList(o.batches, "--batches"));
  LOCKSTEP_ASSIGN_OR_RETURN(const std::vector<int> prefill_batches,
                            ParseBatchList(o.prefill_batches, "--prefill-batches"));
  if (!prefill_batches.empty() && (o.prefill_tokens < 1 || o.prefill_reps < 1)) {
    return absl::InvalidArgumentError("--prefill-tokens and --prefill-reps must be >= 1");
  }
  if (o.prefill_tokens + 1 > config.max_position_embeddings) {
    return absl::InvalidArgumentError(absl::StrCat("--prefill-tokens ", o.prefill_tokens,
                                                   ": at most ", config.max_position_embeddings - 1,
                                                   " (the bench model's positions)"));
  }
  std::printf("decode-bench: building a random %s-shaped model (%s)...\n", o.shape.c_str(),
              o.dtype.c_str());
  LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights weights, RandomInitWeights(config, dtype, 7, 0.02f));
  out = {{"shape", o.shape},
         {"dtype", o.dtype},
         {"prompt_tokens", o.prompt_tokens},
         {"new_tokens", o.new_tokens},
         {"runs", nlohmann::json::array()},
         {"prefill_prompt_tokens", o.prefill_tokens},
         {"prefill_reps", o.prefill_reps},
         {"prefill_runs", nlohmann::json::array()}};
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
    if (!batches.empty()) {
      BenchOptions warm = o;
      warm.new_tokens = 4;
      LOCKSTEP_RETURN_IF_ERROR(RunBatch(*model, batches.back(), warm, true, 99).status());
    }
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
        out["runs"].push_back(
            {{"mode", std::string(mode_name)},
             {"batch", batch},
             {"graphs", graphs},
             {"graph_replays", g.replays},
             {"decode_tokens", r.decode_tokens},
             {"decode_seconds", r.decode_seconds},
             {"decode_tokens_per_s", decode_tps},
             {"ms_per_decode_step", 1e3 * r.decode_seconds / static_cast<double>(r.steps - 1)},
             {"prefill_tokens_per_s", prefill_tps}});
      }
    }
    for (int batch : prefill_batches) {
      LOCKSTEP_ASSIGN_OR_RETURN(PrefillResult r, MeasurePrefill(*model, batch, o));
      const int64_t tokens = int64_t{batch} * o.prefill_tokens;
      const double tps = static_cast<double>(tokens) / r.median_seconds;
      std::printf(
          "decode-bench: %-9s prefill batch %4d x %d tokens: %10.0f tok/s (median %.2f ms, "
          "min %.2f ms, %zu reps)\n",
          std::string(mode_name).c_str(), batch, o.prefill_tokens, tps, 1e3 * r.median_seconds,
          1e3 * *std::min_element(r.seconds.begin(), r.seconds.end()), r.seconds.size());
      std::fflush(stdout);
      out["prefill_runs"].push_back({{"mode", std::string(mode_name)},
                                     {"batch", batch},
                                     {"prompt_tokens", o.prefill_tokens},
                                     {"tokens", tokens},
                                     {"seconds", r.seconds},
                                     {"median_seconds", r.median_seconds},
                                     {"prefill_tokens_per_s", tps}});
    }
  }
  return absl::OkStatus();
}

// Measures, then writes whatever was measured (with the error, if one stopped it) to --json.
absl::Status Run(const BenchOptions& o) {
  nlohmann::json out = nlohmann::json::object();
  const absl::Status measured = Measure(o, out);
  if (!measured.ok()) out["error"] = std::string(measured.message());
  if (!o.json_path.empty() && !out.empty()) {
    std::ofstream f(o.json_path);
    f << out.dump(2) << "\n";
    if (!f) return absl::InternalError("cannot write " + o.json_path);
    std::printf("decode-bench: results in %s\n", o.json_path.c_str());
  }
  return measured;
}

}  // namespace
}  // namespace lockstep

int main(int argc, char** argv) {
  lockstep::BenchOptions o;
  CLI::App app{"lockstep decode/prefill throughput on a random Qwen2-0.5B-shaped model"};
  app.add_option("--device", o.device, "cpu or cuda")->capture_default_str();
  app.add_option("--modes", o.modes, "comma-separated: invariant, fast")->capture_default_str();
  app.add_option("--batches", o.batches, "comma-separated decode batch sizes (\"\" skips decode)")
      ->capture_default_str();
  app.add_option("--graphs", o.graphs, "comma-separated: on, off (CUDA graphs for decode)")
      ->capture_default_str();
  app.add_option("--shape", o.shape, "qwen2-0.5b or small")->capture_default_str();
  app.add_option("--dtype", o.dtype, "bf16 or fp16")->capture_default_str();
  app.add_option("--prompt-tokens", o.prompt_tokens)->capture_default_str();
  app.add_option("--new-tokens", o.new_tokens)->capture_default_str();
  app.add_option("--prefill-batches", o.prefill_batches,
                 "comma-separated batch sizes for the prefill measurement (\"\" skips it)")
      ->capture_default_str();
  app.add_option("--prefill-tokens", o.prefill_tokens, "prompt tokens per sequence for prefill")
      ->capture_default_str();
  app.add_option("--prefill-reps", o.prefill_reps,
                 "timed prefill repetitions per batch (median reported; one more warms up)")
      ->capture_default_str();
  app.add_option("--json", o.json_path, "write the results here");
  CLI11_PARSE(app, argc, argv);
  if (absl::Status s = lockstep::Run(o); !s.ok()) {
    std::fprintf(stderr, "decode-bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
