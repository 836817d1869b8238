#include "services/membership/validators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/membership/professions_catalog.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::membership {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

// A valid RPPS: 10 digits followed by their Luhn check digit.
std::string ValidRpps(const std::string& first10) {
  return absl::StrCat(first10, LuhnCheckDigit(first10));
}

// --- RPPS ------------------------------------------------------------------------------

TEST(LuhnTest, MatchesTheTextbookExample) {
  // The classic example: 7992739871 completes to 79927398713.
  EXPECT_EQ(LuhnCheckDigit("7992739871"), 3);
}

TEST(RppsTest, AcceptsNumbersWithTheirLuhnDigit) {
  for (const std::string prefix :
       {"1000000000", "1000123456", "1234567890", "8000000000", "1999999999", "0000000000"}) {
    const std::string rpps = ValidRpps(prefix);
    EXPECT_THAT(ValidateRpps(rpps, "member.rpps"), IsOk()) << rpps;
  }
}

TEST(RppsTest, RefusesEveryWrongCheckDigit) {
  const std::string good = ValidRpps("1000123456");
  for (char d = '0'; d <= '9'; ++d) {
    if (d == good.back()) continue;
    std::string bad = good;
    bad.back() = d;
    EXPECT_THAT(
        ValidateRpps(bad, "member.rpps"),
        StatusIs(absl::StatusCode::kInvalidArgument, "member.rpps: check digit does not match"))
        << bad;
  }
}

TEST(RppsTest, RefusesAnySingleDigitChange) {
  // Luhn catches every single-digit error: change each position of a valid number.
  const std::string good = ValidRpps("1012345678");
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = bad[i] == '9' ? '0' : static_cast<char>(bad[i] + 1);
    EXPECT_FALSE(ValidateRpps(bad, "f").ok()) << bad;
  }
}

struct BadRpps {
  std::string input;
  std::string message;
};

class RppsFormatTest : public ::testing::TestWithParam<BadRpps> {};

