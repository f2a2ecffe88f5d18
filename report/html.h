// HTML text escaping for the reports: everything user- or model-written (prompts,
// completions, config text, series names) goes through EscapeHtml before it is
// placed in a page, so no such text can open a tag or script.
#pragma once

#include <string>
#include <string_view>

namespace lockstep::report {

// Escapes & < > " ' as entities; leaves every other byte (UTF-8 included) alone.
std::string EscapeHtml(std::string_view text);

}  // namespace lockstep::report
