// The human-readable outputs of `lockstep eval passk`: passk.md (one table per
// k, rows languages, columns models, like the seed experiment's tables, plus
// per-cell sample statuses and problem counts) and passk.html (self-contained:
// the same tables and one inline-SVG chart per language overlaying every
// model's pass@k-vs-k curve with its bootstrap band on shared axes, the
// tabulated ks marked; no script, no external resource). Both say where the
// samples came from.
#pragma once

#include <cstdint>
#include <string>

#include "rewards/passk_eval.h"

namespace lockstep::eval {

// ".93", "1.00", ".00" (two decimals, leading zero dropped, as in the seed tables).
std::string FormatRate(double value);

// What the report is about, beyond the numbers.
struct PassKReportContext {
  std::string title = "pass@k";
  std::string source;          // where the samples came from, in words
  int64_t problems_in_set = 0; // problems the eval covered (after eval.only_problems)
};

std::string PassKMarkdown(const rewards::PassKReport& report, const PassKReportContext& context);
std::string PassKHtml(const rewards::PassKReport& report, const PassKReportContext& context);

}  // namespace lockstep::eval
