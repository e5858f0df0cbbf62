#!/usr/bin/env bash
# scripts/supervise.sh PIDFILE CMD… — keeps one app of the native cluster running, as a process
# manager would: runs CMD, writes its pid to PIDFILE, and starts it again when it exits with a
# failure (after 1 s, doubling to 30 s while it keeps failing fast). A clean exit (0) ends it;
# SIGTERM/SIGINT are passed to the app, and the supervisor ends when the app has stopped.
set -u
pidfile=$1
shift
stopping=0
child=""
trap 'stopping=1; [[ -n $child ]] && kill -TERM "$child" 2>/dev/null' TERM INT
delay=1
while :; do
  started=$(date +%s)
  "$@" &
  child=$!
  echo "$child" >"$pidfile"
  wait "$child"
  code=$?
  # A trapped signal interrupts `wait`: wait again until the app has really exited.
  while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    code=$?
  done
  ((stopping)) && break
  ((code == 0)) && break
  (($(date +%s) - started > 60)) && delay=1
  echo "supervise: $(basename "${!#}") exited with code $code; starting it again in ${delay} s" >&2
  sleep "$delay" &
  wait $! || true
  ((stopping)) && break
  delay=$((delay < 30 ? delay * 2 : 30))
done
rm -f "$pidfile"
