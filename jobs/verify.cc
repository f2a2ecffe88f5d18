// The verify job (jobs/verify.h): generate under several batch schedules, recompute
// every sampled token's logprob on the trainer side, and count bitwise-equal ones.
#include "jobs/verify.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <span>

#include "absl/strings/str_format.h"
#include "model/char_tokenizer.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "numerics/backends/create_backend.h"
#include "numerics/fnv1a.h"
#include "numerics/status_macros.h"
#include "rollout/engine.h"

namespace lockstep::jobs {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A batch schedule: how many sequences may run at once, and at which engine
// step each request arrives (all at step 0 unless `random_arrival`).
struct Schedule {
  std::string name;
  int max_batch_sequences;
  bool random_arrival;
  int trainer_micro_batch;
};

const std::vector<Schedule>& DefaultSchedules() {
  static const std::vector<Schedule> kSchedules = {
      {"one-at-a-time", 1, false, 1},
      {"all-at-once", 1 << 20, false, 64},
      {"random-arrival", 16, true, 5},
      {"small-max-batch", 3, false, 19},
  };
  return kSchedules;
}

// A default schedule by name, or "max-batch-N" / "random-arrival-N" (N >= 1). The trainer's
// micro-batch of a parametrised schedule is chosen to differ from N, so rollout and trainer
// never see the same grouping.
absl::StatusOr<Schedule> ParseSchedule(const std::string& name) {
  for (const Schedule& s : DefaultSchedules()) {
    if (s.name == name) return s;
  }
  for (const auto& [prefix, random] :
       {std::pair<std::string, bool>{"max-batch-", false}, {"random-arrival-", true}}) {
    int n = 0;
    if (name.rfind(prefix, 0) == 0 && absl::SimpleAtoi(name.substr(prefix.size()), &n) &&
        n >= 1) {
      return Schedule{name, n, random, n == 7 ? 5 : 7};
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown batch schedule \"", name,
      "\"; use one-at-a-time, all-at-once, random-arrival, small-max-batch, max-batch-N or "
      "random-arrival-N"));
}

absl::StatusOr<std::vector<Schedule>> SchedulesFor(const std::vector<std::string>& names) {
  if (names.empty()) return DefaultSchedules();
  std::vector<Schedule> schedules;
  for (const std::string& name : names) {
    LOCKSTEP_ASSIGN_OR_RETURN(Schedule s, ParseSchedule(name));
    schedules.push_back(std::move(s));
  }
  return schedules;
}

// Four sampling configurations, so the candidate-set logic (top-k, top-p) is
// exercised on both sides, not only plain temperature sampling.
SamplingParams SamplingFor(int request) {
  switch (request % 4) {
    case 0: return {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f};
    case 1: return {.temperature = 0.7f, .top_k = 20, .top_p = 1.0f};
    case 2: return {.temperature = 1.0f, .top_k = 0, .top_p = 0.9f};
    default: return {.temperature = 0.8f, .top_k = 40, .top_p = 0.95f};
  }
}

std::vector<GenerationRequest> MakeRequests(const VerifyOptions& o, const CharTokenizer& tok) {
  std::mt19937_64 rng(o.seed);
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < o.num_sequences; ++i) {
    const int len = o.min_prompt_tokens +
                    static_cast<int>(rng() % static_cast<uint64_t>(o.max_prompt_tokens -
                                                                   o.min_prompt_tokens + 1));
    std::string text;
    for (int j = 1; j < len; ++j) text.push_back(static_cast<char>(32 + rng() % 95));
    GenerationRequest r;
    r.request_id = static_cast<uint32_t>(i);
    r.sample_index = 0;
    r.prompt.push_back(CharTokenizer::kBos);
    for (int32_t t : tok.Encode(text)) r.prompt.push_back(t);
    r.max_new_tokens = o.max_new_tokens;
    r.sampling = SamplingFor(i);
    r.stop_tokens = {CharTokenizer::kEos};
    requests.push_back(std::move(r));
  }
  return requests;
}

// KV blocks for every request at once (prompt + max_new_tokens each), at least 1024.
int KvBlocksFor(const VerifyOptions& o, int block_size) {
  const int per_sequence = (o.max_prompt_tokens + o.max_new_tokens + block_size) / block_size;
  return std::max(1024, o.num_sequences * per_sequence);
}

