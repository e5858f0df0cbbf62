#!/usr/bin/env bash
# infra/up.sh [service...] — install (when missing) and start the servers Chat4All's cluster
# mode and tests need, on 127.0.0.1 only, and wait until each really answers.
#
# Services: postgres redis nats kafka cassandra minio (default: all). Idempotent: a server this
# checkout already runs is reused; installs are cached in .cache/infra, data/logs/pids live in
# .run/infra/<service>/. Services come up in parallel; output lines are prefixed [service].
# Exit status: 0 when every requested service answers, 1 otherwise (its log tail is printed).
# Connection settings: infra/env.sh.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if ! parse_services "$@"; then
  usage "${BASH_SOURCE[0]}"
  exit 0
fi

T0=$(date +%s)
mkdir -p "$C4A_INFRA_CACHE" "$C4A_INFRA_RUN"
C4A_INFRA_SESSION=$(mktemp -d "${TMPDIR:-/tmp}/c4a-infra-up.XXXXXX")
export C4A_INFRA_SESSION
trap 'rm -rf "$C4A_INFRA_SESSION"' EXIT

command -v python3 >/dev/null || apt_install python3
command -v flock >/dev/null || apt_install util-linux

log "up: ${SERVICES[*]} (cache $C4A_INFRA_CACHE, run $C4A_INFRA_RUN)"
reserve_ports

# Longest first: the MinIO build and the JVMs run while the small servers come up.
ORDER=()
for s in minio cassandra kafka postgres redis nats; do
  for r in "${SERVICES[@]}"; do [[ $r == "$s" ]] && ORDER+=("$s"); done
done

pids=()
for svc in "${ORDER[@]}"; do
  {
    if bash "$INFRA_DIR/lib/up-one.sh" "$svc"; then rc=0; else rc=$?; fi
    echo "$rc" >"$C4A_INFRA_SESSION/$svc.rc"
  } 2>&1 </dev/null | sed -u "s/^/[$svc] /" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done

failed=()
for svc in "${ORDER[@]}"; do
  [[ $(cat "$C4A_INFRA_SESSION/$svc.rc" 2>/dev/null || echo 1) == 0 ]] || failed+=("$svc")
done

echo
"$INFRA_DIR/status.sh" "${SERVICES[@]}" || true
echo
if ((${#failed[@]})); then
  log "up: FAILED: ${failed[*]} (after $(($(date +%s) - T0)) s; logs in $C4A_INFRA_RUN/<service>/log)"
  exit 1
fi
log "up: all answering (${SERVICES[*]}) in $(($(date +%s) - T0)) s; settings: infra/env.sh"
