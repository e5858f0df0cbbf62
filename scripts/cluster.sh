#!/usr/bin/env bash
# scripts/cluster.sh up|down|ps|logs [app]|restart <app>|kill <app>|start <app>
# The local cluster without Docker: the servers from infra/ plus every app as its own process —
# metadata, ingest, fanout, status, two gateway instances (:3000 and :3001), the connectors and the
# notifier, and the simulated WhatsApp/Instagram/push providers (:3201–:3203).
# Each app runs under scripts/supervise.sh, which starts it again if it crashes (like compose's
# `restart: unless-stopped`); `kill <app>` simulates a crash of the whole node (app and supervisor).
# State: .run/apps/<app>.{pid,sup,log}. Where a Docker engine answers, `just up` uses compose.yaml instead.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN="$ROOT/.run/apps"
mkdir -p "$RUN"
APPS=(metadata ingest fanout status gateway-a gateway-b simulators connectors notifier)

app_cmd() { # app → entry file
  case "$1" in
    gateway-*) echo "$ROOT/apps/gateway/src/main.ts" ;;
    *) echo "$ROOT/apps/$1/src/main.ts" ;;
  esac
}
app_env() { # app → extra env
  case "$1" in
    gateway-a) echo "C4A_GATEWAY_PORT=3000 C4A_INSTANCE_ID=gateway-a C4A_PUBLIC_URL=http://127.0.0.1:3000" ;;
    gateway-b) echo "C4A_GATEWAY_PORT=3001 C4A_INSTANCE_ID=gateway-b C4A_PUBLIC_URL=http://127.0.0.1:3001" ;;
    *) echo "C4A_INSTANCE_ID=$1" ;;
  esac
}
ready_url() {
  case "$1" in
    gateway-a) echo "http://127.0.0.1:3000/ready" ;;
    gateway-b) echo "http://127.0.0.1:3001/ready" ;;
    metadata) echo "http://127.0.0.1:3100/ready" ;;
    simulators) echo "http://127.0.0.1:3201/health" ;;
    *) echo "" ;;
  esac
}
running() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
supervised() { [[ -f "$RUN/$1.sup" ]] && kill -0 "$(cat "$RUN/$1.sup")" 2>/dev/null; }

start_app() {
  local app=$1
  if running "$app" || supervised "$app"; then echo "$app: already running (pid $(cat "$RUN/$app.pid" 2>/dev/null))"; return; fi
  rm -f "$RUN/$app.pid"
  # shellcheck disable=SC2046
  env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy \
    $(bash "$ROOT/infra/env.sh") C4A_MODE=cluster C4A_LOG_LEVEL="${C4A_LOG_LEVEL:-info}" \
    C4A_CASSANDRA_KEYSPACE="${C4A_CASSANDRA_KEYSPACE:-chat4all}" $(app_env "$app") \
    setsid nohup bash "$ROOT/scripts/supervise.sh" "$RUN/$app.pid" bun "$(app_cmd "$app")" >>"$RUN/$app.log" 2>&1 </dev/null &
  echo $! >"$RUN/$app.sup"
  for _ in $(seq 1 50); do [[ -s "$RUN/$app.pid" ]] && break; sleep 0.1; done
  echo "$app: started (pid $(cat "$RUN/$app.pid" 2>/dev/null))"
}

wait_ready() {
  local app=$1 url deadline
  url=$(ready_url "$app")
  [[ -z $url ]] && { sleep 0.2; running "$app" || { tail -n 40 "$RUN/$app.log"; return 1; }; return 0; }
  deadline=$(($(date +%s) + ${C4A_APP_TIMEOUT:-90}))
  until curl -sf --noproxy '*' "$url" >/dev/null 2>&1; do
    if ! running "$app" || (($(date +%s) > deadline)); then
      echo "$app: not ready at $url; last log lines:" >&2
      tail -n 40 "$RUN/$app.log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "$app: ready"
}

stop_app() {
  local app=$1 pid="" sup=""
  running "$app" && pid=$(cat "$RUN/$app.pid")
  supervised "$app" && sup=$(cat "$RUN/$app.sup")
  if [[ -z $pid && -z $sup ]]; then rm -f "$RUN/$app.pid" "$RUN/$app.sup"; return 0; fi
  # The supervisor passes SIGTERM on and does not restart; an app without one gets it directly.
  if [[ -n $sup ]]; then kill -TERM "$sup" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
  for _ in $(seq 1 100); do
    { [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; } || { [[ -n $sup ]] && kill -0 "$sup" 2>/dev/null; } || break
    sleep 0.1
  done
  if [[ -n $sup ]]; then kill -KILL "$sup" 2>/dev/null || true; fi
  if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$RUN/$app.pid" "$RUN/$app.sup"
  echo "$app: stopped"
}

kill_app() { # a crash of the whole node: no graceful stop, no restart
  local app=$1
  if supervised "$app"; then kill -KILL "$(cat "$RUN/$app.sup")" 2>/dev/null || true; fi
  if running "$app"; then kill -KILL "$(cat "$RUN/$app.pid")" 2>/dev/null || true; fi
  rm -f "$RUN/$app.pid" "$RUN/$app.sup"
  echo "$app: killed"
}

case "${1:-}" in
  up)
    bash "$ROOT/infra/up.sh"
    start_app metadata && wait_ready metadata
    for a in "${APPS[@]:1}"; do start_app "$a"; done
    for a in "${APPS[@]:1}"; do wait_ready "$a"; done
    echo "Chat4All cluster: http://127.0.0.1:3000 and http://127.0.0.1:3001"
    ;;
  down)
    for ((i = ${#APPS[@]} - 1; i >= 0; i--)); do stop_app "${APPS[$i]}"; done
    [[ ${2:-} == "--apps" ]] || bash "$ROOT/infra/down.sh"
    ;;
  ps)
    for a in "${APPS[@]}"; do
      if running "$a"; then printf '%-10s up    pid %s\n' "$a" "$(cat "$RUN/$a.pid")"; else printf '%-10s down\n' "$a"; fi
    done
    bash "$ROOT/infra/status.sh" || true
    ;;
  logs) if [[ -n ${2:-} ]]; then tail -n 100 -f "$RUN/$2.log"; else tail -n 20 -f "$RUN"/*.log; fi ;;
  start) start_app "$2" && wait_ready "$2" ;;
  restart) stop_app "$2" && start_app "$2" && wait_ready "$2" ;;
  kill) kill_app "$2" ;;
  *) sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