TEST_P(RppsFormatTest, NamesTheFieldAndTheProblem) {
  EXPECT_THAT(ValidateRpps(GetParam().input, "member.rpps"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("member.rpps: ", GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    Rpps, RppsFormatTest,
    ::testing::Values(BadRpps{"", "must be exactly 11 digits"},
                      BadRpps{"1000000000", "must be exactly 11 digits"},     // 10 digits
                      BadRpps{"100000000000", "must be exactly 11 digits"},   // 12 digits
                      BadRpps{"1000000000A", "must be exactly 11 digits"},    // letter
                      BadRpps{"10000 00000", "must be exactly 11 digits"},    // space
                      BadRpps{"-1000000000", "must be exactly 11 digits"},    // sign
                      BadRpps{"١٠٠٠٠٠٠٠٠٠٠", "must be exactly 11 digits"}));  // Arabic digits

// --- INSEE -----------------------------------------------------------------------------

class InseeValidTest : public ::testing::TestWithParam<std::string> {};
TEST_P(InseeValidTest, Accepts) {
  EXPECT_THAT(ValidateInseeCommune(GetParam(), "c"), IsOk()) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(Insee, InseeValidTest,
                         ::testing::Values("01001", "19031", "21231", "33063", "75056", "95690",
                                           "2A004", "2B033", "97101", "97209", "97302", "97411",
                                           "97502", "97611", "77445"));

struct BadInsee {
  std::string input;
  std::string message;
};
class InseeInvalidTest : public ::testing::TestWithParam<BadInsee> {};
TEST_P(InseeInvalidTest, RefusesNamingTheField) {
  EXPECT_THAT(
      ValidateInseeCommune(GetParam().input, "member.practice_places[0].commune_insee"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               absl::StrCat("member.practice_places[0].commune_insee: ", GetParam().message)))
      << GetParam().input;
}
INSTANTIATE_TEST_SUITE_P(Insee, InseeInvalidTest,
                         ::testing::Values(BadInsee{"", "must be 5 characters"},
                                           BadInsee{"7505", "must be 5 characters"},
                                           BadInsee{"750560", "must be 5 characters"},
                                           BadInsee{"00123", "department 00 does not exist"},
                                           BadInsee{"20004", "department 20 does not exist"},
                                           BadInsee{"96001", "department 96 does not exist"},
                                           BadInsee{"98735", "department 98 does not exist"},
                                           BadInsee{"99100", "department 99 does not exist"},
                                           BadInsee{"97701", "overseas departments are 971 to 976"},
                                           BadInsee{"97001", "overseas departments are 971 to 976"},
                                           BadInsee{"2C004", "must start with a department"},
                                           BadInsee{"2a004", "must start with a department"},
                                           BadInsee{"AB123", "must start with a department"},
                                           BadInsee{"9741A", "commune number must be digits"},
                                           BadInsee{"2A0B4", "commune number must be digits"},
                                           BadInsee{"75000", "commune number must not be zero"},
                                           BadInsee{"97400", "commune number must not be zero"}));

// --- FINESS ----------------------------------------------------------------------------

TEST(FinessTest, AcceptsDigitsAndCorsica) {
  EXPECT_THAT(ValidateFiness("330781196", "tenant.finess"), IsOk());
  EXPECT_THAT(ValidateFiness("2A0000123", "tenant.finess"), IsOk());
  EXPECT_THAT(ValidateFiness("2B0012345", "tenant.finess"), IsOk());
}

TEST(FinessTest, RefusesOtherShapes) {
  for (const std::string bad :
       {"", "33078119", "3307811960", "2C0000123", "33078119X", "2A00001"}) {
    EXPECT_THAT(ValidateFiness(bad, "tenant.finess"),
                StatusIs(absl::StatusCode::kInvalidArgument, "tenant.finess: "))
        << bad;
  }
}

// --- phones ----------------------------------------------------------------------------

struct PhoneCase {
  std::string input;
  std::string e164;
};
class PhoneValidTest : public ::testing::TestWithParam<PhoneCase> {};
TEST_P(PhoneValidTest, NormalisesToE164) {
  const auto got = NormalizePhone(GetParam().input, "member.contact.phone");
  ASSERT_THAT(got, IsOk()) << GetParam().input;
  EXPECT_EQ(*got, GetParam().e164) << GetParam().input;
}
INSTANTIATE_TEST_SUITE_P(
    Phones, PhoneValidTest,
    ::testing::Values(
        PhoneCase{"06 12 34 56 78", "+33612345678"}, PhoneCase{"06.12.34.56.78", "+33612345678"},
        PhoneCase{"06-12-34-56-78", "+33612345678"}, PhoneCase{"0612345678", "+33612345678"},
        PhoneCase{" 06 12 34 56 78 ", "+33612345678"},
        PhoneCase{"+33 6 12 34 56 78", "+33612345678"}, PhoneCase{"+33612345678", "+33612345678"},
        PhoneCase{"0033 6 12 34 56 78", "+33612345678"},
        PhoneCase{"+33 (0)6 12 34 56 78", "+33612345678"},
        PhoneCase{"01 23 45 67 89", "+33123456789"}, PhoneCase{"09 70 12 34 56", "+33970123456"},
        PhoneCase{"0690 12 34 56", "+590690123456"},  // Guadeloupe mobile
        PhoneCase{"0596 12 34 56", "+596596123456"},  // Martinique fixed
        PhoneCase{"0262 12 34 56", "+262262123456"},  // La Réunion fixed
        PhoneCase{"0639 12 34 56", "+262639123456"},  // Mayotte mobile
        PhoneCase{"+44 20 7946 0958", "+442079460958"},
        PhoneCase{"+1 (415) 555-0100", "+14155550100"},
        PhoneCase{"0049 30 1234567", "+49301234567"}, PhoneCase{"+32/2 123 45 67", "+3221234567"}));

class PhoneInvalidTest : public ::testing::TestWithParam<std::string> {};
TEST_P(PhoneInvalidTest, RefusesNamingTheField) {
  EXPECT_THAT(NormalizePhone(GetParam(), "member.contact.phone"),
              StatusIs(absl::StatusCode::kInvalidArgument, "member.contact.phone: "))
      << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Phones, PhoneInvalidTest,
    ::testing::Values("", "   ", "abc", "06 12 34 56", "06 12 34 56 789", "00 00 00 00 00",
                      "612345678", "+33 06 12 34 56 78", "+33 6 12 34 56", "+33 6 12 34 56 78 9",
                      "+1234567", "+0123456789", "+1234567890123456", "06 12 34 56 78 ext 2",
                      "06 12 34 56 78+", "06_12_34_56_78", "tel:0612345678", "+33 6 12 34 56 7a"));

// --- emails ----------------------------------------------------------------------------

struct EmailCase {
  std::string input;
  std::string normalised;
};
class EmailValidTest : public ::testing::TestWithParam<EmailCase> {};
TEST_P(EmailValidTest, AcceptsAndLowercasesTheDomain) {
  const auto got = NormalizeEmail(GetParam().input, "member.contact.email");
  ASSERT_THAT(got, IsOk()) << GetParam().input;
  EXPECT_EQ(*got, GetParam().normalised);
}
INSTANTIATE_TEST_SUITE_P(
    Emails, EmailValidTest,
    ::testing::Values(EmailCase{"Jeanne.Exemple@Example.FR", "Jeanne.Exemple@example.fr"},
                      EmailCase{"a+tag@sub.domaine-test.fr", "a+tag@sub.domaine-test.fr"},
                      EmailCase{"  x@y.io  ", "x@y.io"},
                      EmailCase{"o'brien@example.com", "o'brien@example.com"},
                      EmailCase{"secretariat@cpts-exemple.xn--p1ai",
                                "secretariat@cpts-exemple.xn--p1ai"},
                      EmailCase{"1234@99.example.org", "1234@99.example.org"}));

class EmailInvalidTest : public ::testing::TestWithParam<std::string> {};
TEST_P(EmailInvalidTest, RefusesNamingTheField) {
  EXPECT_THAT(NormalizeEmail(GetParam(), "member.contact.email"),
              StatusIs(absl::StatusCode::kInvalidArgument, "member.contact.email: "))
      << GetParam();
}
INSTANTIATE_TEST_SUITE_P(Emails, EmailInvalidTest,
                         ::testing::Values("", "plainaddress", "@example.fr", "a@", "a@b",
                                           "a@@b.fr", "a@b@c.fr", ".a@b.fr", "a.@b.fr", "a..b@c.fr",
                                           "a@-b.fr", "a@b-.fr", "a@b..fr", "a@.b.fr", "a b@c.fr",
                                           "élodie@c.fr", "a@c.f", "a@c.12", "a(b)@c.fr",
                                           "a@c_d.fr", std::string(65, 'a') + "@example.fr",
                                           "a@" + std::string(250, 'b') + ".fr",
                                           "a@" + std::string(64, 'b') + ".fr"));

// --- names and text --------------------------------------------------------------------

TEST(NameTest, TrimsAndCollapsesSpaces) {
  const auto got = NormalizeName("  Élodie \u00A0  Martin-Durand ", "member.given_name");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(*got, "Élodie Martin-Durand");
}

TEST(NameTest, CountsCharactersNotBytes) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "é";
  EXPECT_THAT(NormalizeName(hundred, "f"), IsOk());
  EXPECT_THAT(NormalizeName(hundred + "e", "member.family_name"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "member.family_name: must be at most 100 characters"));
}

TEST(NameTest, RefusesEmptyControlAndInvalidUtf8) {
  EXPECT_THAT(NormalizeName("", "member.given_name"),
              StatusIs(absl::StatusCode::kInvalidArgument, "member.given_name: must not be empty"));
  EXPECT_THAT(NormalizeName(" \t ", "member.given_name"),
              StatusIs(absl::StatusCode::kInvalidArgument, "member.given_name: must not be empty"));
  EXPECT_THAT(NormalizeName("Bad\x01Name", "n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "n: must not contain control"));
  EXPECT_THAT(NormalizeName("Two\nLines", "n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "n: must not contain control"));
  EXPECT_THAT(NormalizeName("Bidi\u202Eevil", "n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "n: must not contain control"));
  EXPECT_THAT(NormalizeName("Broken\xC3", "n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "n: is not valid UTF-8"));
  EXPECT_THAT(NormalizeName("Overlong\xC0\xAF", "n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "n: is not valid UTF-8"));
}

TEST(TextTest, MultilineAllowsNewlinesOnlyWhenAsked) {
  EXPECT_THAT(NormalizeText("line 1\nline 2", "message", 100, false, true), IsOk());
  EXPECT_THAT(NormalizeText("line 1\nline 2", "reference", 100, false, false),
              StatusIs(absl::StatusCode::kInvalidArgument, "reference: "));
  EXPECT_THAT(NormalizeText("", "reason", 10, /*required=*/true),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason: must not be empty"));
  EXPECT_THAT(NormalizeText("", "reason", 10, /*required=*/false), IsOk());
}

TEST(FoldTest, FoldsCaseAndFrenchAccents) {
  EXPECT_EQ(FoldForSearch("Œuvré-Garçon"), "oeuvre-garcon");
  EXPECT_EQ(FoldForSearch("  LÉA  Müller "), "lea muller");
  EXPECT_EQ(FoldForSearch("d\u2019Arc"), "d'arc");
  EXPECT_EQ(FoldForSearch("Straße Ÿves"), "strasse yves");
  EXPECT_EQ(FoldForSearch("ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸ àâäçéèêëîïôöùûüÿ"),
            "aaaceeeeiioouuuy aaaceeeeiioouuuy");
}

TEST(ProfessionCodeTest, Shapes) {
  EXPECT_THAT(ValidateProfessionCode("MEDECIN_GENERALISTE", "c"), IsOk());
  EXPECT_THAT(ValidateProfessionCode("IPA2", "c"), IsOk());
  for (const std::string& bad :
       std::vector<std::string>{"", "A", "medecin", "1ABC", "A-B", "ÉCOLE", std::string(65, 'A')}) {
    EXPECT_THAT(ValidateProfessionCode(bad, "profession.code"),
                StatusIs(absl::StatusCode::kInvalidArgument, "profession.code: "))
        << bad;
  }
}

TEST(RequestIdTest, Shapes) {
  EXPECT_THAT(ValidateRequestId("3f1c-42", "request_id"), IsOk());
  EXPECT_THAT(ValidateRequestId("", "request_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id: "));
  EXPECT_THAT(ValidateRequestId(std::string(129, 'x'), "request_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id: "));
  EXPECT_THAT(ValidateRequestId("has space", "request_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id: "));
}

TEST(ResourceIdTest, Shapes) {
  EXPECT_THAT(ValidateResourceId("01HV6Z3K8Q-abc_1", "member_id"), IsOk());
  EXPECT_THAT(ValidateResourceId("", "member_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "member_id: must not be empty"));
  EXPECT_THAT(ValidateResourceId("a/b", "member_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "member_id: is not a valid id"));
  EXPECT_THAT(ValidateResourceId("1' OR '1'='1", "member_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "member_id: "));
}

// --- the reference list ----------------------------------------------------------------

TEST(ProfessionsCatalogTest, HasTheDomainListWithValidSortedCodes) {
  const auto& list = ReferenceProfessions();
  for (const std::string code :
       {"MEDECIN_GENERALISTE", "INFIRMIER", "PHARMACIEN", "MASSEUR_KINESITHERAPEUTE", "SAGE_FEMME",
        "ORTHOPHONISTE", "ORTHOPTISTE", "CHIRURGIEN_DENTISTE", "PEDICURE_PODOLOGUE", "PSYCHOLOGUE",
        "DIETETICIEN", "CARDIOLOGUE", "ORL", "PSYCHIATRE", "IPA", "REPRESENTANT_USAGERS",
        "AUTRE"}) {
    const Profession* p = FindReferenceProfession(code);
    ASSERT_NE(p, nullptr) << code;
    EXPECT_TRUE(p->reference);
    EXPECT_FALSE(p->label.empty());
  }
  EXPECT_TRUE(FindReferenceProfession(kGeneralPractitionerCode)->requires_rpps);
  EXPECT_FALSE(FindReferenceProfession("REPRESENTANT_USAGERS")->requires_rpps);
  EXPECT_EQ(FindReferenceProfession("NOPE"), nullptr);
  for (std::size_t i = 0; i < list.size(); ++i) {
    EXPECT_THAT(ValidateProfessionCode(list[i].code, "code"), IsOk());
    if (i > 0) {
      EXPECT_LT(list[i - 1].code, list[i].code);
    }
  }
}

}  // namespace
}  // namespace cpts::membership
