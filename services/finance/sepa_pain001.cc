#include "services/finance/sepa_pain001.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/finance/iban.h"
#include "services/finance/validators.h"

namespace cpts::finance {
namespace {

constexpr Cents kMaxSepaCents = 99'999'999'999;  // 999999999.99 EUR

// SEPA identifiers (MsgId, PmtInfId, EndToEndId): 1..35 characters of the restricted set, not
// starting or ending with '/', without "//".
absl::Status ValidateSepaId(absl::string_view id, absl::string_view field) {
  if (id.empty() || id.size() > 35) return FieldError(field, "must be 1 to 35 characters");
  for (char c : id) {
    const bool ok = absl::ascii_isalnum(c) || c == '/' || c == '-' || c == '?' || c == ':' ||
                    c == '(' || c == ')' || c == '.' || c == ',' || c == '\'' || c == '+' ||
                    c == ' ';
    if (!ok)
      return FieldError(field, absl::StrCat("character '", std::string(1, c),
                                            "' is not allowed in a SEPA identifier"));
  }
  if (id.front() == '/' || id.back() == '/' || id.find("//") != absl::string_view::npos) {
    return FieldError(field, "must not start or end with '/' nor contain \"//\"");
  }
  return absl::OkStatus();
}

absl::Status ValidateParty(const SepaParty& party, absl::string_view field) {
  if (auto s = NormalizeIban(party.iban, absl::StrCat(field, ".iban")); !s.ok()) {
    return s.status();
  }
  if (!party.bic.empty()) {
    if (auto s = NormalizeBic(party.bic, absl::StrCat(field, ".bic")); !s.ok()) return s.status();
  }
  if (absl::StripAsciiWhitespace(party.name).empty()) {
    return FieldError(absl::StrCat(field, ".name"), "required");
  }
  return absl::OkStatus();
}

void AppendElement(std::string& out, absl::string_view indent, absl::string_view tag,
                   absl::string_view text) {
  absl::StrAppend(&out, indent, "<", tag, ">", XmlEscape(text), "</", tag, ">\n");
}

void AppendAgent(std::string& out, absl::string_view indent, absl::string_view tag,
                 absl::string_view bic, bool not_provided_if_empty) {
  if (bic.empty() && !not_provided_if_empty) return;
  absl::StrAppend(&out, indent, "<", tag, "><FinInstnId>");
  if (bic.empty()) {
    absl::StrAppend(&out, "<Othr><Id>NOTPROVIDED</Id></Othr>");
  } else {
    absl::StrAppend(&out, "<BIC>", XmlEscape(absl::AsciiStrToUpper(bic)), "</BIC>");
  }
  absl::StrAppend(&out, "</FinInstnId></", tag, ">\n");
}

std::string ElectronicIban(absl::string_view iban) {
  auto s = NormalizeIban(iban, "iban");
  return s.ok() ? *s : std::string(iban);
}

}  // namespace

std::string FormatEuros(Cents cents) {
  if (cents < 0) return absl::StrCat("-", FormatEuros(-cents));
  return absl::StrFormat("%d.%02d", cents / 100, cents % 100);
}

std::string XmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0: dropped.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string TruncateUtf8(absl::string_view text, std::size_t max_chars) {
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (chars == max_chars) break;
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    ++chars;
  }
  return std::string(text.substr(0, i));
}

