// Sampling a checkpoint with the rollout engine (eval/engine_source.h).
#include "eval/engine_source.h"

#include <filesystem>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "model/char_tokenizer.h"
#include "model/hf_tokenizer.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "numerics/dtype.h"
#include "numerics/status_macros.h"
#include "rollout/engine.h"

namespace lockstep::eval {

using rewards::EvalSample;

absl::StatusOr<std::vector<EvalSample>> EngineSamples(
    const EngineSourceOptions& options, const rewards::ProblemSet& problems,
    const std::vector<std::string>& languages, const std::string& prompt_template,
    int64_t progress_every, const SampleProgress& progress) {
  namespace fs = std::filesystem;
  LOCKSTEP_ASSIGN_OR_RETURN(DType dtype, ParseDType(options.dtype));
  auto weights = LoadModelDir(options.model_dir, dtype);
  if (!weights.ok()) {
    return absl::Status(weights.status().code(),
                        absl::StrCat("engine.model '", options.model_dir, "': ", weights.status().message()));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(std::unique_ptr<Transformer> model, Transformer::Create(*weights));
  // The tokenizer: the checkpoint's tokenizer.json, else lockstep's char tokenizer.
  std::optional<HfTokenizer> hf;
  const CharTokenizer chars;
  std::vector<int32_t> stops;
  const fs::path tokenizer_path = fs::path(options.model_dir) / "tokenizer.json";
  if (fs::exists(tokenizer_path)) {
    LOCKSTEP_ASSIGN_OR_RETURN(HfTokenizer loaded, HfTokenizer::FromFile(tokenizer_path.string()));
    hf = std::move(loaded);
    for (const std::string& s : options.stop_tokens) {
      if (int32_t id = hf->TokenId(s); id >= 0) stops.push_back(id);
    }
  } else {
    if (weights->config.vocab_size < chars.vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "engine.model '", options.model_dir, "' has no tokenizer.json and a vocabulary of ",
          weights->config.vocab_size, " < the char tokenizer's ", chars.vocab_size()));
    }
    stops.push_back(CharTokenizer::kEos);
  }
  const ChatPrompter* chat = options.chat ? &*options.chat : nullptr;
  if (chat != nullptr && !hf) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prompt.format = \"chat\": engine.model '", options.model_dir,
        "' has a chat template but no tokenizer.json to encode its special tokens"));
  }
  auto encode = [&](const std::string& text) {
    return hf ? hf->Encode(text) : chars.Encode(text);
  };
  auto decode = [&](const std::vector<int32_t>& ids) {
    return hf ? hf->Decode(ids, /*skip_special=*/true) : chars.Decode(ids);
  };

  EngineOptions eo;
  eo.max_batch_sequences = static_cast<int>(options.max_batch_sequences);
  RolloutEngine engine(*model, eo);
  const auto prompts = PromptPairs(problems, languages);
  std::string model_name = options.model_name;
  if (model_name.empty()) model_name = fs::path(options.model_dir).lexically_normal().filename().string();
  if (model_name.empty()) model_name = fs::path(options.model_dir).parent_path().filename().string();
  for (size_t i = 0; i < prompts.size(); ++i) {
    std::vector<int32_t> prompt;
    // A chat-rendered prompt carries its own special tokens (e.g. Llama-3's <|begin_of_text|>).
    if (!hf && !chat) prompt.push_back(CharTokenizer::kBos);
    LOCKSTEP_ASSIGN_OR_RETURN(
        const std::string text,
        TaskPromptText(prompt_template, *prompts[i].first, prompts[i].second, chat));
    for (int32_t t : encode(text)) prompt.push_back(t);
    if (static_cast<int64_t>(prompt.size()) + options.max_tokens > model->max_positions()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "prompt of ", prompts[i].first->id, " (", prompt.size(), " tokens) plus engine.max_tokens = ",
          options.max_tokens, " exceeds the model's ", model->max_positions(),
          " positions; shorten prompt.template or lower engine.max_tokens"));
    }
    for (int64_t j = 0; j < options.samples_per_prompt; ++j) {
      GenerationRequest r;
      r.request_id = static_cast<uint32_t>(i);
      r.sample_index = static_cast<uint32_t>(j);
      r.prompt = prompt;
      r.max_new_tokens = static_cast<int>(options.max_tokens);
      r.sampling.temperature = static_cast<float>(options.temperature);
      r.sampling.top_p = static_cast<float>(options.top_p);
      r.seed = options.seed;
      r.stop_tokens = stops;
      LOCKSTEP_RETURN_IF_ERROR(engine.Submit(std::move(r)));
    }
  }
  const int64_t total = static_cast<int64_t>(prompts.size()) * options.samples_per_prompt;
  std::vector<EvalSample> samples(static_cast<size_t>(total));
  int64_t done = 0;
  while (!engine.Idle()) {
    LOCKSTEP_ASSIGN_OR_RETURN(auto finished, engine.Step());
    for (const GenerationResult& r : finished) {
      const auto& [problem, language] = prompts[r.request_id];
      samples[r.request_id * options.samples_per_prompt + r.sample_index] =
          EvalSample{model_name, problem->id, language, decode(r.tokens)};
      ++done;
      if (progress && progress_every > 0 && (done % progress_every == 0 || done == total)) {
        progress(done, total);
      }
    }
  }
  return samples;
}

}  // namespace lockstep::eval
