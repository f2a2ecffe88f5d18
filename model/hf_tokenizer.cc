#include "model/hf_tokenizer.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "model/unicode_normalize.h"

namespace lockstep {
namespace {

// ---- GPT-2's byte <-> unicode map: every byte gets a printable character so
// BPE vocabularies can be stored as JSON strings. Printable Latin-1 bytes map
// to themselves; the other 68 bytes to U+0100 upward, in byte order. ----

const std::array<uint32_t, 256>& ByteToCodePoint() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      t[b] = printable ? b : next++;
    }
    return t;
  }();
  return table;
}

// Code points 0..323 back to bytes; -1 where no byte maps.
const std::array<int, 324>& CodePointToByte() {
  static const std::array<int, 324> table = [] {
    std::array<int, 324> t;
    t.fill(-1);
    for (int b = 0; b < 256; ++b) t[ByteToCodePoint()[b]] = b;
    return t;
  }();
  return table;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string ByteSymbol(unsigned char b) {
  std::string s;
  AppendUtf8(s, ByteToCodePoint()[b]);
  return s;
}

constexpr uint32_t kInvalidCodePoint = 0xFFFFFFFFu;

struct CodePoint {
  uint32_t cp = 0;  // kInvalidCodePoint for a byte that is not valid UTF-8
  size_t begin = 0;
  size_t len = 0;
};

// Decodes UTF-8; each byte of a malformed sequence becomes its own invalid
// code point, so the spans always tile the input and no byte is lost.
std::vector<CodePoint> DecodeUtf8(std::string_view s) {
  std::vector<CodePoint> out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if (c < 0x80) {
      len = 1, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.push_back({cp, i, len});
      i += len;
    } else {
      out.push_back({kInvalidCodePoint, i, 1});
      i += 1;
    }
  }
  return out;
}

// HF's clean_up_tokenization: these replacements, each over the whole text, in this order.
std::string CleanUpTokenizationSpaces(std::string text) {
  static const std::pair<const char*, const char*> kReplacements[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kReplacements) {
    const std::string f = from, t = to;
    std::string out;
    out.reserve(text.size());
    size_t at = 0;
    for (size_t hit; (hit = text.find(f, at)) != std::string::npos; at = hit + f.size()) {
      out.append(text, at, hit - at);
      out += t;
    }
    out.append(text, at, std::string::npos);
    text = std::move(out);
  }
  return text;
}

absl::Status TokenizerError(const std::string& source, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", problem));
}

const char kQwen2Pattern[] =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
const char kGpt2Pattern[] =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
const char kLlama3Pattern[] =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

bool IsNullOr(const nlohmann::json& j, const char* key, const nlohmann::json& ok) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() || *it == ok;
}

}  // namespace

absl::StatusOr<HfTokenizer> HfTokenizer::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    return TokenizerError(path, absl::StrCat("not valid JSON: ", e.what()));
  }
  return FromJson(json, path);
}

