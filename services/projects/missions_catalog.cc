#include "services/projects/missions_catalog.h"

#include "absl/strings/str_cat.h"

namespace cpts::projects {
namespace {

Mission Seed(int number, MissionKind kind, const char* label, const char* description) {
  Mission m;
  m.number = number;
  m.kind = kind;
  m.label = label;
  m.description = description;
  return m;
}

}  // namespace

std::vector<Mission> DefaultMissions() {
  return {
      Seed(1, MissionKind::kCore, "Accès aux soins",
           "Faciliter l'accès à un médecin traitant et améliorer la prise en charge des soins "
           "non programmés en ville."),
      Seed(2, MissionKind::kCore, "Parcours pluriprofessionnels",
           "Organiser des parcours de soins pluriprofessionnels autour du patient."),
      Seed(3, MissionKind::kCore, "Prévention",
           "Développer des actions territoriales de prévention."),
      Seed(4, MissionKind::kCore, "Réponse aux crises sanitaires",
           "Préparer et organiser la réponse du territoire aux crises sanitaires graves."),
      Seed(5, MissionKind::kOptional, "Qualité et pertinence des soins",
           "Développer la qualité et la pertinence des soins."),
      Seed(6, MissionKind::kOptional, "Accompagnement des professionnels",
           "Accompagner les professionnels de santé sur le territoire (attractivité)."),
  };
}

absl::Status CheckMissionNumberFree(const std::vector<Mission>& missions,
                                    const Mission& candidate) {
  for (const Mission& m : missions) {
    if (m.id != candidate.id && m.number == candidate.number) {
      return absl::AlreadyExistsError(
          absl::StrCat("mission number ", candidate.number, " is already used"));
    }
  }
  return absl::OkStatus();
}

}  // namespace cpts::projects