absl::StatusOr<std::vector<GenerationResult>> Generate(const Transformer& model,
                                                       const std::vector<GenerationRequest>& reqs,
                                                       const Schedule& schedule, uint64_t seed,
                                                       int kv_blocks, int64_t* steps) {
  EngineOptions options;
  options.max_batch_sequences = schedule.max_batch_sequences;
  options.kv_cache = {.block_size = 16, .num_blocks = kv_blocks};
  RolloutEngine engine(model, options);
  LOCKSTEP_RETURN_IF_ERROR(engine.status());
  // Arrival step per request: all at 0, or spread at random over the run.
  std::vector<int64_t> arrival(reqs.size(), 0);
  if (schedule.random_arrival) {
    std::mt19937_64 rng(seed ^ 0x9E3779B97F4A7C15ull);
    for (auto& a : arrival) a = static_cast<int64_t>(rng() % 96);
  }
  std::vector<size_t> order(reqs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return arrival[a] < arrival[b]; });
  std::vector<GenerationResult> results;
  size_t next = 0;
  while (next < order.size() || !engine.Idle()) {
    while (next < order.size() && arrival[order[next]] <= engine.steps()) {
      GenerationRequest request = reqs[order[next]];
      request.seed = seed;
      LOCKSTEP_RETURN_IF_ERROR(engine.Submit(std::move(request)));
      ++next;
    }
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<GenerationResult> done, engine.Step());
    for (auto& r : done) results.push_back(std::move(r));
  }
  *steps = engine.steps();
  std::sort(results.begin(), results.end(),
            [](const auto& a, const auto& b) { return a.request_id < b.request_id; });
  return results;
}

// Trainer side: recompute each generated token's logprob with the
// full-sequence forward, `micro_batch` sequences per forward, on the model's backend: the
// rows that predict a sampled token are gathered and scored by one TokenLogprobs call.
// `diffs` gets |trainer - rollout| of every token both sides give a finite logprob.
absl::Status Recompute(const Transformer& model, const std::vector<GenerationRequest>& reqs,
                       const std::vector<GenerationResult>& results, int micro_batch,
                       ScheduleReport* report, std::vector<double>* diffs) {
  Backend& backend = model.backend();
  ForwardWorkspace workspace(backend);
  for (size_t begin = 0; begin < results.size(); begin += static_cast<size_t>(micro_batch)) {
    const size_t end = std::min(results.size(), begin + static_cast<size_t>(micro_batch));
    std::vector<std::vector<int32_t>> inputs;
    std::vector<int32_t> scored_rows, tokens;
    std::vector<SamplingParams> params;
    std::vector<float> rollout;
    int32_t row = 0;
    for (size_t i = begin; i < end; ++i) {
      const GenerationResult& r = results[i];
      // Input = prompt + all generated tokens but the last (nothing predicts past it).
      std::vector<int32_t> seq = r.prompt;
      seq.insert(seq.end(), r.tokens.begin(), r.tokens.end() - 1);
      // Token j was predicted by the row at position prompt_len - 1 + j.
      const int32_t prompt_len = static_cast<int32_t>(r.prompt.size());
      for (size_t j = 0; j < r.tokens.size(); ++j) {
        scored_rows.push_back(row + prompt_len - 1 + static_cast<int32_t>(j));
        tokens.push_back(r.tokens[j]);
        params.push_back(reqs[r.request_id].sampling);
        rollout.push_back(r.logprobs[j]);
      }
      row += static_cast<int32_t>(seq.size());
      inputs.push_back(std::move(seq));
    }
    std::vector<std::span<const int32_t>> spans(inputs.begin(), inputs.end());
    ConstMatrixView logits;
    LOCKSTEP_RETURN_IF_ERROR(model.ForwardSequences(spans, workspace, &logits));
    LOCKSTEP_ASSIGN_OR_RETURN(const Int32View rows,
                              workspace.Put(ForwardWorkspace::kScoredRows, scored_rows));
    LOCKSTEP_ASSIGN_OR_RETURN(
        const MatrixView scored,
        workspace.Get(ForwardWorkspace::kScoredLogits, logits.dtype,
                      static_cast<int64_t>(scored_rows.size()), logits.cols));
    LOCKSTEP_RETURN_IF_ERROR(backend.GatherRows(logits, rows, scored));
    std::vector<float> trainer(tokens.size());
    LOCKSTEP_RETURN_IF_ERROR(backend.TokenLogprobs(scored, tokens, params, trainer));
    for (size_t t = 0; t < tokens.size(); ++t) {
      ++report->tokens;
      if (std::bit_cast<uint32_t>(trainer[t]) == std::bit_cast<uint32_t>(rollout[t])) {
        ++report->bitwise_equal;
        diffs->push_back(0.0);
      } else if (std::isfinite(trainer[t]) && std::isfinite(rollout[t])) {
        const double diff =
            std::fabs(static_cast<double>(trainer[t]) - static_cast<double>(rollout[t]));
        report->max_abs_logprob_diff = std::max(report->max_abs_logprob_diff, diff);
        diffs->push_back(diff);
      } else {
        // The trainer's top-k/top-p set excludes a token the rollout sampled.
        ++report->outside_candidate_set;
      }
    }
  }
  return absl::OkStatus();
}

