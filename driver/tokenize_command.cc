// `lockstep tokenize --tokenizer PATH [--decode] [--chat] [--json]`: text on
// stdin to token ids on stdout, or (--decode) ids to text, with
// model/hf_tokenizer.h; --chat reads a JSON array of messages and renders it
// with the chat template of tokenizer_config.json (model/chat_template.h) first.
// PATH is a tokenizer.json or a model directory holding one. Exit codes: 0 ok,
// 2 bad usage, an unreadable tokenizer or template, or malformed input.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "driver/commands.h"
#include "model/chat_template.h"
#include "model/hf_tokenizer.h"
#include "nlohmann/json.hpp"

namespace lockstep::driver {
namespace {

struct TokenizeFlags {
  std::string tokenizer;
  bool decode = false;
  bool json = false;
  bool no_special = false;    // encode: added-token text is plain text
  bool skip_special = false;  // decode: drop special tokens
  bool clean_up_spaces = false;  // decode: HF's clean_up_tokenization_spaces
  bool chat = false;          // stdin is chat messages, rendered by the template
  bool no_generation_prompt = false;
  bool no_thinking = false;  // Qwen3: enable_thinking = false
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "lockstep tokenize: %s\n", message.c_str());
  return 2;
}

// The chat template beside the tokenizer renders stdin's messages.
absl::StatusOr<std::string> RenderChat(const std::string& tokenizer_path, const std::string& input,
                                       const TokenizeFlags& flags) {
  const std::string config =
      (std::filesystem::path(tokenizer_path).parent_path() / "tokenizer_config.json").string();
  absl::StatusOr<ChatTemplate> tmpl = ChatTemplate::FromFile(config);
  if (!tmpl.ok()) return tmpl.status();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(input);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("stdin: not valid JSON: ", e.what()));
  }
  if (json.is_object() && json.contains("messages")) json = json["messages"];
  absl::StatusOr<std::vector<ChatMessage>> messages = ChatTemplate::MessagesFromJson(json);
  if (!messages.ok()) return messages.status();
  ChatOptions options;
  options.add_generation_prompt = !flags.no_generation_prompt;
  if (flags.no_thinking) options.enable_thinking = false;
  return tmpl->Render(*messages, options);
}

std::string ReadAllStdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

// Ids as a JSON array, or separated by whitespace and/or commas.
absl::StatusOr<std::vector<int32_t>> ParseIds(const std::string& input) {
  std::vector<int32_t> ids;
  const size_t first = input.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && input[first] == '[') {
    try {
      const nlohmann::json j = nlohmann::json::parse(input);
      for (const nlohmann::json& id : j) {
        if (!id.is_number_integer()) throw std::invalid_argument(id.dump());
        ids.push_back(id.get<int32_t>());
      }
      return ids;
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("stdin: expected a JSON array of integer ids (", e.what(), ")"));
    }
  }
  std::string spaced = input;
  for (char& c : spaced) {
    if (c == ',') c = ' ';
  }
  std::istringstream in(spaced);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || value < INT32_MIN || value > INT32_MAX) {
      return absl::InvalidArgumentError(
          absl::StrCat("stdin: '", word, "' is not a token id (expected integers)"));
    }
    ids.push_back(static_cast<int32_t>(value));
  }
  return ids;
}

int RunTokenize(const TokenizeFlags& flags) {
  std::string path = flags.tokenizer;
  if (std::filesystem::is_directory(path))
    path = (std::filesystem::path(path) / "tokenizer.json").string();
  absl::StatusOr<HfTokenizer> tok = HfTokenizer::FromFile(path);
  if (!tok.ok()) return Fail(std::string(tok.status().message()));
  if (flags.chat && flags.decode) return Fail("--chat and --decode do not go together");
  std::string input = ReadAllStdin();
  if (!flags.decode) {
    if (flags.chat) {
      absl::StatusOr<std::string> text = RenderChat(path, input, flags);
      if (!text.ok()) return Fail(std::string(text.status().message()));
      input = *text;
    }
    const std::vector<int32_t> ids = tok->Encode(input, /*parse_special=*/!flags.no_special);
    if (flags.json) {
      nlohmann::json out = {{"ids", ids}};
      if (flags.chat) out["text"] = input;
      std::printf("%s\n", out.dump().c_str());
    } else {
      std::string line;
      for (int32_t id : ids) absl::StrAppend(&line, line.empty() ? "" : " ", id);
      std::printf("%s\n", line.c_str());
    }
    return 0;
  }
  absl::StatusOr<std::vector<int32_t>> ids = ParseIds(input);
  if (!ids.ok()) {
    std::fprintf(stderr, "lockstep tokenize --decode: %s\n",
                 std::string(ids.status().message()).c_str());
    return 2;
  }
  for (int32_t id : *ids) {
    if (id < 0 || id >= tok->vocab_size() || tok->TokenText(id).empty()) {
      std::fprintf(stderr, "lockstep tokenize --decode: id %d is not in %s (vocab size %d)\n", id,
                   path.c_str(), tok->vocab_size());
      return 2;
    }
  }
  const std::string text = tok->Decode(*ids, flags.skip_special, flags.clean_up_spaces);
  if (flags.json) {
    // Invalid UTF-8 (ids ending mid-character) is replaced so the JSON stays valid.
    std::printf("%s\n", nlohmann::json({{"text", text}})
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else {
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return 0;
}

}  // namespace

void AddTokenizeCommand(CLI::App& app, CommandAction* action) {
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "Text on stdin to token ids (or --decode: ids to text) with a HF tokenizer.json");
  auto flags = std::make_shared<TokenizeFlags>();
  cmd->add_option("--tokenizer", flags->tokenizer,
                  "tokenizer.json, or a model directory that holds one")
      ->required();
  cmd->add_flag("--decode", flags->decode,
                "read ids (whitespace/comma separated, or a JSON array) and print the text");
  cmd->add_flag("--json", flags->json, "print {\"ids\": [...]} or {\"text\": \"...\"}");
  cmd->add_flag("--no-special", flags->no_special,
                "encode added-token text such as <|im_start|> as plain text");
  cmd->add_flag("--skip-special", flags->skip_special, "decode without special tokens");
  cmd->add_flag("--clean-up-spaces", flags->clean_up_spaces,
                "decode with clean_up_tokenization_spaces (\" .\" -> \".\", ...), as "
                "tokenizer_config.json asks for some models");
  cmd->add_flag("--chat", flags->chat,
                "stdin is a JSON array of {role, content} messages, rendered with the chat "
                "template of tokenizer_config.json beside the tokenizer");
  cmd->add_flag("--no-generation-prompt", flags->no_generation_prompt,
                "--chat: end without the assistant prompt");
  cmd->add_flag("--no-thinking", flags->no_thinking, "--chat: enable_thinking = false (Qwen3)");
  cmd->callback([flags, action] { *action = [flags] { return RunTokenize(*flags); }; });
}

}  // namespace lockstep::driver
