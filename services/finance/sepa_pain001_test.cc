#include "services/finance/sepa_pain001.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "services/finance/iban.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::finance {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Synthetic(const std::string& bban) {
  return absl::StrCat("FR", IbanCheckDigits("FR", bban), bban);
}

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

SepaPaymentFile File() {
  SepaPaymentFile f;
  f.message_id = "B01HZX5Q7K";
  f.payment_info_id = "B01HZX5Q7K-1";
  f.creation_time = absl::FromUnixSeconds(1735725600);  // 2025-01-01T10:00:00Z
  f.requested_execution_date = absl::CivilDay(2025, 1, 6);
  f.initiating_party_name = "CPTS Exemple";
  f.debtor = SepaParty{
      .name = "CPTS Exemple", .iban = "FR76 3000 6000 0112 3456 7890 189", .bic = "AGRIFRPP"};
  f.transfers = {
      SepaTransfer{.end_to_end_id = "L1-B01HZX5Q7K",
                   .creditor = SepaParty{.name = "Dupont & Fils <SELARL>",
                                         .iban = Synthetic("20041010050500013M02606")},
                   .amount_cents = 18000,
                   .remittance_info = "Indemnites CPTS T1"},
      SepaTransfer{.end_to_end_id = "L2-B01HZX5Q7K",
                   .creditor = SepaParty{.name = "Martin",
                                         .iban = Synthetic("30002005500000157841Z25"),
                                         .bic = "CRLYFRPP"},
                   .amount_cents = 5,
                   .remittance_info = ""},
  };
  return f;
}

TEST(FormatEurosTest, TwoDecimals) {
  EXPECT_EQ(FormatEuros(0), "0.00");
  EXPECT_EQ(FormatEuros(5), "0.05");
  EXPECT_EQ(FormatEuros(18000), "180.00");
  EXPECT_EQ(FormatEuros(123456789), "1234567.89");
  EXPECT_EQ(FormatEuros(-1050), "-10.50");
}

