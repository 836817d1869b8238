#include "services/access/fhir_slots.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "services/platform/core/json.h"

namespace cpts::access {
namespace {

// --- code systems and profiles (fhir_slots.h lists the sources) -----------------------

constexpr absl::string_view kIdentifierTypeSystem =
    "http://interopsante.org/fhir/CodeSystem/fr-v2-0203";  // IDNPS, IDNST
// FrOrganizationAgregateurCPTS types its identifier from this code system (the CPTS page and
// the profile agree); FrLocation identifiers use INTRN from it too.
constexpr absl::string_view kLocationIdentifierTypeSystem =
    "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type";
constexpr absl::string_view kSlotTypeSystem =
    "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau";
constexpr absl::string_view kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr absl::string_view kAppointmentReasonSystem =
    "http://terminology.hl7.org/CodeSystem/v2-0276";
// The CPTS page writes ".../TRE_R66-CategorieEtablissement/TRE_R66-CategorieEtablissement";
// the guide's FSH examples and FAQ use the MOS FHIR form below, like every other MOS system.
constexpr absl::string_view kCategorieEtablissementSystem =
    "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/"
    "TRE-R66-CategorieEtablissement";
constexpr absl::string_view kCptsCategoryCode = "604";
constexpr absl::string_view kSlotServiceTypeExtension =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType";
constexpr absl::string_view kSpecialtySystem =
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale";
constexpr absl::string_view kGeneralMedicineSpecialty = "SM54";  // the guide's GP examples

constexpr absl::string_view kBundleProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator";
constexpr absl::string_view kSlotProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator";
constexpr absl::string_view kScheduleProfile =
    "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur";
constexpr absl::string_view kPractitionerProfile =
    "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur";
constexpr absl::string_view kPractitionerRoleProfile =
    "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur";
constexpr absl::string_view kLocationProfile =
    "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur";
constexpr absl::string_view kHealthcareServiceProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/"
    "sas-cpts-healthcareservice-aggregator";
// The CPTS page's list says sas-sos-organization-aggregator, an apparent copy from the SOS
// case; the CPTS profile (FrOrganizationAgregateurCPTS) is this one.
constexpr absl::string_view kOrganizationProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/"
    "sas-cpts-organization-aggregator";

constexpr absl::string_view kIdentifierParam = "schedule.actor:Practitioner.identifier";

// --- a small deterministic JSON writer -------------------------------------------------

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty) : pretty_(pretty) {}

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  JsonWriter& Key(absl::string_view key) {
    Separate();
    platform::AppendJsonString(out_, std::string_view(key.data(), key.size()));
    out_ += pretty_ ? ": " : ":";
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(absl::string_view value) {
    Separate();
    platform::AppendJsonString(out_, std::string_view(value.data(), value.size()));
    return *this;
  }
  JsonWriter& Int(int64_t value) {
    Separate();
    absl::StrAppend(&out_, value);
    return *this;
  }
  // "key": "value"
  JsonWriter& Field(absl::string_view key, absl::string_view value) {
    return Key(key).String(value);
  }
  // "key": "value", unless value is empty (the guide: never send an empty element).
  JsonWriter& OptionalField(absl::string_view key, absl::string_view value) {
    if (!value.empty()) Field(key, value);
    return *this;
  }

  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char bracket) {
    Separate();
    out_.push_back(bracket);
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char bracket) {
    const bool empty = first_.back();
    first_.pop_back();
    if (pretty_ && !empty) Newline();
    out_.push_back(bracket);
    return *this;
  }
  // Before a key, or a value that does not follow a key.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
    if (pretty_) Newline();
  }
  void Newline() {
    out_.push_back('\n');
    out_.append(2 * first_.size(), ' ');
  }

  bool pretty_;
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// --- helpers ---------------------------------------------------------------------------

bool IsDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