absl::StatusOr<HfTokenizer> HfTokenizer::FromJson(const nlohmann::json& json,
                                                  const std::string& source) {
  try {
    if (!json.is_object()) return TokenizerError(source, "expected a JSON object");
    HfTokenizer t;

    // The pre-tokenizer decides how text splits into words: Split stages with
    // a regex (run by PCRE2), then ByteLevel, whose own GPT-2 regex is one more stage.
    const nlohmann::json pre = json.value("pre_tokenizer", nlohmann::json());
    std::vector<nlohmann::json> stages;
    if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers") &&
        pre["pretokenizers"].is_array()) {
      for (const nlohmann::json& stage : pre["pretokenizers"]) stages.push_back(stage);
    } else {
      stages.push_back(pre);
    }
    if (stages.empty() || !stages.back().is_object() ||
        stages.back().value("type", "") != "ByteLevel") {
      return TokenizerError(source, absl::StrCat("pre_tokenizer ", pre.dump(),
                                                 " is not supported (expected byte-level BPE: "
                                                 "Split stages ending in ByteLevel)"));
    }
    const nlohmann::json* byte_level = &stages.back();
    std::vector<std::string> patterns;
    for (size_t k = 0; k + 1 < stages.size(); ++k) {
      const nlohmann::json& split = stages[k];
      if (!split.is_object() || split.value("type", "") != "Split" || !split.contains("pattern") ||
          !split["pattern"].is_object() || !split["pattern"].contains("Regex")) {
        return TokenizerError(source, absl::StrCat("pre_tokenizer stage ", split.dump(),
                                                   " is not supported (expected Split with a "
                                                   "Regex pattern)"));
      }
      if (split.value("behavior", "") != "Isolated" || split.value("invert", false)) {
        return TokenizerError(source, "pre_tokenizer Split must be Isolated and not inverted");
      }
      patterns.push_back(split["pattern"]["Regex"].get<std::string>());
    }
    if (byte_level->value("use_regex", true)) patterns.push_back(kGpt2Pattern);
    if (patterns.empty()) {
      return TokenizerError(source,
                            "pre_tokenizer ByteLevel with use_regex = false and no Split is not "
                            "supported (words would not be split)");
    }
    for (const std::string& pattern : patterns) {
      absl::StatusOr<Pcre2Regex> regex = Pcre2Regex::Compile(pattern);
      if (!regex.ok()) {
        return TokenizerError(source, absl::StrCat("pre_tokenizer: ", regex.status().message()));
      }
      t.splits_.push_back(std::move(*regex));
    }
    t.pre_tokenizer_ = PreTokenizer::kCustom;
    if (patterns.size() == 1 && patterns[0] == kGpt2Pattern) t.pre_tokenizer_ = PreTokenizer::kGpt2;
    if (patterns.size() == 1 && patterns[0] == kQwen2Pattern) {
      t.pre_tokenizer_ = PreTokenizer::kQwen2;
    }
    if (patterns.size() == 1 && patterns[0] == kLlama3Pattern) {
      t.pre_tokenizer_ = PreTokenizer::kLlama3;
    }
    t.add_prefix_space_ = byte_level->value("add_prefix_space", false);

    const nlohmann::json normalizer = json.value("normalizer", nlohmann::json());
    if (!normalizer.is_null() && normalizer.value("type", "") != "NFC") {
      return TokenizerError(
          source, absl::StrCat("normalizer ", normalizer.dump(), " is not supported (only NFC)"));
    }
    t.nfc_ = !normalizer.is_null();
    const nlohmann::json decoder = json.value("decoder", nlohmann::json());
    if (!decoder.is_null() && decoder.value("type", "") != "ByteLevel") {
      return TokenizerError(source, absl::StrCat("decoder ", decoder.dump(),
                                                 " is not supported (expected ByteLevel)"));
    }

    if (!json.contains("model") || !json["model"].is_object()) {
      return TokenizerError(source, "field 'model' is missing");
    }
    const nlohmann::json& model = json["model"];
    if (model.value("type", "") != "BPE") {
      return TokenizerError(source, absl::StrCat("model.type ", model.value("type", "(missing)"),
                                                 " is not supported (expected BPE)"));
    }
    if (!IsNullOr(model, "dropout", nlohmann::json()) ||
        !IsNullOr(model, "continuing_subword_prefix", "") ||
        !IsNullOr(model, "end_of_word_suffix", "") || !IsNullOr(model, "byte_fallback", false)) {
      return TokenizerError(source,
                            "model uses dropout, subword prefixes/suffixes or byte "
                            "fallback, which byte-level BPE here does not support");
    }
    t.ignore_merges_ = model.value("ignore_merges", false);

    if (!model.contains("vocab") || !model["vocab"].is_object()) {
      return TokenizerError(source, "field 'model.vocab' must be an object");
    }
    int64_t max_id = -1;
    for (const auto& [token, id] : model["vocab"].items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
          id.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
        return TokenizerError(
            source,
            absl::StrCat("model.vocab['", token, "'] must be a non-negative id, got ", id.dump()));
      }
      t.vocab_[token] = static_cast<int32_t>(id.get<int64_t>());
      max_id = std::max(max_id, id.get<int64_t>());
    }

    const nlohmann::json added = json.value("added_tokens", nlohmann::json::array());
    for (const nlohmann::json& a : added) {
      AddedToken tok;
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
          !a.contains("content") || !a["content"].is_string() ||
          a["content"].get<std::string>().empty() || a["id"].get<int64_t>() < 0 ||
          a["id"].get<int64_t>() > std::numeric_limits<int32_t>::max()) {
        return TokenizerError(source, absl::StrCat("added_tokens entry ", a.dump(),
                                                   " needs an id and non-empty content"));
      }
      tok.id = static_cast<int32_t>(a["id"].get<int64_t>());
      tok.content = a["content"].get<std::string>();
      tok.special = a.value("special", false);
      max_id = std::max<int64_t>(max_id, tok.id);
      t.added_.push_back(tok);
    }

    t.id_to_token_.assign(static_cast<size_t>(max_id + 1), "");
    t.is_special_.assign(static_cast<size_t>(max_id + 1), false);
    for (const auto& [token, id] : t.vocab_) {
      if (!t.id_to_token_[id].empty()) {
        return TokenizerError(source, absl::StrCat("model.vocab gives id ", id, " to both '",
                                                   t.id_to_token_[id], "' and '", token, "'"));
      }
      t.id_to_token_[id] = token;
    }
    for (const AddedToken& a : t.added_) {
      // An added token may repeat a vocabulary entry (GPT-2's <|endoftext|>)
      // but must not take the id of a different one.
      if (!t.id_to_token_[a.id].empty() && t.id_to_token_[a.id] != a.content) {
        return TokenizerError(source,
                              absl::StrCat("added token '", a.content, "' has id ", a.id,
                                           ", which belongs to '", t.id_to_token_[a.id], "'"));
      }
      t.id_to_token_[a.id] = a.content;
      t.is_special_[a.id] = a.special;
    }
    for (const AddedToken& a : t.added_) {
      t.added_first_bytes_[static_cast<unsigned char>(a.content[0])] = true;
    }
    // Longest first, so "<|im_start|>" wins over a shorter token it begins with.
    std::stable_sort(t.added_.begin(), t.added_.end(),
                     [](const AddedToken& a, const AddedToken& b) {
                       return a.content.size() > b.content.size();
                     });

    // Every byte must be a token, or some inputs could not be encoded.
    for (int b = 0; b < 256; ++b) {
      if (!t.vocab_.count(ByteSymbol(static_cast<unsigned char>(b)))) {
        return TokenizerError(
            source, absl::StrCat("model.vocab lacks the byte-level token '",
                                 ByteSymbol(static_cast<unsigned char>(b)), "' for byte ", b));
      }
    }

    const nlohmann::json merges = model.value("merges", nlohmann::json::array());
    if (!merges.is_array()) return TokenizerError(source, "field 'model.merges' must be an array");
    for (size_t rank = 0; rank < merges.size(); ++rank) {
      const nlohmann::json& m = merges[rank];
      std::string left, right;
      if (m.is_string()) {  // legacy "left right"
        const std::string s = m.get<std::string>();
        const size_t space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
          return TokenizerError(
              source, absl::StrCat("model.merges[", rank, "] = \"", s, "\" is not two tokens"));
        }
        left = s.substr(0, space);
        right = s.substr(space + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        left = m[0].get<std::string>();
        right = m[1].get<std::string>();
      } else {
        return TokenizerError(source, absl::StrCat("model.merges[", rank, "] = ", m.dump(),
                                                   " is not a pair of tokens"));
      }
      for (const std::string& tok : {left, right, left + right}) {
        if (!t.vocab_.count(tok)) {
          return TokenizerError(
              source, absl::StrCat("model.merges[", rank, "] (", left, " ", right, ") uses '", tok,
                                   "', which is not in model.vocab"));
        }
      }
      // The first listing of a pair is its rank, as in HF.
      t.merge_ranks_.emplace(left + " " + right, static_cast<int32_t>(rank));
    }
    return t;
  } catch (const nlohmann::json::exception& e) {
    return TokenizerError(source, absl::StrCat("malformed tokenizer.json: ", e.what()));
  }
}