bool SameSamples(const std::vector<GenerationResult>& a, const std::vector<GenerationResult>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].tokens != b[i].tokens) return false;
    for (size_t j = 0; j < a[i].logprobs.size(); ++j) {
      if (std::bit_cast<uint32_t>(a[i].logprobs[j]) != std::bit_cast<uint32_t>(b[i].logprobs[j])) {
        return false;
      }
    }
  }
  return true;
}

// The value at quantile q of sorted values (nearest rank).
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

int64_t ParameterCount(const ModelWeights& weights) {
  int64_t total = 0;
  for (const auto& [name, tensor] : weights.NamedTensors()) total += tensor->numel();
  return total;
}

}  // namespace

absl::Status ValidateScheduleNames(const std::vector<std::string>& names) {
  return SchedulesFor(names).status();
}

absl::Status ApplyModelShape(const std::string& shape, VerifyOptions* o) {
  if (shape == "small") {
    const VerifyOptions defaults;
    o->hidden_size = defaults.hidden_size;
    o->num_layers = defaults.num_layers;
    o->num_heads = defaults.num_heads;
    o->num_kv_heads = defaults.num_kv_heads;
    o->intermediate_size = defaults.intermediate_size;
    o->vocab_size = defaults.vocab_size;
    o->tie_word_embeddings = defaults.tie_word_embeddings;
    return absl::OkStatus();
  }
  if (shape == "qwen2-0.5b") {
    o->hidden_size = 896;
    o->num_layers = 24;
    o->num_heads = 14;
    o->num_kv_heads = 2;
    o->intermediate_size = 4864;
    o->vocab_size = 151936;
    o->tie_word_embeddings = true;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("model shape \"" + shape +
                                    "\" is not known; use \"small\" or \"qwen2-0.5b\"");
}

LogprobDiffStats LogprobDiffStats::Of(std::vector<double>& diffs) {
  LogprobDiffStats stats;
  if (diffs.empty()) return stats;
  std::sort(diffs.begin(), diffs.end());
  double sum = 0.0;
  for (double d : diffs) sum += d;
  stats.mean = sum / static_cast<double>(diffs.size());
  stats.p50 = Quantile(diffs, 0.50);
  stats.p99 = Quantile(diffs, 0.99);
  stats.max = diffs.back();
  return stats;
}

nlohmann::json LogprobDiffStats::ToJson() const {
  return {{"mean", mean}, {"p50", p50}, {"p99", p99}, {"max", max}};
}

std::string VerifyModelSummary::Describe() const {
  char text[256];
  std::snprintf(text, sizeof(text),
                "seeded random %s-style model (seed %llu): %d layers, hidden %d, %d heads / %d "
                "kv heads, MLP %d, vocab %d%s, %.2fM parameters",
                family.c_str(), static_cast<unsigned long long>(seed), num_layers, hidden_size,
                num_heads, num_kv_heads, intermediate_size, vocab_size,
                tie_word_embeddings ? " (tied embeddings)" : "",
                static_cast<double>(parameters) / 1e6);
  return text;
}

nlohmann::json VerifyModelSummary::ToJson() const {
  return {{"family", family},         {"hidden_size", hidden_size},
          {"num_layers", num_layers}, {"num_heads", num_heads},
          {"num_kv_heads", num_kv_heads}, {"intermediate_size", intermediate_size},
          {"vocab_size", vocab_size}, {"tie_word_embeddings", tie_word_embeddings},
          {"parameters", parameters},
          {"seed", seed},             {"weights", "random init, std 0.05"}};
}

std::string VerifyReport::Verdict() const {
  if (passed()) {
    return "PASS: every recomputed logprob is bitwise equal to the rollout's and every "
           "schedule sampled the same tokens";
  }
  if (mode == NumericsMode::kFast && trainer_dtype == dtype) {
    return "EXPECTED MISMATCH: this is the negative control; fast mode's library-default GEMMs "
           "change their reduction with the batch, so rollout and trainer drift apart";
  }
  if (negative_control()) {
    return "EXPECTED MISMATCH: this is the negative control; a " +
           std::string(DTypeName(trainer_dtype)) + " trainer against a " +
           std::string(DTypeName(dtype)) +
           " rollout is the usual mismatched setup, and the differences above are what it costs";
  }
  return "FAIL: rollout and trainer disagree (or schedules sampled different tokens); the "
         "numerics contract is broken";
}

nlohmann::json VerifyReport::ToJson() const {
  nlohmann::json schedules_json = nlohmann::json::array();
  for (const ScheduleReport& s : schedules) {
    schedules_json.push_back({{"name", s.name},
                              {"max_batch_sequences", s.max_batch_sequences},
                              {"trainer_micro_batch", s.trainer_micro_batch},
                              {"engine_steps", s.engine_steps},
                              {"tokens", s.tokens},
                              {"bitwise_equal", s.bitwise_equal},
                              {"max_abs_logprob_diff", s.max_abs_logprob_diff},
                              {"abs_logprob_diff", s.abs_logprob_diff.ToJson()},
                              {"outside_candidate_set", s.outside_candidate_set},
                              {"generate_seconds", s.generate_seconds},
                              {"recompute_seconds", s.recompute_seconds}});
  }
  return {{"backend", backend},
          {"backend_description", backend_description},
          {"mode", std::string(NumericsModeName(mode))},
          {"dtype", std::string(DTypeName(dtype))},
          {"trainer_dtype", std::string(DTypeName(trainer_dtype))},
          {"model", model.ToJson()},
          {"sequences", sequences},
          {"tokens", tokens},
          {"bitwise_equal", bitwise_equal},
          {"bitwise_equal_fraction", bitwise_equal_fraction()},
          {"max_abs_logprob_diff", max_abs_logprob_diff},
          {"abs_logprob_diff", abs_logprob_diff.ToJson()},
          {"outside_candidate_set", outside_candidate_set},
          {"schedules_agree", schedules_agree},
          {"samples_digest", samples_digest},
          {"passed", passed()},
          {"negative_control", negative_control()},
          {"verdict", Verdict()},
          {"seconds", seconds},
          {"schedules", schedules_json}};
}

namespace {
// VerifyReport::samples_digest.
std::string SamplesDigest(const std::vector<GenerationResult>& results) {
  uint64_t hash = kFnv1a64Offset;
  for (const GenerationResult& r : results) {
    for (size_t i = 0; i < r.tokens.size(); ++i) {
      hash = Fnv1a64(&r.tokens[i], sizeof(int32_t), hash);
      hash = Fnv1a64(&r.logprobs[i], sizeof(float), hash);
    }
  }
  return absl::StrFormat("%016x", hash);
}
}  // namespace

absl::StatusOr<VerifyReport> RunVerification(const VerifyOptions& o) {
  const auto start = Clock::now();
  CharTokenizer tokenizer;
  ModelConfig config;
  config.family = ModelFamily::kQwen2;
  config.hidden_size = o.hidden_size;
  config.num_layers = o.num_layers;
  config.num_heads = o.num_heads;
  config.num_kv_heads = o.num_kv_heads;
  config.head_dim = o.hidden_size / o.num_heads;
  config.intermediate_size = o.intermediate_size;
  config.vocab_size = o.vocab_size > 0 ? o.vocab_size : tokenizer.vocab_size();
  config.tie_word_embeddings = o.tie_word_embeddings;
  config.attention_bias = true;
  config.max_position_embeddings = o.max_prompt_tokens + o.max_new_tokens + 8;
  // A larger init scale than training would use, so the next-token
  // distributions are far from uniform and truncation actually bites.
  LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights weights,
                            RandomInitWeights(config, o.dtype, o.seed, /*init_std=*/0.05f));
  LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, CreateBackend(o.backend));
  LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<Transformer> model,
                            Transformer::Create(weights, *backend));
  // Random init draws the same values for every dtype and rounds them, so a
  // trainer in another dtype holds "the same" weights at its own precision.
  const DType trainer_dtype = o.trainer_dtype.value_or(o.dtype);
  ModelWeights trainer_weights_storage;
  std::unique_ptr<Transformer> trainer_model_storage;
  const Transformer* trainer_model = model.get();
  if (trainer_dtype != o.dtype) {
    LOCKSTEP_ASSIGN_OR_RETURN(trainer_weights_storage,
                              RandomInitWeights(config, trainer_dtype, o.seed, 0.05f));
    LOCKSTEP_ASSIGN_OR_RETURN(trainer_model_storage,
                              Transformer::Create(trainer_weights_storage, *backend));
    trainer_model = trainer_model_storage.get();
  }

  const std::vector<GenerationRequest> requests = MakeRequests(o, tokenizer);
  VerifyReport report;
  report.model = {.family = "qwen2",
                  .hidden_size = config.hidden_size,
                  .num_layers = config.num_layers,
                  .num_heads = config.num_heads,
                  .num_kv_heads = config.num_kv_heads,
                  .intermediate_size = config.intermediate_size,
                  .vocab_size = config.vocab_size,
                  .tie_word_embeddings = config.tie_word_embeddings,
                  .parameters = ParameterCount(weights),
                  .seed = o.seed};
  report.backend = std::string(DeviceName(backend->device()));
  report.backend_description = backend->Describe();
  report.mode = backend->mode();
  report.dtype = o.dtype;
  report.trainer_dtype = trainer_dtype;
  report.sequences = static_cast<int64_t>(requests.size());
  report.schedules_agree = true;
  std::vector<GenerationResult> reference;
  std::vector<double> all_diffs;
  LOCKSTEP_ASSIGN_OR_RETURN(const std::vector<Schedule> schedules, SchedulesFor(o.schedules));
  for (const Schedule& schedule : schedules) {
    ScheduleReport s;
    s.name = schedule.name;
    s.max_batch_sequences = std::min(schedule.max_batch_sequences, o.num_sequences);
    s.trainer_micro_batch = schedule.trainer_micro_batch;
    auto t0 = Clock::now();
    LOCKSTEP_ASSIGN_OR_RETURN(std::vector<GenerationResult> results,
                              Generate(*model, requests, schedule, o.seed, KvBlocksFor(o, 16),
                                       &s.engine_steps));
    s.generate_seconds = SecondsSince(t0);
    t0 = Clock::now();
    std::vector<double> diffs;
    LOCKSTEP_RETURN_IF_ERROR(
        Recompute(*trainer_model, requests, results, schedule.trainer_micro_batch, &s, &diffs));
    s.recompute_seconds = SecondsSince(t0);
    all_diffs.insert(all_diffs.end(), diffs.begin(), diffs.end());
    s.abs_logprob_diff = LogprobDiffStats::Of(diffs);
    if (reference.empty()) {
      reference = std::move(results);
    } else if (!SameSamples(reference, results)) {
      report.schedules_agree = false;
    }
    report.tokens += s.tokens;
    report.bitwise_equal += s.bitwise_equal;
    report.outside_candidate_set += s.outside_candidate_set;
    report.max_abs_logprob_diff = std::max(report.max_abs_logprob_diff, s.max_abs_logprob_diff);
    report.schedules.push_back(std::move(s));
  }
  report.abs_logprob_diff = LogprobDiffStats::Of(all_diffs);
  report.samples_digest = SamplesDigest(reference);
  report.seconds = SecondsSince(start);
  return report;
}

