#include "rewards/math_reward.h"

#include <cctype>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace lockstep::rewards {
namespace {

constexpr __int128 kLimit = static_cast<__int128>(1) << 126;

__int128 Abs(__int128 v) { return v < 0 ? -v : v; }

__int128 Gcd(__int128 a, __int128 b) {
  a = Abs(a);
  b = Abs(b);
  while (b != 0) {
    const __int128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  unsigned __int128 u = negative ? static_cast<unsigned __int128>(-(v + 1)) + 1
                                 : static_cast<unsigned __int128>(v);
  std::string digits;
  while (u > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return negative ? "-" + digits : digits;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

absl::Status TooLarge(std::string_view text) {
  return absl::OutOfRangeError(
      absl::StrCat("number '", std::string(text), "' is too large to compare exactly (> 2^126)"));
}

// Multiplies with a bound check.
bool MulChecked(__int128 a, __int128 b, __int128* out) {
  if (__builtin_mul_overflow(a, b, out)) return false;
  return Abs(*out) < kLimit;
}

absl::StatusOr<ExactNumber> Reduce(__int128 num, __int128 den, std::string_view text) {
  if (den == 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' divides by zero"));
  }
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const __int128 g = Gcd(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  if (num == 0) den = 1;
  return ExactNumber{num, den};
}

// "[-+]digits[,digits]*[.digits][e[-+]digits]" as an exact rational.
absl::StatusOr<ExactNumber> ParseDecimal(std::string_view text) {
  std::string_view s = Trim(text);
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is not a number"));
  __int128 num = 0, den = 1;
  bool any_digit = false, in_fraction = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      any_digit = true;
      if (!MulChecked(num, 10, &num)) return TooLarge(text);
      num += c - '0';
      if (in_fraction && !MulChecked(den, 10, &den)) return TooLarge(text);
    } else if (c == ',' && !in_fraction && any_digit) {
      // Thousands separator: exactly three digits follow, then no fourth.
      bool three = true;
      for (size_t j = 1; j <= 3 && three; ++j) {
        three = i + j < s.size() && std::isdigit(static_cast<unsigned char>(s[i + j]));
      }
      if (!three || (i + 4 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 4])))) {
        return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is not a number"));
      }
    } else if (c == '.' && !in_fraction) {
      in_fraction = true;
    } else {
      break;
    }
  }
  if (!any_digit) return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is not a number"));
  if (i < s.size()) {
    if (s[i] != 'e' && s[i] != 'E') {
      return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is not a number"));
    }
    std::string_view e = s.substr(i + 1);
    bool exp_negative = false;
    if (!e.empty() && (e[0] == '-' || e[0] == '+')) {
      exp_negative = e[0] == '-';
      e.remove_prefix(1);
    }
    if (e.empty() || e.size() > 3) {
      return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is not a number"));
    }
    int exponent = 0;
    for (char c : e) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is not a number"));
      }
      exponent = exponent * 10 + (c - '0');
    }
    for (int k = 0; k < exponent; ++k) {
      if (!MulChecked(exp_negative ? den : num, 10, exp_negative ? &den : &num)) return TooLarge(text);
    }
  }
  return Reduce(negative ? -num : num, den, text);
}