std::string HfTokenizer::Normalize(std::string_view text) const {
  return nfc_ ? NormalizeNfc(text) : std::string(text);
}

std::vector<std::string> HfTokenizer::PreTokenize(std::string_view raw) const {
  std::string text = Normalize(raw);
  if (add_prefix_space_ && !text.empty() && text.front() != ' ') text.insert(text.begin(), ' ');
  // Each stage splits every piece into its matches and the gaps between them
  // (HF's "Isolated" behaviour), so the pieces always tile the text.
  std::vector<std::string> pieces = {text};
  for (const Pcre2Regex& regex : splits_) {
    std::vector<std::string> next;
    for (const std::string& piece : pieces) {
      size_t at = 0;
      for (const auto& [begin, end] : regex.FindAll(piece)) {
        if (begin > at) next.push_back(piece.substr(at, begin - at));
        next.push_back(piece.substr(begin, end - begin));
        at = end;
      }
      if (at < piece.size()) next.push_back(piece.substr(at));
    }
    pieces = std::move(next);
  }
  return pieces;
}

void HfTokenizer::EncodeWord(std::string_view word, std::vector<int32_t>& out) const {
  std::vector<std::string> symbols;
  symbols.reserve(word.size());
  for (char c : word) symbols.push_back(ByteSymbol(static_cast<unsigned char>(c)));
  if (ignore_merges_) {
    std::string whole;
    for (const std::string& s : symbols) whole += s;
    if (auto it = vocab_.find(whole); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  // Repeatedly merge the adjacent pair of lowest rank, every occurrence of it
  // left to right, until no adjacent pair has a rank.
  while (symbols.size() > 1) {
    int32_t best = std::numeric_limits<int32_t>::max();
    for (size_t k = 0; k + 1 < symbols.size(); ++k) {
      auto it = merge_ranks_.find(symbols[k] + " " + symbols[k + 1]);
      if (it != merge_ranks_.end()) best = std::min(best, it->second);
    }
    if (best == std::numeric_limits<int32_t>::max()) break;
    std::vector<std::string> merged;
    merged.reserve(symbols.size());
    for (size_t k = 0; k < symbols.size(); ++k) {
      if (k + 1 < symbols.size()) {
        auto it = merge_ranks_.find(symbols[k] + " " + symbols[k + 1]);
        if (it != merge_ranks_.end() && it->second == best) {
          merged.push_back(symbols[k] + symbols[k + 1]);
          ++k;
          continue;
        }
      }
      merged.push_back(std::move(symbols[k]));
    }
    symbols = std::move(merged);
  }
  // FromJson checked that every byte and every merge result is in the vocab.
  for (const std::string& s : symbols) out.push_back(vocab_.at(s));
}

std::vector<int32_t> HfTokenizer::Encode(std::string_view text, bool parse_special) const {
  std::vector<int32_t> ids;
  auto encode_plain = [&](std::string_view segment) {
    if (segment.empty()) return;
    for (const std::string& word : PreTokenize(segment)) EncodeWord(word, ids);
  };
  size_t plain_begin = 0;
  size_t i = 0;
  while (i < text.size()) {
    const AddedToken* match = nullptr;
    if (parse_special && added_first_bytes_[static_cast<unsigned char>(text[i])]) {
      for (const AddedToken& a : added_) {
        if (text.substr(i, a.content.size()) == a.content) {
          match = &a;
          break;
        }
      }
    }
    if (match == nullptr) {
      ++i;
      continue;
    }
    encode_plain(text.substr(plain_begin, i - plain_begin));
    ids.push_back(match->id);
    i += match->content.size();
    plain_begin = i;
  }
  encode_plain(text.substr(plain_begin));
  return ids;
}

std::string HfTokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special,
                                bool clean_up_spaces) const {
  std::string text = DecodeRaw(ids, skip_special);
  return clean_up_spaces ? CleanUpTokenizationSpaces(std::move(text)) : text;
}

std::string HfTokenizer::DecodeRaw(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size() || id_to_token_[id].empty()) continue;
    if (is_special_[id]) {
      if (!skip_special) out += id_to_token_[id];
      continue;
    }
    const bool from_vocab = vocab_.count(id_to_token_[id]) > 0 && vocab_.at(id_to_token_[id]) == id;
    if (!from_vocab) {  // a non-special added token: stored as plain text
      out += id_to_token_[id];
      continue;
    }
    // Byte-level spelling back to bytes; a character outside the byte map
    // (not produced by byte-level BPE) is kept as its UTF-8.
    for (const CodePoint& cp : DecodeUtf8(id_to_token_[id])) {
      if (cp.cp < CodePointToByte().size() && CodePointToByte()[cp.cp] >= 0) {
        out.push_back(static_cast<char>(CodePointToByte()[cp.cp]));
      } else {
        out.append(id_to_token_[id], cp.begin, cp.len);
      }
    }
  }
  return out;
}

int32_t HfTokenizer::TokenId(const std::string& token) const {
  if (auto it = vocab_.find(token); it != vocab_.end()) return it->second;
  for (const AddedToken& a : added_) {
    if (a.content == token) return a.id;
  }
  return -1;
}

std::string HfTokenizer::TokenText(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return "";
  return id_to_token_[id];
}

}  // namespace lockstep
