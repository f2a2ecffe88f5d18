// Loading a model directory's tokenizer (model/text_tokenizer.h): the char / HF adapters
// and the tokenizer.json / tokenizer_config.json pieces lockstep serve shares.
#include "model/text_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "model/generation_config.h"
#include "numerics/status_macros.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

// tokenizer_config.json spells a token as "text" or {"content": "text", ...}.
std::string TokenContent(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  return "";
}

}  // namespace

TextTokenizer TextTokenizer::Char() {
  TextTokenizer t;
  t.prefix_ = {CharTokenizer::kBos};
  t.eos_ids_ = {CharTokenizer::kEos};
  t.source_ = "char tokenizer";
  return t;
}

TextTokenizer TextTokenizer::Hf(HfTokenizer tokenizer, std::vector<int32_t> prefix,
                                std::vector<int32_t> suffix, std::vector<int32_t> eos_ids,
                                std::string source) {
  TextTokenizer t;
  t.hf_ = std::move(tokenizer);
  t.prefix_ = std::move(prefix);
  t.suffix_ = std::move(suffix);
  t.eos_ids_ = std::move(eos_ids);
  t.source_ = std::move(source);
  return t;
}

int32_t TextTokenizer::vocab_size() const { return hf_ ? hf_->vocab_size() : chars_.vocab_size(); }

std::vector<int32_t> TextTokenizer::Encode(std::string_view text) const {
  return hf_ ? hf_->Encode(text) : chars_.Encode(text);
}

std::string TextTokenizer::Decode(const std::vector<int32_t>& ids) const {
  return hf_ ? hf_->Decode(ids, /*skip_special=*/true) : chars_.Decode(ids);
}

std::vector<int32_t> TextTokenizer::EncodePrompt(std::string_view text) const {
  std::vector<int32_t> ids = prefix_;
  const std::vector<int32_t> body = Encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  return ids;
}

std::vector<int32_t> TextTokenizer::EncodeChat(std::string_view rendered) const {
  if (hf_) return hf_->Encode(rendered);
  return EncodePrompt(rendered);
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  return json;
}

void PostProcessorIds(const nlohmann::json& processor, std::vector<int32_t>& prefix,
                      std::vector<int32_t>& suffix) {
  if (!processor.is_object()) return;
  const std::string type = processor.value("type", "");
  if (type == "Sequence" && processor.contains("processors")) {
    for (const nlohmann::json& p : processor["processors"]) PostProcessorIds(p, prefix, suffix);
    return;
  }
  if (type != "TemplateProcessing" || !processor.contains("single")) return;
  const nlohmann::json specials = processor.value("special_tokens", nlohmann::json::object());
  bool after_sequence = false;
  for (const nlohmann::json& piece : processor["single"]) {
    if (piece.contains("Sequence")) {
      after_sequence = true;
      continue;
    }
    if (!piece.contains("SpecialToken")) continue;
    const std::string id = piece["SpecialToken"].value("id", "");
    if (!specials.contains(id)) continue;
    for (const nlohmann::json& token : specials[id].value("ids", nlohmann::json::array())) {
      (after_sequence ? suffix : prefix).push_back(token.get<int32_t>());
    }
  }
}

std::optional<int32_t> TokenizerConfigEosId(const nlohmann::json& config, const HfTokenizer& tokenizer) {
  if (!config.is_object() || !config.contains("eos_token")) return std::nullopt;
  const int32_t eos = tokenizer.TokenId(TokenContent(config["eos_token"]));
  if (eos < 0) return std::nullopt;
  return eos;
}

absl::StatusOr<TextTokenizer> LoadHfTextTokenizer(const std::string& tokenizer_json_path) {
  LOCKSTEP_ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(tokenizer_json_path));
  LOCKSTEP_ASSIGN_OR_RETURN(HfTokenizer tokenizer, HfTokenizer::FromJson(json, tokenizer_json_path));
  std::vector<int32_t> prefix, suffix, eos;
  if (json.contains("post_processor")) PostProcessorIds(json["post_processor"], prefix, suffix);
  const fs::path config_path = fs::path(tokenizer_json_path).parent_path() / "tokenizer_config.json";
  if (fs::exists(config_path)) {
    LOCKSTEP_ASSIGN_OR_RETURN(nlohmann::json config, ReadJsonFile(config_path.string()));
    if (std::optional<int32_t> id = TokenizerConfigEosId(config, tokenizer)) eos = {*id};
  }
  return TextTokenizer::Hf(std::move(tokenizer), std::move(prefix), std::move(suffix), std::move(eos),
                           tokenizer_json_path);
}

absl::StatusOr<std::shared_ptr<const TextTokenizer>> LoadModelDirTokenizer(const std::string& model_dir) {
  const fs::path json_path = fs::path(model_dir) / "tokenizer.json";
  if (!fs::exists(json_path)) return std::make_shared<const TextTokenizer>(TextTokenizer::Char());
  LOCKSTEP_ASSIGN_OR_RETURN(TextTokenizer tokenizer, LoadHfTextTokenizer(json_path.string()));
  LOCKSTEP_ASSIGN_OR_RETURN(std::optional<GenerationConfig> generation, ReadGenerationConfig(model_dir));
  if (generation && !generation->eos_token_ids.empty()) {
    // generation_config.json's ids take precedence, as in transformers' generate().
    tokenizer.set_eos_ids(generation->eos_token_ids);
  }
  return std::make_shared<const TextTokenizer>(std::move(tokenizer));
}

}  // namespace lockstep
