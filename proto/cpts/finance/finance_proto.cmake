# cpts.finance.v1: indemnity policies, entitlements, ledger, payment batches, ACI funding.
# RecordAttendance takes the projects service's AttendanceEntitlementEvent as is, so the
# outbox payload has one definition: hence the dependency on projects_proto.
cpts_proto_library(finance_proto
  ROOT ${CPTS_PROTO_ROOT}
  PROTOS
    cpts/finance/v1/aci.proto
    cpts/finance/v1/batch.proto
    cpts/finance/v1/entitlement.proto
    cpts/finance/v1/finance_service.proto
    cpts/finance/v1/ledger.proto
    cpts/finance/v1/policy.proto
    cpts/finance/v1/report.proto
  DEPS common_proto projects_proto)
