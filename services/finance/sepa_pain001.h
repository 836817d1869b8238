#pragma once

// SEPA credit transfer initiation, ISO 20022 pain.001.001.03 (the version French banks accept
// under the EPC rulebook): one group header, one payment information block (the CPTS's
// account), one credit transfer per payee.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/finance/model.h"

namespace cpts::finance {

struct SepaParty {
  std::string name{};  // truncated to 70 characters
  std::string iban{};
  std::string bic{};  // optional: omitted (or NOTPROVIDED for the debtor) when empty
};

struct SepaTransfer {
  std::string end_to_end_id{};  // 1..35 characters
  SepaParty creditor{};
  Cents amount_cents = 0;         // > 0
  std::string remittance_info{};  // unstructured, truncated to 140 characters
};

struct SepaPaymentFile {
  std::string message_id{};       // 1..35 characters, unique per file
  std::string payment_info_id{};  // 1..35 characters
  absl::Time creation_time = absl::InfinitePast();
  absl::CivilDay requested_execution_date{};
  std::string initiating_party_name{};
  SepaParty debtor{};
  std::vector<SepaTransfer> transfers{};
};

// "1234.56" for 123456 cents. Non-negative amounts only.
std::string FormatEuros(Cents cents);

// Escapes &, <, >, " and ' for XML text and attribute values; drops the control characters
// XML 1.0 forbids.
std::string XmlEscape(absl::string_view text);

// Truncates UTF-8 text to at most `max_chars` code points without splitting one.
std::string TruncateUtf8(absl::string_view text, std::size_t max_chars);

// The pain.001.001.03 document (UTF-8, with XML declaration). Checks: ids of 1..35
// characters from the SEPA identifier set (letters, digits, / - ? : ( ) . , ' + space), a
// valid debtor IBAN (and BIC when given), at least one transfer, each with a valid creditor
// IBAN (and BIC when given), a non-empty creditor name and an amount of 1 cent to
// 999999999.99 euros; unique end-to-end ids. GrpHdr carries NbOfTxs and CtrlSum, as does
// PmtInf. InvalidArgument naming the first problem.
absl::StatusOr<std::string> BuildPain001(const SepaPaymentFile& file);

// The file for the payable (not blocked) lines of a batch. `message_id` is the batch id.
SepaPaymentFile PaymentFileForBatch(const PaymentBatch& batch, const SepaParty& debtor,
                                    absl::string_view initiating_party_name,
                                    absl::Time creation_time);

}  // namespace cpts::finance
