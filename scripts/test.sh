#!/usr/bin/env bash
# scripts/test.sh [--embedded-only] — every test of Chat4All, in two phases:
#  1. unit, contract (embedded adapters) and embedded end-to-end suites: plain `bun test`;
#  2. the servers (infra/up.sh), the contract suites against them, the cluster apps
#     (scripts/cluster.sh) and the cluster end-to-end suites; then everything is stopped.
# Ends with one line "N passed, N failed" over both phases; exits non-zero on any failure.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
LOGS="$ROOT/.run/test"
mkdir -p "$LOGS"
passed=0 failed=0 status=0

# Dependencies install themselves (from the lockfile) on a fresh clone.
if [[ ! -d node_modules/elysia ]]; then bun install --frozen-lockfile || exit 1; fi

count() { # file → adds bun's " N pass" / " N fail" summary to the totals
  local p f
  p=$(grep -E '^ *[0-9]+ pass$' "$1" | tail -1 | tr -dc '0-9')
  f=$(grep -E '^ *[0-9]+ fail$' "$1" | tail -1 | tr -dc '0-9')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [[ -z $p && -z $f ]]; then failed=$((failed + 1)); fi
}

echo "== phase 1: unit, contract (embedded) and embedded end-to-end suites"
bun test 2>&1 | tee "$LOGS/phase1.log"
[[ ${PIPESTATUS[0]} == 0 ]] || status=1
count "$LOGS/phase1.log"

if [[ ${1:-} != "--embedded-only" ]]; then
  echo "== phase 2: real servers, cluster contract suites, cluster end-to-end suites"
  trap 'bash scripts/cluster.sh down >/dev/null 2>&1' EXIT
  # The suites register hundreds of users and send thousands of messages from one address: the
  # cluster under test runs without rate limits (their behaviour is tested in tests/e2e/rate-limits).
  export C4A_AUTH_RATE_PER_MIN=0 C4A_SEND_RATE_PER_MIN=0 C4A_UPLOAD_RATE_PER_MIN=0
  if C4A_CASSANDRA_KEYSPACE=chat4all_e2e bash scripts/cluster.sh up 2>&1 | tee "$LOGS/cluster-up.log"; [[ ${PIPESTATUS[0]} == 0 ]]; then
    set -a
    # shellcheck disable=SC1090
    source <(bash infra/env.sh)
    set +a
    C4A_CASSANDRA_KEYSPACE=chat4all_e2e bun test --path-ignore-patterns='node_modules/**' tests/cluster 2>&1 | tee "$LOGS/phase2.log"
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    count "$LOGS/phase2.log"
  else
    echo "cluster did not come up (see .run/infra/*/log and .run/apps/*.log)"
    status=1
    failed=$((failed + 1))
  fi
fi

echo
echo "$passed passed, $failed failed"
[[ $status == 0 && $failed == 0 && $passed -gt 0 ]]
