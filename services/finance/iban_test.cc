#include "services/finance/iban.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::finance {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

// The published example IBANs of the registries (not real accounts).
constexpr const char* kFrExample = "FR7630006000011234567890189";
constexpr const char* kDeExample = "DE89370400440532013000";
constexpr const char* kGbExample = "GB82WEST12345698765432";

std::string SyntheticIban(const std::string& country, const std::string& bban) {
  return absl::StrCat(country, IbanCheckDigits(country, bban), bban);
}

TEST(IbanTest, CheckDigitsOfPublishedExamples) {
  EXPECT_EQ(IbanCheckDigits("FR", "30006000011234567890189"), "76");
  EXPECT_EQ(IbanCheckDigits("DE", "370400440532013000"), "89");
  EXPECT_EQ(IbanCheckDigits("GB", "WEST12345698765432"), "82");
  EXPECT_EQ(IbanMod97(kFrExample), 1);
}

TEST(IbanTest, NormalizesPrintedForm) {
  auto iban = NormalizeIban("fr76 3000 6000 0112 3456 7890 189", "iban");
  ASSERT_THAT(iban, IsOk());
  EXPECT_EQ(*iban, kFrExample);
  EXPECT_THAT(NormalizeIban(kDeExample, "iban"), IsOk());
  EXPECT_THAT(NormalizeIban(kGbExample, "iban"), IsOk());
}

TEST(IbanTest, AcceptsSyntheticIbansOfManyCountries) {
  for (const auto& [country, bban] :
       std::vector<std::pair<std::string, std::string>>{{"FR", "20041010050500013M02606"},
                                                        {"BE", "539007547034"},
                                                        {"ES", "21000418450200051332"},
                                                        {"IT", "X0542811101000000123456"},
                                                        {"MC", "11222000010123456789030"},
                                                        {"NO", "86011117947"}}) {
    const std::string iban = SyntheticIban(country, bban);
    EXPECT_THAT(NormalizeIban(iban, "iban"), IsOk()) << iban;
  }
}

struct BadIban {
  const char* name;
  const char* iban;
  const char* message;
};

class BadIbanTest : public ::testing::TestWithParam<BadIban> {};

TEST_P(BadIbanTest, IsRefusedWithAReason) {
  auto got = NormalizeIban(GetParam().iban, "account.iban");
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument, GetParam().message));
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument, "account.iban: "));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadIbanTest,
    ::testing::Values(BadIban{"one_digit_changed", "FR7630006000011234567890188", "checksum"},
                      BadIban{"two_digits_swapped", "FR7630006000011234567891089", "checksum"},
                      BadIban{"wrong_length", "FR763000600001123456789018", "27 characters"},
                      BadIban{"unknown_country", "XX7630006000011234567890189",
                              "unknown IBAN country"},
                      BadIban{"digits_for_country", "1276300060000112345678901", "two-letter"},
                      BadIban{"check_digits_00", "FR0030006000011234567890189", "02 to 98"},
                      BadIban{"check_digits_letters", "FRAB30006000011234567890189", "digits"},
                      BadIban{"punctuation", "FR76-3000-6000-0112-3456-78", "letters and digits"},
                      BadIban{"empty", "", "too short"}),
    [](const ::testing::TestParamInfo<BadIban>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(BicTest, AcceptsEightAndElevenCharacters) {
  auto bic = NormalizeBic(" bnpafrpp ", "bic");
  ASSERT_THAT(bic, IsOk());
  EXPECT_EQ(*bic, "BNPAFRPP");
  EXPECT_THAT(NormalizeBic("BNPAFRPPXXX", "bic"), IsOk());
  EXPECT_THAT(NormalizeBic("DEUTDEFF500", "bic"), IsOk());
}

TEST(BicTest, RefusesMalformed) {
  EXPECT_THAT(NormalizeBic("BNPAFRP", "bic"),
              StatusIs(absl::StatusCode::kInvalidArgument, "8 or 11"));
  EXPECT_THAT(NormalizeBic("BNPAFRPPXX", "bic"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NormalizeBic("BNP1FRPP", "bic"),
              StatusIs(absl::StatusCode::kInvalidArgument, "letters"));
  EXPECT_THAT(NormalizeBic("BNPAQQPP", "bic"),
              StatusIs(absl::StatusCode::kInvalidArgument, "country"));
  EXPECT_THAT(NormalizeBic("BNPAFRP_", "bic"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cpts::finance
