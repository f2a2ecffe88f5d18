#include "model/hf_tokenizer.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"

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

// ---- Unicode classes used by the pre-tokenizer regexes. \s is Unicode
// White_Space (exact). \p{N} and \p{L} are exact on ASCII and approximate
// beyond: common number ranges are listed, and other non-ASCII characters count
// as letters unless they fall in a punctuation, symbol, mark or private-use
// block listed below. ----

bool IsSpace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool IsNumber(uint32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE) ||
         (c >= 0x660 && c <= 0x669) || (c >= 0x6F0 && c <= 0x6F9) || (c >= 0x966 && c <= 0x96F) ||
         (c >= 0x2070 && c <= 0x2079 && c != 0x2071) || (c >= 0x2080 && c <= 0x2089) ||
         (c >= 0x2150 && c <= 0x2189) || (c >= 0x2460 && c <= 0x249B) ||
         (c >= 0x3007 && c <= 0x3007) || (c >= 0x3021 && c <= 0x3029) ||
         (c >= 0xFF10 && c <= 0xFF19);
}

bool IsLetter(uint32_t c) {
  if (c == kInvalidCodePoint) return false;
  if (c < 0x80) return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  if (IsSpace(c) || IsNumber(c)) return false;
  if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;  // Latin-1 punctuation/symbols
  if (c == 0xD7 || c == 0xF7) return false;                  // × ÷
  const bool not_letter =
      (c >= 0x300 && c <= 0x36F) ||                // combining marks
      c == 0x37E || c == 0x387 ||                  // Greek punctuation
      (c >= 0x482 && c <= 0x489) ||                // Cyrillic signs and marks
      (c >= 0x55A && c <= 0x55F) || c == 0x589 ||  // Armenian punctuation
      (c >= 0x591 && c <= 0x5CF) ||                // Hebrew points and punctuation
      (c >= 0x600 && c <= 0x61F) ||                // Arabic signs and punctuation
      (c >= 0x64B && c <= 0x65F) || c == 0x66A || c == 0x66B || c == 0x66C || c == 0x66D ||
      c == 0x6D4 || (c >= 0x900 && c <= 0x903) || (c >= 0x93A && c <= 0x94F && c != 0x93D) ||
      c == 0x964 || c == 0x965 ||      // Devanagari marks and dandas
      (c >= 0x2000 && c <= 0x2BFF) ||  // punctuation, symbols, arrows, math, shapes
      (c >= 0x2E00 && c <= 0x2E7F) ||  // supplemental punctuation
      (c >= 0x3000 && c <= 0x303F && c != 0x3005 && c != 0x3006) ||  // CJK punctuation
      (c >= 0xD800 && c <= 0xF8FF) ||                                // surrogates, private use
      (c >= 0xFE00 && c <= 0xFE0F) ||                                // variation selectors
      (c >= 0xFE30 && c <= 0xFE6F) ||  // CJK compatibility / small forms
      (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
      (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||    // fullwidth punct
      (c >= 0xFFF0 && c <= 0xFFFF) || (c >= 0x1F000 && c <= 0x1FAFF) ||  // emoji and pictographs
      (c >= 0xE0000);                                                    // tags, private use planes
  return !not_letter;
}

// [^\s\p{L}\p{N}]
bool IsOther(uint32_t c) { return !IsSpace(c) && !IsLetter(c) && !IsNumber(c); }

// ---- The pre-tokenizer regexes as hand-written matchers. Each Match*
// function returns the end (in code points) of the leftmost-first match of the
// whole alternation at `i`; every alternative is tried in the regex's order. ----

class Splitter {
 public:
  Splitter(const std::vector<CodePoint>& cps) : c_(cps), n_(cps.size()) {}

  size_t MatchGpt2(size_t i) const {
    if (size_t e = Contraction(i, /*ignore_case=*/false); e) return e;
    const size_t j = (Cp(i) == ' ') ? i + 1 : i;  // " ?"
    if (j < n_ && IsLetter(Cp(j))) return RunOf(j, IsLetter);
    if (j < n_ && IsNumber(Cp(j))) return RunOf(j, IsNumber);
    if (j < n_ && IsOther(Cp(j))) return RunOf(j, IsOther);
    return Whitespace(i);
  }

  // Qwen2 (max_digits 1) and Llama-3 (max_digits 3).
  size_t MatchQwen(size_t i, size_t max_digits) const {
    if (size_t e = Contraction(i, /*ignore_case=*/true); e) return e;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (IsLetter(Cp(i))) return RunOf(i, IsLetter);
    if (Cp(i) != '\r' && Cp(i) != '\n' && !IsNumber(Cp(i)) && i + 1 < n_ && IsLetter(Cp(i + 1))) {
      return RunOf(i + 1, IsLetter);
    }
    // \p{N}{1,max_digits}
    if (IsNumber(Cp(i))) {
      size_t e = i;
      while (e < n_ && e - i < max_digits && IsNumber(Cp(e))) ++e;
      return e;
    }
    // " ?[^\s\p{L}\p{N}]+[\r\n]*"
    const size_t j = (Cp(i) == ' ') ? i + 1 : i;
    if (j < n_ && IsOther(Cp(j))) {
      size_t e = RunOf(j, IsOther);
      while (e < n_ && (Cp(e) == '\r' || Cp(e) == '\n')) ++e;
      return e;
    }
    // \s*[\r\n]+ : the whitespace run up to and including its last \r or \n.
    if (IsSpace(Cp(i))) {
      const size_t run_end = RunOf(i, IsSpace);
      for (size_t k = run_end; k > i; --k) {
        if (Cp(k - 1) == '\r' || Cp(k - 1) == '\n') return k;
      }
    }
    return Whitespace(i);
  }

 private:
  uint32_t Cp(size_t i) const { return i < n_ ? c_[i].cp : kInvalidCodePoint; }

  size_t RunOf(size_t i, bool (*pred)(uint32_t)) const {
    while (i < n_ && pred(Cp(i))) ++i;
    return i;
  }

  // 's|'t|'re|'ve|'m|'ll|'d, in that order; 0 if none matches.
  size_t Contraction(size_t i, bool ignore_case) const {
    if (Cp(i) != '\'') return 0;
    auto lower = [&](size_t k) -> uint32_t {
      const uint32_t c = Cp(k);
      return ignore_case && c >= 'A' && c <= 'Z' ? c + 32 : c;
    };
    for (const char* suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
      size_t k = 0;
      while (suffix[k] != '\0' && lower(i + 1 + k) == static_cast<uint32_t>(suffix[k])) ++k;
      if (suffix[k] == '\0') return i + 1 + k;
    }
    return 0;
  }

  // \s+(?!\S)|\s+ : a whitespace run, leaving its last character to the next
  // word when a non-space follows (so " world" keeps its space); any other
  // code point as a last resort, so the splitter always advances.
  size_t Whitespace(size_t i) const {
    if (!IsSpace(Cp(i))) return i + 1;
    const size_t run_end = RunOf(i, IsSpace);
    if (run_end == n_ || run_end - i == 1) return run_end;
    return run_end - 1;
  }

  const std::vector<CodePoint>& c_;
  size_t n_;
};

absl::Status TokenizerError(const std::string& source, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", problem));
}

const char kQwen2Pattern[] =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
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

    // The pre-tokenizer decides how text splits into words; only the byte-level
    // regexes we implement by hand are accepted.
    const nlohmann::json pre = json.value("pre_tokenizer", nlohmann::json());
    const nlohmann::json* byte_level = nullptr;
    if (pre.is_object() && pre.value("type", "") == "ByteLevel") {
      if (!pre.value("use_regex", true)) {
        return TokenizerError(source,
                              "pre_tokenizer ByteLevel with use_regex = false is not "
                              "supported (words would not be split)");
      }
      t.pre_tokenizer_ = PreTokenizer::kGpt2;
      byte_level = &pre;
    } else if (pre.is_object() && pre.value("type", "") == "Sequence" &&
               pre.contains("pretokenizers") && pre["pretokenizers"].size() == 2 &&
               pre["pretokenizers"][0].value("type", "") == "Split" &&
               pre["pretokenizers"][1].value("type", "") == "ByteLevel") {
      const nlohmann::json& split = pre["pretokenizers"][0];
      const std::string pattern =
          split.contains("pattern") ? split["pattern"].value("Regex", "") : "";
      if (pattern == kQwen2Pattern) {
        t.pre_tokenizer_ = PreTokenizer::kQwen2;
      } else if (pattern == kLlama3Pattern) {
        t.pre_tokenizer_ = PreTokenizer::kLlama3;
      } else {
        return TokenizerError(source, absl::StrCat("pre_tokenizer Split pattern ", pattern,
                                                   " is not one lockstep implements (GPT-2, "
                                                   "Qwen2, Llama-3)"));
      }
      if (split.value("behavior", "") != "Isolated" || split.value("invert", false)) {
        return TokenizerError(source, "pre_tokenizer Split must be Isolated and not inverted");
      }
      byte_level = &pre["pretokenizers"][1];
    } else {
      return TokenizerError(source, absl::StrCat("pre_tokenizer ", pre.dump(),
                                                 " is not supported (expected byte-level BPE)"));
    }
    t.add_prefix_space_ = byte_level->value("add_prefix_space", false);

    const nlohmann::json normalizer = json.value("normalizer", nlohmann::json());
    if (!normalizer.is_null() && normalizer.value("type", "") != "NFC") {
      return TokenizerError(source,
                            absl::StrCat("normalizer ", normalizer.dump(), " is not supported"));
    }
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

std::vector<std::string> HfTokenizer::PreTokenize(std::string_view text) const {
  std::string prefixed;
  if (add_prefix_space_ && !text.empty() && text.front() != ' ') {
    prefixed.reserve(text.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(text);
    text = prefixed;
  }
  const std::vector<CodePoint> cps = DecodeUtf8(text);
  const Splitter splitter(cps);
  std::vector<std::string> words;
  size_t i = 0;
  while (i < cps.size()) {
    size_t end = 0;
    switch (pre_tokenizer_) {
      case PreTokenizer::kGpt2:
        end = splitter.MatchGpt2(i);
        break;
      case PreTokenizer::kQwen2:
        end = splitter.MatchQwen(i, 1);
        break;
      case PreTokenizer::kLlama3:
        end = splitter.MatchQwen(i, 3);
        break;
    }
    end = std::max(end, i + 1);  // always advance
    const size_t byte_begin = cps[i].begin;
    const size_t byte_end = cps[end - 1].begin + cps[end - 1].len;
    words.emplace_back(text.substr(byte_begin, byte_end - byte_begin));
    i = end;
  }
  return words;
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
    if (parse_special) {
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

std::string HfTokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special) const {
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
