#include "jobs/grpo_options.h"

#include "absl/strings/str_cat.h"
#include "jobs/job_sections.h"
#include "model/kv_cache_sizing.h"
#include "numerics/status_macros.h"

namespace lockstep::jobs {
namespace {

absl::Status ReadTask(const config::Config& c, GrpoTaskOptions* t) {
  LOCKSTEP_ASSIGN_OR_RETURN(t->kind, c.GetStringOneOf("task.kind", {"arithmetic", "python_expression"},
                                                      std::string("arithmetic")));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t digits, c.GetIntInRange("task.max_digits", 1, 9, 2));
  t->arithmetic.max_digits = static_cast<int>(digits);
  LOCKSTEP_ASSIGN_OR_RETURN(t->arithmetic.operators, c.GetString("task.operators", std::string("+")));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t seed, c.GetIntInRange("task.seed", 0, int64_t{1} << 62, 11));
  t->seed = static_cast<uint64_t>(seed);
  LOCKSTEP_ASSIGN_OR_RETURN(t->time_limit_s, c.GetDoubleInRange("task.time_limit_s", 0.1, 60.0, 2.0));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t mem, c.GetIntInRange("task.memory_limit_mb", 16, 65536, 256));
  t->memory_limit_mb = static_cast<int>(mem);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t retries, c.GetIntInRange("task.max_sandbox_retries", 0, 100, 3));
  t->max_sandbox_retries = static_cast<int>(retries);
  return absl::OkStatus();
}

// task.prompt_format / task.system_prompt: "chat" loads model.init_from's chat
// template (a config error naming the key and the directory when there is none);
// with the char tokenizer every character it writes must be one the tokenizer has
// (a byte-level HF tokenizer encodes any text).
absl::Status ReadPromptFormat(const config::Config& c, const ModelSpec& model, GrpoTaskOptions* t) {
  LOCKSTEP_ASSIGN_OR_RETURN(std::string format, c.GetStringOneOf("task.prompt_format", {"raw", "chat"},
                                                                 std::string("raw")));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string system, c.GetString("task.system_prompt", std::string()));
  if (format != "chat") {
    if (!system.empty()) {
      return absl::InvalidArgumentError(
          "task.system_prompt is set but task.prompt_format is \"raw\"; set task.prompt_format = \"chat\"");
    }
    return absl::OkStatus();
  }
  if (model.init_from.empty()) {
    return absl::InvalidArgumentError(
        "task.prompt_format = \"chat\" needs model.init_from = a model directory whose "
        "tokenizer_config.json has a chat template (a fresh [model] architecture has none)");
  }
  LOCKSTEP_ASSIGN_OR_RETURN(t->chat, ChatPrompter::ForModelDir(model.init_from, "task.prompt_format",
                                                               std::move(system)));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string sample, GrpoPromptText(t->chat, "1+1="));
  if (!t->tokenizer->is_char()) return absl::OkStatus();
  for (int32_t id : t->tokenizer->Encode(sample)) {
    if (id == CharTokenizer::kUnk) {
      return absl::InvalidArgumentError(absl::StrCat(
          "task.prompt_format = \"chat\": the chat prompt of model '", model.init_from,
          "' (with task.system_prompt) has characters outside the char tokenizer's alphabet "
          "(printable ASCII and newline): ", sample));
    }
  }
  return absl::OkStatus();
}

// The longest prompt of the task in tokens: the (rendered) text of the widest
// operands as the task tokenizes it. The char tokenizer spells every digit, so
// that prompt is the longest. BPE pre-tokenizers (GPT-2, Qwen2, Llama-3) split
// digit runs from everything else and take between 1 and max_digits tokens for
// a run, so another prompt is at most 2 * (max_digits - 1) tokens longer.
absl::StatusOr<int64_t> LongestPromptTokens(const GrpoTaskOptions& t) {
  const std::string operand(static_cast<size_t>(t.arithmetic.max_digits), '9');
  LOCKSTEP_ASSIGN_OR_RETURN(std::string text, GrpoPromptText(t.chat, operand + "+" + operand + "="));
  const TextTokenizer& tokenizer = *t.tokenizer;
  const int64_t tokens =
      static_cast<int64_t>((t.chat ? tokenizer.EncodeChat(text) : tokenizer.EncodePrompt(text)).size());
  return tokens + (tokenizer.is_char() ? 0 : 2 * (t.arithmetic.max_digits - 1));
}

// model.init_from's tokenizer (tokenizer.json, else the char tokenizer); a
// fresh [model] architecture uses the char tokenizer.
absl::StatusOr<std::shared_ptr<const TextTokenizer>> TokenizerOf(const ModelSpec& spec) {
  if (spec.init_from.empty()) return std::make_shared<const TextTokenizer>(TextTokenizer::Char());
  absl::StatusOr<std::shared_ptr<const TextTokenizer>> tokenizer = LoadModelDirTokenizer(spec.init_from);
  if (!tokenizer.ok()) {
    return absl::Status(tokenizer.status().code(),
                        absl::StrCat("model.init_from = \"", spec.init_from,
                                     "\": its tokenizer: ", tokenizer.status().message()));
  }
  return tokenizer;
}

