#include "model/chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "numerics/fnv1a.h"
#include "numerics/status_macros.h"

namespace lockstep {
namespace {

// Hashes of the exact template texts the renderers below reproduce.
constexpr uint64_t kQwen25Hash = 0xc2b27ee60f1b8775ull;  // Qwen2.5-*-Instruct
constexpr uint64_t kQwen3Hash = 0x2bfdb7aa9754484eull;   // Qwen3-*
constexpr uint64_t kLlama3Hash = 0x74891e390e614ae2ull;  // Meta-Llama-3-8B-Instruct

// Python/Jinja str.strip('\n') family on '\n' only, and trim on whitespace.
std::string LStrip(std::string s, const char* chars) {
  s.erase(0, s.find_first_not_of(chars));
  return s;
}
std::string RStrip(std::string s, const char* chars) {
  const size_t end = s.find_last_not_of(chars);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}
std::string Strip(const std::string& s, const char* chars) {
  return LStrip(RStrip(s, chars), chars);
}
constexpr char kAsciiSpace[] = " \t\n\r\v\f";

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool EndsWith(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

absl::Status CheckRoles(const std::vector<ChatMessage>& messages) {
  if (messages.empty()) return absl::InvalidArgumentError("chat: no messages");
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant" && r != "tool") {
      return absl::InvalidArgumentError(absl::StrCat(
          "chat: message ", i, " has role '", r,
          "', which the template would drop silently (expected system, user, assistant, tool)"));
    }
  }
  return absl::OkStatus();
}

// The tool-response block shared by the Qwen templates: consecutive tool
// messages share one user turn.
void AppendToolTurn(const std::vector<ChatMessage>& m, size_t i, std::string& out) {
  if (i == 0 || m[i - 1].role != "tool") out += "<|im_start|>user";
  out += "\n<tool_response>\n" + m[i].content + "\n</tool_response>";
  if (i + 1 == m.size() || m[i + 1].role != "tool") out += "<|im_end|>\n";
}

std::string RenderQwen25(const std::vector<ChatMessage>& m, const ChatOptions& options) {
  std::string out;
  if (m[0].role == "system") {
    out += "<|im_start|>system\n" + m[0].content + "<|im_end|>\n";
  } else {
    out +=
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
        "assistant.<|im_end|>\n";
  }
  for (size_t i = 0; i < m.size(); ++i) {
    const std::string& role = m[i].role;
    if (role == "user" || (role == "system" && i != 0) || role == "assistant") {
      out += "<|im_start|>" + role + "\n" + m[i].content + "<|im_end|>\n";
    } else if (role == "tool") {
      AppendToolTurn(m, i, out);
    }
  }
  if (options.add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

std::string RenderQwen3(const std::vector<ChatMessage>& m, const ChatOptions& options) {
  std::string out;
  if (m[0].role == "system") out += "<|im_start|>system\n" + m[0].content + "<|im_end|>\n";
  // The last real user query: assistant turns after it keep their reasoning.
  size_t last_query = m.size() - 1;
  for (size_t k = m.size(); k-- > 0;) {
    const std::string& c = m[k].content;
    if (m[k].role == "user" &&
        !(StartsWith(c, "<tool_response>") && EndsWith(c, "</tool_response>"))) {
      last_query = k;
      break;
    }
  }
  for (size_t i = 0; i < m.size(); ++i) {
    const ChatMessage& msg = m[i];
    if (msg.role == "user" || (msg.role == "system" && i != 0)) {
      out += "<|im_start|>" + msg.role + "\n" + msg.content + "<|im_end|>\n";
    } else if (msg.role == "assistant") {
      std::string content = msg.content;
      std::string reasoning;
      if (msg.reasoning_content.has_value()) {
        reasoning = *msg.reasoning_content;
      } else if (const size_t close = content.find("</think>"); close != std::string::npos) {
        // split('</think>')[-1] is the text after the LAST '</think>'; [0] before the first.
        const std::string before = msg.content.substr(0, close);
        content = LStrip(msg.content.substr(msg.content.rfind("</think>") + 8), "\n");
        const std::string trimmed = RStrip(before, "\n");
        const size_t open = trimmed.rfind("<think>");
        reasoning = LStrip(open == std::string::npos ? trimmed : trimmed.substr(open + 7), "\n");
      }
      if (i > last_query && (i + 1 == m.size() || !reasoning.empty())) {
        out += "<|im_start|>assistant\n<think>\n" + Strip(reasoning, "\n") + "\n</think>\n\n" +
               LStrip(content, "\n");
      } else {
        out += "<|im_start|>assistant\n" + content;
      }
      out += "<|im_end|>\n";
    } else if (msg.role == "tool") {
      AppendToolTurn(m, i, out);
    }
  }
  if (options.add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (options.enable_thinking.has_value() && !*options.enable_thinking) {
      out += "<think>\n\n</think>\n\n";
    }
  }
  return out;
}

// Llama-3's template appends the assistant header whatever add_generation_prompt says.
std::string RenderLlama3(const std::vector<ChatMessage>& m, const std::string& bos) {
  std::string out;
  for (size_t i = 0; i < m.size(); ++i) {
    if (i == 0) out += bos;
    out += "<|start_header_id|>" + m[i].role + "<|end_header_id|>\n\n" +
           Strip(m[i].content, kAsciiSpace) + "<|eot_id|>";
  }
  out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

}  // namespace

absl::StatusOr<ChatTemplate> ChatTemplate::FromTokenizerConfig(const nlohmann::json& config,
                                                               const std::string& source) {
  if (!config.is_object() || !config.contains("chat_template") ||
      !config["chat_template"].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": no 'chat_template' string (named template lists are not supported)"));
  }
  const std::string text = config["chat_template"].get<std::string>();
  ChatTemplate t;
  switch (Fnv1a64(text)) {
    case kQwen25Hash:
      t.family_ = Family::kQwen25;
      break;
    case kQwen3Hash:
      t.family_ = Family::kQwen3;
      break;
    case kLlama3Hash:
      t.family_ = Family::kLlama3;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": chat_template (fnv1a64 ", absl::Hex(Fnv1a64(text)), ", ", text.size(),
          " chars) is not one lockstep renders (it knows the Qwen2.5 Instruct, Qwen3 and "
          "Llama-3 Instruct templates exactly; a renderer must be added for others)"));
  }
  if (config.contains("bos_token")) {
    const nlohmann::json& bos = config["bos_token"];
    if (bos.is_string()) t.bos_token_ = bos.get<std::string>();
    if (bos.is_object() && bos.contains("content"))
      t.bos_token_ = bos["content"].get<std::string>();
  }
  return t;
}

