// Unicode NFC normalization (ICU), as tokenizer.json's "NFC" normalizer
// applies it. Bytes that are not valid UTF-8 are kept as they are, and each
// valid run between them is normalized on its own, so no byte is lost.
#pragma once

#include <string>
#include <string_view>

namespace lockstep {

std::string NormalizeNfc(std::string_view text);

}  // namespace lockstep