uint64_t Fnv1a(absl::string_view text) {
  uint64_t hash = 14695981039346656037ULL;
  for (const unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

std::string Hex16(uint64_t value) { return absl::StrCat(absl::Hex(value, absl::kZeroPad16)); }

// A FHIR id ([A-Za-z0-9-.]{1,64}): `raw` itself when it is one, else a stable digest of it.
std::string FhirSafeId(absl::string_view raw) {
  const bool ok =
      !raw.empty() && raw.size() <= 64 && std::all_of(raw.begin(), raw.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
      });
  if (ok) return std::string(raw);
  return absl::StrCat("h-", Hex16(Fnv1a(raw)));
}

std::string FormatInstant(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// RFC 3986 percent-encoding of a query value: unreserved characters and ':' ',' '/' stay;
// everything else, '|' and '+' included, is encoded.
std::string EncodeQueryValue(absl::string_view value) {
  std::string out;
  for (const unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' ||
        c == ',' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%",
                      absl::AsciiStrToUpper(absl::StrCat(absl::Hex(c, absl::kZeroPad2))));
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' stays a '+'. nullopt on a malformed escape.
std::optional<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = HexValue(text[i + 1]);
    const int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// --- dates -----------------------------------------------------------------------------

struct DateBounds {
  absl::Time lower;  // first instant of the value's range
  absl::Time upper;  // last instant (microsecond precision) of the value's range
};

bool ReadNumber(absl::string_view text, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > text.size()) return false;
  const absl::string_view digits = text.substr(pos, len);
  return IsDigits(digits) && absl::SimpleAtoi(digits, &out);
}

// FHIR date (YYYY-MM-DD, a whole local day) or dateTime (YYYY-MM-DDThh:mm[:ss[.f+]][Z|±hh:mm]).
std::optional<DateBounds> ParseFhirDate(absl::string_view text, absl::TimeZone zone,
                                        std::string& problem) {
  problem = absl::StrCat("'", text, "' is not a FHIR date (YYYY-MM-DD) or dateTime");
  int year = 0;
  int month = 0;
  int day = 0;
  if (text.size() == 4 || text.size() == 7) {
    if (ReadNumber(text, 0, 4, year)) {
      problem = absl::StrCat("'", text, "': give at least a day (YYYY-MM-DD)");
    }
    return std::nullopt;
  }
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !ReadNumber(text, 0, 4, year) ||
      !ReadNumber(text, 5, 2, month) || !ReadNumber(text, 8, 2, day)) {
    return std::nullopt;
  }
  const absl::CivilDay civil_day(year, month, day);
  if (civil_day.year() != year || civil_day.month() != month || civil_day.day() != day) {
    problem = absl::StrCat("'", text, "' is not a valid date");
    return std::nullopt;
  }
  if (text.size() == 10) {
    DateBounds bounds;
    bounds.lower = absl::FromCivil(civil_day, zone);
    bounds.upper = absl::FromCivil(civil_day + 1, zone) - absl::Microseconds(1);
    return bounds;
  }
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text[10] != 'T' || !ReadNumber(text, 11, 2, hour) || text.size() < 16 || text[13] != ':' ||
      !ReadNumber(text, 14, 2, minute)) {
    return std::nullopt;
  }
  std::size_t pos = 16;
  if (pos < text.size() && text[pos] == ':') {
    if (!ReadNumber(text, pos + 1, 2, second)) return std::nullopt;
    pos += 3;
  }
  absl::Duration fraction = absl::ZeroDuration();
  if (pos < text.size() && text[pos] == '.') {
    std::size_t end = pos + 1;
    while (end < text.size() && end - pos - 1 < 9 && text[end] >= '0' && text[end] <= '9') ++end;
    const std::size_t digits = end - pos - 1;
    if (digits == 0) return std::nullopt;
    int64_t value = 0;
    if (!absl::SimpleAtoi(text.substr(pos + 1, digits), &value)) return std::nullopt;
    for (std::size_t k = digits; k < 9; ++k) value *= 10;
    fraction = absl::Nanoseconds(value);
    pos = end;
  }
  if (hour > 23 || minute > 59 || second > 59) {
    problem = absl::StrCat("'", text, "' is not a valid time");
    return std::nullopt;
  }
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  absl::Time t;
  if (pos == text.size()) {
    t = absl::FromCivil(civil, zone);
  } else if (text[pos] == 'Z' && pos + 1 == text.size()) {
    t = absl::FromCivil(civil, absl::UTCTimeZone());
  } else if ((text[pos] == '+' || text[pos] == '-' || text[pos] == ' ') && pos + 6 == text.size() &&
             text[pos + 3] == ':') {
    int offset_hours = 0;
    int offset_minutes = 0;
    if (!ReadNumber(text, pos + 1, 2, offset_hours) ||
        !ReadNumber(text, pos + 4, 2, offset_minutes) || offset_hours > 14 || offset_minutes > 59) {
      return std::nullopt;
    }
    const absl::Duration offset = absl::Hours(offset_hours) + absl::Minutes(offset_minutes);
    t = absl::FromCivil(civil, absl::UTCTimeZone()) - (text[pos] == '-' ? -offset : offset);
  } else {
    return std::nullopt;
  }
  t += fraction;
  return DateBounds{t, t};
}

// --- the parameters --------------------------------------------------------------------

struct RawParam {
  std::string name;
  std::string value;
};

struct IncludeSpec {
  absl::string_view value;      // as written after '=' (without :iterate)
  absl::string_view canonical;  // the parameter as the self link writes it
  bool FhirSlotQuery::*flag;
  bool FhirSlotQuery::*second_flag;  // Schedule:actor sets two
};