absl::StatusOr<ChatTemplate> ChatTemplate::FromFile(const std::string& path) {
  std::string file = path;
  if (std::filesystem::is_directory(file)) {
    file = (std::filesystem::path(file) / "tokenizer_config.json").string();
  }
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open '", file, "'"));
  std::stringstream text;
  text << in.rdbuf();
  try {
    return FromTokenizerConfig(nlohmann::json::parse(text.str()), file);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": not valid JSON: ", e.what()));
  }
}

absl::StatusOr<std::string> ChatTemplate::Render(const std::vector<ChatMessage>& messages,
                                                 const ChatOptions& options) const {
  LOCKSTEP_RETURN_IF_ERROR(CheckRoles(messages));
  switch (family_) {
    case Family::kQwen25:
      return RenderQwen25(messages, options);
    case Family::kQwen3:
      return RenderQwen3(messages, options);
    case Family::kLlama3:
      return RenderLlama3(messages, bos_token_);
  }
  return absl::InternalError("unknown chat template family");
}

absl::StatusOr<std::vector<ChatMessage>> ChatTemplate::MessagesFromJson(
    const nlohmann::json& json) {
  if (!json.is_array()) return absl::InvalidArgumentError("chat messages must be a JSON array");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < json.size(); ++i) {
    const nlohmann::json& m = json[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("chat message ", i, " needs string 'role' and 'content', got ", m.dump()));
    }
    if (m.contains("tool_calls")) {
      return absl::InvalidArgumentError(
          absl::StrCat("chat message ", i, ": tool_calls are not supported"));
    }
    ChatMessage msg{m["role"].get<std::string>(), m["content"].get<std::string>(), std::nullopt};
    if (m.contains("reasoning_content") && m["reasoning_content"].is_string()) {
      msg.reasoning_content = m["reasoning_content"].get<std::string>();
    }
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace lockstep
