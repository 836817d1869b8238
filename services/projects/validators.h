#pragma once

// Field validators of the projects domain. Each takes the field path the caller wants named in
// the error (e.g. "meeting.video_link") and returns InvalidArgument("<field>: <what is
// wrong>"), the shape membership uses too. Pure functions: no I/O, no clock.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/projects/model.h"

namespace cpts::projects {

// InvalidArgument("<field>: <problem>").
absl::Status FieldError(absl::string_view field, absl::string_view problem);

// Free text (titles, labels, reasons, agendas): trimmed, valid UTF-8, at most `max_chars`
// code points, no control characters except (when `multiline`) newlines and tabs. Empty is
// refused when `required`.
absl::StatusOr<std::string> NormalizeText(absl::string_view input, absl::string_view field,
                                          std::size_t max_chars, bool required,
                                          bool multiline = false);

// Idempotency key: 1 to 128 printable ASCII characters.
absl::Status ValidateRequestId(absl::string_view request_id, absl::string_view field);

// Resource id sent by a client: 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'.
absl::Status ValidateResourceId(absl::string_view id, absl::string_view field);

// An absolute https URL with a host, at most 2000 characters, no white space or control
// characters.
absl::Status ValidateHttpsUrl(absl::string_view url, absl::string_view field);

// A year of the projet de santé: 2000 to 2100.
absl::Status ValidateYear(int year, absl::string_view field);

// The page size of a List call: 0 means `default_size`; negative is refused; above `max` is
// clamped to `max`.
absl::StatusOr<int> EffectivePageSize(int requested, int default_size, int max,
                                      absl::string_view field);

// Normalises a mission (number 1..99, label 1..200, description at most 2000, kind set).
// `prefix` names the message, e.g. "mission".
absl::Status NormalizeMission(Mission& mission, absl::string_view prefix);

// Normalises the client-writable fields of an action: mission_id, title 1..200, context at
// most 5000, general_objective and expected_results at most 2000, at most 20 specific
// objectives of 1..500, at most 50 partners of 1..200, at most 50 milestones with a label of
// 1..200.
absl::Status NormalizeAction(Action& action, absl::string_view prefix);

// Normalises a working group: name 1..200, description at most 2000, 1 to 20 distinct
// action ids.
absl::Status NormalizeWorkingGroup(WorkingGroup& group, absl::string_view prefix);

// Normalises a task: group_id, title 1..200, description at most 5000, at most 20 distinct
// assignee ids. The status must be set.
absl::Status NormalizeTask(Task& task, absl::string_view prefix);

// Normalises a document: group_id, title 1..200, exactly one of an https url and a storage
// key of 1..500 printable ASCII characters, version label at most 50.
absl::Status NormalizeDocument(Document& document, absl::string_view prefix);

// What RequeueOutboxEvents re-queues: exactly one of 1 to 100 positive `ids` (field "ids")
// and a `topic` of 1 to 64 characters of [a-z0-9._-] (field "topic").
absl::Status ValidateRequeueTarget(const std::vector<int64_t>& ids, absl::string_view topic);

// `text` with every byte that is not part of a valid UTF-8 sequence replaced by '?': a
// consumer's error kept as raw bytes, made fit for a proto string.
std::string ScrubUtf8(absl::string_view text);

}  // namespace cpts::projects
