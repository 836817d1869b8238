#!/usr/bin/env bash
# The README's command-line walk-through, run against a running local stack: a platform admin
# creates a tenant; its coordinator creates a member, approves the adhesion and lists the active
# members, all with buf curl through server reflection and tokens minted by cpts-token.
# Honours the same CPTS_DEV_DIR / CPTS_PORT_OFFSET as scripts/dev-up. Exit 0 when all worked.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"

BUF="$ROOT/tools/node_modules/.bin/buf"
URL="http://127.0.0.1:${GRPC_PORT[membership]}/cpts.membership.v1.MembershipService"
token() {
  "$BUILD/tools/src/cpts-token" --key="$DEV/keys/dev-jwt-private.pem" --issuer="$JWT_ISSUER" \
    --audience="$JWT_AUDIENCE" "$@"
}
call() {  # call TOKEN METHOD JSON
  "$BUF" curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer $1" -d "$3" "$URL/$2"
}
# The first string field named $1 in the JSON on stdin (reads all of it: no SIGPIPE upstream).
field() { sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" | sed -n 1p; }

methods=$("$BUF" curl --protocol grpc --http2-prior-knowledge --list-methods \
  "http://127.0.0.1:${GRPC_PORT[membership]}")
[[ $methods == *MembershipService/ApproveAdhesion* ]] || die "reflection does not list the API"

run=$(date +%s%N)  # fresh request ids: the script may run again on the same stack
admin=$(token --subject=smoke-admin --roles=platform_admin)
tenant=$(call "$admin" CreateTenant \
  '{"tenant":{"name":"CPTS Smoke","size":1,"territory_communes":["33529"]},"request_id":"smoke-t-'"$run"'"}' |
  field id)
[ -n "$tenant" ] || die "CreateTenant returned no id"

coord=$(token --subject=smoke-coord --tenant="$tenant" --roles=coordinator)
member=$(call "$coord" CreateMember '{"request_id":"smoke-m-'"$run"'","member":{"kind":"MEMBER_KIND_PERSON",
  "given_name":"Léa","family_name":"Fictive","profession_code":"MEDECIN_GENERALISTE",
  "rpps":"10000000009","exercise_mode":"EXERCISE_MODE_LIBERAL",
  "practice_places":[{"commune_insee":"33529"}]}}' | field id)
[ -n "$member" ] || die "CreateMember returned no id"

approved=$(call "$coord" ApproveAdhesion "{\"member_id\":\"$member\"}")
[ "$(field status <<<"$approved")" = MEMBER_STATUS_ACTIVE ] ||
  die "ApproveAdhesion did not activate the member: $approved"
listed=$(call "$coord" ListMembers '{"status":"MEMBER_STATUS_ACTIVE"}' | field id)
[ "$listed" = "$member" ] || die "ListMembers did not return the approved member"

# Without a token the same call is refused.
if "$BUF" curl --protocol grpc --http2-prior-knowledge -d '{}' "$URL/ListMembers" >/dev/null 2>&1; then
  die "a call without a token was accepted"
fi
log "buf curl walk-through passed (tenant $tenant, member $member)"