// The {...} group starting at s[pos] == '{'; returns its content and moves pos past it.
std::optional<std::string_view> BraceGroup(std::string_view s, size_t* pos) {
  if (*pos >= s.size() || s[*pos] != '{') return std::nullopt;
  int depth = 0;
  for (size_t i = *pos; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) {
      std::string_view content = s.substr(*pos + 1, i - *pos - 1);
      *pos = i + 1;
      return content;
    }
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<ExactNumber> ExactNumber::Parse(std::string_view text) {
  std::string_view s = Trim(text);
  // Strip one pair of $...$ and a trailing period ("the answer is 7.").
  if (s.size() >= 2 && s.front() == '$' && s.back() == '$') s = Trim(s.substr(1, s.size() - 2));
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  bool negative = false;
  std::string_view body = s;
  if (!body.empty() && body[0] == '-') {
    negative = true;
    body = Trim(body.substr(1));
  }
  for (std::string_view frac : {"\\frac", "\\dfrac", "\\tfrac"}) {
    if (body.substr(0, frac.size()) == frac) {
      size_t pos = frac.size();
      auto a = BraceGroup(body, &pos);
      auto b = BraceGroup(body, &pos);
      if (!a || !b || Trim(body.substr(pos)).size() != 0) {
        return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' is a malformed \\frac"));
      }
      auto top = ExactNumber::Parse(*a);
      if (!top.ok()) return top.status();
      auto bottom = ExactNumber::Parse(*b);
      if (!bottom.ok()) return bottom.status();
      __int128 n, d;
      if (!MulChecked(top->num, bottom->den, &n) || !MulChecked(top->den, bottom->num, &d)) {
        return TooLarge(text);
      }
      return Reduce(negative ? -n : n, d, text);
    }
  }
  const size_t slash = body.find('/');
  if (slash != std::string_view::npos) {
    auto top = ParseDecimal(body.substr(0, slash));
    if (!top.ok()) return top.status();
    auto bottom = ParseDecimal(body.substr(slash + 1));
    if (!bottom.ok()) return bottom.status();
    __int128 n, d;
    if (!MulChecked(top->num, bottom->den, &n) || !MulChecked(top->den, bottom->num, &d)) {
      return TooLarge(text);
    }
    return Reduce(negative ? -n : n, d, text);
  }
  auto value = ParseDecimal(body);
  if (!value.ok()) return value.status();
  if (negative) value->num = -value->num;
  return value;
}

long double ExactNumber::ToLongDouble() const {
  return static_cast<long double>(num) / static_cast<long double>(den);
}

std::string ExactNumber::ToString() const {
  return den == 1 ? Int128ToString(num) : Int128ToString(num) + "/" + Int128ToString(den);
}

std::optional<std::string> ExtractBoxed(std::string_view completion) {
  std::optional<std::string> last;
  size_t best_start = 0;
  for (std::string_view macro : {"\\boxed", "\\fbox"}) {
    size_t at = 0;
    while ((at = completion.find(macro, at)) != std::string_view::npos) {
      size_t pos = at + macro.size();
      while (pos < completion.size() && completion[pos] == ' ') ++pos;
      const size_t start = at;
      at = pos;
      if (auto content = BraceGroup(completion, &pos)) {
        // Keep the one that starts last in the text.
        if (!last || start > best_start) {
          last = std::string(Trim(*content));
          best_start = start;
        }
      }
    }
  }
  return last;
}

std::optional<std::string> ExtractLastNumber(std::string_view s) {
  // Scan backwards for the last digit, then extend over the number's characters.
  size_t end = s.size();
  while (end > 0 && !std::isdigit(static_cast<unsigned char>(s[end - 1]))) --end;
  if (end == 0) return std::nullopt;
  size_t begin = end;
  auto part_of_number = [&](size_t i) {
    const char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) return true;
    // '.', ',' and '/' only between digits.
    if ((c == '.' || c == ',' || c == '/') && i > 0 && i + 1 < s.size() &&
        std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      return true;
    }
    return false;
  };
  while (begin > 0 && part_of_number(begin - 1)) --begin;
  if (begin > 0 && s[begin - 1] == '-' &&
      (begin == 1 || !std::isalnum(static_cast<unsigned char>(s[begin - 2])))) {
    --begin;
  }
  std::string number(s.substr(begin, end - begin));
  // A comma group that is not a thousands separator ("1,2") means a list: keep the last item.
  if (!ExactNumber::Parse(number).ok()) {
    const size_t comma = number.rfind(',');
    if (comma != std::string::npos) number = number.substr(comma + 1);
  }
  return number;
}

absl::StatusOr<MathAnswerReward> MathAnswerReward::Create(std::string reference,
                                                          MathRewardOptions options) {
  if (options.abs_tolerance < 0 || options.rel_tolerance < 0 ||
      !std::isfinite(options.abs_tolerance) || !std::isfinite(options.rel_tolerance)) {
    return absl::InvalidArgumentError("math reward tolerances must be finite and >= 0");
  }
  std::optional<ExactNumber> number;
  if (auto parsed = ExactNumber::Parse(reference); parsed.ok()) number = *parsed;
  return MathAnswerReward(std::move(reference), number, options);
}

RewardResult MathAnswerReward::Score(const RewardSample& sample) const {
  return ScoreText(sample.completion);
}

RewardResult MathAnswerReward::ScoreText(std::string_view completion) const {
  RewardResult result;
  std::optional<std::string> answer = ExtractBoxed(completion);
  std::string where = "\\boxed{}";
  if (!answer && options_.last_number_fallback) {
    answer = ExtractLastNumber(completion);
    where = "last number";
  }
  if (!answer) {
    result.status = RewardStatus::kNoAnswer;
    result.detail = options_.last_number_fallback ? "no \\boxed{} and no number in the completion"
                                                  : "no \\boxed{} in the completion";
    return result;
  }
  bool correct = false;
  if (number_) {
    auto got = ExactNumber::Parse(*answer);
    if (!got.ok()) {
      result.status = RewardStatus::kWrongAnswer;
      result.detail = absl::StrCat(where, " '", *answer, "' is not a number: ", got.status().message());
      return result;
    }
    if (options_.abs_tolerance == 0 && options_.rel_tolerance == 0) {
      correct = *got == *number_;
    } else {
      const long double want = number_->ToLongDouble();
      const long double diff = std::fabs(got->ToLongDouble() - want);
      correct = diff <= options_.abs_tolerance + options_.rel_tolerance * std::fabs(want);
    }
  } else {
    correct = Trim(*answer) == Trim(reference_);
  }
  result.status = correct ? RewardStatus::kOk : RewardStatus::kWrongAnswer;
  result.value = correct ? 1.0 : 0.0;
  result.detail = absl::StrCat(where, " '", *answer, "' ", correct ? "==" : "!=", " reference '",
                               reference_, "'");
  return result;
}

}  // namespace lockstep::rewards