constexpr IncludeSpec kIncludes[] = {
    {"Slot:schedule", "_include=Slot:schedule", &FhirSlotQuery::include_schedule, nullptr},
    {"Schedule:actor", "_include:iterate=Schedule:actor", &FhirSlotQuery::include_practitioner,
     &FhirSlotQuery::include_practitioner_role},
    {"Schedule:actor:Practitioner", "_include:iterate=Schedule:actor:Practitioner",
     &FhirSlotQuery::include_practitioner, nullptr},
    {"Schedule:actor:PractitionerRole", "_include:iterate=Schedule:actor:PractitionerRole",
     &FhirSlotQuery::include_practitioner_role, nullptr},
    {"Slot:service-type-reference", "_include=Slot:service-type-reference",
     &FhirSlotQuery::include_healthcare_service, nullptr},
    {"HealthcareService:organization", "_include:iterate=HealthcareService:organization",
     &FhirSlotQuery::include_organization, nullptr},
};

class QueryParser {
 public:
  QueryParser(const FhirParseOptions& options, FhirSlotQueryParse& result)
      : options_(options), result_(result) {}

  void Parse(absl::string_view raw) {
    std::vector<RawParam> params;
    for (absl::string_view pair : absl::StrSplit(raw, '&', absl::SkipEmpty())) {
      const std::size_t eq = pair.find('=');
      const absl::string_view raw_name = pair.substr(0, eq);
      const absl::string_view raw_value =
          eq == absl::string_view::npos ? absl::string_view() : pair.substr(eq + 1);
      std::optional<std::string> name = PercentDecode(raw_name);
      if (!name.has_value()) {
        Error("", "not-supported",
              absl::StrCat("query: malformed percent-encoding in '", raw_name, "'"));
        continue;
      }
      std::optional<std::string> value = PercentDecode(raw_value);
      if (!value.has_value()) {
        Error(*name, "invalid", "malformed percent-encoding");
        continue;
      }
      params.push_back(RawParam{std::move(*name), std::move(*value)});
    }
    for (const RawParam& p : params) Dispatch(p);
    Finish();
  }

 private:
  void Error(absl::string_view parameter, absl::string_view code, absl::string_view problem) {
    FhirIssue issue;
    issue.code = std::string(code);
    issue.parameter = std::string(parameter);
    issue.diagnostics =
        parameter.empty() ? std::string(problem) : absl::StrCat(parameter, ": ", problem);
    result_.errors.push_back(std::move(issue));
  }

  void Unknown(const RawParam& p, absl::string_view what) {
    if (options_.strict) Error(p.name, "not-supported", what);
  }

  void Dispatch(const RawParam& p) {
    if (p.name == "start") return Start(p);
    if (p.name == kIdentifierParam) return Identifiers(p);
    if (p.name == "status") return Status(p);
    if (p.name == "_include" || p.name == "_include:iterate") return Include(p);
    if (p.name == "_count") return Count(p);
    if (p.name == "_format") return Format(p);
    Unknown(p, "unknown search parameter");
  }

  void Start(const RawParam& p) {
    if (p.value.size() < 2 || !absl::ascii_isalpha(static_cast<unsigned char>(p.value[0]))) {
      return Error("start", "invalid",
                   absl::StrCat("'", p.value, "' needs the prefix ge or le (start=ge<dateTime>)"));
    }
    const std::string prefix = p.value.substr(0, 2);
    if (prefix != "ge" && prefix != "le") {
      return Error("start", "not-supported",
                   absl::StrCat("prefix '", prefix, "' is not supported: use ge and le"));
    }
    std::string problem;
    const std::optional<DateBounds> bounds =
        ParseFhirDate(absl::string_view(p.value).substr(2), options_.local_zone, problem);
    if (!bounds.has_value()) return Error("start", "invalid", problem);
    std::optional<std::string>& seen = prefix == "ge" ? ge_text_ : le_text_;
    if (seen.has_value()) {
      return Error("start", "invalid", absl::StrCat("'", prefix, "' given twice"));
    }
    seen = p.value;
    if (prefix == "ge") {
      result_.query.start_from = bounds->lower;
    } else {
      result_.query.start_to = bounds->upper;
    }
  }

