#include "trainer/trainer.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "model/safetensors.h"
#include "numerics/cpu/backward.h"
#include "numerics/status_macros.h"
#include "trainer/model_backward.h"

namespace lockstep::trainer {
namespace {

constexpr char kOptimizerFile[] = "optimizer.safetensors";
constexpr char kStateFile[] = "trainer_state.json";
constexpr char kStateFormat[] = "lockstep-trainer-v1";

bool SkipsWeightDecay(const std::string& name) {
  return name.find("norm") != std::string::npos || name.find("bias") != std::string::npos;
}

absl::Status ValidateBatch(const std::vector<TrainSequence>& batch, const ModelConfig& config) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const TrainSequence& s = batch[i];
    if (s.prompt_length < 1 || s.prompt_length > static_cast<int>(s.tokens.size())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "train sequence ", i, ": prompt_length ", s.prompt_length, " must be in [1, ",
          s.tokens.size(), "] (the first token is never predicted)"));
    }
    for (int32_t t : s.tokens) {
      if (t < 0 || t >= config.vocab_size) {
        return absl::InvalidArgumentError(
            absl::StrCat("train sequence ", i, ": token id ", t, " outside vocabulary"));
      }
    }
    LOCKSTEP_RETURN_IF_ERROR(ValidateSamplingParams(s.sampling));
  }
  return absl::OkStatus();
}

// Appends the logprob (and entropy) of every scored token of sequences
// [begin, end) to stats[i], reading the rows ForwardMicroBatch produced: the
// token at position t is predicted by row t - 1 of its sequence. Logprobs come from the
// backend's TokenLogprobs (one call per sequence), the same op the rollout's sampler matches.
absl::Status ScoreMicroBatch(Backend& backend, const std::vector<TrainSequence>& batch,
                             size_t begin, size_t end, const Tensor& logits, bool with_entropy,
                             std::vector<TokenStats>& stats) {
  int64_t row = 0;
  for (size_t i = begin; i < end; ++i) {
    const TrainSequence& s = batch[i];
    const int64_t scored = static_cast<int64_t>(s.tokens.size()) - s.prompt_length;
    const ConstMatrixView rows = logits.AsMatrix().RowRange(row + s.prompt_length - 1, scored);
    const size_t first = stats[i].logprobs.size();
    stats[i].logprobs.resize(first + static_cast<size_t>(scored));
    LOCKSTEP_RETURN_IF_ERROR(backend.TokenLogprobs(
        rows, std::span<const int32_t>(s.tokens).subspan(static_cast<size_t>(s.prompt_length)),
        std::span<const SamplingParams>(&s.sampling, 1),
        std::span<float>(stats[i].logprobs).subspan(first)));
    if (with_entropy) {
      for (int64_t t = 0; t < scored; ++t) {
        stats[i].entropies.push_back(cpu::TokenEntropy(rows.RowRange(t, 1), s.sampling));
      }
    }
    row += static_cast<int64_t>(s.tokens.size()) - 1;
  }
  return absl::OkStatus();
}

}  // namespace

Trainer::Trainer(ModelWeights weights, const TrainerConfig& config)
    : config_(config),
      weights_(std::move(weights)),
      optimizer_(config.optim),
      scaler_(config.dtype == DType::kF16, config.initial_loss_scale,
              config.loss_scale_growth_interval) {}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(const ModelWeights& weights,
                                                         const TrainerConfig& config) {
  LOCKSTEP_RETURN_IF_ERROR(config.optim.Validate());
  if (config.device != Device::kCpu) {
    return absl::FailedPreconditionError(
        "GPU training is not built yet; the trainer runs on device = cpu (rollout engines may "
        "run on cuda: rollout.device = cuda)");
  }
  if (config.micro_batch_sequences < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "train.micro_batch = ", config.micro_batch_sequences, ": must be >= 1"));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights compute, AllocateWeights(weights.config, config.dtype));
  std::unique_ptr<Trainer> trainer(new Trainer(std::move(compute), config));
  for (const auto& [name, tensor] : weights.NamedTensors()) {
    Parameter p;
    p.name = name;
    p.master = tensor->ToFloats();  // exact widening
    p.grad.assign(p.master.size(), 0.0f);
    p.exp_avg.assign(p.master.size(), 0.0f);
    p.exp_avg_sq.assign(p.master.size(), 0.0f);
    p.decay = !SkipsWeightDecay(name);
    trainer->params_.push_back(std::move(p));
  }
  LOCKSTEP_RETURN_IF_ERROR(trainer->RebuildComputeCopy());
  return trainer;
}

