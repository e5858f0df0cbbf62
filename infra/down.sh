#!/usr/bin/env bash
# infra/down.sh [service...] — stop the servers that infra/up.sh started from this checkout
# (default: all): a graceful stop first (pg_ctl stop -m fast, redis SHUTDOWN, SIGTERM for the
# others), SIGKILL after a timeout. Data stays in .run/infra; remove that folder to start afresh.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if ! parse_services "$@"; then
  usage "${BASH_SOURCE[0]}"
  exit 0
fi

down_one() {
  local svc=$1 pid t
  if ! pid=$(svc_pid "$svc"); then
    log "$svc: not running"
    rm -f "$(svc_dir "$svc")/pid"
    return 0
  fi
  t=$(date +%s)
  "stop_$svc" "$pid" || { log "$svc (pid $pid) could not be stopped"; return 1; }
  rm -f "$(svc_dir "$svc")/pid"
  log "$svc: stopped (pid $pid, $(($(date +%s) - t)) s)"
}

pids=()
for svc in "${SERVICES[@]}"; do
  down_one "$svc" &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