  void Identifiers(const RawParam& p) {
    if (identifiers_seen_) {
      return Error(kIdentifierParam, "invalid",
                   "give it once, with the identifiers separated by commas");
    }
    identifiers_seen_ = true;
    std::set<std::string> rpps;
    std::set<std::string> adeli;
    bool any = false;
    for (absl::string_view token : absl::StrSplit(p.value, ',')) {
      token = absl::StripAsciiWhitespace(token);
      if (token.empty()) {
        Error(kIdentifierParam, "invalid", "empty identifier in the list");
        continue;
      }
      any = true;
      absl::string_view value = token;
      const std::size_t bar = token.find('|');
      if (bar != absl::string_view::npos) {
        const absl::string_view system = token.substr(0, bar);
        value = token.substr(bar + 1);
        if (!system.empty() && system != kFhirIdnpsSystem) {
          Error(kIdentifierParam, "not-supported",
                absl::StrCat("system '", system, "' is not supported (use ", kFhirIdnpsSystem,
                             ", national identifiers of professionals)"));
          continue;
        }
      }
      if (IsDigits(value) && value.size() == 12 && value[0] == '8') {
        rpps.insert(std::string(value.substr(1)));
      } else if (IsDigits(value) && value.size() == 11) {
        rpps.insert(std::string(value));  // an unprefixed RPPS: accepted, answered prefixed
      } else if (IsDigits(value) && value.size() == 10 && value[0] == '0') {
        adeli.insert(std::string(value.substr(1)));
      } else {
        Error(kIdentifierParam, "invalid",
              absl::StrCat("'", value,
                           "' is not a national identifier: \"8\" + RPPS (11 digits) or \"0\" + "
                           "ADELI (9 digits)"));
      }
    }
    if (!any) return Error(kIdentifierParam, "invalid", "at least one identifier is required");
    if (rpps.size() + adeli.size() > static_cast<std::size_t>(kFhirMaxIdentifiers)) {
      Error(kIdentifierParam, "invalid",
            absl::StrCat("at most ", kFhirMaxIdentifiers, " identifiers per search"));
    }
    result_.query.rpps.assign(rpps.begin(), rpps.end());
    result_.query.adeli.assign(adeli.begin(), adeli.end());
  }

  void Status(const RawParam& p) {
    status_seen_ = true;
    for (absl::string_view value : absl::StrSplit(p.value, ',')) {
      if (value != "free") {
        Error("status", "not-supported",
              absl::StrCat("'", value, "' is not supported: only free slots are published"));
        return;
      }
    }
  }

  void Include(const RawParam& p) {
    for (const IncludeSpec& spec : kIncludes) {
      if (p.value != spec.value) continue;
      result_.query.*spec.flag = true;
      if (spec.second_flag != nullptr) result_.query.*spec.second_flag = true;
      return;
    }
    if (p.value == "PractitionerRole:location") return;  // always contained
    if (p.value.empty()) return Error(p.name, "invalid", "a value is required");
    Unknown(p, absl::StrCat("'", p.value, "' is not supported"));
  }

  void Count(const RawParam& p) {
    int count = 0;
    if (!IsDigits(p.value) || p.value.size() > 9 || !absl::SimpleAtoi(p.value, &count)) {
      return Error(
          "_count", "invalid",
          absl::StrCat("'", p.value, "' is not a number of entries (0 to ", kFhirMaxCount, ")"));
    }
    result_.query.count = std::min(count, kFhirMaxCount);
    count_given_ = true;
  }

  void Format(const RawParam& p) {
    static constexpr absl::string_view kJson[] = {"json", "application/json",
                                                  "application/fhir+json", "application/json+fhir"};
    for (const absl::string_view json : kJson) {
      if (p.value == json) return;
    }
    Error("_format", "not-supported", absl::StrCat("'", p.value, "' is not supported: JSON only"));
  }

  void Finish() {
    FhirSlotQuery& q = result_.query;
    if (!ge_text_.has_value() || !le_text_.has_value()) {
      Error("start", "required",
            "required twice: start=ge<dateTime> and start=le<dateTime> bound the search");
    } else if (q.start_to < q.start_from) {
      Error("start", "invalid", "the le bound is before the ge bound");
    } else if (q.start_to - q.start_from > kFhirMaxWindow) {
      Error("start", "too-costly", "the window must not exceed 31 days");
    }
    if (!identifiers_seen_) {
      Error(kIdentifierParam, "required",
            "required: the national identifiers of the professionals (1 to 25)");
    }
    if (!status_seen_) Error("status", "required", "required: status=free");
    if (!result_.errors.empty()) return;

    std::vector<std::string> parts;
    for (const IncludeSpec& spec : kIncludes) {
      const bool on = q.*spec.flag && (spec.second_flag == nullptr || q.*spec.second_flag);
      // Schedule:actor covers both actor types; the typed forms only when alone.
      if (!on) continue;
      if (spec.second_flag == nullptr &&
          (spec.flag == &FhirSlotQuery::include_practitioner ||
           spec.flag == &FhirSlotQuery::include_practitioner_role) &&
          q.include_practitioner && q.include_practitioner_role) {
        continue;
      }
      parts.emplace_back(spec.canonical);
    }
    parts.push_back(absl::StrCat("start=", EncodeQueryValue(*ge_text_)));
    parts.push_back(absl::StrCat("start=", EncodeQueryValue(*le_text_)));
    std::vector<std::string> ids;
    for (const std::string& r : q.rpps) ids.push_back(absl::StrCat(kFhirIdnpsSystem, "|8", r));
    for (const std::string& a : q.adeli) ids.push_back(absl::StrCat(kFhirIdnpsSystem, "|0", a));
    parts.push_back(absl::StrCat(kIdentifierParam, "=", EncodeQueryValue(absl::StrJoin(ids, ","))));
    parts.emplace_back("status=free");
    if (count_given_) parts.push_back(absl::StrCat("_count=", q.count));
    q.self_query = absl::StrJoin(parts, "&");
  }

