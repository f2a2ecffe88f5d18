// Readers of the shared job config sections (jobs/job_sections.h).
#include "jobs/job_sections.h"

#include "absl/strings/str_cat.h"
#include "model/char_tokenizer.h"
#include "numerics/status_macros.h"

namespace lockstep::jobs {
namespace {

// [model] keys that describe a fresh architecture (unused with init_from).
constexpr const char* kArchitectureKeys[] = {
    "model.family",      "model.hidden_size",       "model.num_layers",
    "model.num_heads",   "model.num_kv_heads",      "model.head_dim",
    "model.intermediate_size", "model.max_position_embeddings", "model.rope_theta",
    "model.tie_word_embeddings", "model.attention_bias", "model.init_std", "model.seed"};

}  // namespace

absl::StatusOr<ModelSpec> ReadModelSection(const config::Config& config) {
  ModelSpec spec;
  if (config.Has("model.init_from")) {
    LOCKSTEP_ASSIGN_OR_RETURN(spec.init_from, config.GetString("model.init_from"));
    // The directory's config.json is the architecture; a key that would
    // silently lose to it is an error naming both.
    for (const char* key : kArchitectureKeys) {
      if (config.Has(key)) {
        return absl::InvalidArgumentError(absl::StrCat(
            key, " is set together with model.init_from = \"", spec.init_from,
            "\", which takes the architecture from its config.json; remove ", key));
      }
    }
    return spec;
  }
  ModelConfig& m = spec.architecture;
  LOCKSTEP_ASSIGN_OR_RETURN(std::string family,
                            config.GetStringOneOf("model.family", {"llama", "qwen2", "qwen3"},
                                                  std::string("qwen3")));
  m.family = family == "llama" ? ModelFamily::kLlama
             : family == "qwen2" ? ModelFamily::kQwen2
                                 : ModelFamily::kQwen3;
  m.qk_norm = m.family == ModelFamily::kQwen3;
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t hidden, config.GetIntInRange("model.hidden_size", 8, 65536, 128));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t layers, config.GetIntInRange("model.num_layers", 1, 512, 2));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t heads, config.GetIntInRange("model.num_heads", 1, 1024, 4));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t kv_heads,
                            config.GetIntInRange("model.num_kv_heads", 1, 1024, 2));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t head_dim,
                            config.GetIntInRange("model.head_dim", 2, 1024, hidden / heads));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t inter,
                            config.GetIntInRange("model.intermediate_size", 1, 1 << 20, 2 * hidden));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t max_pos,
                            config.GetIntInRange("model.max_position_embeddings", 1, 1 << 20, 256));
  LOCKSTEP_ASSIGN_OR_RETURN(double theta, config.GetDoubleInRange("model.rope_theta", 1.0,
                                                                  1e12, 10000.0));
  LOCKSTEP_ASSIGN_OR_RETURN(bool tied, config.GetBool("model.tie_word_embeddings", false));
  LOCKSTEP_ASSIGN_OR_RETURN(bool bias, config.GetBool("model.attention_bias",
                                                      m.family == ModelFamily::kQwen2));
  LOCKSTEP_ASSIGN_OR_RETURN(double init_std,
                            config.GetDoubleInRange("model.init_std", 0.0, 10.0, 0.02));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t seed, config.GetIntInRange("model.seed", 0,
                                                               std::numeric_limits<int64_t>::max(), 1));
  m.hidden_size = static_cast<int>(hidden);
  m.num_layers = static_cast<int>(layers);
  m.num_heads = static_cast<int>(heads);
  m.num_kv_heads = static_cast<int>(kv_heads);
  m.head_dim = static_cast<int>(head_dim);
  m.intermediate_size = static_cast<int>(inter);
  m.max_position_embeddings = static_cast<int>(max_pos);
  m.rope_theta = theta;
  m.tie_word_embeddings = tied;
  m.attention_bias = bias;
  m.vocab_size = CharTokenizer().vocab_size();
  if (absl::Status s = m.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("[model] in ", config.source_name(), ": ",
                                                   std::string(s.message())));
  }
  spec.init_std = init_std;
  spec.seed = static_cast<uint64_t>(seed);
  return spec;
}

absl::StatusOr<ModelWeights> BuildModelWeights(const ModelSpec& spec, DType dtype) {
  if (!spec.init_from.empty()) return LoadModelDir(spec.init_from, dtype);
  return RandomInitWeights(spec.architecture, dtype, spec.seed,
                           static_cast<float>(spec.init_std));
}

