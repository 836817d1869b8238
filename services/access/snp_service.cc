#include "services/access/snp_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/access/snp_convert.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access {
namespace {

namespace roles = platform::auth::roles;
using platform::AllowRoles;
using platform::CallContext;
using Svc = v1::AccessService::AsyncService;

// Any verified caller of a tenant: the domain decides (and audits the denials of patient data
// access, which a coarse policy refusal would not).
platform::MethodPolicy AnyTenantCaller() { return platform::MethodPolicy{}; }

}  // namespace

void RegisterSnpService(platform::RpcServer& server, Svc* svc, SnpAgenda& agenda) {
  const auto publishers = AllowRoles({roles::kMember, roles::kCoordinator, snp_roles::kSecretary});
  const auto reporting = AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kReporting});

  server.AddUnary(svc, &Svc::RequestPublishSlots, "PublishSlots", publishers,
                  [&agenda](const CallContext& c, const v1::PublishSlotsRequest& req,
                            v1::PublishSlotsResponse* resp) -> absl::Status {
                    std::vector<Slot> drafts;
                    drafts.reserve(req.slots_size());
                    for (int i = 0; i < req.slots_size(); ++i) {
                      CPTS_ASSIGN_OR_RETURN(
                          Slot d,
                          snp::SlotDraftFromProto(req.slots(i), absl::StrCat("slots[", i, "]")));
                      drafts.push_back(std::move(d));
                    }
                    CPTS_ASSIGN_OR_RETURN(
                        std::vector<Slot> slots,
                        agenda.PublishSlots(c.principal, std::move(drafts), req.request_id()));
                    for (const Slot& s : slots) snp::ToProto(s, resp->add_slots());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetSlot, "GetSlot", AnyTenantCaller(),
                  [&agenda](const CallContext& c, const v1::GetSlotRequest& req,
                            v1::GetSlotResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Slot s, agenda.GetSlot(c.principal, req.slot_id()));
                    snp::ToProto(s, resp->mutable_slot());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestWithdrawSlot, "WithdrawSlot", publishers,
                  [&agenda](const CallContext& c, const v1::WithdrawSlotRequest& req,
                            v1::WithdrawSlotResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        Slot s, agenda.WithdrawSlot(c.principal, req.slot_id(), req.reason()));
                    snp::ToProto(s, resp->mutable_slot());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestSearchSlots, "SearchSlots", AnyTenantCaller(),
                  [&agenda](const CallContext& c, const v1::SearchSlotsRequest& req,
                            v1::SearchSlotsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(SlotSearchQuery q, snp::FromProto(req));
                    CPTS_ASSIGN_OR_RETURN(SlotSearchPage page, agenda.SearchSlots(c.principal, q));
                    for (const Slot& s : page.slots) snp::ToProto(s, resp->add_slots());
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestBookSlot, "BookSlot", AnyTenantCaller(),
                  [&agenda](const CallContext& c, const v1::BookSlotRequest& req,
                            v1::BookSlotResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(BookingDraft d, snp::FromProto(req));
                    CPTS_ASSIGN_OR_RETURN(BookingAndSlot r,
                                          agenda.BookSlot(c.principal, std::move(d)));
                    snp::ToProto(r.booking, resp->mutable_booking());
                    snp::ToProto(r.slot, resp->mutable_slot());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetBooking, "GetBooking", AnyTenantCaller(),
                  [&agenda](const CallContext& c, const v1::GetBookingRequest& req,
                            v1::GetBookingResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Booking b,
                                          agenda.GetBooking(c.principal, req.booking_id()));
                    snp::ToProto(b, resp->mutable_booking());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCancelBooking, "CancelBooking", AnyTenantCaller(),
                  [&agenda](const CallContext& c, const v1::CancelBookingRequest& req,
                            v1::CancelBookingResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        BookingAndSlot r,
                        agenda.CancelBooking(c.principal, req.booking_id(), req.reason()));
                    snp::ToProto(r.booking, resp->mutable_booking());
                    snp::ToProto(r.slot, resp->mutable_slot());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestRecordOutcome, "RecordOutcome", AnyTenantCaller(),
                  [&agenda](const CallContext& c, const v1::RecordOutcomeRequest& req,
                            v1::RecordOutcomeResponse* resp) -> absl::Status {
                    if (!v1::BookingOutcome_IsValid(req.outcome())) {
                      return absl::InvalidArgumentError("outcome: unknown value");
                    }
                    CPTS_ASSIGN_OR_RETURN(Booking b,
                                          agenda.RecordOutcome(c.principal, req.booking_id(),
                                                               snp::FromProto(req.outcome())));
                    snp::ToProto(b, resp->mutable_booking());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestGetSnpIndicators, "GetSnpIndicators", reporting,
      [&agenda](const CallContext& c, const v1::GetSnpIndicatorsRequest& req,
                v1::GetSnpIndicatorsResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(absl::CivilDay first,
                              snp::DayFromProto(req.period().start_date(), "period.start_date"));
        CPTS_ASSIGN_OR_RETURN(absl::CivilDay last,
                              snp::DayFromProto(req.period().end_date(), "period.end_date"));
        CPTS_ASSIGN_OR_RETURN(SnpIndicators ind, agenda.GetIndicators(c.principal, first, last));
        snp::ToProto(ind, first, last, agenda.Now(), resp->mutable_indicators());
        return absl::OkStatus();
      });
}

}  // namespace cpts::access
