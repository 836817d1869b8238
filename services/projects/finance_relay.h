#pragma once

// Delivery of the attendance entitlement events (outbox topic kAttendanceTopic) to finance's
// RecordAttendance, called as this service with a service token for the event's tenant.

#include <string>

#include "services/platform/client/service_identity.h"
#include "services/platform/db/outbox.h"

namespace cpts::projects {

// The delivery function of kAttendanceTopic for an OutboxRelay. A payload that does not parse
// is InvalidArgument (parked as dead); finance's statuses pass through (ALREADY_EXISTS counts
// as delivered).
platform::db::OutboxDeliverFn FinanceAttendanceDelivery(platform::client::ServiceIdentity& identity,
                                                        const std::string& finance_target);

}  // namespace cpts::projects
