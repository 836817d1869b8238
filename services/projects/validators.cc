#include "services/projects/validators.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace cpts::projects {
namespace {

// Decodes one UTF-8 code point at `i`, advancing `i`. Rejects overlong forms, surrogates and
// values above U+10FFFF.
bool DecodeUtf8(absl::string_view s, std::size_t& i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  }
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return false;
  }
  if (i + len > s.size()) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += len;
  return true;
}

// C0 and C1 controls, DEL, line/paragraph separators and bidirectional overrides/isolates.
bool IsControl(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool IsPrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

std::string Field(absl::string_view prefix, absl::string_view name) {
  return absl::StrCat(prefix, ".", name);
}

// Normalises `value` in place.
absl::Status NormalizeInPlace(std::string& value, absl::string_view field, std::size_t max_chars,
                              bool required, bool multiline = false) {
  auto normalized = NormalizeText(value, field, max_chars, required, multiline);
  if (!normalized.ok()) return normalized.status();
  value = *std::move(normalized);
  return absl::OkStatus();
}

absl::Status NormalizeList(std::vector<std::string>& items, absl::string_view field,
                           std::size_t max_items, std::size_t max_chars) {
  if (items.size() > max_items) {
    return FieldError(field, absl::StrCat("must have at most ", max_items, " entries"));
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    absl::Status s = NormalizeInPlace(items[i], absl::StrCat(field, "[", i, "]"), max_chars, true);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateIdList(const std::vector<std::string>& ids, absl::string_view field,
                            std::size_t min_items, std::size_t max_items) {
  if (ids.size() < min_items || ids.size() > max_items) {
    return FieldError(field, absl::StrCat("must have ", min_items, " to ", max_items, " entries"));
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string item_field = absl::StrCat(field, "[", i, "]");
    if (absl::Status s = ValidateResourceId(ids[i], item_field); !s.ok()) return s;
    if (!seen.insert(ids[i]).second) return FieldError(item_field, "is listed twice");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::StatusOr<std::string> NormalizeText(absl::string_view input, absl::string_view field,
                                          std::size_t max_chars, bool required, bool multiline) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(input);
  if (trimmed.empty()) {
    if (required) return FieldError(field, "must not be empty");
    return std::string();
  }
  std::size_t chars = 0;
  for (std::size_t i = 0; i < trimmed.size();) {
    char32_t cp = 0;
    if (!DecodeUtf8(trimmed, i, cp)) return FieldError(field, "is not valid UTF-8");
    const bool allowed_control = multiline && (cp == '\n' || cp == '\t' || cp == '\r');
    if (IsControl(cp) && !allowed_control) {
      return FieldError(field, "must not contain control characters");
    }
    ++chars;
  }
  if (chars > max_chars) {
    return FieldError(field, absl::StrCat("must be at most ", max_chars, " characters"));
  }
  return std::string(trimmed);
}

absl::Status ValidateRequestId(absl::string_view request_id, absl::string_view field) {
  if (request_id.empty() || request_id.size() > 128 || !IsPrintableAscii(request_id)) {
    return FieldError(field, "must be 1 to 128 printable ASCII characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateResourceId(absl::string_view id, absl::string_view field) {
  if (id.empty()) return FieldError(field, "must not be empty");
  if (id.size() > 64) return FieldError(field, "must be at most 64 characters");
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return FieldError(field, "must contain only letters, digits, '-' and '_'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHttpsUrl(absl::string_view url, absl::string_view field) {
  if (url.size() > 2000) return FieldError(field, "must be at most 2000 characters");
  if (!IsPrintableAscii(url)) {
    return FieldError(field, "must not contain spaces, control or non-ASCII characters");
  }
  constexpr absl::string_view kScheme = "https://";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) return FieldError(field, "must be an https URL");
  const absl::string_view rest = url.substr(kScheme.size());
  const absl::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty() || host.find('@') != absl::string_view::npos) {
    return FieldError(field, "must name a host (and no user information)");
  }
  return absl::OkStatus();
}

absl::Status ValidateYear(int year, absl::string_view field) {
  if (year < 2000 || year > 2100) return FieldError(field, "must be between 2000 and 2100");
  return absl::OkStatus();
}

absl::StatusOr<int> EffectivePageSize(int requested, int default_size, int max,
                                      absl::string_view field) {
  if (requested < 0) return FieldError(field, "must not be negative");
  if (requested == 0) return default_size;
  return requested > max ? max : requested;
}

absl::Status NormalizeMission(Mission& mission, absl::string_view prefix) {
  if (mission.number < 1 || mission.number > 99) {
    return FieldError(Field(prefix, "number"), "must be between 1 and 99");
  }
  if (absl::Status s = NormalizeInPlace(mission.label, Field(prefix, "label"), 200, true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          NormalizeInPlace(mission.description, Field(prefix, "description"), 2000, false, true);
      !s.ok()) {
    return s;
  }
  if (mission.kind == MissionKind::kUnspecified) {
    return FieldError(Field(prefix, "kind"), "must be set");
  }
  return absl::OkStatus();
}

absl::Status NormalizeAction(Action& action, absl::string_view prefix) {
  if (absl::Status s = ValidateResourceId(action.mission_id, Field(prefix, "mission_id"));
      !s.ok()) {
    return s;
  }
  struct TextField {
    std::string* value;
    absl::string_view name;
    std::size_t max;
    bool required;
  };
  const TextField fields[] = {
      {&action.title, "title", 200, true},
      {&action.context, "context", 5000, false},
      {&action.general_objective, "general_objective", 2000, false},
      {&action.expected_results, "expected_results", 2000, false},
  };
  for (const TextField& f : fields) {
    const bool multiline = f.name != "title";
    if (absl::Status s =
            NormalizeInPlace(*f.value, Field(prefix, f.name), f.max, f.required, multiline);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s =
          NormalizeList(action.specific_objectives, Field(prefix, "specific_objectives"), 20, 500);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = NormalizeList(action.partners, Field(prefix, "partners"), 50, 200);
      !s.ok()) {
    return s;
  }
  if (action.calendar.size() > 50) {
    return FieldError(Field(prefix, "calendar"), "must have at most 50 entries");
  }
  for (std::size_t i = 0; i < action.calendar.size(); ++i) {
    if (absl::Status s = NormalizeInPlace(
            action.calendar[i].label, absl::StrCat(prefix, ".calendar[", i, "].label"), 200, true);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status NormalizeWorkingGroup(WorkingGroup& group, absl::string_view prefix) {
  if (absl::Status s = NormalizeInPlace(group.name, Field(prefix, "name"), 200, true); !s.ok()) {
    return s;
  }
  if (absl::Status s =
          NormalizeInPlace(group.description, Field(prefix, "description"), 2000, false, true);
      !s.ok()) {
    return s;
  }
  return ValidateIdList(group.action_ids, Field(prefix, "action_ids"), 1, 20);
}

absl::Status NormalizeTask(Task& task, absl::string_view prefix) {
  if (absl::Status s = ValidateResourceId(task.group_id, Field(prefix, "group_id")); !s.ok()) {
    return s;
  }
  if (absl::Status s = NormalizeInPlace(task.title, Field(prefix, "title"), 200, true); !s.ok()) {
    return s;
  }
  if (absl::Status s =
          NormalizeInPlace(task.description, Field(prefix, "description"), 5000, false, true);
      !s.ok()) {
    return s;
  }
  if (task.status == TaskStatus::kUnspecified) {
    return FieldError(Field(prefix, "status"), "must be set");
  }
  return ValidateIdList(task.assignee_participant_ids, Field(prefix, "assignee_participant_ids"), 0,
                        20);
}

absl::Status NormalizeDocument(Document& document, absl::string_view prefix) {
  if (absl::Status s = ValidateResourceId(document.group_id, Field(prefix, "group_id")); !s.ok()) {
    return s;
  }
  if (absl::Status s = NormalizeInPlace(document.title, Field(prefix, "title"), 200, true);
      !s.ok()) {
    return s;
  }
  const bool has_url = !document.url.empty();
  const bool has_key = !document.storage_key.empty();
  if (has_url == has_key) {
    return FieldError(Field(prefix, "location"), "exactly one of url and storage_key must be set");
  }
  if (has_url) {
    if (absl::Status s = ValidateHttpsUrl(document.url, Field(prefix, "url")); !s.ok()) return s;
  } else if (document.storage_key.size() > 500 || !IsPrintableAscii(document.storage_key)) {
    return FieldError(Field(prefix, "storage_key"), "must be 1 to 500 printable ASCII characters");
  }
  return NormalizeInPlace(document.version_label, Field(prefix, "version"), 50, false);
}

absl::Status ValidateRequeueTarget(const std::vector<int64_t>& ids, absl::string_view topic) {
  if (ids.empty() == topic.empty()) {
    return FieldError(ids.empty() ? "ids" : "topic", "exactly one of ids and topic is required");
  }
  if (!ids.empty()) {
    if (ids.size() > 100) return FieldError("ids", "at most 100 ids");
    for (const int64_t id : ids) {
      if (id <= 0) return FieldError("ids", absl::StrCat(id, " is not an event id"));
    }
    return absl::OkStatus();
  }
  if (topic.size() > 64) return FieldError("topic", "must be at most 64 characters");
  for (const char c : topic) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return FieldError("topic", "must contain only a-z, 0-9, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

std::string ScrubUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    char32_t cp = 0;
    if (DecodeUtf8(text, i, cp)) {
      out.append(text.data() + start, i - start);
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

}  // namespace cpts::projects