absl::StatusOr<trainer::TrainerConfig> ReadTrainerSections(const config::Config& config,
                                                           int64_t total_steps) {
  trainer::TrainerConfig t;
  LOCKSTEP_ASSIGN_OR_RETURN(std::string dtype,
                            config.GetStringOneOf("train.dtype", {"bf16", "fp16"}, std::string("bf16")));
  t.dtype = dtype == "fp16" ? DType::kF16 : DType::kBF16;
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t micro, config.GetIntInRange("train.micro_batch", 1, 1 << 20, 4));
  t.micro_batch_sequences = static_cast<int>(micro);
  trainer::OptimizerConfig& o = t.optim;
  LOCKSTEP_ASSIGN_OR_RETURN(o.lr, config.GetDoubleInRange("optim.lr", 1e-12, 10.0, 1e-3));
  LOCKSTEP_ASSIGN_OR_RETURN(o.beta1, config.GetDoubleInRange("optim.beta1", 0.0, 0.999999, 0.9));
  LOCKSTEP_ASSIGN_OR_RETURN(o.beta2, config.GetDoubleInRange("optim.beta2", 0.0, 0.999999, 0.999));
  LOCKSTEP_ASSIGN_OR_RETURN(o.eps, config.GetDoubleInRange("optim.eps", 1e-30, 1.0, 1e-8));
  LOCKSTEP_ASSIGN_OR_RETURN(o.weight_decay,
                            config.GetDoubleInRange("optim.weight_decay", 0.0, 10.0, 0.0));
  LOCKSTEP_ASSIGN_OR_RETURN(o.max_grad_norm,
                            config.GetDoubleInRange("optim.max_grad_norm", 0.0, 1e9, 1.0));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string schedule,
                            config.GetStringOneOf("optim.schedule", {"constant", "warmup", "cosine"},
                                                  std::string("constant")));
  LOCKSTEP_ASSIGN_OR_RETURN(o.schedule, trainer::ParseLrSchedule(schedule));
  LOCKSTEP_ASSIGN_OR_RETURN(o.warmup_steps,
                            config.GetIntInRange("optim.warmup_steps", 0, 1 << 30, 0));
  LOCKSTEP_ASSIGN_OR_RETURN(o.min_lr_ratio,
                            config.GetDoubleInRange("optim.min_lr_ratio", 0.0, 1.0, 0.0));
  o.total_steps = std::max<int64_t>(1, total_steps);
  LOCKSTEP_RETURN_IF_ERROR(o.Validate());
  return t;
}

absl::StatusOr<trainer::PolicyLossConfig> ReadActorSection(const config::Config& config) {
  trainer::PolicyLossConfig p;
  // Names are checked by the library parsers, whose errors name actor.* keys.
  LOCKSTEP_ASSIGN_OR_RETURN(std::string kind, config.GetString("actor.policy_loss", std::string("ppo_clip")));
  LOCKSTEP_ASSIGN_OR_RETURN(p.kind, trainer::ParsePolicyLossKind(kind));
  LOCKSTEP_ASSIGN_OR_RETURN(p.clip_low, config.GetDouble("actor.clip_low", 0.2));
  LOCKSTEP_ASSIGN_OR_RETURN(p.clip_high, config.GetDouble("actor.clip_high", p.clip_low));
  if (config.Has("actor.dual_clip")) {
    LOCKSTEP_ASSIGN_OR_RETURN(double c, config.GetDouble("actor.dual_clip"));
    p.dual_clip = c;
  }
  LOCKSTEP_ASSIGN_OR_RETURN(std::string agg, config.GetString("actor.loss_agg_mode",
                                                              std::string("token-mean")));
  LOCKSTEP_ASSIGN_OR_RETURN(p.aggregation, trainer::ParseLossAggregation(agg));
  LOCKSTEP_ASSIGN_OR_RETURN(int64_t max_len, config.GetInt("actor.max_response_length", 0));
  p.max_response_length = static_cast<int>(max_len);
  LOCKSTEP_ASSIGN_OR_RETURN(p.kl_coef, config.GetDouble("actor.kl_coef", 0.0));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string kl, config.GetString("actor.kl_estimator", std::string("k3")));
  LOCKSTEP_ASSIGN_OR_RETURN(p.kl_estimator, trainer::ParseKlEstimator(kl));
  LOCKSTEP_ASSIGN_OR_RETURN(p.entropy_coef, config.GetDouble("actor.entropy_coef", 0.0));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string corr, config.GetString("actor.rollout_correction",
                                                               std::string("none")));
  LOCKSTEP_ASSIGN_OR_RETURN(p.rollout_correction, trainer::ParseRolloutCorrection(corr));
  LOCKSTEP_ASSIGN_OR_RETURN(p.rollout_correction_cap,
                            config.GetDouble("actor.rollout_correction_cap", 2.0));
  if (absl::Status s = p.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(config.source_name(), ": ",
                                                   std::string(s.message())));
  }
  return p;
}

absl::StatusOr<trainer::AdvantageEstimator> ReadAdvantageEstimator(const config::Config& config) {
  LOCKSTEP_ASSIGN_OR_RETURN(std::string name, config.GetString("algorithm.advantage",
                                                               std::string("grpo")));
  return trainer::ParseAdvantageEstimator(name);
}

}  // namespace lockstep::jobs