absl::Status Trainer::RebuildComputeCopy() {
  auto named = weights_.MutableNamedTensors();
  if (named.size() != params_.size()) {
    return absl::InternalError("trainer: parameter list does not match the model");
  }
  for (size_t i = 0; i < named.size(); ++i) {
    Tensor* t = named[i].second;
    const std::vector<float>& master = params_[i].master;
    for (int64_t j = 0; j < t->numel(); ++j) StoreFromFloat(t->data(), t->dtype(), j, master[j]);
  }
  LOCKSTEP_ASSIGN_OR_RETURN(model_, Transformer::Create(weights_));
  return absl::OkStatus();
}

absl::Status Trainer::ForwardMicroBatch(const std::vector<TrainSequence>& batch, size_t begin,
                                        size_t end, Tensor* logits,
                                        ForwardActivations* acts) const {
  std::vector<std::span<const int32_t>> spans;
  for (size_t i = begin; i < end; ++i) {
    // The last token predicts nothing that is scored, so it is not fed.
    spans.emplace_back(batch[i].tokens.data(), batch[i].tokens.size() - 1);
  }
  return model_->ForwardSequences(spans, logits, acts);
}

absl::StatusOr<std::vector<TokenStats>> Trainer::Score(const std::vector<TrainSequence>& batch,
                                                       bool with_entropy) const {
  LOCKSTEP_RETURN_IF_ERROR(ValidateBatch(batch, weights_.config));
  std::vector<TokenStats> stats(batch.size());
  const size_t mb = static_cast<size_t>(config_.micro_batch_sequences);
  for (size_t begin = 0; begin < batch.size(); begin += mb) {
    const size_t end = std::min(batch.size(), begin + mb);
    Tensor logits;
    LOCKSTEP_RETURN_IF_ERROR(ForwardMicroBatch(batch, begin, end, &logits, nullptr));
    LOCKSTEP_RETURN_IF_ERROR(
        ScoreMicroBatch(model_->backend(), batch, begin, end, logits, with_entropy, stats));
  }
  return stats;
}

