#pragma once

#include <gmock/gmock.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cpts::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::cpts::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = ::cpts::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_substring,
           "has status code " + ::testing::PrintToString(code) + " and a message containing " +
               ::testing::PrintToString(message_substring)) {
  const absl::Status& s = ::cpts::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code && s.message().find(message_substring) != absl::string_view::npos;
}

}  // namespace cpts::testing
