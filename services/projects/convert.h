#pragma once

// proto <-> domain conversions of cpts.projects.v1. Shape only: unknown enum numbers and
// impossible dates are refused with the field's name; every business rule lives in the
// domain. FromProto reads every field, output-only ones included (the store keeps some
// records as serialized messages); the application clears what a client may not set.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cpts/common/v1/date.pb.h"
#include "cpts/projects/v1/events.pb.h"
#include "cpts/projects/v1/projects_service.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/projects/attendance.h"
#include "services/projects/model.h"
#include "services/projects/report.h"
#include "services/projects/store.h"

namespace cpts::projects {

void ToProto(absl::Time time, google::protobuf::Timestamp* out);
absl::Time FromProto(const google::protobuf::Timestamp& ts);
void ToProto(absl::CivilDay day, common::v1::Date* out);
// An all-zero date is nullopt.
absl::StatusOr<std::optional<absl::CivilDay>> OptionalDay(const common::v1::Date& date,
                                                          absl::string_view field);

// The etag of a record of version `version`, and its check: empty `etag` passes; another
// version is Aborted.
std::string Etag(int64_t version);
absl::Status CheckEtag(absl::string_view etag, int64_t version);

// Only the client-writable fields (time_zone, attendance_payment) are read.
absl::StatusOr<ProjectSettings> FromProto(const v1::ProjectSettings& in, absl::string_view field);
void ToProto(const ProjectSettings& in, v1::ProjectSettings* out);

absl::StatusOr<Mission> FromProto(const v1::Mission& in, absl::string_view field);
void ToProto(const Mission& in, v1::Mission* out);

absl::StatusOr<Indicator> FromProto(const v1::Indicator& in, absl::string_view field);
void ToProto(const Indicator& in, v1::Indicator* out);
absl::StatusOr<Action> FromProto(const v1::Action& in, absl::string_view field);
void ToProto(const Action& in, v1::Action* out);
absl::StatusOr<IndicatorValue> FromProto(const v1::IndicatorValue& in, absl::string_view field);
void ToProto(const IndicatorValue& in, v1::IndicatorValue* out);

absl::StatusOr<WorkingGroup> FromProto(const v1::WorkingGroup& in, absl::string_view field);
void ToProto(const WorkingGroup& in, v1::WorkingGroup* out);
absl::StatusOr<GroupParticipant> FromProto(const v1::GroupParticipant& in, absl::string_view field);
void ToProto(const GroupParticipant& in, v1::GroupParticipant* out);
void ToProto(const JoinRequest& in, v1::JoinRequest* out);
absl::StatusOr<Task> FromProto(const v1::Task& in, absl::string_view field);
void ToProto(const Task& in, v1::Task* out);
absl::StatusOr<Document> FromProto(const v1::Document& in, absl::string_view field);
void ToProto(const Document& in, v1::Document* out);

absl::StatusOr<Meeting> FromProto(const v1::Meeting& in, absl::string_view field);
void ToProto(const Meeting& in, v1::Meeting* out);
Minutes FromProto(const v1::Minutes& in);
void ToProto(const MeetingReply& in, v1::MeetingReply* out);

void ToProto(const DeadEvent& in, v1::DeadOutboxEvent* out);

absl::StatusOr<AttendanceLine> FromProto(const v1::AttendanceLine& in, absl::string_view field);
absl::StatusOr<AttendanceSheet> FromProto(const v1::AttendanceSheet& in, absl::string_view field);
void ToProto(const AttendanceSheet& in, v1::AttendanceSheet* out);
void ToProto(const EntitlementEvent& in, v1::AttendanceEntitlementEvent* out);
absl::StatusOr<EntitlementEvent> FromProto(const v1::AttendanceEntitlementEvent& in);

void ToProto(const AttendanceStats& in, v1::GroupAttendanceStats* out);
void ToProto(const ProjectReport& in, v1::ProjectReport* out);

// Enumerations (domain and proto share their numbers).
absl::StatusOr<ActionStatus> ActionStatusFromProto(int value, absl::string_view field);
absl::StatusOr<GroupRole> GroupRoleFromProto(int value, absl::string_view field);
absl::StatusOr<ParticipantState> ParticipantStateFromProto(int value, absl::string_view field);
absl::StatusOr<JoinRequestState> JoinRequestStateFromProto(int value, absl::string_view field);
absl::StatusOr<TaskStatus> TaskStatusFromProto(int value, absl::string_view field);
absl::StatusOr<MeetingState> MeetingStateFromProto(int value, absl::string_view field);
absl::StatusOr<ReplyKind> ReplyKindFromProto(int value, absl::string_view field);

}  // namespace cpts::projects
