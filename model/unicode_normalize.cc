#include "model/unicode_normalize.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

namespace lockstep {
namespace {

std::string NfcOfValidUtf8(std::string_view run) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return std::string(run);  // ICU data missing: leave text as is
  const icu::UnicodeString in =
      icu::UnicodeString::fromUTF8(icu::StringPiece(run.data(), static_cast<int32_t>(run.size())));
  if (nfc->isNormalized(in, status) && U_SUCCESS(status)) return std::string(run);
  status = U_ZERO_ERROR;
  const icu::UnicodeString out = nfc->normalize(in, status);
  if (U_FAILURE(status)) return std::string(run);
  std::string result;
  out.toUTF8String(result);
  return result;
}

}  // namespace

std::string NormalizeNfc(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t run_begin = 0;
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(text.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  while (i < n) {
    const int32_t at = i;
    UChar32 c = 0;
    U8_NEXT(bytes, i, n, c);
    if (c < 0) {  // an invalid sequence (U8_NEXT consumed its bytes): keep them verbatim
      out += NfcOfValidUtf8(text.substr(run_begin, at - run_begin));
      out.append(text.substr(at, i - at));
      run_begin = i;
    }
  }
  out += NfcOfValidUtf8(text.substr(run_begin));
  return out;
}

}  // namespace lockstep
