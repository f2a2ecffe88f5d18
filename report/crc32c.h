// CRC-32C (Castagnoli), as TFRecord files frame their records, and the
// "masked" form TFRecord stores. Software table; byte-exact with the
// standard check value crc32c("123456789") = 0xE3069283.
#pragma once

#include <cstdint>
#include <string_view>

namespace lockstep::report {

uint32_t Crc32c(std::string_view bytes);

// TFRecord's mask: rotate right by 15 bits and add 0xa282ead8, so a CRC of
// data that holds CRCs is not itself a CRC-friendly pattern.
uint32_t MaskedCrc32c(std::string_view bytes);

}  // namespace lockstep::report
