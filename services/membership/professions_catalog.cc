#include "services/membership/professions_catalog.h"

#include <algorithm>

namespace cpts::membership {
namespace {

std::vector<Profession> BuildCatalog() {
  // requires_rpps: professions registered in the RPPS directory, for which the number is
  // mandatory. For the others (still registered in ADELI, or not health professionals) an
  // RPPS number is accepted when given but not required.
  std::vector<Profession> list = {
      {"MEDECIN_GENERALISTE", "Médecin généraliste", true, true},
      {"CARDIOLOGUE", "Cardiologue", true, true},
      {"ORL", "Oto-rhino-laryngologiste (ORL)", true, true},
      {"PSYCHIATRE", "Psychiatre", true, true},
      {"MEDECIN_AUTRE_SPECIALITE", "Médecin spécialiste (autre spécialité)", true, true},
      {"INFIRMIER", "Infirmier(ère) (IDE, IDEL)", true, true},
      {"IPA", "Infirmier(ère) en pratique avancée (IPA)", true, true},
      {"PHARMACIEN", "Pharmacien(ne)", true, true},
      {"MASSEUR_KINESITHERAPEUTE", "Masseur-kinésithérapeute", true, true},
      {"SAGE_FEMME", "Sage-femme", true, true},
      {"CHIRURGIEN_DENTISTE", "Chirurgien-dentiste", true, true},
      {"PEDICURE_PODOLOGUE", "Pédicure-podologue", true, true},
      {"ORTHOPHONISTE", "Orthophoniste", false, true},
      {"ORTHOPTISTE", "Orthoptiste", false, true},
      {"PSYCHOLOGUE", "Psychologue", false, true},
      {"DIETETICIEN", "Diététicien(ne)", false, true},
      {"REPRESENTANT_USAGERS", "Représentant(e) des usagers", false, true},
      {"AUTRE", "Autre", false, true},
  };
  std::sort(list.begin(), list.end(),
            [](const Profession& a, const Profession& b) { return a.code < b.code; });
  return list;
}

}  // namespace

const std::vector<Profession>& ReferenceProfessions() {
  static const auto* const kCatalog = new std::vector<Profession>(BuildCatalog());
  return *kCatalog;
}

const Profession* FindReferenceProfession(absl::string_view code) {
  const auto& list = ReferenceProfessions();
  const auto it =
      std::lower_bound(list.begin(), list.end(), code,
                       [](const Profession& p, absl::string_view c) { return p.code < c; });
  if (it == list.end() || it->code != code) return nullptr;
  return &*it;
}

}  // namespace cpts::membership