  const FhirParseOptions& options_;
  FhirSlotQueryParse& result_;
  std::optional<std::string> ge_text_;
  std::optional<std::string> le_text_;
  bool identifiers_seen_ = false;
  bool status_seen_ = false;
  bool count_given_ = false;
};

// --- the bundle ------------------------------------------------------------------------

absl::string_view ActCode(ConsultationMode mode) {
  switch (mode) {
    case ConsultationMode::kOffice:
      return "AMB";
    case ConsultationMode::kHome:
      return "HH";
    case ConsultationMode::kVideo:
      return "VR";
    case ConsultationMode::kUnspecified:
      break;
  }
  return "";
}

// One agenda of the SAS model: a professional at a place (FAQ: one Schedule per
// PractitionerRole, i.e. per consultation place).
struct Agenda {
  std::string id;  // of the Schedule and of the PractitionerRole
  std::string practitioner_id;
  std::string place_key;  // identifies the place; the Location identifier's value
  ConsultationMode mode = ConsultationMode::kUnspecified;
  SlotPlace place;
};

// The place of a slot as an agenda key: office = commune + address; home = the commune
// served; video = none.
std::string PlaceKey(const Slot& slot) {
  switch (slot.mode) {
    case ConsultationMode::kOffice:
      return absl::StrCat("office|", slot.place.commune_insee, "|", slot.place.address);
    case ConsultationMode::kHome:
      return absl::StrCat("home|", slot.place.commune_insee);
    case ConsultationMode::kVideo:
    case ConsultationMode::kUnspecified:
      break;
  }
  return "video";
}

std::string AgendaId(absl::string_view practitioner_id, absl::string_view place_key) {
  std::string id = absl::StrCat(practitioner_id, "-", Hex16(Fnv1a(place_key)).substr(0, 12));
  if (id.size() <= 64) return id;
  return absl::StrCat("h-", Hex16(Fnv1a(absl::StrCat(practitioner_id, "|", place_key))));
}

void WriteCoding(JsonWriter& w, absl::string_view system, absl::string_view code) {
  w.BeginObject().Field("system", system).Field("code", code).EndObject();
}

void WriteCodingList(JsonWriter& w, absl::string_view system, absl::string_view code) {
  w.Key("coding").BeginArray();
  WriteCoding(w, system, code);
  w.EndArray();
}

void WriteMetaProfile(JsonWriter& w, absl::string_view profile) {
  w.Key("meta").BeginObject().Key("profile").BeginArray().String(profile).EndArray().EndObject();
}

void WriteReference(JsonWriter& w, absl::string_view key, absl::string_view reference) {
  w.Key(key).BeginObject().Field("reference", reference).EndObject();
}

class BundleWriter {
 public:
  BundleWriter(const FhirSlotQuery& query, const FhirBundleContext& context)
      : query_(query), context_(context), w_(context.pretty) {
    cpts_id_ = FhirSafeId(context.cpts.tenant_id.empty() ? "cpts" : context.cpts.tenant_id);
    service_id_ = absl::StrCat(cpts_id_, "-snp");
    if (service_id_.size() > 64) service_id_ = absl::StrCat("h-", Hex16(Fnv1a(service_id_)));
  }

