// Early-return helpers for absl::Status, used across lockstep. They live in
// numerics/ because it is the one library every other folder depends on.
#pragma once

#include "absl/status/status.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define LOCKSTEP_RETURN_IF_ERROR(expr)          \
  do {                                          \
    ::absl::Status lockstep_status_ = (expr);   \
    if (!lockstep_status_.ok()) return lockstep_status_; \
  } while (0)

#define LOCKSTEP_CONCAT_INNER_(a, b) a##b
#define LOCKSTEP_CONCAT_(a, b) LOCKSTEP_CONCAT_INNER_(a, b)

// LOCKSTEP_ASSIGN_OR_RETURN(auto x, StatusOrExpr): assigns the value or returns the error.
#define LOCKSTEP_ASSIGN_OR_RETURN(lhs, expr) \
  LOCKSTEP_ASSIGN_OR_RETURN_IMPL_(LOCKSTEP_CONCAT_(lockstep_statusor_, __LINE__), lhs, expr)
#define LOCKSTEP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