// The model's embedding rows must cover the tokenizer's ids. lockstep's char
// models have exactly the char vocabulary; HF checkpoints often pad the
// embedding beyond tokenizer.json's ids, which is fine.
absl::Status CheckVocabulary(const ModelSpec& spec, const ModelConfig& architecture,
                             const TextTokenizer& tokenizer) {
  if (tokenizer.is_char()) {
    if (architecture.vocab_size == tokenizer.vocab_size()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "[model]: vocab_size ", architecture.vocab_size,
        " does not match the character tokenizer of the GRPO tasks (", tokenizer.vocab_size(),
        "); start from a model lockstep pretrained (lockstep pretrain) or an HF model directory "
        "with a tokenizer.json"));
  }
  if (architecture.vocab_size >= tokenizer.vocab_size()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "model.init_from = \"", spec.init_from, "\": config.json's vocab_size ", architecture.vocab_size,
      " is smaller than the ", tokenizer.vocab_size(), " ids of ", tokenizer.source(),
      "; is it the model's tokenizer?"));
}

absl::Status ReadRollout(const config::Config& c, GrpoRolloutOptions* r) {
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t engines, c.GetIntInRange("rollout.engines", 1, 64, 1));
  r->engines = static_cast<int>(engines);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t n, c.GetIntInRange("rollout.n", 1, 1024, 8));
  r->samples_per_prompt = static_cast<int>(n);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t max_new, c.GetIntInRange("rollout.max_new_tokens", 1, 1 << 20, 8));
  r->max_new_tokens = static_cast<int>(max_new);
  LOCKSTEP_ASSIGN_OR_RETURN(double temperature, c.GetDoubleInRange("rollout.temperature", 0.0, 100.0, 1.0));
  r->sampling.temperature = static_cast<float>(temperature);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t top_k, c.GetIntInRange("rollout.top_k", 0, 1 << 30, 0));
  r->sampling.top_k = static_cast<int>(top_k);
  LOCKSTEP_ASSIGN_OR_RETURN(double top_p, c.GetDoubleInRange("rollout.top_p", 1e-6, 1.0, 1.0));
  r->sampling.top_p = static_cast<float>(top_p);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t seed, c.GetIntInRange("rollout.seed", 0, int64_t{1} << 62, 1));
  r->seed = static_cast<uint64_t>(seed);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t staleness, c.GetIntInRange("rollout.max_staleness", 0, 1, 0));
  r->max_staleness = static_cast<int>(staleness);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t max_batch, c.GetIntInRange("rollout.max_batch", 1, 1 << 16, 64));
  r->max_batch = static_cast<int>(max_batch);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t kv_blocks, c.GetIntInRange("rollout.kv_blocks", 1, 1 << 24, 512));
  r->kv_blocks = static_cast<int>(kv_blocks);
  LOCKSTEP_ASSIGN_OR_RETURN(r->transport, c.GetStringOneOf("rollout.transport", {"ipc", "tcp"},
                                                           std::string("ipc")));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t port, c.GetIntInRange("rollout.base_port", 0, 65535, 0));
  r->base_port = static_cast<int>(port);
  LOCKSTEP_ASSIGN_OR_RETURN(r->engine_timeout_s,
                            c.GetDoubleInRange("rollout.engine_timeout_s", 0.5, 3600.0, 30.0));
  // The engines' backend: rollout.device, else the job's top-level `device` (so
  // `--set device=cuda` puts the job on the GPU as far as it can go today); the trainer
  // stays on the CPU (TrainerConfig::device) until GPU training exists.
  LOCKSTEP_ASSIGN_OR_RETURN(const std::string job_device,
                            c.GetStringOneOf("device", {"cpu", "cuda"}, std::string("cpu")));
  LOCKSTEP_ASSIGN_OR_RETURN(r->device, c.GetStringOneOf("rollout.device", {"cpu", "cuda"},
                                                        job_device));
  LOCKSTEP_ASSIGN_OR_RETURN(r->mode, c.GetStringOneOf("rollout.mode", {"invariant", "fast"},
                                                      std::string("invariant")));
  // KV cache size: a block count, or a fraction of the engine's free memory (cuda's default
  // unless rollout.kv_blocks is given; see kDefaultCudaKvMemoryFraction).
  const double fraction_default =
      r->device == "cuda" && !c.Has("rollout.kv_blocks") ? kDefaultCudaKvMemoryFraction : 0.0;
  LOCKSTEP_ASSIGN_OR_RETURN(r->kv_memory_fraction, c.GetDoubleInRange("rollout.kv_memory_fraction",
                                                                      0.0, 1.0, fraction_default));
  LOCKSTEP_RETURN_IF_ERROR(
      ValidateKvMemoryFraction(r->kv_memory_fraction, "rollout.kv_memory_fraction"));
  if (r->kv_memory_fraction > 0.0 && c.Has("rollout.kv_blocks")) {
    return absl::InvalidArgumentError(
        "rollout.kv_blocks and rollout.kv_memory_fraction both size the KV cache: set one "
        "(kv_memory_fraction = 0 keeps kv_blocks)");
  }
  return absl::OkStatus();
}

