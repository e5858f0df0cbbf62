# shellcheck shell=bash
# shellcheck disable=SC2034  # STARTED_PID is read by up_one in common.sh
# NATS (Debian's nats-server 2.9) with JetStream: client port on 127.0.0.1, monitoring on
# 127.0.0.1:$NATS_MONITOR_PORT, JetStream store in .run/infra/nats/jetstream.

probe_nats() {
  python3 "$PROBE" http "http://127.0.0.1:$NATS_MONITOR_PORT/healthz" >/dev/null || {
    echo "no answer on http://127.0.0.1:$NATS_MONITOR_PORT/healthz"
    return 1
  }
  # and the client port speaks NATS (first line INFO {...})
  local line
  line=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT && head -c 4 <&3" 2>/dev/null) || true
  [[ $line == INFO ]] || { echo "no INFO line on 127.0.0.1:$NATS_PORT"; return 1; }
  echo "healthz ok, INFO on $NATS_PORT"
}

install_nats() {
  command -v nats-server >/dev/null || apt_install nats-server
  command -v nats-server >/dev/null || die "nats-server missing after install"
}

start_nats() {
  local d
  d=$(svc_dir nats)
  mkdir -p "$d/jetstream"
  spawn "$d/pid" "$d/log" nats-server --name c4a-nats -a 127.0.0.1 -p "$NATS_PORT" \
    --http_port "$NATS_MONITOR_PORT" -js -sd "$d/jetstream"
  STARTED_PID=$(cat "$d/pid")
}

stop_nats() { stop_pid nats "$1"; }