  absl::StatusOr<std::string> Write(std::vector<Slot> slots, int64_t total) {
    std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
      return a.start != b.start ? a.start < b.start : a.id < b.id;
    });
    if (slots.size() > static_cast<std::size_t>(std::max(query_.count, 0))) {
      slots.resize(static_cast<std::size_t>(std::max(query_.count, 0)));
    }
    // Resolve every slot first, so that an error leaves no half-written bundle.
    std::vector<std::string> agenda_of_slot;
    for (const Slot& slot : slots) {
      if (slot.status != SlotStatus::kFree) {
        return absl::InternalError(absl::StrCat("slot ", slot.id, " is ",
                                                SlotStatusName(slot.status),
                                                ": only FREE slots are published to the SAS"));
      }
      const auto p = context_.practitioners.find(slot.professional_member_id);
      if (p == context_.practitioners.end()) {
        return absl::InternalError(absl::StrCat("professional ", slot.professional_member_id,
                                                " of slot ", slot.id, " is not in the context"));
      }
      if (p->second.rpps.size() != 11 || !IsDigits(p->second.rpps)) {
        return absl::InternalError(absl::StrCat("professional ", slot.professional_member_id,
                                                " has no valid RPPS number"));
      }
      const std::string practitioner_id = FhirSafeId(slot.professional_member_id);
      const std::string key = PlaceKey(slot);
      const std::string agenda_id = AgendaId(practitioner_id, key);
      if (agendas_.find(agenda_id) == agendas_.end()) {
        Agenda agenda;
        agenda.id = agenda_id;
        agenda.practitioner_id = practitioner_id;
        agenda.place_key = key;
        agenda.mode = slot.mode;
        agenda.place = slot.place;
        agendas_.emplace(agenda_id, std::move(agenda));
      }
      practitioners_.emplace(practitioner_id, &p->second);
      agenda_of_slot.push_back(agenda_id);
    }

    w_.BeginObject();
    w_.Field("resourceType", "Bundle");
    w_.OptionalField("id", context_.bundle_id);
    w_.Key("meta").BeginObject();
    if (context_.last_updated != absl::InfinitePast()) {
      w_.Field("lastUpdated", FormatInstant(context_.last_updated));
    }
    w_.Key("profile").BeginArray().String(kBundleProfile).EndArray();
    w_.EndObject();
    w_.Field("type", "searchset");
    w_.Key("total").Int(total);
    w_.Key("link").BeginArray().BeginObject();
    w_.Field("relation", "self");
    w_.Field("url", absl::StrCat(context_.base_url, "/Slot?", query_.self_query));
    w_.EndObject().EndArray();  // BundleAgregateurCPTS: link 1..1, so no "next" link

    if (!slots.empty()) {
      w_.Key("entry").BeginArray();
      for (std::size_t i = 0; i < slots.size(); ++i) WriteSlot(slots[i], agenda_of_slot[i]);
      if (query_.include_schedule) {
        for (const auto& [id, agenda] : agendas_) WriteSchedule(agenda);
        if (query_.include_practitioner) {
          for (const auto& [id, practitioner] : practitioners_) {
            WritePractitioner(id, *practitioner);
          }
        }
        if (query_.include_practitioner_role) {
          for (const auto& [id, agenda] : agendas_) WritePractitionerRole(agenda);
        }
      }
      if (query_.include_healthcare_service) {
        WriteHealthcareService();
        if (query_.include_organization) WriteOrganization();
      }
      w_.EndArray();
    }
    w_.EndObject();
    return w_.Take();
  }

 private:
  void BeginEntry(absl::string_view type, absl::string_view id) {
    w_.BeginObject();
    w_.Field("fullUrl", absl::StrCat(context_.base_url, "/", type, "/", id));
    w_.Key("resource").BeginObject();
    w_.Field("resourceType", type);
    w_.Field("id", id);
  }
  void EndEntry(absl::string_view mode) {
    w_.EndObject();  // resource
    w_.Key("search").BeginObject().Field("mode", mode).EndObject();
    w_.EndObject();
  }

  void WriteSlot(const Slot& slot, const std::string& agenda_id) {
    BeginEntry("Slot", FhirSafeId(slot.id));
    w_.Key("meta").BeginObject();
    w_.Key("profile").BeginArray().String(kSlotProfile).EndArray();
    w_.Key("security").BeginArray();
    for (const absl::string_view code : FhirSlotTypeCodes(slot.visibility)) {
      WriteCoding(w_, kSlotTypeSystem, code);
    }
    w_.EndArray();
    w_.EndObject();
    w_.Key("serviceType").BeginArray();
    w_.BeginObject();
    WriteCodingList(w_, kActCodeSystem, ActCode(slot.mode));
    w_.EndObject();
    // Every slot of the shared agenda is visible to the CPTS (FhirSlotTypeCodes always ends
    // with CPTS), so each carries the CPTS type of care and its HealthcareService.
    w_.BeginObject();
    w_.Key("extension").BeginArray().BeginObject();
    w_.Field("url", kSlotServiceTypeExtension);
    WriteReference(w_, "valueReference", absl::StrCat("HealthcareService/", service_id_));
    w_.EndObject().EndArray();
    WriteCodingList(w_, kCategorieEtablissementSystem, kCptsCategoryCode);
    w_.EndObject();
    w_.EndArray();
    const FhirPractitioner& practitioner =
        *practitioners_.at(FhirSafeId(slot.professional_member_id));
    if (practitioner.profession_code == "MEDECIN_GENERALISTE") {
      w_.Key("specialty").BeginArray().BeginObject();
      WriteCodingList(w_, kSpecialtySystem, kGeneralMedicineSpecialty);
      w_.EndObject().EndArray();
    }
    w_.Key("appointmentType").BeginObject();
    WriteCodingList(w_, kAppointmentReasonSystem,
                    slot.kind == SlotKind::kWalkIn ? "WALKIN" : "ROUTINE");
    w_.EndObject();
    WriteReference(w_, "schedule", absl::StrCat("Schedule/", agenda_id));
    w_.Field("status", "free");
    w_.Field("start", FormatInstant(slot.start));
    w_.Field("end", FormatInstant(slot.end()));
    if (!context_.booking_url_template.empty()) {
      w_.Field("comment", absl::StrReplaceAll(context_.booking_url_template,
                                              {{"{slot_id}", slot.id},
                                               {"{member_id}", slot.professional_member_id}}));
    }
    EndEntry("match");
  }

  void WriteSchedule(const Agenda& agenda) {
    BeginEntry("Schedule", agenda.id);
    WriteMetaProfile(w_, kScheduleProfile);
    w_.Key("actor").BeginArray();
    w_.BeginObject().Field("reference", absl::StrCat("Practitioner/", agenda.practitioner_id));
    w_.EndObject();
    w_.BeginObject().Field("reference", absl::StrCat("PractitionerRole/", agenda.id));
    w_.EndObject();
    w_.EndArray();
    EndEntry("include");
  }

  void WritePractitioner(const std::string& id, const FhirPractitioner& practitioner) {
    BeginEntry("Practitioner", id);
    WriteMetaProfile(w_, kPractitionerProfile);
    w_.Key("identifier").BeginArray().BeginObject();
    w_.Key("type").BeginObject();
    WriteCodingList(w_, kIdentifierTypeSystem, "IDNPS");
    w_.EndObject();
    w_.Field("system", kFhirIdnpsSystem);
    w_.Field("value", absl::StrCat("8", practitioner.rpps));  // FAQ: RPPS prefixed with "8"
    w_.EndObject().EndArray();
    if (!practitioner.family_name.empty() || !practitioner.given_name.empty()) {
      w_.Key("name").BeginArray().BeginObject();
      w_.OptionalField("family", practitioner.family_name);
      if (!practitioner.given_name.empty()) {
        w_.Key("given").BeginArray().String(practitioner.given_name).EndArray();
      }
      w_.EndObject().EndArray();
    }
    EndEntry("include");
  }

  void WritePractitionerRole(const Agenda& agenda) {
    BeginEntry("PractitionerRole", agenda.id);
    WriteMetaProfile(w_, kPractitionerRoleProfile);
    w_.Key("contained").BeginArray();
    WriteLocation(agenda);
    w_.EndArray();
    WriteReference(w_, "practitioner", absl::StrCat("Practitioner/", agenda.practitioner_id));
    w_.Key("location").BeginArray();
    w_.BeginObject().Field("reference", "#loc").EndObject();
    w_.EndArray();
    EndEntry("include");
  }

  // The place of an agenda. Office: the address with the commune's postal code and name;
  // home: the commune served; video: no address (the guide assumes a physical place; a
  // teleconsultation agenda has none, so FrLocationAgregateur's address cardinality is not met
  // for it).
  void WriteLocation(const Agenda& agenda) {
    w_.BeginObject();
    w_.Field("resourceType", "Location");
    w_.Field("id", "loc");
    WriteMetaProfile(w_, kLocationProfile);
    w_.Key("identifier").BeginArray().BeginObject();
    w_.Key("type").BeginObject();
    WriteCodingList(w_, kLocationIdentifierTypeSystem, "INTRN");
    w_.EndObject();
    w_.Field("system", context_.base_url);
    w_.Field("value", Hex16(Fnv1a(agenda.place_key)));
    w_.EndObject().EndArray();
    switch (agenda.mode) {
      case ConsultationMode::kHome:
        w_.Field("name", "Visites à domicile");
        break;
      case ConsultationMode::kVideo:
        w_.Field("name", "Téléconsultation");
        break;
      case ConsultationMode::kOffice:
      case ConsultationMode::kUnspecified:
        break;
    }
    if (agenda.mode != ConsultationMode::kVideo) {
      const auto commune = context_.communes.find(agenda.place.commune_insee);
      const bool known = commune != context_.communes.end();
      if (!agenda.place.address.empty() || known) {
        w_.Key("address").BeginObject();
        if (!agenda.place.address.empty()) {
          w_.Key("line").BeginArray().String(agenda.place.address).EndArray();
        }
        if (known) {
          w_.OptionalField("city", commune->second.name);
          w_.OptionalField("postalCode", commune->second.postal_code);
        }
        w_.EndObject();
      }
    }
    w_.EndObject();
  }

  void WriteHealthcareService() {
    BeginEntry("HealthcareService", service_id_);
    WriteMetaProfile(w_, kHealthcareServiceProfile);
    WriteReference(w_, "providedBy", absl::StrCat("Organization/", cpts_id_));
    EndEntry("include");
  }

  void WriteOrganization() {
    const FhirCpts& cpts = context_.cpts;
    BeginEntry("Organization", cpts_id_);
    WriteMetaProfile(w_, kOrganizationProfile);
    if (!cpts.finess.empty()) {
      w_.Key("identifier").BeginArray().BeginObject();
      w_.Key("type").BeginObject();
      WriteCodingList(w_, kLocationIdentifierTypeSystem, "IDNST");
      w_.EndObject();
      w_.Field("system", kFhirIdnstSystem);
      w_.Field("value", absl::StrCat("1", cpts.finess));  // guide: FINESS prefixed with "1"
      w_.EndObject().EndArray();
    }
    w_.OptionalField("name", cpts.name);
    if (!cpts.phone.empty()) {
      w_.Key("telecom").BeginArray().BeginObject();
      w_.Field("system", "phone").Field("value", cpts.phone);
      w_.EndObject().EndArray();
    }
    EndEntry("include");
  }

  const FhirSlotQuery& query_;
  const FhirBundleContext& context_;
  JsonWriter w_;
  std::string cpts_id_;
  std::string service_id_;
  std::map<std::string, Agenda> agendas_;                         // by id
  std::map<std::string, const FhirPractitioner*> practitioners_;  // by FHIR id
};

}  // namespace

