#include <grpcpp/support/status.h>

#include <set>

#include "gtest/gtest.h"
#include "services/platform/core/clock.h"
#include "services/platform/core/grpc_status.h"
#include "services/platform/core/ids.h"
#include "services/platform/core/json.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform {
namespace {

using ::cpts::testing::StatusIs;

TEST(ToGrpcStatus, KeepsCodeAndMessageOfCallerErrors) {
  const grpc::Status s = ToGrpcStatus(absl::InvalidArgumentError("rpps: bad check digit"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "rpps: bad check digit");
  EXPECT_EQ(ToGrpcStatus(absl::AbortedError("etag")).error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("db")).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpcStatus(absl::PermissionDeniedError("x")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ToGrpcStatus(absl::UnauthenticatedError("x")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ToGrpcStatus(absl::FailedPreconditionError("x")).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(ToGrpcStatus, HidesInternalDetails) {
  const grpc::Status s = ToGrpcStatus(absl::InternalError("Table 'x.member' doesn't exist"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(s.error_message().find("member"), std::string::npos);
}

TEST(FromGrpcStatus, RoundTripsCode) {
  EXPECT_THAT(FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "m")),
              StatusIs(absl::StatusCode::kNotFound, "m"));
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  CPTS_ASSIGN_OR_RETURN(int h, Half(x));
  CPTS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusMacros, PropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RandomIdGenerator, IdsAreUniqueAndSortByTime) {
  FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  RandomIdGenerator ids(clock);
  const std::string a = ids.NewId();
  clock.Advance(absl::Milliseconds(1));
  const std::string b = ids.NewId();
  EXPECT_EQ(a.size(), 26u);
  EXPECT_LT(a, b);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(ids.NewId());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(JsonQuote, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote("plain é"), "\"plain é\"");
  EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonQuote("l1\nl2\t\x01"), "\"l1\\nl2\\t\\u0001\"");
}

}  // namespace
}  // namespace cpts::platform
