#include "services/finance/batch.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/finance/csv.h"
#include "services/finance/iban.h"
#include "services/finance/sepa_pain001.h"
#include "services/finance/validators.h"

namespace cpts::finance {
namespace {

absl::string_view StateName(BatchState s) {
  switch (s) {
    case BatchState::kDraft:
      return "draft";
    case BatchState::kApproved:
      return "approved";
    case BatchState::kExported:
      return "exported";
    case BatchState::kPaid:
      return "paid";
    case BatchState::kCancelled:
      return "cancelled";
    case BatchState::kUnspecified:
      break;
  }
  return "unspecified";
}

absl::string_view ActionName(BatchAction a) {
  switch (a) {
    case BatchAction::kApprove:
      return "approved";
    case BatchAction::kExport:
      return "exported";
    case BatchAction::kMarkPaid:
      return "marked paid";
    case BatchAction::kCancel:
      return "cancelled";
  }
  return "changed";
}

absl::string_view CategoryName(const Entitlement& e) {
  if (IsRecovery(e)) return "recovery";
  return e.category == EntitlementCategory::kIndemnity ? "indemnity" : "remuneration";
}

}  // namespace

absl::StatusOr<BatchState> NextBatchState(BatchState from, BatchAction action) {
  switch (action) {
    case BatchAction::kApprove:
      if (from == BatchState::kDraft) return BatchState::kApproved;
      break;
    case BatchAction::kExport:
      if (from == BatchState::kApproved || from == BatchState::kExported) {
        return BatchState::kExported;
      }
      break;
    case BatchAction::kMarkPaid:
      if (from == BatchState::kExported) return BatchState::kPaid;
      break;
    case BatchAction::kCancel:
      if (from == BatchState::kDraft || from == BatchState::kApproved) {
        return BatchState::kCancelled;
      }
      break;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("a ", StateName(from), " batch cannot be ", ActionName(action)));
}

absl::StatusOr<std::vector<BatchLine>> BuildBatchLines(
    absl::string_view batch_id, std::span<const Entitlement> entitlements,
    const std::map<std::string, PayeeBankAccount>& accounts) {
  if (entitlements.empty()) {
    return absl::FailedPreconditionError("no approved entitlement to pay");
  }
  absl::flat_hash_set<std::string> seen;
  std::map<std::string, BatchLine> by_payee;
  for (const Entitlement& e : entitlements) {
    if (!seen.insert(e.id).second) {
      return FieldError("entitlement_ids", absl::StrCat("duplicate ", e.id));
    }
    if (e.status != EntitlementStatus::kApproved || !e.batch_id.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("entitlement ", e.id, " is not approved and unbatched"));
    }
    if (e.amount_cents == 0 || e.payee.member_id.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("entitlement ", e.id, " has nothing to pay"));
    }
    BatchLine& line = by_payee[e.payee.member_id];
    line.payee_member_id = e.payee.member_id;
    line.entitlement_ids.push_back(e.id);
    line.amount_cents += e.amount_cents;  // bounded by ValidateAmount x count
    if (IsRecovery(e)) line.recovered_cents -= e.amount_cents;
  }
  std::vector<BatchLine> lines;
  lines.reserve(by_payee.size());
  int n = 0;
  for (auto& [payee, line] : by_payee) {
    std::sort(line.entitlement_ids.begin(), line.entitlement_ids.end());
    line.end_to_end_id = TruncateUtf8(absl::StrCat("L", ++n, "-", batch_id), 35);
    auto it = accounts.find(payee);
    if (line.amount_cents <= 0) {
      // Never a negative transfer: the recovery waits for more to withhold it from.
      line.blocked = true;
      line.blocked_reason = absl::StrCat(
          "carried to a later batch: ", FormatEuros(line.recovered_cents), " EUR to recover from ",
          FormatEuros(line.amount_cents + line.recovered_cents), " EUR due leaves nothing to pay");
    }
    if (line.blocked) {
      if (it != accounts.end()) line.payee_name = it->second.holder_name;
    } else if (it == accounts.end()) {
      line.blocked = true;
      line.blocked_reason = "no bank account recorded";
    } else {
      const PayeeBankAccount& account = it->second;
      line.payee_name = account.holder_name;
      auto iban = NormalizeIban(account.iban, "iban");
      if (!iban.ok()) {
        line.iban = account.iban;
        line.blocked = true;
        line.blocked_reason = std::string(iban.status().message());
      } else {
        line.iban = *iban;
        if (!account.bic.empty()) {
          auto bic = NormalizeBic(account.bic, "bic");
          if (bic.ok()) {
            line.bic = *bic;
          } else {
            line.bic = account.bic;
            line.blocked = true;
            line.blocked_reason = std::string(bic.status().message());
          }
        }
        if (!line.blocked && line.payee_name.empty()) {
          line.blocked = true;
          line.blocked_reason = "holder_name: required";
        }
      }
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

absl::StatusOr<Entitlement> RecoveryOf(const Entitlement& paid) {
  if (paid.status != EntitlementStatus::kPaid || paid.amount_cents <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("entitlement ", paid.id, " was not paid: nothing to recover"));
  }
  Entitlement r = paid;
  r.id.clear();
  r.idempotency_key = absl::StrCat(paid.idempotency_key, "/recovery");
  r.rated_cents = -paid.amount_cents;
  r.capped_cents = 0;
  r.amount_cents = -paid.amount_cents;
  r.cap_reason.clear();
  r.ineligible_reason = IneligibleReason::kUnspecified;
  r.status = EntitlementStatus::kApproved;
  r.supersedes_id = paid.id;
  r.batch_id.clear();
  r.approved_by.clear();
  r.approve_time = absl::InfinitePast();
  r.create_time = absl::InfinitePast();
  r.row_version = 0;
  r.reason = absl::StrCat("Recovery of entitlement ", paid.id, ", paid then reversed");
  return r;
}

Cents PayableTotal(const PaymentBatch& batch) {
  Cents total = 0;
  for (const BatchLine& l : batch.lines) {
    if (!l.blocked) total += l.amount_cents;
  }
  return total;
}

int PayableLineCount(const PaymentBatch& batch) {
  return static_cast<int>(std::count_if(batch.lines.begin(), batch.lines.end(),
                                        [](const BatchLine& l) { return !l.blocked; }));
}

int BlockedLineCount(const PaymentBatch& batch) {
  return static_cast<int>(batch.lines.size()) - PayableLineCount(batch);
}

std::vector<std::string> HeldEntitlementIds(const PaymentBatch& batch) {
  std::vector<std::string> ids;
  for (const BatchLine& l : batch.lines) {
    if (l.blocked) continue;
    ids.insert(ids.end(), l.entitlement_ids.begin(), l.entitlement_ids.end());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

absl::Status CheckApprovable(const PaymentBatch& batch) {
  if (PayableLineCount(batch) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "payment batch ", batch.id, " has no payable line: record the payees' bank accounts"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BatchCsv(const PaymentBatch& batch,
                                     std::span<const Entitlement> entitlements) {
  absl::flat_hash_map<std::string, const Entitlement*> by_id;
  for (const Entitlement& e : entitlements) by_id[e.id] = &e;
  std::string out = CsvLine({"batch_id", "payee_member_id", "payee_name", "iban", "end_to_end_id",
                             "entitlement_id", "meeting_id", "meeting_date", "member_id",
                             "action_id", "amount_eur", "line_status", "category"});
  for (const BatchLine& line : batch.lines) {
    const std::string status =
        line.blocked ? absl::StrCat("blocked: ", line.blocked_reason) : "payable";
    for (const std::string& id : line.entitlement_ids) {
      auto it = by_id.find(id);
      if (it == by_id.end()) {
        return FieldError("entitlements", absl::StrCat("missing entitlement ", id));
      }
      const Entitlement& e = *it->second;
      out +=
          CsvLine({batch.id, line.payee_member_id, line.payee_name, line.iban, line.end_to_end_id,
                   e.id, e.meeting_id, absl::FormatCivilTime(e.meeting_date), e.member_id,
                   e.action_id, FormatEuros(e.amount_cents), status, std::string(CategoryName(e))});
    }
  }
  return out;
}

}  // namespace cpts::finance