FhirSlotQueryParse ParseFhirSlotQuery(absl::string_view raw_query,
                                      const FhirParseOptions& options) {
  FhirSlotQueryParse result;
  QueryParser parser(options, result);
  parser.Parse(raw_query);
  return result;
}

std::vector<absl::string_view> FhirSlotTypeCodes(Visibility visibility) {
  static constexpr std::pair<Visibility, absl::string_view> kCodes[] = {
      {Visibility::kPublic, "PUBLIC"},
      {Visibility::kPro, "PRO"},
      {Visibility::kSnp, "SNP"},
      {Visibility::kCpts, "CPTS"},
  };
  std::vector<absl::string_view> out;
  if (visibility == Visibility::kUnspecified) return out;
  for (const auto& [level, code] : kCodes) {
    if (level >= visibility) out.push_back(code);
  }
  return out;
}

absl::StatusOr<std::string> FhirSlotBundleJson(const FhirSlotQuery& query,
                                               const std::vector<Slot>& slots, int64_t total,
                                               const FhirBundleContext& context) {
  BundleWriter writer(query, context);
  return writer.Write(slots, total);
}

std::string FhirOperationOutcomeJson(const std::vector<FhirIssue>& issues, bool pretty) {
  JsonWriter w(pretty);
  w.BeginObject();
  w.Field("resourceType", "OperationOutcome");
  w.Key("issue").BeginArray();
  for (const FhirIssue& issue : issues) {
    w.BeginObject();
    w.Field("severity", issue.severity);
    w.Field("code", issue.code);
    w.OptionalField("diagnostics", issue.diagnostics);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

FhirErrorResponse FhirErrorFor(const absl::Status& status) {
  FhirErrorResponse response;
  FhirIssue issue;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      response.http_status = 400;
      issue.code = "invalid";
      break;
    case absl::StatusCode::kUnauthenticated:
      response.http_status = 401;
      issue.code = "login";
      break;
    case absl::StatusCode::kPermissionDenied:
      response.http_status = 403;
      issue.code = "forbidden";
      break;
    case absl::StatusCode::kNotFound:
      response.http_status = 404;
      issue.code = "not-found";
      break;
    case absl::StatusCode::kFailedPrecondition:
      response.http_status = 422;
      issue.code = "business-rule";
      break;
    case absl::StatusCode::kResourceExhausted:
      response.http_status = 429;
      issue.code = "throttled";
      break;
    case absl::StatusCode::kUnavailable:
      response.http_status = 503;
      issue.code = "transient";
      break;
    case absl::StatusCode::kDeadlineExceeded:
      response.http_status = 504;
      issue.code = "timeout";
      break;
    default:
      response.http_status = 500;
      issue.code = "exception";
      break;
  }
  if (response.http_status < 500) {
    issue.diagnostics = std::string(status.message());
  } else {
    issue.diagnostics = response.http_status == 500 ? "internal error" : "temporarily unavailable";
  }
  issue.severity = response.http_status < 500 ? "error" : "fatal";
  response.body = FhirOperationOutcomeJson({issue});
  return response;
}

}  // namespace cpts::access