TEST(XmlEscapeTest, EscapesMarkupAndDropsControls) {
  EXPECT_EQ(XmlEscape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(XmlEscape(std::string("x\x01y\tz")), "xy\tz");
  EXPECT_EQ(XmlEscape("Élodie Hébert"), "Élodie Hébert");
}

TEST(TruncateUtf8Test, KeepsWholeCodePoints) {
  EXPECT_EQ(TruncateUtf8("Hébert", 2), "Hé");
  EXPECT_EQ(TruncateUtf8("abc", 10), "abc");
  EXPECT_EQ(TruncateUtf8("ééé", 0), "");
}

TEST(Pain001Test, HeaderTotalsAndOneTransferPerPayee) {
  auto xml = BuildPain001(File());
  ASSERT_THAT(xml, IsOk());
  EXPECT_THAT(*xml, HasSubstr("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  EXPECT_THAT(*xml, HasSubstr("xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\""));
  EXPECT_THAT(*xml, HasSubstr("<MsgId>B01HZX5Q7K</MsgId>"));
  EXPECT_THAT(*xml, HasSubstr("<CreDtTm>2025-01-01T10:00:00</CreDtTm>"));
  EXPECT_EQ(Count(*xml, "<NbOfTxs>2</NbOfTxs>"), 2);  // GrpHdr and PmtInf
  EXPECT_EQ(Count(*xml, "<CtrlSum>180.05</CtrlSum>"), 2);
  EXPECT_EQ(Count(*xml, "<CdtTrfTxInf>"), 2);
  EXPECT_EQ(Count(*xml, "</CdtTrfTxInf>"), 2);
  EXPECT_THAT(*xml, HasSubstr("<PmtMtd>TRF</PmtMtd>"));
  EXPECT_THAT(*xml, HasSubstr("<SvcLvl><Cd>SEPA</Cd></SvcLvl>"));
  EXPECT_THAT(*xml, HasSubstr("<ReqdExctnDt>2025-01-06</ReqdExctnDt>"));
  EXPECT_THAT(*xml, HasSubstr("<ChrgBr>SLEV</ChrgBr>"));
  // The debtor's IBAN in electronic form, with its BIC.
  EXPECT_THAT(*xml, HasSubstr("<DbtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN>"));
  EXPECT_THAT(*xml, HasSubstr("<DbtrAgt><FinInstnId><BIC>AGRIFRPP</BIC>"));
  // Amounts in euros with two decimals.
  EXPECT_THAT(*xml, HasSubstr("<InstdAmt Ccy=\"EUR\">180.00</InstdAmt>"));
  EXPECT_THAT(*xml, HasSubstr("<InstdAmt Ccy=\"EUR\">0.05</InstdAmt>"));
  // Names escaped; creditor agent only when a BIC is known.
  EXPECT_THAT(*xml, HasSubstr("<Nm>Dupont &amp; Fils &lt;SELARL&gt;</Nm>"));
  EXPECT_THAT(*xml, Not(HasSubstr("<SELARL>")));
  EXPECT_EQ(Count(*xml, "<CdtrAgt>"), 1);
  EXPECT_THAT(*xml, HasSubstr("<CdtrAgt><FinInstnId><BIC>CRLYFRPP</BIC>"));
  EXPECT_EQ(Count(*xml, "<RmtInf>"), 1);
  EXPECT_THAT(*xml, HasSubstr("<EndToEndId>L2-B01HZX5Q7K</EndToEndId>"));
  // Elements in schema order inside a transfer.
  EXPECT_LT(xml->find("<PmtId>"), xml->find("<Amt>"));
  EXPECT_LT(xml->find("<Amt>"), xml->find("<Cdtr>"));
  EXPECT_LT(xml->find("<Cdtr>"), xml->find("<CdtrAcct>"));
  EXPECT_THAT(*xml, HasSubstr("</Document>\n"));
}

TEST(Pain001Test, DebtorWithoutBicIsNotProvided) {
  SepaPaymentFile f = File();
  f.debtor.bic.clear();
  auto xml = BuildPain001(f);
  ASSERT_THAT(xml, IsOk());
  EXPECT_THAT(*xml, HasSubstr("<DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr>"));
}

TEST(Pain001Test, LongNamesAreTruncatedTo70Characters) {
  SepaPaymentFile f = File();
  f.transfers[1].creditor.name = std::string(80, 'e');
  auto xml = BuildPain001(f);
  ASSERT_THAT(xml, IsOk());
  EXPECT_THAT(*xml, HasSubstr("<Nm>" + std::string(70, 'e') + "</Nm>"));
  EXPECT_THAT(*xml, Not(HasSubstr(std::string(71, 'e'))));
}

TEST(Pain001Test, RefusesInvalidContent) {
  SepaPaymentFile f = File();
  f.transfers[0].creditor.iban = "FR7630006000011234567890188";
  EXPECT_THAT(BuildPain001(f),
              StatusIs(absl::StatusCode::kInvalidArgument, "transfers[0].creditor.iban"));

  f = File();
  f.debtor.iban = "FR76";
  EXPECT_THAT(BuildPain001(f), StatusIs(absl::StatusCode::kInvalidArgument, "debtor.iban"));

  f = File();
  f.transfers[1].creditor.bic = "CRLY";
  EXPECT_THAT(BuildPain001(f), StatusIs(absl::StatusCode::kInvalidArgument, "creditor.bic"));

  f = File();
  f.transfers[1].end_to_end_id = f.transfers[0].end_to_end_id;
  EXPECT_THAT(BuildPain001(f), StatusIs(absl::StatusCode::kInvalidArgument, "duplicate"));

  f = File();
  f.transfers[0].amount_cents = 0;
  EXPECT_THAT(BuildPain001(f), StatusIs(absl::StatusCode::kInvalidArgument, "amount_cents"));

  f = File();
  f.message_id = std::string(36, 'M');
  EXPECT_THAT(BuildPain001(f), StatusIs(absl::StatusCode::kInvalidArgument, "message_id"));

  f = File();
  f.message_id = "batch_1";
  EXPECT_THAT(BuildPain001(f), StatusIs(absl::StatusCode::kInvalidArgument, "not allowed"));

  f = File();
  f.payment_info_id = "/B1";
  EXPECT_THAT(BuildPain001(f), StatusIs(absl::StatusCode::kInvalidArgument, "'/'"));

  f = File();
  f.transfers.clear();
  EXPECT_THAT(BuildPain001(f), StatusIs(absl::StatusCode::kInvalidArgument, "at least one"));

  f = File();
  f.transfers[0].creditor.name = "  ";
  EXPECT_THAT(BuildPain001(f), StatusIs(absl::StatusCode::kInvalidArgument, "name"));
}

TEST(Pain001Test, BatchFileLeavesBlockedLinesOut) {
  PaymentBatch batch;
  batch.id = "B01HZX5Q7K";
  batch.label = "T1 2025";
  batch.execution_date = absl::CivilDay(2025, 4, 7);
  batch.lines = {
      BatchLine{.payee_member_id = "p1",
                .payee_name = "Dupont",
                .iban = Synthetic("20041010050500013M02606"),
                .amount_cents = 8000,
                .end_to_end_id = "L1-B01HZX5Q7K"},
      BatchLine{.payee_member_id = "p2",
                .payee_name = "Martin",
                .iban = "FR00BAD",
                .amount_cents = 10000,
                .blocked = true,
                .blocked_reason = "iban: too short",
                .end_to_end_id = "L2-B01HZX5Q7K"},
  };
  const SepaPaymentFile f = PaymentFileForBatch(
      batch, SepaParty{.name = "CPTS Exemple", .iban = "FR7630006000011234567890189"},
      "CPTS Exemple", absl::FromUnixSeconds(1743984000));
  ASSERT_EQ(f.transfers.size(), 1u);
  EXPECT_EQ(f.transfers[0].creditor.name, "Dupont");
  EXPECT_EQ(f.transfers[0].remittance_info, "Indemnites CPTS T1 2025");
  auto xml = BuildPain001(f);
  ASSERT_THAT(xml, IsOk());
  EXPECT_EQ(Count(*xml, "<NbOfTxs>1</NbOfTxs>"), 2);
  EXPECT_EQ(Count(*xml, "<CtrlSum>80.00</CtrlSum>"), 2);
  EXPECT_THAT(*xml, Not(HasSubstr("Martin")));
}

}  // namespace
}  // namespace cpts::finance
