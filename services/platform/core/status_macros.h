#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Abseil 20220623 ships neither RETURN_IF_ERROR nor ASSIGN_OR_RETURN: these are ours, once.

// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` may be a declaration, `tmp` a name.
#define CPTS_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status cpts_status_ = (expr);        \
    if (!cpts_status_.ok()) return cpts_status_; \
  } while (false)

#define CPTS_STATUS_CONCAT_INNER_(a, b) a##b
#define CPTS_STATUS_CONCAT_(a, b) CPTS_STATUS_CONCAT_INNER_(a, b)

#define CPTS_ASSIGN_OR_RETURN(lhs, expr) \
  CPTS_ASSIGN_OR_RETURN_IMPL_(CPTS_STATUS_CONCAT_(cpts_statusor_, __LINE__), lhs, expr)

#define CPTS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).status();    \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
