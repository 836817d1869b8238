#pragma once

// proto <-> domain conversions of cpts.membership.v1. No rules here beyond the shape of the
// data: unknown enum numbers and impossible dates are refused with the field's name; every
// business rule lives in the domain.

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cpts/common/v1/date.pb.h"
#include "cpts/membership/v1/membership_service.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/membership/members.h"
#include "services/membership/model.h"

namespace cpts::membership {

void ToProto(absl::Time time, google::protobuf::Timestamp* out);
void ToProto(absl::CivilDay day, common::v1::Date* out);

// A date the request must carry: an unset one becomes 1970-01-01, which the domain refuses
// with the field's name.
absl::StatusOr<absl::CivilDay> RequiredDay(const common::v1::Date& date, absl::string_view field);
// An optional date: all-zero = nullopt.
absl::StatusOr<std::optional<absl::CivilDay>> OptionalDay(const common::v1::Date& date,
                                                          absl::string_view field);

absl::StatusOr<Tenant> FromProto(const v1::Tenant& in);
void ToProto(const Tenant& in, v1::Tenant* out);

absl::StatusOr<Member> FromProto(const v1::Member& in, absl::string_view field);
void ToProto(const MemberView& in, v1::Member* out);

Profession FromProto(const v1::Profession& in);
void ToProto(const Profession& in, v1::Profession* out);

College FromProto(const v1::College& in);
void ToProto(const College& in, v1::College* out);

absl::StatusOr<Cotisation> FromProto(const v1::Cotisation& in);
void ToProto(const Cotisation& in, v1::Cotisation* out);

absl::StatusOr<EmployerConvention> FromProto(const v1::EmployerConvention& in);
void ToProto(const EmployerConvention& in, v1::EmployerConvention* out);

absl::StatusOr<Mandate> FromProto(const v1::Mandate& in);
void ToProto(const Mandate& in, v1::Mandate* out);

void ToProto(const MemberProfile& in, v1::MemberProfile* out);
void ToProto(const AuditEntry& in, v1::MemberHistoryEntry* out);

absl::StatusOr<MemberStatus> StatusFromProto(int value, absl::string_view field);
absl::StatusOr<MandateBody> BodyFromProto(int value, absl::string_view field);

}  // namespace cpts::membership
