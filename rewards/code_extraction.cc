#include "rewards/code_extraction.h"

#include <cctype>
#include <vector>

#include "sandbox/language.h"

namespace lockstep::rewards {
namespace {

struct Line {
  std::string_view text;  // without the newline
  size_t begin;           // offset of the line in the completion
  size_t end;             // offset just past its newline (or the end)
};

std::vector<Line> SplitLines(std::string_view s) {
  std::vector<Line> lines;
  size_t begin = 0;
  while (begin < s.size()) {
    size_t nl = s.find('\n', begin);
    const size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
    std::string_view text = s.substr(begin, (nl == std::string_view::npos ? s.size() : nl) - begin);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    lines.push_back({text, begin, end});
    begin = end;
  }
  return lines;
}

// If `line` is a fence line, returns its info string (possibly empty).
std::optional<std::string_view> FenceInfo(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  size_t ticks = 0;
  while (i + ticks < line.size() && line[i + ticks] == '`') ++ticks;
  if (ticks < 3) return std::nullopt;
  std::string_view info = line.substr(i + ticks);
  while (!info.empty() && std::isspace(static_cast<unsigned char>(info.front()))) info.remove_prefix(1);
  while (!info.empty() && std::isspace(static_cast<unsigned char>(info.back()))) info.remove_suffix(1);
  if (info.find('`') != std::string_view::npos) return std::nullopt;  // inline code, not a fence
  return info;
}

struct Block {
  std::string_view info;
  std::string code;
  bool in_target;  // prompt-opened block: the target language by construction
};

}  // namespace

bool EndsInsideFence(std::string_view prompt) {
  int fences = 0;
  for (const Line& line : SplitLines(prompt)) {
    if (FenceInfo(line.text)) ++fences;
  }
  return fences % 2 == 1;
}

std::optional<std::string> ExtractCode(std::string_view completion, std::string_view language,
                                       const ExtractionOptions& options) {
  const std::vector<Line> lines = SplitLines(completion);
  std::vector<Block> blocks;
  bool any_fence = false;
  bool open = options.prompt_opens_fence;
  Block current{"", "", options.prompt_opens_fence};
  for (const Line& line : lines) {
    auto info = FenceInfo(line.text);
    if (info) any_fence = true;
    if (!open) {
      if (info) {
        open = true;
        current = Block{*info, "", false};
      }
      continue;
    }
    // Inside a block, only a bare fence closes it.
    if (info && info->empty()) {
      blocks.push_back(std::move(current));
      open = false;
      continue;
    }
    current.code.append(completion.substr(line.begin, line.end - line.begin));
  }
  if (open && (any_fence || options.prompt_opens_fence)) blocks.push_back(std::move(current));
  if (!any_fence && !options.prompt_opens_fence) {
    if (!options.raw_fallback) return std::nullopt;
    return std::string(completion);
  }
  const sandbox::LanguageSpec* target = sandbox::FindLanguage(language);
  auto names_target = [&](std::string_view info) {
    const size_t space = info.find_first_of(" \t{");
    std::string_view word = info.substr(0, space);
    if (word.empty()) return false;
    const sandbox::LanguageSpec* spec = sandbox::FindLanguage(word);
    if (target != nullptr) return spec == target;
    if (word.size() != language.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(word[i])) !=
          std::tolower(static_cast<unsigned char>(language[i]))) {
        return false;
      }
    }
    return true;
  };
  std::vector<const Block*> named, bare;
  for (const Block& b : blocks) {
    if (b.in_target || names_target(b.info)) {
      named.push_back(&b);
    } else if (b.info.empty()) {
      bare.push_back(&b);
    }
  }
  const std::vector<const Block*>& pick = named.empty() ? bare : named;
  if (pick.empty()) return std::nullopt;
  return options.rule == ExtractionRule::kFirst ? pick.front()->code : pick.back()->code;
}

}  // namespace lockstep::rewards
