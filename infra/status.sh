#!/usr/bin/env bash
# infra/status.sh [service...] — one line per service: up/down, address, pid.
#   up        answers, started by this checkout's infra/up.sh
#   up*       answers on the port, but was not started from this checkout
#   starting  the process runs but does not answer (yet)
#   down      nothing answers
# Exit status 0 when every listed service is up (or up*), 1 otherwise.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if ! parse_services "$@"; then
  usage "${BASH_SOURCE[0]}"
  exit 0
fi

rc=0
printf '%-10s %-9s %-17s %-9s %s\n' SERVICE STATE ADDRESS PID NOTE
for svc in "${SERVICES[@]}"; do
  pid=$(svc_pid "$svc" || true)
  note=""
  if out=$("probe_$svc" 2>&1); then
    if [[ -n $pid ]]; then state=up; else state='up*'; note="not started from this checkout"; fi
  else
    rc=1
    if [[ -n $pid ]]; then state=starting; else state=down; fi
    note=${out##*$'\n'}
  fi
  [[ $svc == minio && -n $pid ]] && note="$(tr '\0' ' ' </proc/"$pid"/cmdline | awk '{print $1}' | xargs basename) $note"
  printf '%-10s %-9s %-17s %-9s %s\n' "$svc" "$state" "127.0.0.1:${MAIN_PORT[$svc]}" "${pid:--}" "$note"
done
exit $rc
