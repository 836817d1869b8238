#include "tests/availability/availability_fixture.h"

#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cpts/membership/v1/membership_service.grpc.pb.h"
#include "tests/e2e/membership_fixture.h"

namespace cpts::availability {
namespace {

namespace mv1 = ::cpts::membership::v1;

std::vector<std::string> DbArgs(const platform::db::DbConfig& c, const std::string& host) {
  return {"--db_host=" + host, absl::StrCat("--db_port=", c.port), "--db_user=" + c.user,
          "--db_schema=" + c.schema};
}

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

// To the nanosecond: a meeting scheduled a second ahead must not start early by truncation.
void SetExactTime(absl::Time t, google::protobuf::Timestamp* out) {
  const absl::Time seconds = absl::FromUnixSeconds(absl::ToUnixSeconds(t));
  out->set_seconds(absl::ToUnixSeconds(t));
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - seconds)));
}

absl::Status Failed(const char* what, const grpc::Status& st) {
  return absl::InternalError(
      absl::StrCat(what, ": code ", st.error_code(), " ", st.error_message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Stack>> Stack::Start(testing::MariaDbServer& db) {
  std::unique_ptr<Stack> s(new Stack());
  s->db_ = &db;
  s->db_host_ = db.host();
  auto tokens = testing::TestTokens::Create();
  if (!tokens.ok()) return tokens.status();
  s->tokens_ = std::make_unique<testing::TestTokens>(*std::move(tokens));
  auto membership = e2e::StartMembership(db, *s->tokens_, "avail_members");
  if (!membership.ok()) return membership.status();
  s->membership_ = *std::move(membership);

  char tmpl[] = "/tmp/cpts-avail-keys.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  s->key_dir_ = tmpl;
  auto generated =
      testing::RunCommand(FIELD_KEYS_TOOL, {"generate", s->key_dir_ + "/field-keys.txt"});
  if (!generated.ok()) return generated.status();
  if (generated->exit_code != 0) return absl::InternalError(generated->output);

  auto schema = testing::CreateTestSchema(db, "avail_access");
  if (!schema.ok()) return schema.status();
  s->access_schema_ = *schema;
  std::vector<std::string> migrate = DbArgs(schema->migrator, s->db_host_);
  migrate.push_back("--migrate_only");
  auto migrated = testing::RunCommand(ACCESS_SERVER, migrate,
                                      {{"CPTS_DB_PASSWORD", schema->migrator.password}});
  if (!migrated.ok()) return migrated.status();
  if (migrated->exit_code != 0) {
    return absl::InternalError(absl::StrCat("access migrations failed:\n", migrated->output));
  }
  return s;
}

Stack::~Stack() {
  if (!key_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(key_dir_, ignored);
  }
}

absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> Stack::StartAccess(
    const std::string& db_host) const {
  std::vector<std::string> args = DbArgs(access_schema_.app, db_host.empty() ? db_host_ : db_host);
  for (auto& a : tokens_->ServerArgs()) args.push_back(a);
  args.push_back("--grpc_threads=8");
  args.push_back("--membership_address=" + membership_->grpc_target());
  args.push_back("--service_key_file=" + tokens_->private_key_file());
  args.push_back("--field_key_file=" + key_dir_ + "/field-keys.txt");
  args.push_back("--fhir_address=127.0.0.1");
  args.push_back("--fhir_port=0");
  args.push_back("--log_requests=false");
  args.push_back(absl::StrCat("--lame_duck=", absl::FormatDuration(kAccessLameDuck)));
  return testing::ServiceProcess::Start(ACCESS_SERVER, args,
                                        {{"CPTS_DB_PASSWORD", access_schema_.app.password}});
}

absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> Stack::StartProjects(
    const std::string& db_host) {
  if (projects_schema_.name.empty()) {
    auto schema = testing::CreateTestSchema(*db_, "avail_projects");
    if (!schema.ok()) return schema.status();
    std::vector<std::string> migrate = DbArgs(schema->migrator, db_host_);
    migrate.push_back("--migrate_only");
    auto migrated = testing::RunCommand(PROJECTS_SERVER, migrate,
                                        {{"CPTS_DB_PASSWORD", schema->migrator.password}});
    if (!migrated.ok()) return migrated.status();
    if (migrated->exit_code != 0) {
      return absl::InternalError(absl::StrCat("projects migrations failed:\n", migrated->output));
    }
    projects_schema_ = *schema;
  }
  std::vector<std::string> args =
      DbArgs(projects_schema_.app, db_host.empty() ? db_host_ : db_host);
  for (auto& a : tokens_->ServerArgs()) args.push_back(a);
  args.push_back("--grpc_threads=8");
  args.push_back("--membership_address=" + membership_->grpc_target());
  args.push_back("--service_key_file=" + tokens_->private_key_file());
  args.push_back("--log_requests=false");
  return testing::ServiceProcess::Start(PROJECTS_SERVER, args,
                                        {{"CPTS_DB_PASSWORD", projects_schema_.app.password}});
}

absl::Status Stack::CreateTenant() {
  auto membership = mv1::MembershipService::NewStub(
      grpc::CreateChannel(membership_->grpc_target(), grpc::InsecureChannelCredentials()));
  const std::string admin = tokens_->Mint({.roles = {"platform_admin"}, .subject = "admin-1"});
  mv1::CreateTenantRequest create_tenant;
  create_tenant.mutable_tenant()->set_name("CPTS de la Lande Fictive");
  create_tenant.mutable_tenant()->set_size(2);
  create_tenant.mutable_tenant()->add_territory_communes(commune());
  mv1::CreateTenantResponse tenant;
  grpc::Status st =
      membership->CreateTenant(Ctx(admin, absl::Seconds(10)).get(), create_tenant, &tenant);
  if (!st.ok()) return absl::InternalError("CreateTenant: " + st.error_message());
  tenant_ = tenant.tenant().id();
  coordinator_token_ =
      tokens_->Mint({.roles = {"coordinator"}, .tenant_id = tenant_, .subject = "coord-1"});
  const std::string& coordinator = coordinator_token_;
  std::vector<std::string> member_ids;
  int n = 0;
  for (const char* profession : {"MEDECIN_GENERALISTE", "PHARMACIEN"}) {
    ++n;
    mv1::CreateMemberRequest create;
    auto* m = create.mutable_member();
    m->set_kind(mv1::MEMBER_KIND_PERSON);
    m->set_given_name(absl::StrCat("Prénom", n));
    m->set_family_name(absl::StrCat("Disponible-", n));
    m->set_profession_code(profession);
    m->set_rpps(e2e::ValidRpps(700000 + n));
    m->set_exercise_mode(mv1::EXERCISE_MODE_LIBERAL);
    m->add_practice_places()->set_commune_insee(commune());
    m->mutable_contact()->set_email(absl::StrCat("dispo", n, "@example.org"));
    create.set_request_id(absl::StrCat("avail-member-", n));
    mv1::CreateMemberResponse created;
    st = membership->CreateMember(Ctx(coordinator, absl::Seconds(10)).get(), create, &created);
    if (!st.ok()) return absl::InternalError("CreateMember: " + st.error_message());
    mv1::ApproveAdhesionRequest approve;
    approve.set_member_id(created.member().id());
    mv1::ApproveAdhesionResponse approved;
    st = membership->ApproveAdhesion(Ctx(coordinator, absl::Seconds(10)).get(), approve, &approved);
    if (!st.ok()) return absl::InternalError("ApproveAdhesion: " + st.error_message());
    member_ids.push_back(approved.member().id());
  }
  gp_token_ = tokens_->Mint({.roles = {"member"},
                             .tenant_id = tenant_,
                             .subject = "user-gp",
                             .member_id = member_ids[0]});
  booker_subject_ = "user-pharmacist";
  booker_token_ = tokens_->Mint({.roles = {"member"},
                                 .tenant_id = tenant_,
                                 .subject = booker_subject_,
                                 .member_id = member_ids[1]});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Stack::PublishSlots(av1::AccessService::Stub& access,
                                                             absl::Time first, int count) const {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(count));
  for (int done = 0; done < count;) {
    av1::PublishSlotsRequest req;
    const int batch = std::min(500, count - done);
    for (int i = 0; i < batch; ++i) {
      av1::Slot* s = req.add_slots();
      SetTime(first + absl::Minutes(30) * (done + i), s->mutable_start_time());
      s->mutable_duration()->set_seconds(int64_t{20} * 60);
      s->set_mode(av1::CONSULTATION_MODE_OFFICE);
      s->mutable_place()->set_commune_insee(commune());
      s->mutable_place()->set_address("1 rue de l'Exemple");
      s->set_visibility(av1::VISIBILITY_PRO);
      s->set_kind(av1::SLOT_KIND_BOOKABLE);
    }
    av1::PublishSlotsResponse resp;
    const grpc::Status st =
        access.PublishSlots(Ctx(gp_token_, absl::Seconds(60)).get(), req, &resp);
    if (!st.ok()) return absl::InternalError("PublishSlots: " + st.error_message());
    for (const av1::Slot& s : resp.slots()) ids.push_back(s.id());
    done += batch;
  }
  return ids;
}

absl::StatusOr<HeldMeetings> Stack::PrepareHeldMeetings(pv1::ProjectsService::Stub& projects,
                                                        int count) const {
  HeldMeetings out;
  pv1::ListMissionsResponse missions;
  grpc::Status st =
      projects.ListMissions(Ctx(coordinator_token_, absl::Seconds(10)).get(), {}, &missions);
  if (!st.ok()) return Failed("ListMissions", st);
  if (missions.missions().empty()) return absl::InternalError("no mission in the catalogue");
  pv1::CreateActionRequest create_action;
  create_action.mutable_action()->set_mission_id(missions.missions(0).id());
  create_action.mutable_action()->set_title("Parcours insuffisance cardiaque");
  create_action.set_request_id("avail-action");
  pv1::CreateActionResponse action;
  st = projects.CreateAction(Ctx(coordinator_token_, absl::Seconds(10)).get(), create_action,
                             &action);
  if (!st.ok()) return Failed("CreateAction", st);
  pv1::CreateWorkingGroupRequest create_group;
  create_group.mutable_working_group()->set_name("Groupe parcours");
  create_group.mutable_working_group()->add_action_ids(action.action().id());
  pv1::CreateWorkingGroupResponse group;
  st = projects.CreateWorkingGroup(Ctx(coordinator_token_, absl::Seconds(10)).get(), create_group,
                                   &group);
  if (!st.ok()) return Failed("CreateWorkingGroup", st);
  out.group_id = group.working_group().id();
  for (const std::string* token : {&gp_token_, &booker_token_}) {
    pv1::RequestToJoinRequest join;
    join.set_group_id(out.group_id);
    pv1::RequestToJoinResponse asked;
    st = projects.RequestToJoin(Ctx(*token, absl::Seconds(10)).get(), join, &asked);
    if (!st.ok()) return Failed("RequestToJoin", st);
    pv1::AcceptJoinRequest accept;
    accept.set_join_request_id(asked.join_request().id());
    pv1::AcceptJoinResponse accepted;
    st = projects.AcceptJoin(Ctx(coordinator_token_, absl::Seconds(10)).get(), accept, &accepted);
    if (!st.ok()) return Failed("AcceptJoin", st);
    out.participant_ids.push_back(accepted.participant().id());
  }
  pv1::AppointReferentRequest appoint;
  appoint.set_group_id(out.group_id);
  appoint.set_participant_id(out.participant_ids[0]);
  pv1::AppointReferentResponse appointed;
  st = projects.AppointReferent(Ctx(coordinator_token_, absl::Seconds(10)).get(), appoint,
                                &appointed);
  if (!st.ok()) return Failed("AppointReferent", st);

  // A meeting cannot be scheduled in the past nor recorded before it starts: each thread
  // schedules its share a second ahead, then records each meeting once it has started (by
  // then, most have).
  constexpr int kSetupThreads = 4;
  out.meeting_ids.resize(static_cast<size_t>(count));
  std::mutex mu;
  absl::Status first_error;
  std::vector<std::thread> threads;
  threads.reserve(kSetupThreads);
  for (int t = 0; t < kSetupThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<int, absl::Time>> mine;
      mine.reserve(static_cast<size_t>(count) / kSetupThreads + 1);
      const auto fail = [&](absl::Status s) {
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = std::move(s);
      };
      for (int i = t; i < count; i += kSetupThreads) {
        const absl::Time start = absl::Now() + absl::Seconds(1);
        pv1::ScheduleMeetingRequest req;
        req.mutable_meeting()->set_group_id(out.group_id);
        SetExactTime(start, req.mutable_meeting()->mutable_start_time());
        SetExactTime(start + absl::Hours(2), req.mutable_meeting()->mutable_end_time());
        req.mutable_meeting()->set_place("Salle du conseil, maison de santé fictive");
        pv1::ScheduleMeetingResponse resp;
        const grpc::Status s =
            projects.ScheduleMeeting(Ctx(coordinator_token_, absl::Seconds(10)).get(), req, &resp);
        if (!s.ok()) {
          fail(Failed("ScheduleMeeting", s));
          return;
        }
        out.meeting_ids[static_cast<size_t>(i)] = resp.meeting().id();
        mine.emplace_back(i, start);
      }
      for (const auto& [i, start] : mine) {
        const absl::Duration left = start + absl::Milliseconds(50) - absl::Now();
        if (left > absl::ZeroDuration()) absl::SleepFor(left);
        pv1::RecordAttendanceRequest req;
        req.set_meeting_id(out.meeting_ids[static_cast<size_t>(i)]);
        for (const std::string& participant : out.participant_ids) {
          pv1::AttendanceLine* line = req.add_lines();
          line->set_participant_id(participant);
          line->set_status(pv1::ATTENDANCE_STATUS_PRESENT);
        }
        pv1::RecordAttendanceResponse resp;
        const grpc::Status s =
            projects.RecordAttendance(Ctx(coordinator_token_, absl::Seconds(10)).get(), req, &resp);
        if (!s.ok()) {
          fail(Failed("RecordAttendance", s));
          return;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  if (!first_error.ok()) return first_error;
  return out;
}

av1::BookSlotRequest BookRequest(const std::string& slot_id, const std::string& request_id) {
  av1::BookSlotRequest req;
  req.set_slot_id(slot_id);
  req.mutable_patient()->set_given_name("Camille");
  req.mutable_patient()->set_family_name("Exemple");
  req.mutable_patient()->mutable_birth_date()->set_year(1975);
  req.mutable_patient()->mutable_birth_date()->set_month(3);
  req.mutable_patient()->mutable_birth_date()->set_day(9);
  req.mutable_contact()->set_phone("06 00 00 00 01");
  req.set_reason("renouvellement");
  req.set_request_id(request_id);
  return req;
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

RetryOutcome CallWithRetry(const std::function<grpc::Status()>& attempt, absl::Time give_up,
                           bool retry_aborted) {
  thread_local absl::BitGen gen;
  RetryOutcome out;
  absl::Duration backoff = absl::Milliseconds(20);
  while (true) {
    out.status = attempt();
    ++out.attempts;
    const grpc::StatusCode code = out.status.error_code();
    const bool retryable = code == grpc::StatusCode::UNAVAILABLE ||
                           (retry_aborted && code == grpc::StatusCode::ABORTED);
    if (!retryable || absl::Now() >= give_up) return out;
    out.retried.push_back(code);
    absl::SleepFor(
        absl::Milliseconds(absl::Uniform(gen, 0, absl::ToInt64Milliseconds(backoff) + 1)));
    backoff = std::min(backoff * 2, absl::Milliseconds(500));
  }
}

}  // namespace cpts::availability
