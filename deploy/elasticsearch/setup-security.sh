#!/usr/bin/env bash
# One-shot (compose service `elasticsearch-setup`): create the least-privilege role
# `cityops_service` (cityops-role.json: only cityops-* indices) and the user the cityops
# services log in with; and, when GRAFANA_ES_PASSWORD is given, the read-only role
# `cityops_reader` (grafana-role.json) and the user Grafana's case boards log in with. Apart from Elasticsearch itself, this is the only container that
# gets the `elastic` superuser's password. Safe to run again: PUT replaces the role and
# the user, and sets the user's password to CITYOPS_ES_PASSWORD.
#
# Passwords never appear on a command line: curl reads them from pipes.
set -euo pipefail
: "${ELASTIC_PASSWORD:?}" "${CITYOPS_ES_USERNAME:?}" "${CITYOPS_ES_PASSWORD:?}"
ES_URL=${ES_URL:-http://elasticsearch:9200}
ROLE=cityops_service
HERE=$(cd "$(dirname "$0")" && pwd)
ANSWER=$(mktemp)
trap 'rm -f "$ANSWER"' EXIT

quoted() {  # $1 as a double-quoted string, for JSON and for curl's config file alike
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

es() {  # METHOD PATH BODY_FILE: one request as `elastic`; fail on anything but 2xx
  local code
  code=$(curl -sS -o "$ANSWER" -w '%{http_code}' \
    -K <(printf 'user = %s\n' "$(quoted "elastic:${ELASTIC_PASSWORD}")") \
    -X "$1" -H 'Content-Type: application/json' --data-binary "@$3" "${ES_URL}$2")
  echo "$1 $2: HTTP $code $(cat "$ANSWER")"
  [[ $code == 2* ]]
}

es PUT "/_security/role/${ROLE}" "${HERE}/cityops-role.json"
es PUT "/_security/user/${CITYOPS_ES_USERNAME}" <(
  printf '{"password": %s, "roles": ["%s"], "full_name": "cityops services"}' \
    "$(quoted "$CITYOPS_ES_PASSWORD")" "$ROLE"
)
echo "user ${CITYOPS_ES_USERNAME} has role ${ROLE}"

if [[ -n ${GRAFANA_ES_PASSWORD:-} ]]; then
  READER=cityops_reader
  GRAFANA_ES_USERNAME=${GRAFANA_ES_USERNAME:-grafana}
  es PUT "/_security/role/${READER}" "${HERE}/grafana-role.json"
  es PUT "/_security/user/${GRAFANA_ES_USERNAME}" <(
    printf '{"password": %s, "roles": ["%s"], "full_name": "Grafana case boards"}' \
      "$(quoted "$GRAFANA_ES_PASSWORD")" "$READER"
  )
  echo "user ${GRAFANA_ES_USERNAME} has role ${READER}"
fi
