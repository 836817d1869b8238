#include "services/projects/attendance.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/projects/meeting_rules.h"
#include "services/projects/validators.h"

namespace cpts::projects {
namespace {

bool IsFinal(SheetState state) {
  return state == SheetState::kClosed || state == SheetState::kAmended;
}

absl::Status WrongState(const AttendanceSheet& sheet, absl::string_view step,
                        absl::string_view allowed) {
  return absl::FailedPreconditionError(absl::StrCat("attendance sheet is ",
                                                    SheetStateName(sheet.state), "; ", step,
                                                    " is allowed only ", allowed));
}

void SortLines(std::vector<AttendanceLine>& lines) {
  std::sort(lines.begin(), lines.end(), [](const AttendanceLine& a, const AttendanceLine& b) {
    return a.participant_id < b.participant_id;
  });
}

// Validates `changes` against the roster and merges them into a copy of `lines`.
absl::StatusOr<std::vector<AttendanceLine>> Merge(const std::vector<AttendanceLine>& lines,
                                                  const std::vector<GroupParticipant>& roster,
                                                  const std::vector<AttendanceLine>& changes) {
  if (changes.empty()) return FieldError("lines", "must not be empty");
  if (changes.size() > 200) return FieldError("lines", "must have at most 200 entries");
  std::map<std::string, AttendanceLine> merged;
  for (const AttendanceLine& line : lines) merged[line.participant_id] = line;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const AttendanceLine& change = changes[i];
    const std::string field = absl::StrCat("lines[", i, "]");
    if (!seen.insert(change.participant_id).second) {
      return FieldError(absl::StrCat(field, ".participant_id"), "is listed twice");
    }
    auto line = merged.find(change.participant_id);
    if (line == merged.end()) {
      const auto p = std::find_if(roster.begin(), roster.end(), [&](const GroupParticipant& g) {
        return g.id == change.participant_id;
      });
      if (p == roster.end()) {
        return FieldError(absl::StrCat(field, ".participant_id"),
                          "is not a participant of the group");
      }
      AttendanceLine added;
      added.participant_id = p->id;
      added.member_id = p->member_id;
      added.role = p->role;
      line = merged.emplace(p->id, added).first;
    }
    if (change.status == AttendanceStatus::kUnspecified) {
      return FieldError(absl::StrCat(field, ".status"), "must be set");
    }
    if (change.minutes_worked < 0 || change.minutes_worked > kMaxMinutesWorked) {
      return FieldError(absl::StrCat(field, ".minutes_worked"), "must be between 0 and 1440");
    }
    if (change.minutes_worked > 0 && change.status != AttendanceStatus::kPresent) {
      return FieldError(absl::StrCat(field, ".minutes_worked"), "must be 0 unless PRESENT");
    }
    line->second.status = change.status;
    line->second.minutes_worked = change.minutes_worked;
  }
  std::vector<AttendanceLine> out;
  out.reserve(merged.size());
  for (auto& [id, line] : merged) out.push_back(std::move(line));
  return out;
}

absl::Status CheckComplete(const AttendanceSheet& sheet, const std::vector<AttendanceLine>& lines) {
  for (const AttendanceLine& line : lines) {
    if (line.status == AttendanceStatus::kUnspecified) {
      return absl::FailedPreconditionError(
          absl::StrCat("participant ", line.participant_id, " has no attendance status"));
    }
    if (sheet.hourly && line.status == AttendanceStatus::kPresent && line.minutes_worked <= 0) {
      return absl::FailedPreconditionError(absl::StrCat("participant ", line.participant_id,
                                                        " is present but has no minutes worked"));
    }
  }
  return absl::OkStatus();
}

EntitlementEvent EventFor(const EntitlementContext& context, const AttendanceLine& line,
                          int version, bool correction, bool reversal) {
  EntitlementEvent e;
  e.tenant_id = context.tenant_id;
  e.idempotency_key = absl::StrCat(context.meeting_id, "/", line.participant_id, "/v", version,
                                   reversal ? "/reversal" : "");
  e.meeting_id = context.meeting_id;
  e.group_id = context.group_id;
  e.action_id = context.action_id;
  e.participant_id = line.participant_id;
  e.member_id = line.member_id;
  e.role = EntitlementRoleOf(line.role);
  e.present = line.status == AttendanceStatus::kPresent;
  e.minutes_worked = line.minutes_worked;
  e.meeting_date = context.meeting_date;
  e.sheet_version = version;
  e.correction = correction;
  e.reversal = reversal;
  e.indemnifiable = IsIndemnifiable(line);
  return e;
}

}  // namespace

AttendanceSheet NewSheet(const Meeting& meeting, const std::vector<GroupParticipant>& participants,
                         const std::vector<MeetingReply>& replies, bool hourly) {
  AttendanceSheet sheet;
  sheet.tenant_id = meeting.tenant_id;
  sheet.meeting_id = meeting.id;
  sheet.group_id = meeting.group_id;
  sheet.state = SheetState::kOpen;
  sheet.hourly = hourly;
  for (const GroupParticipant& p : participants) {
    if (p.state != ParticipantState::kActive || p.group_id != meeting.group_id) continue;
    AttendanceLine line;
    line.participant_id = p.id;
    line.member_id = p.member_id;
    line.role = p.role;
    for (const MeetingReply& r : replies) {
      if (r.participant_id == p.id && r.kind == ReplyKind::kExcused) {
        line.status = r.late ? AttendanceStatus::kExcusedLate : AttendanceStatus::kExcused;
      }
    }
    sheet.lines.push_back(std::move(line));
  }
  SortLines(sheet.lines);
  return sheet;
}

