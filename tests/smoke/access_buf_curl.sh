#!/usr/bin/env bash
# The access walk-through of the README, against a running local stack: a coordinator
# publishes an SNP slot for a GP of the CPTS, a secretary finds it and books it for a patient, a
# second booking of the same slot is refused, and the SAS finds the slot through the FHIR
# endpoint, its Location addressed with the territory's commune. buf curl through server
# reflection, tokens from cpts-token. Honours the same CPTS_DEV_DIR / CPTS_PORT_OFFSET as
# scripts/dev-up. Exit 0 when all worked.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"

BUF="$ROOT/tools/node_modules/.bin/buf"
MEMBERSHIP="http://127.0.0.1:${GRPC_PORT[membership]}/cpts.membership.v1.MembershipService"
ACCESS="http://127.0.0.1:${GRPC_PORT[access]}/cpts.access.v1.AccessService"
token() {
  "$BUILD/tools/src/cpts-token" --key="$DEV/keys/dev-jwt-private.pem" --issuer="$JWT_ISSUER" \
    --audience="$JWT_AUDIENCE" "$@"
}
call() {  # call TOKEN URL/METHOD JSON
  "$BUF" curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer $1" -d "$3" "$2"
}
# The first string field named $1 in the JSON on stdin (reads all of it: no SIGPIPE upstream).
field() { sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" | sed -n 1p; }

run=$(date +%s%N)
admin=$(token --subject=smoke-admin --roles=platform_admin)
tenant=$(call "$admin" "$MEMBERSHIP/CreateTenant" \
  '{"tenant":{"name":"CPTS Smoke Accès","size":1,"territory_communes":["33529"]},"request_id":"smoke-at-'"$run"'"}' |
  field id)
[ -n "$tenant" ] || die "CreateTenant returned no id"
coord=$(token --subject=smoke-coord --tenant="$tenant" --roles=coordinator)
gp=$(call "$coord" "$MEMBERSHIP/CreateMember" '{"request_id":"smoke-gp-'"$run"'","member":{
  "kind":"MEMBER_KIND_PERSON","given_name":"Yann","family_name":"Fictif",
  "profession_code":"MEDECIN_GENERALISTE","rpps":"10000000009","exercise_mode":"EXERCISE_MODE_LIBERAL",
  "practice_places":[{"commune_insee":"33529"}]}}' | field id)
[ -n "$gp" ] || die "CreateMember returned no id"
call "$coord" "$MEMBERSHIP/ApproveAdhesion" "{\"member_id\":\"$gp\"}" >/dev/null

# Tomorrow 09:00 UTC, 20 minutes, at the practice.
day=$(date -u -d tomorrow +%Y-%m-%d)
start="${day}T09:00:00Z"
published=$(call "$coord" "$ACCESS/PublishSlots" '{"request_id":"smoke-pub-'"$run"'","slots":[{
  "professional_member_id":"'"$gp"'","start_time":"'"$start"'","duration":"1200s",
  "mode":"CONSULTATION_MODE_OFFICE","place":{"commune_insee":"33529","address":"1 rue de la Gare"},
  "visibility":"VISIBILITY_PRO","kind":"SLOT_KIND_BOOKABLE"}]}')
slot=$(field id <<<"$published")
[ -n "$slot" ] || die "PublishSlots returned no slot: $published"

secretary=$(token --subject=smoke-secretary --tenant="$tenant" --roles=secretary)
found=$(call "$secretary" "$ACCESS/SearchSlots" '{"start_time":"'"${day}T00:00:00Z"'",
  "end_time":"'"${day}T23:59:00Z"'","communes":["33529"]}' | field id)
[ "$found" = "$slot" ] || die "SearchSlots did not find the published slot"

# The coordinator gives the commune's postal data (synthetic here) to the territory: the SAS
# answer's Location then has the city and postal code the ANS SAS guide requires.
territory=$(call "$coord" "$ACCESS/UpdateTerritory" '{"territory":{"communes":[
  {"insee_code":"33529","name":"Bourg-Smoke","postal_code":"33999"}]}}')
[[ $territory == *'"postalCode": "33999"'* ]] || die "UpdateTerritory did not keep the commune: $territory"

# The SAS finds the free slot through the FHIR endpoint (RPPS prefixed 8, ANS SAS guide).
sas=$(token --subject=smoke-sas --tenant="$tenant" --roles=sas_regulator)
bundle=$(curl -sf -H "Authorization: Bearer $sas" \
  "http://127.0.0.1:$FHIR_PORT/fhir/Slot?start=ge${day}T00:00:00Z&start=le${day}T23:59:00Z&status=free&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C810000000009&_include=Slot:schedule&_include:iterate=Schedule:actor")
[[ $bundle == *'"Bundle"'* && $bundle == *"$slot"* ]] ||
  die "the FHIR search did not return the slot: $bundle"
[[ $bundle == *'"line":["1 rue de la Gare"],"city":"Bourg-Smoke","postalCode":"33999"'* ]] ||
  die "the FHIR Location has no address line, city and postal code: $bundle"

book() {
  call "$secretary" "$ACCESS/BookSlot" '{"slot_id":"'"$slot"'","request_id":"'"$1"'",
    "patient":{"given_name":"Inès","family_name":"Patiente","birth_date":{"year":1950,"month":2,"day":3}},
    "reason":"Fièvre depuis trois jours"}'
}
booking=$(book "smoke-book-$run" | field id)
[ -n "$booking" ] || die "BookSlot returned no booking"
if book "smoke-book2-$run" >/dev/null 2>&1; then die "the same slot was booked twice"; fi

log "access walk-through passed (tenant $tenant, slot $slot, booking $booking)"