nlohmann::json VerifyDocument(const std::vector<VerifyReport>& reports) {
  bool all_passed = !reports.empty();
  nlohmann::json reports_json = nlohmann::json::array();
  for (const VerifyReport& r : reports) {
    all_passed = all_passed && r.passed();
    reports_json.push_back(r.ToJson());
  }
  const nlohmann::json fields = {
      {"tokens", "sampled tokens whose logprob the trainer recomputed"},
      {"bitwise_equal", "tokens whose trainer logprob has the same 32 bits as the rollout's"},
      {"abs_logprob_diff", "|trainer - rollout| logprob over tokens with both finite "
                           "(equal ones count 0): mean, p50, p99, max"},
      {"outside_candidate_set", "sampled tokens the trainer's top-k/top-p set excludes"},
      {"schedules_agree", "every batch schedule sampled the same tokens and logprobs"},
      {"max_batch_sequences", "most sequences the rollout engine ran at once"},
      {"trainer_micro_batch", "sequences per trainer forward in the recompute"},
      {"engine_steps", "rollout engine steps the schedule took"},
      {"negative_control", "trainer dtype differs from the rollout's: a mismatch is expected"}};
  return {{"passed", all_passed}, {"reports", reports_json}, {"fields", fields}};
}

}  // namespace lockstep::jobs
