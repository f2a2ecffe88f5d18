// Eval status names (eval/sample_status.h).
#include "eval/sample_status.h"

namespace lockstep::eval {

std::string SampleStatusName(rewards::RewardStatus status) {
  if (status == rewards::RewardStatus::kNoAnswer) return kNoCodeStatus;
  return std::string(rewards::RewardStatusName(status));
}

std::map<std::string, int64_t> WithEvalStatusNames(std::map<std::string, int64_t> statuses) {
  const std::string no_answer(rewards::RewardStatusName(rewards::RewardStatus::kNoAnswer));
  auto it = statuses.find(no_answer);
  if (it != statuses.end()) {
    statuses[kNoCodeStatus] += it->second;
    statuses.erase(no_answer);
  }
  return statuses;
}

void UseEvalStatusNames(rewards::PassKReport* report) {
  for (rewards::CellReport& cell : report->cells) {
    cell.statuses = WithEvalStatusNames(std::move(cell.statuses));
    for (rewards::ProblemTally& problem : cell.problems) {
      problem.statuses = WithEvalStatusNames(std::move(problem.statuses));
    }
  }
}

}  // namespace lockstep::eval
