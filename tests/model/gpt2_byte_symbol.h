// GPT-2's printable spelling of a byte, as byte-level BPE tokenizer.json files write their
// vocabulary — written out here independently of model/, so tests that build synthetic
// tokenizers do not check model/ against itself.
#pragma once

#include <string>

namespace lockstep::testing_util {

inline std::string Gpt2ByteSymbol(int b) {
  int next = 256, cp = -1;
  for (int x = 0; x <= b; ++x) {
    const bool printable = (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174;
    cp = printable ? x : next++;
  }
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

}  // namespace lockstep::testing_util