absl::StatusOr<StepResult> Trainer::Step(const std::vector<TrainSequence>& batch,
                                         const TokenLossFn& loss) {
  LOCKSTEP_RETURN_IF_ERROR(ValidateBatch(batch, weights_.config));
  if (batch.empty()) return absl::InvalidArgumentError("train step: empty batch");
  const size_t mb = static_cast<size_t>(config_.micro_batch_sequences);
  const int64_t vocab = weights_.config.vocab_size;

  // 1. Forward every micro-batch, keeping activations for the backward.
  struct MicroBatch {
    size_t begin, end;
    Tensor logits;
    ForwardActivations acts;
  };
  std::vector<MicroBatch> micro;
  StepResult result;
  result.stats.resize(batch.size());
  for (size_t begin = 0; begin < batch.size(); begin += mb) {
    MicroBatch m{begin, std::min(batch.size(), begin + mb), {}, {}};
    LOCKSTEP_RETURN_IF_ERROR(ForwardMicroBatch(batch, m.begin, m.end, &m.logits, &m.acts));
    LOCKSTEP_RETURN_IF_ERROR(ScoreMicroBatch(model_->backend(), batch, m.begin, m.end, m.logits,
                                             config_.want_entropy, result.stats));
    for (size_t i = m.begin; i < m.end; ++i) result.tokens += batch[i].num_scored();
    micro.push_back(std::move(m));
  }

  // 2. The loss on the whole batch (so normalisers are global).
  LOCKSTEP_ASSIGN_OR_RETURN(TokenLossResult l, loss(result.stats));
  if (l.grad_logprobs.size() != batch.size()) {
    return absl::InternalError("train step: loss returned gradients for the wrong batch size");
  }
  result.loss = l.loss;
  result.metrics = l.metrics;
  result.loss_scale = scaler_.scale();

  // 3. Backward, micro-batch by micro-batch in order; gradients accumulate.
  ModelGradients grads(weights_);
  const float scale = static_cast<float>(scaler_.scale());
  for (const MicroBatch& m : micro) {
    std::vector<float> dlogits(static_cast<size_t>(m.logits.dim(0) * vocab), 0.0f);
    int64_t row = 0;
    for (size_t i = m.begin; i < m.end; ++i) {
      const TrainSequence& s = batch[i];
      for (int64_t j = 0; j < s.num_scored(); ++j) {
        const int64_t r = row + s.prompt_length + j - 1;
        const ConstMatrixView logits_row = m.logits.AsMatrix().RowRange(r, 1);
        float* d = dlogits.data() + r * vocab;
        const double g = l.grad_logprobs[i][static_cast<size_t>(j)];
        if (g != 0.0) {
          cpu::TokenLogprobBackward(logits_row, s.tokens[s.prompt_length + j], s.sampling,
                                    static_cast<float>(g) * scale, d);
        }
        if (!l.grad_entropies.empty() && l.grad_entropies[i][static_cast<size_t>(j)] != 0.0) {
          cpu::TokenEntropyBackward(logits_row, s.sampling,
                                    static_cast<float>(l.grad_entropies[i][j]) * scale, d);
        }
      }
      row += static_cast<int64_t>(s.tokens.size()) - 1;
    }
    LOCKSTEP_RETURN_IF_ERROR(BackwardSequences(*model_, m.acts, dlogits, &grads));
  }
  auto named = grads.Named();
  for (size_t i = 0; i < params_.size(); ++i) params_[i].grad = std::move(*named[i].second);

  // 4. AdamW on the masters; a non-finite gradient skips the step (FP16).
  result.optimizer = optimizer_.Step(params_, scaler_.scale());
  scaler_.Update(result.optimizer.skipped);
  if (!result.optimizer.skipped) LOCKSTEP_RETURN_IF_ERROR(RebuildComputeCopy());
  return result;
}

