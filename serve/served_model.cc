// Loading and tokenizing for `lockstep serve` (serve/served_model.h).
#include "serve/served_model.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "model/generation_config.h"
#include "model/text_tokenizer.h"
#include "nlohmann/json.hpp"
#include "numerics/dtype.h"
#include "numerics/status_macros.h"

namespace lockstep::serve {
namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<ServedModel>> ServedModel::Load(const ServedModelOptions& options) {
  std::unique_ptr<ServedModel> model(new ServedModel());
  model->dir_ = options.model_dir;
  LOCKSTEP_ASSIGN_OR_RETURN(DType dtype, ParseDType(options.dtype));
  absl::StatusOr<ModelWeights> weights = LoadModelDir(options.model_dir, dtype);
  if (!weights.ok()) {
    return absl::Status(weights.status().code(), absl::StrCat("model '", options.model_dir,
                                                              "': ", weights.status().message()));
  }
  model->weights_ = std::move(*weights);
  LOCKSTEP_ASSIGN_OR_RETURN(model->transformer_, Transformer::Create(model->weights_));
  model->name_ = options.name;
  if (model->name_.empty()) {
    model->name_ = fs::path(options.model_dir).lexically_normal().filename().string();
    if (model->name_.empty()) {
      model->name_ = fs::path(options.model_dir).lexically_normal().parent_path().filename().string();
    }
  }
  const bool explicit_tokenizer = !options.tokenizer.empty();
  LOCKSTEP_RETURN_IF_ERROR(model->LoadTokenizer(
      explicit_tokenizer ? options.tokenizer : options.model_dir, explicit_tokenizer));
  LOCKSTEP_ASSIGN_OR_RETURN(std::optional<GenerationConfig> generation,
                            ReadGenerationConfig(options.model_dir));
  if (generation && !generation->eos_token_ids.empty()) {
    model->stop_token_ids_ = generation->eos_token_ids;
  }
  return model;
}

absl::Status ServedModel::LoadTokenizer(const std::string& path, bool explicit_path) {
  fs::path json_path(path);
  if (fs::is_directory(json_path)) json_path /= "tokenizer.json";
  const fs::path config_path = json_path.parent_path() / "tokenizer_config.json";
  if (!fs::exists(json_path)) {
    if (!explicit_path) {
      // No tokenizer.json beside the weights: lockstep's own char-level models.
      if (vocab_size() < chars_.vocab_size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model '", dir_, "' has no tokenizer.json and a vocabulary of ", vocab_size(),
            " < the char tokenizer's ", chars_.vocab_size(),
            "; pass --tokenizer with the model's tokenizer.json"));
      }
      tokenizer_source_ = "char tokenizer";
      prompt_prefix_ = {CharTokenizer::kBos};
      stop_token_ids_ = {CharTokenizer::kEos};
      chat_error_ = absl::NotFoundError(absl::StrCat(
          "model '", name_, "' has no chat template (no tokenizer_config.json in ", dir_, ")"));
      return absl::OkStatus();
    }
    return absl::NotFoundError(absl::StrCat("tokenizer '", json_path.string(), "' does not exist"));
  }
  LOCKSTEP_ASSIGN_OR_RETURN(nlohmann::json tokenizer_json, ReadJsonFile(json_path.string()));
  LOCKSTEP_ASSIGN_OR_RETURN(HfTokenizer tokenizer,
                            HfTokenizer::FromJson(tokenizer_json, json_path.string()));
  if (tokenizer.vocab_size() > vocab_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        json_path.string(), " has ", tokenizer.vocab_size(), " ids but the model's vocab_size is ",
        vocab_size(), "; is it the model's tokenizer?"));
  }
  hf_ = std::move(tokenizer);
  tokenizer_source_ = json_path.filename().string();
  if (tokenizer_json.contains("post_processor")) {
    PostProcessorIds(tokenizer_json["post_processor"], prompt_prefix_, prompt_suffix_);
  }
  chat_error_ = absl::NotFoundError(absl::StrCat("model '", name_, "' has no chat template (no ",
                                                 config_path.string(), ")"));
  if (fs::exists(config_path)) {
    LOCKSTEP_ASSIGN_OR_RETURN(nlohmann::json config, ReadJsonFile(config_path.string()));
    absl::StatusOr<ChatTemplate> chat = ChatTemplate::FromTokenizerConfig(config, config_path.string());
    if (chat.ok()) {
      chat_ = std::move(*chat);
    } else {
      chat_error_ = chat.status();
    }
    // generation_config.json's ids, read after this, take precedence.
    if (std::optional<int32_t> eos = TokenizerConfigEosId(config, *hf_)) stop_token_ids_ = {*eos};
  }
  return absl::OkStatus();
}

std::string ServedModel::Description() const {
  return absl::StrCat(ModelFamilyName(weights_.config.family), ", ", weights_.config.num_layers,
                      " layers, ", std::string(DTypeName(weights_.dtype)), ", ", max_positions(),
                      " positions, ", tokenizer_source_,
                      chat_ ? ", chat template" : ", no chat template");
}

std::vector<int32_t> ServedModel::EncodePrompt(const std::string& text) const {
  std::vector<int32_t> ids = prompt_prefix_;
  const std::vector<int32_t> body = hf_ ? hf_->Encode(text) : chars_.Encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.insert(ids.end(), prompt_suffix_.begin(), prompt_suffix_.end());
  return ids;
}

std::vector<int32_t> ServedModel::EncodeChat(const std::string& rendered) const {
  return hf_ ? hf_->Encode(rendered) : chars_.Encode(rendered);
}

std::string ServedModel::Decode(const std::vector<int32_t>& ids) const {
  return hf_ ? hf_->Decode(ids, /*skip_special=*/true) : chars_.Decode(ids);
}

std::string ServedModel::DecodeOne(int32_t id) const { return Decode({id}); }

std::string ServedModel::TokenText(int32_t id) const {
  return hf_ ? hf_->Decode({id}, /*skip_special=*/false) : chars_.TokenText(id);
}

absl::StatusOr<std::string> ServedModel::RenderChat(const std::vector<ChatMessage>& messages,
                                                    const ChatOptions& options) const {
  if (!chat_) return chat_error_;
  return chat_->Render(messages, options);
}

}  // namespace lockstep::serve