absl::Status RecordLines(const Meeting& meeting, const std::vector<GroupParticipant>& roster,
                         const std::vector<AttendanceLine>& lines, absl::Time now,
                         AttendanceSheet& sheet) {
  if (meeting.state != MeetingState::kScheduled) {
    return absl::FailedPreconditionError(
        absl::StrCat("meeting is ", MeetingStateName(meeting.state), "; nothing to record"));
  }
  if (!HasStarted(meeting, now)) {
    return absl::FailedPreconditionError("meeting has not started; attendance comes after it");
  }
  if (IsFinal(sheet.state)) {
    return WrongState(sheet, "RECORD", "from OPEN or RECORDED; use AmendAttendance");
  }
  auto merged = Merge(sheet.lines, roster, lines);
  if (!merged.ok()) return merged.status();
  sheet.lines = *std::move(merged);
  sheet.state = SheetState::kRecorded;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<EntitlementEvent>> CloseSheet(const EntitlementContext& context,
                                                         absl::string_view closed_by,
                                                         absl::Time now, AttendanceSheet& sheet) {
  if (sheet.state != SheetState::kRecorded) {
    return WrongState(sheet, "CLOSE", "from RECORDED");
  }
  if (absl::Status s = CheckComplete(sheet, sheet.lines); !s.ok()) return s;
  std::vector<EntitlementEvent> events;
  for (AttendanceLine& line : sheet.lines) {
    const bool present = line.status == AttendanceStatus::kPresent;
    line.entitled_version = present ? 1 : 0;
    if (present) events.push_back(EventFor(context, line, 1, false, false));
  }
  sheet.state = SheetState::kClosed;
  sheet.version = 1;
  sheet.closed_by = std::string(closed_by);
  sheet.close_time = now;
  return events;
}

absl::StatusOr<std::vector<EntitlementEvent>> AmendSheet(
    const EntitlementContext& context, const std::vector<GroupParticipant>& roster,
    const std::vector<AttendanceLine>& changes, absl::string_view reason,
    absl::string_view amended_by, absl::Time now, AttendanceSheet& sheet) {
  if (!IsFinal(sheet.state)) return WrongState(sheet, "AMEND", "from CLOSED or AMENDED");
  auto text = NormalizeText(reason, "reason", 500, true);
  if (!text.ok()) return text.status();
  auto merged = Merge(sheet.lines, roster, changes);
  if (!merged.ok()) return merged.status();
  if (absl::Status s = CheckComplete(sheet, *merged); !s.ok()) return s;

  std::map<std::string, const AttendanceLine*> before;
  for (const AttendanceLine& line : sheet.lines) before[line.participant_id] = &line;
  const int version = sheet.version + 1;
  std::vector<EntitlementEvent> events;
  bool changed = false;
  for (AttendanceLine& line : *merged) {
    const auto old = before.find(line.participant_id);
    const bool existed = old != before.end();
    if (existed && old->second->status == line.status &&
        old->second->minutes_worked == line.minutes_worked) {
      continue;
    }
    changed = true;
    if (existed && old->second->entitled_version > 0) {
      events.push_back(EventFor(context, *old->second, old->second->entitled_version, true, true));
    }
    const bool present = line.status == AttendanceStatus::kPresent;
    line.entitled_version = present ? version : 0;
    if (present) events.push_back(EventFor(context, line, version, true, false));
  }
  if (!changed) {
    return absl::FailedPreconditionError("the amendment changes no line");
  }
  sheet.lines = *std::move(merged);
  sheet.version = version;
  sheet.state = SheetState::kAmended;
  sheet.amendments.push_back(AttendanceAmendment{.version = version,
                                                 .reason = *std::move(text),
                                                 .amended_by = std::string(amended_by),
                                                 .amend_time = now});
  return events;
}

EntitlementRole EntitlementRoleOf(GroupRole role) {
  switch (role) {
    case GroupRole::kReferent:
      return EntitlementRole::kReferent;
    case GroupRole::kActiveMember:
      return EntitlementRole::kMember;
    case GroupRole::kGuest:
      return EntitlementRole::kGuest;
    case GroupRole::kCoordinator:
      return EntitlementRole::kStaff;
    case GroupRole::kUnspecified:
      break;
  }
  return EntitlementRole::kUnspecified;
}

bool IsIndemnifiable(const AttendanceLine& line) {
  return (line.role == GroupRole::kReferent || line.role == GroupRole::kActiveMember) &&
         !line.member_id.empty();
}

AttendanceStats ComputeStats(const std::vector<AttendanceSheet>& sheets) {
  AttendanceStats stats;
  for (const AttendanceSheet& sheet : sheets) {
    if (!IsFinal(sheet.state)) continue;
    ++stats.meetings_held;
    for (const AttendanceLine& line : sheet.lines) {
      ++stats.expected;
      switch (line.status) {
        case AttendanceStatus::kPresent:
          ++stats.present;
          break;
        case AttendanceStatus::kExcused:
          ++stats.excused;
          break;
        case AttendanceStatus::kExcusedLate:
        case AttendanceStatus::kAbsent:
        case AttendanceStatus::kUnspecified:
          ++stats.absent;
          break;
      }
    }
  }
  const int counted = stats.expected - stats.excused;
  stats.attendance_rate_bp =
      counted > 0 ? static_cast<int>(static_cast<int64_t>(stats.present) * 10000 / counted) : 0;
  return stats;
}

}  // namespace cpts::projects