absl::StatusOr<std::string> BuildPain001(const SepaPaymentFile& file) {
  if (auto s = ValidateSepaId(file.message_id, "message_id"); !s.ok()) return s;
  if (auto s = ValidateSepaId(file.payment_info_id, "payment_info_id"); !s.ok()) return s;
  if (file.creation_time == absl::InfinitePast() || file.creation_time == absl::InfiniteFuture()) {
    return FieldError("creation_time", "required");
  }
  if (auto s = ValidateParty(file.debtor, "debtor"); !s.ok()) return s;
  if (file.transfers.empty()) return FieldError("transfers", "at least one transfer");
  Cents total = 0;
  absl::flat_hash_set<std::string> e2e_ids;
  for (std::size_t i = 0; i < file.transfers.size(); ++i) {
    const SepaTransfer& t = file.transfers[i];
    const std::string field = absl::StrCat("transfers[", i, "]");
    if (auto s = ValidateSepaId(t.end_to_end_id, absl::StrCat(field, ".end_to_end_id")); !s.ok()) {
      return s;
    }
    if (!e2e_ids.insert(t.end_to_end_id).second) {
      return FieldError(absl::StrCat(field, ".end_to_end_id"), "duplicate");
    }
    if (auto s = ValidateParty(t.creditor, absl::StrCat(field, ".creditor")); !s.ok()) return s;
    if (t.amount_cents < 1 || t.amount_cents > kMaxSepaCents) {
      return FieldError(absl::StrCat(field, ".amount_cents"),
                        "must be between 1 cent and 999999999.99 euros");
    }
    total += t.amount_cents;
  }
  const std::string count = absl::StrCat(file.transfers.size());
  const std::string ctrl_sum = FormatEuros(total);

  std::string x;
  x += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\" "
       "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n";
  x += "  <CstmrCdtTrfInitn>\n";
  x += "    <GrpHdr>\n";
  AppendElement(x, "      ", "MsgId", file.message_id);
  AppendElement(x, "      ", "CreDtTm",
                absl::FormatTime("%Y-%m-%dT%H:%M:%S", file.creation_time, absl::UTCTimeZone()));
  AppendElement(x, "      ", "NbOfTxs", count);
  AppendElement(x, "      ", "CtrlSum", ctrl_sum);
  x += "      <InitgPty>\n";
  AppendElement(
      x, "        ", "Nm",
      TruncateUtf8(
          file.initiating_party_name.empty() ? file.debtor.name : file.initiating_party_name, 70));
  x += "      </InitgPty>\n";
  x += "    </GrpHdr>\n";
  x += "    <PmtInf>\n";
  AppendElement(x, "      ", "PmtInfId", file.payment_info_id);
  AppendElement(x, "      ", "PmtMtd", "TRF");
  AppendElement(x, "      ", "BtchBookg", "true");
  AppendElement(x, "      ", "NbOfTxs", count);
  AppendElement(x, "      ", "CtrlSum", ctrl_sum);
  x += "      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>\n";
  AppendElement(x, "      ", "ReqdExctnDt", absl::FormatCivilTime(file.requested_execution_date));
  x += "      <Dbtr>\n";
  AppendElement(x, "        ", "Nm", TruncateUtf8(file.debtor.name, 70));
  x += "      </Dbtr>\n";
  absl::StrAppend(&x, "      <DbtrAcct><Id><IBAN>", ElectronicIban(file.debtor.iban),
                  "</IBAN></Id></DbtrAcct>\n");
  AppendAgent(x, "      ", "DbtrAgt", file.debtor.bic, /*not_provided_if_empty=*/true);
  AppendElement(x, "      ", "ChrgBr", "SLEV");
  for (const SepaTransfer& t : file.transfers) {
    x += "      <CdtTrfTxInf>\n";
    absl::StrAppend(&x, "        <PmtId><EndToEndId>", XmlEscape(t.end_to_end_id),
                    "</EndToEndId></PmtId>\n");
    absl::StrAppend(&x, "        <Amt><InstdAmt Ccy=\"EUR\">", FormatEuros(t.amount_cents),
                    "</InstdAmt></Amt>\n");
    AppendAgent(x, "        ", "CdtrAgt", t.creditor.bic, /*not_provided_if_empty=*/false);
    x += "        <Cdtr>\n";
    AppendElement(x, "          ", "Nm", TruncateUtf8(t.creditor.name, 70));
    x += "        </Cdtr>\n";
    absl::StrAppend(&x, "        <CdtrAcct><Id><IBAN>", ElectronicIban(t.creditor.iban),
                    "</IBAN></Id></CdtrAcct>\n");
    if (!t.remittance_info.empty()) {
      x += "        <RmtInf>\n";
      AppendElement(x, "          ", "Ustrd", TruncateUtf8(t.remittance_info, 140));
      x += "        </RmtInf>\n";
    }
    x += "      </CdtTrfTxInf>\n";
  }
  x += "    </PmtInf>\n";
  x += "  </CstmrCdtTrfInitn>\n";
  x += "</Document>\n";
  return x;
}

SepaPaymentFile PaymentFileForBatch(const PaymentBatch& batch, const SepaParty& debtor,
                                    absl::string_view initiating_party_name,
                                    absl::Time creation_time) {
  SepaPaymentFile f;
  f.message_id = batch.id;
  f.payment_info_id = TruncateUtf8(absl::StrCat(batch.id, "-1"), 35);
  f.creation_time = creation_time;
  f.requested_execution_date = batch.execution_date;
  f.initiating_party_name = std::string(initiating_party_name);
  f.debtor = debtor;
  for (const BatchLine& line : batch.lines) {
    if (line.blocked) continue;
    f.transfers.push_back(SepaTransfer{
        .end_to_end_id = line.end_to_end_id,
        .creditor = SepaParty{.name = line.payee_name, .iban = line.iban, .bic = line.bic},
        .amount_cents = line.amount_cents,
        .remittance_info = TruncateUtf8(
            absl::StrCat("Indemnites CPTS ", batch.label.empty() ? batch.id : batch.label), 140),
    });
  }
  return f;
}

}  // namespace cpts::finance