absl::Status Trainer::SaveCheckpoint(const std::string& dir, const nlohmann::json& user_state) const {
  namespace fs = std::filesystem;
  if (fs::exists(dir)) {
    return absl::AlreadyExistsError(absl::StrCat("checkpoint ", dir, " already exists"));
  }
  // Written under a temporary name and renamed at the end, so a crash never
  // leaves a directory that looks like a complete checkpoint.
  const std::string partial = dir + ".partial";
  std::error_code ec;
  fs::remove_all(partial, ec);
  LOCKSTEP_RETURN_IF_ERROR(SaveModelDir(weights_, partial));
  std::vector<Tensor> tensors;
  tensors.reserve(params_.size() * 3);
  std::vector<std::pair<std::string, const Tensor*>> named;
  const auto shapes = weights_.NamedTensors();
  for (size_t i = 0; i < params_.size(); ++i) {
    const Parameter& p = params_[i];
    for (const auto& [prefix, values] :
         {std::pair<const char*, const std::vector<float>*>{"master.", &p.master},
          {"exp_avg.", &p.exp_avg},
          {"exp_avg_sq.", &p.exp_avg_sq}}) {
      tensors.push_back(Tensor::FromFloats(DType::kF32, shapes[i].second->shape(), *values));
    }
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    named.emplace_back("master." + params_[i].name, &tensors[3 * i]);
    named.emplace_back("exp_avg." + params_[i].name, &tensors[3 * i + 1]);
    named.emplace_back("exp_avg_sq." + params_[i].name, &tensors[3 * i + 2]);
  }
  LOCKSTEP_RETURN_IF_ERROR(WriteSafetensors((fs::path(partial) / kOptimizerFile).string(), named));
  const nlohmann::json state = {{"format", kStateFormat},
                                {"optimizer_step", optimizer_.step()},
                                {"dtype", std::string(DTypeName(config_.dtype))},
                                {"loss_scaler", scaler_.ToJson()},
                                {"user_state", user_state}};
  {
    std::ofstream out(fs::path(partial) / kStateFile, std::ios::binary);
    out << state.dump(2) << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", partial, "/", kStateFile));
  }
  fs::rename(partial, dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename ", partial, " to ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::LoadCheckpoint(const std::string& dir,
                                                                 const TrainerConfig& config,
                                                                 nlohmann::json* user_state) {
  namespace fs = std::filesystem;
  const std::string state_path = (fs::path(dir) / kStateFile).string();
  std::ifstream in(state_path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("checkpoint ", dir, ": missing ", kStateFile,
                                            " (not a lockstep checkpoint, or incomplete)"));
  }
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(state_path, ": ", e.what()));
  }
  if (state.value("format", "") != kStateFormat) {
    return absl::InvalidArgumentError(absl::StrCat(state_path, ": unknown format"));
  }
  if (state.value("dtype", "") != DTypeName(config.dtype)) {
    return absl::InvalidArgumentError(absl::StrCat(
        state_path, ": checkpoint dtype ", state.value("dtype", "?"), " but the job asks for ",
        std::string(DTypeName(config.dtype)), " (resume with the same train.dtype)"));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights saved, LoadModelDir(dir, config.dtype));
  LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer, Create(saved, config));
  const std::string opt_path = (fs::path(dir) / kOptimizerFile).string();
  LOCKSTEP_ASSIGN_OR_RETURN(SafetensorsFile opt, ReadSafetensors(opt_path));
  for (Parameter& p : trainer->params_) {
    for (const auto& [prefix, values] :
         {std::pair<const char*, std::vector<float>*>{"master.", &p.master},
          {"exp_avg.", &p.exp_avg},
          {"exp_avg_sq.", &p.exp_avg_sq}}) {
      auto it = opt.tensors.find(prefix + p.name);
      if (it == opt.tensors.end() || it->second.numel() != static_cast<int64_t>(values->size()) ||
          it->second.dtype() != DType::kF32) {
        return absl::DataLossError(absl::StrCat(opt_path, ": tensor ", prefix, p.name,
                                                " missing or of the wrong shape/dtype"));
      }
      *values = it->second.ToFloats();
    }
  }
  trainer->optimizer_.set_step(state.value("optimizer_step", int64_t{0}));
  LOCKSTEP_RETURN_IF_ERROR(trainer->scaler_.FromJson(state.at("loss_scaler")));
  LOCKSTEP_RETURN_IF_ERROR(trainer->RebuildComputeCopy());
  // The compute copy is derived from the masters; it must reproduce the
  // saved model.safetensors exactly, or the two files do not belong together.
  const auto a = trainer->weights_.NamedTensors();
  const auto b = saved.NamedTensors();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].second->nbytes() != b[i].second->nbytes() ||
        std::memcmp(a[i].second->data(), b[i].second->data(), a[i].second->nbytes()) != 0) {
      return absl::DataLossError(absl::StrCat("checkpoint ", dir, ": ", a[i].first,
                                              " in model.safetensors does not match the "
                                              "optimizer's master weights"));
    }
  }
  if (user_state != nullptr) *user_state = state.value("user_state", nlohmann::json::object());
  return trainer;
}

TokenLossFn NextTokenLoss() {
  return [](const std::vector<TokenStats>& stats) -> absl::StatusOr<TokenLossResult> {
    int64_t tokens = 0;
    for (const TokenStats& s : stats) tokens += static_cast<int64_t>(s.logprobs.size());
    if (tokens == 0) return absl::InvalidArgumentError("next-token loss: no scored tokens");
    TokenLossResult r;
    const double w = 1.0 / static_cast<double>(tokens);
    for (const TokenStats& s : stats) {
      r.grad_logprobs.emplace_back(s.logprobs.size(), -w);
      for (float lp : s.logprobs) r.loss -= w * lp;
    }
    r.metrics["train/loss"] = r.loss;
    r.metrics["train/tokens"] = tokens;
    return r;
  };
}

}  // namespace lockstep::trainer
