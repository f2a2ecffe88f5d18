// The human-readable outputs of `lockstep eval passk`: passk.md (one table per
// k, rows languages, columns models, like the seed experiment's tables, plus
// per-cell sample statuses) and passk.html (self-contained: the same tables and
// inline-SVG pass@k-vs-k curves with their bootstrap bands; no script, no
// external resource).
#pragma once

#include <string>

#include "rewards/passk_eval.h"

namespace lockstep::eval {

// ".93", "1.00", ".00" (two decimals, leading zero dropped, as in the seed tables).
std::string FormatRate(double value);

std::string PassKMarkdown(const rewards::PassKReport& report, const std::string& title);
std::string PassKHtml(const rewards::PassKReport& report, const std::string& title);

}  // namespace lockstep::eval