// The model's config: the spec's architecture, or init_from's config.json.
absl::StatusOr<ModelConfig> ArchitectureOf(const ModelSpec& spec) {
  if (spec.init_from.empty()) return spec.architecture;
  absl::StatusOr<ModelConfig> config = LoadModelConfig(spec.init_from);
  if (absl::IsNotFound(config.status())) {
    return absl::NotFoundError(absl::StrCat("model.init_from = \"", spec.init_from, "\": ",
                                            config.status().message(),
                                            " (an HF-layout model directory, e.g. RUN/final of "
                                            "lockstep pretrain)"));
  }
  return config;
}

}  // namespace

absl::StatusOr<GrpoOptions> ReadGrpoOptions(const config::Config& c) {
  GrpoOptions o;
  LOCKSTEP_ASSIGN_OR_RETURN(o.steps, c.GetIntInRange("train.steps", 1, 1 << 30, 60));
  LOCKSTEP_ASSIGN_OR_RETURN(o.trainer, ReadTrainerSections(c, o.steps));
  LOCKSTEP_ASSIGN_OR_RETURN(o.model, ReadModelSection(c));
  LOCKSTEP_ASSIGN_OR_RETURN(o.architecture, ArchitectureOf(o.model));
  LOCKSTEP_ASSIGN_OR_RETURN(o.loss, ReadActorSection(c));
  LOCKSTEP_ASSIGN_OR_RETURN(o.advantage.estimator, ReadAdvantageEstimator(c));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string std_norm,
                            c.GetStringOneOf("algorithm.std_normalization",
                                             {"unbiased", "population"}, std::string("unbiased")));
  LOCKSTEP_ASSIGN_OR_RETURN(o.advantage.std_normalization, trainer::ParseStdNormalization(std_norm));
  o.trainer.want_entropy = true;  // actor/entropy is a per-step metric
  LOCKSTEP_RETURN_IF_ERROR(ReadTask(c, &o.task));
  LOCKSTEP_ASSIGN_OR_RETURN(o.task.tokenizer, TokenizerOf(o.model));
  LOCKSTEP_RETURN_IF_ERROR(ReadPromptFormat(c, o.model, &o.task));
  LOCKSTEP_RETURN_IF_ERROR(ReadRollout(c, &o.rollout));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t workers, c.GetIntInRange("sandbox.workers", 1, 256, 2));
  o.sandbox_workers = static_cast<int>(workers);
  LOCKSTEP_ASSIGN_OR_RETURN(o.sandbox_timeout_s,
                            c.GetDoubleInRange("sandbox.timeout_s", 1.0, 3600.0, 60.0));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t prompts, c.GetIntInRange("train.prompts_per_step", 1, 1 << 20, 16));
  o.prompts_per_step = static_cast<int>(prompts);
  LOCKSTEP_ASSIGN_OR_RETURN(o.checkpoint_every,
                            c.GetIntInRange("train.checkpoint_every", 1, 1 << 30, 20));
  LOCKSTEP_ASSIGN_OR_RETURN(o.stop_at_step, c.GetIntInRange("train.stop_at_step", 0, 1 << 30, 0));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t eval, c.GetIntInRange("eval.prompts", 0, 1 << 20, 128));
  o.eval_prompts = static_cast<int>(eval);
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t report, c.GetIntInRange("report.samples_per_step", 0, 1024, 4));
  o.report_samples_per_step = static_cast<int>(report);

  if (o.advantage.estimator == trainer::AdvantageEstimator::kRloo && o.rollout.samples_per_prompt < 2) {
    return absl::InvalidArgumentError("algorithm.advantage = \"rloo\" needs rollout.n >= 2");
  }
  LOCKSTEP_ASSIGN_OR_RETURN(const int64_t prompt_tokens, LongestPromptTokens(o.task));
  if (prompt_tokens + o.rollout.max_new_tokens > o.architecture.max_position_embeddings) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rollout.max_new_tokens = ", o.rollout.max_new_tokens, ": prompts of up to ", prompt_tokens,
        " tokens plus this exceed the model's max_position_embeddings (",
        o.architecture.max_position_embeddings, ")"));
  }
  LOCKSTEP_RETURN_IF_ERROR(CheckVocabulary(o.model, o.architecture, *o.task.tokenizer));
  return o;
}

}  // namespace lockstep::jobs
