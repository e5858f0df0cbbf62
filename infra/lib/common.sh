# shellcheck shell=bash
# shellcheck disable=SC2034  # settings and STARTED_PID are used by the sourced svc-*.sh files
# Shared helpers for infra/up.sh, down.sh and status.sh. Sourced, never run.
#
# Layout: installs (jars, built binaries) live in $C4A_INFRA_CACHE (default <repo>/.cache/infra),
# servers' data, logs and pid files in $C4A_INFRA_RUN (default <repo>/.run/infra/<service>/).

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$INFRA_DIR/.." && pwd)
C4A_INFRA_CACHE=${C4A_INFRA_CACHE:-$REPO_ROOT/.cache/infra}
C4A_INFRA_RUN=${C4A_INFRA_RUN:-$REPO_ROOT/.run/infra}
PROBE="$INFRA_DIR/lib/probe.py"

ALL_SERVICES=(postgres redis nats kafka cassandra minio)

# Ports and credentials. infra/env.sh prints the same values for the applications.
PG_PORT=55432
PG_USER=chat4all PG_PASSWORD=chat4all PG_DB=chat4all
REDIS_PORT=56379
NATS_PORT=54222
NATS_MONITOR_PORT=58222
KAFKA_PORT=59092
KAFKA_CONTROLLER_PORT=59093
KAFKA_CLUSTER_ID=Y2hhdDRhbGwta2Fma2EwMQ   # base64url of the 16 bytes "chat4all-kafka01"
CASSANDRA_PORT=59042
CASSANDRA_STORAGE_PORT=57000
CASSANDRA_JMX_PORT=57199
S3_PORT=59000
S3_CONSOLE_PORT=59001
S3_ACCESS_KEY=chat4all
S3_SECRET_KEY=chat4all-secret
S3_BUCKET=chat4all

# MinIO has no semver tags: a pseudo-version that the Go module proxy serves (`go list -m
# github.com/minio/minio@latest`). Override with C4A_MINIO_VERSION.
MINIO_VERSION=${C4A_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
# S3 server: minio (default) or versitygw (Apache-2.0, used automatically if minio cannot be built).
VERSITYGW_VERSION=${C4A_VERSITYGW_VERSION:-v1.8.0}

# Seconds to wait for a started server to answer (override: C4A_INFRA_TIMEOUT_<SERVICE>).
declare -A READY_TIMEOUT=([postgres]=60 [redis]=30 [nats]=30 [kafka]=180 [cassandra]=300 [minio]=90)
# Seconds a graceful stop may take before SIGKILL.
declare -A STOP_TIMEOUT=([postgres]=30 [redis]=15 [nats]=15 [kafka]=60 [cassandra]=60 [minio]=20)
declare -A MAIN_PORT=([postgres]=$PG_PORT [redis]=$REDIS_PORT [nats]=$NATS_PORT [kafka]=$KAFKA_PORT
  [cassandra]=$CASSANDRA_PORT [minio]=$S3_PORT)
# Other ports each server binds (checked before a start).
declare -A OTHER_PORTS=([postgres]="" [redis]="" [nats]="$NATS_MONITOR_PORT" [kafka]="$KAFKA_CONTROLLER_PORT"
  [cassandra]="$CASSANDRA_STORAGE_PORT $CASSANDRA_JMX_PORT" [minio]="$S3_CONSOLE_PORT")

# Print a script's header comment (its usage).
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"; }

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

is_service() { local s; for s in "${ALL_SERVICES[@]}"; do [[ $s == "$1" ]] && return 0; done; return 1; }

# Services named on the command line (validated), or all of them.
parse_services() {
  SERVICES=()
  local a
  for a in "$@"; do
    case $a in
      -h|--help) return 2 ;;
      s3|versitygw) a=minio ;;
      pg) a=postgres ;;
    esac
    is_service "$a" || die "unknown service '$a' (known: ${ALL_SERVICES[*]})"
    SERVICES+=("$a")
  done
  ((${#SERVICES[@]})) || SERVICES=("${ALL_SERVICES[@]}")
}

svc_dir() { printf '%s/%s' "$C4A_INFRA_RUN" "$1"; }

# ---------------------------------------------------------------- processes

# The pid recorded for a service, if that process is alive and still looks like the server
# (guards against a stale pid file whose number was reused by another process).
svc_pid() {
  local svc=$1 f pid pat
  f="$(svc_dir "$svc")/pid"
  [[ $svc == postgres && -s $(svc_dir postgres)/data/postmaster.pid ]] && f="$(svc_dir postgres)/data/postmaster.pid"
  [[ -s $f ]] || return 1
  pid=$(head -n1 "$f" | tr -dc '0-9')
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  case $svc in
    postgres) pat=postgres ;;
    redis) pat=redis-server ;;
    nats) pat=nats-server ;;
    kafka) pat=kafka.Kafka ;;
    cassandra) pat=CassandraDaemon ;;
    minio) pat='minio|versitygw' ;;
  esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq -- "$pat" || return 1
  printf '%s' "$pid"
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Which process listens on a port (best effort, for messages).
port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*' | head -n1 | sed 's/users:((//' || true; }

# Start "$@" detached (own session, no stdin, output appended to LOG); the pid of the final
# process (after exec) is written to PIDFILE.
spawn() {
  local pidfile=$1 logfile=$2; shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016
  setsid nohup bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null 8>&- 9>&- &
  local i
  for i in $(seq 50); do [[ -s $pidfile ]] && return 0; sleep 0.1; done
  die "could not start $1"
}

# Wait until probe_<svc> succeeds; fail early if the process dies. Prints the log tail on failure.
wait_ready() {
  local svc=$1 pid=${2:-} var t start now last=""
  var="C4A_INFRA_TIMEOUT_${svc^^}"
  t=${!var:-${READY_TIMEOUT[$svc]}}
  start=$(date +%s)
  while :; do
    if last=$("probe_$svc" 2>&1); then
      log "$svc answers after $(($(date +%s) - start)) s: ${last##*$'\n'}"
      return 0
    fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      log "$svc (pid $pid) exited while starting; last probe: ${last##*$'\n'}"
      show_log "$svc"
      return 1
    fi
    now=$(date +%s)
    if ((now - start >= t)); then
      log "$svc did not answer within $t s; last probe: ${last##*$'\n'}"
      show_log "$svc"
      return 1
    fi
    sleep 1
  done
}

show_log() {
  local f
  f="$(svc_dir "$1")/log"
  if [[ -f $f ]]; then
    log "last 40 lines of $f:"
    tail -n 40 "$f" | sed 's/^/    | /' >&2
  else
    log "(no log at $f)"
  fi
}

# Stop a pid: SIGTERM (or nothing if a graceful command was already sent), wait, then SIGKILL.
stop_pid() {
  local svc=$1 pid=$2 send_term=${3:-yes} var t i
  var="C4A_INFRA_STOP_TIMEOUT_${svc^^}"
  t=${!var:-${STOP_TIMEOUT[$svc]}}
  [[ $send_term == yes ]] && kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  log "$svc (pid $pid) still running after $t s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  return 1
}

# All our ports lie inside Linux's ephemeral port range (32768-60999 by default), so any
# outgoing connection on the machine may hold one of them as its local port just when a server
# wants to bind it. Reserve them (net.ipv4.ip_local_reserved_ports, this network namespace,
# until reboot). Best effort; C4A_INFRA_RESERVE_PORTS=0 skips it.
all_ports() {
  local s
  # shellcheck disable=SC2086  # OTHER_PORTS values are space-separated lists
  for s in "${ALL_SERVICES[@]}"; do printf '%s\n' "${MAIN_PORT[$s]}" ${OTHER_PORTS[$s]}; done
}
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports cur p r lo hi missing=() found ranges
  [[ ${C4A_INFRA_RESERVE_PORTS:-1} == 1 && -r $f ]] || return 0
  cur=$(tr -d ' \n' <"$f")
  for p in $(all_ports); do
    found=0
    IFS=, read -ra ranges <<<"$cur"
    for r in "${ranges[@]}"; do
      lo=${r%-*} hi=${r#*-}
      [[ -n $lo ]] && ((p >= lo && p <= hi)) && { found=1; break; }
    done
    ((found)) || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if { printf '%s\n' "${cur:+$cur,}$(IFS=,; echo "${missing[*]}")" >"$f"; } 2>/dev/null; then
    log "reserved ports ${missing[*]} from the ephemeral range (net.ipv4.ip_local_reserved_ports)"
  else
    log "note: could not reserve ports in net.ipv4.ip_local_reserved_ports (not permitted here)"
  fi
}

# ---------------------------------------------------------------- installs

# A lock shared by every up.sh of this checkout (apt and Maven must not run twice at once).
with_lock() {
  local name=$1; shift
  mkdir -p "$C4A_INFRA_CACHE/locks"
  (
    flock 9
    "$@"
  ) 9>"$C4A_INFRA_CACHE/locks/$name.lock"
}

# Install Debian packages (apt-get update at most once per up.sh run).
apt_install() {
  with_lock apt _apt_install "$@"
}
_apt_install() {
  local stamp="${C4A_INFRA_SESSION:-/nonexistent}/apt-updated"
  export DEBIAN_FRONTEND=noninteractive
  local alog="$C4A_INFRA_CACHE/apt.log"
  # all output to a file: a daemon that a package's install script might start must not
  # inherit our pipes
  if [[ ! -f $stamp ]]; then
    log "apt-get update"
    apt-get update >"$alog" 2>&1 </dev/null || { tail -n 20 "$alog" >&2; die "apt-get update failed"; }
    [[ -d ${C4A_INFRA_SESSION:-} ]] && touch "$stamp"
  fi
  log "apt-get install $*"
  apt-get install -y --no-install-recommends "$@" >>"$alog" 2>&1 </dev/null ||
    { tail -n 20 "$alog" >&2; die "apt-get install $* failed"; }
}

# Java 17 (Cassandra 5.0 runs on 11 or 17 only; Kafka 4 brokers need 17+).
find_java17() {
  local j
  for j in ${JAVA17_HOME:+"$JAVA17_HOME/bin/java"} /usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/*17*/bin/java; do
    [[ -x $j ]] && { printf '%s' "$j"; return 0; }
  done
  if command -v java >/dev/null && java -version 2>&1 | grep -q 'version "17'; then
    command -v java
    return 0
  fi
  return 1
}

ensure_java17() {
  JAVA=$(find_java17) || { apt_install openjdk-17-jre-headless; JAVA=$(find_java17) || die "no Java 17 found"; }
  export JAVA
}

ensure_maven() {
  command -v mvn >/dev/null || apt_install maven
}

# Copy the runtime jars named by infra/<name>/pom.xml into $C4A_INFRA_CACHE/<name>/lib once;
# fetched again only when the pom changes.
fetch_jars() {
  local name=$1 pom="$INFRA_DIR/$1/pom.xml" dest="$C4A_INFRA_CACHE/$1" sum
  sum=$(sha256sum "$pom" | cut -c1-16)
  if [[ -f $dest/lib/.complete && $(cat "$dest/lib/.complete") == "$sum" ]]; then
    return 0
  fi
  ensure_maven
  with_lock maven _fetch_jars "$name" "$pom" "$dest" "$sum"
}
_fetch_jars() {
  local name=$1 pom=$2 dest=$3 sum=$4 start
  [[ -f $dest/lib/.complete && $(cat "$dest/lib/.complete") == "$sum" ]] && return 0
  start=$(date +%s)
  log "downloading $name jars from Maven Central (mvn dependency:copy-dependencies)"
  rm -rf "$dest/build" "$dest/lib.new"
  mkdir -p "$dest/build"
  cp "$pom" "$dest/build/pom.xml"   # Maven works in a copy: nothing is written under infra/
  if ! mvn -q -B -f "$dest/build/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$dest/lib.new" >"$dest/mvn.log" 2>&1 </dev/null; then
    tail -n 40 "$dest/mvn.log" >&2
    die "maven could not fetch the $name jars (log: $dest/mvn.log)"
  fi
  echo "$sum" >"$dest/lib.new/.complete"
  rm -rf "${dest:?}/lib" "${dest:?}/build"
  mv "$dest/lib.new" "$dest/lib"
  log "$name jars ready ($(find "$dest/lib" -name '*.jar' | wc -l) jars, $(du -sh "$dest/lib" | cut -f1), $(($(date +%s) - start)) s)"
}

pom_property() { sed -n "s:.*<$2>\(.*\)</$2>.*:\1:p" "$INFRA_DIR/$1/pom.xml" | head -n1; }

# ---------------------------------------------------------------- one service up

# Install if needed, reuse a running server or start one, wait until it answers, then run
# post_start_<svc> (role/database, bucket). Runs in its own bash (lib/up-one.sh) so that
# `set -e` holds everywhere.
up_one() {
  local svc=$1 pid out port p
  port=${MAIN_PORT[$svc]}
  mkdir -p "$(svc_dir "$svc")" "$C4A_INFRA_CACHE/locks"
  # one up.sh at a time per service (fd 8 is closed in every server we spawn)
  exec 8>"$C4A_INFRA_CACHE/locks/up-$svc.lock"
  flock -w 900 8 || die "another up.sh holds the $svc lock"
  if pid=$(svc_pid "$svc"); then
    if out=$("probe_$svc" 2>&1); then
      log "$svc already running (pid $pid): ${out##*$'\n'}"
    else
      log "$svc pid $pid is running but does not answer yet: waiting"
      wait_ready "$svc" "$pid" || exit 1
    fi
    post_start "$svc"
    return 0
  fi
  if port_open "$port"; then
    if out=$("probe_$svc" 2>&1); then
      log "WARNING: 127.0.0.1:$port already answers ($(port_owner "$port")) but was not started from this checkout; reusing it"
      ( post_start "$svc" ) || log "WARNING: could not prepare $svc (role/database or bucket) on that server"
      return 0
    fi
    die "port $port is taken by another program ($(port_owner "$port")) that does not answer as $svc"
  fi
  for p in ${OTHER_PORTS[$svc]}; do
    port_open "$p" && die "port $p (needed by $svc) is taken by another program ($(port_owner "$p"))"
  done
  "install_$svc"
  # A port of ours can be held for a while as the local end of some other program's connection
  # (they all lie in Linux's ephemeral range): when the server dies on "address already in
  # use", try again.
  local attempt logf off
  logf="$(svc_dir "$svc")/log"
  for attempt in 1 2 3; do
    off=$(stat -c %s "$logf" 2>/dev/null || echo 0)
    STARTED_PID='' STARTED_FAILED=''
    "start_$svc"
    if [[ -z $STARTED_FAILED ]]; then
      log "$svc started (pid ${STARTED_PID:-?}); waiting until it answers"
      if wait_ready "$svc" "$STARTED_PID"; then
        post_start "$svc"
        return 0
      fi
    fi
    if [[ -n $STARTED_PID ]] && kill -0 "$STARTED_PID" 2>/dev/null; then
      stop_pid "$svc" "$STARTED_PID" || true
    fi
    if ((attempt < 3)) && tail -c +"$((off + 1))" "$logf" 2>/dev/null | grep -qi 'address already in use'; then
      log "$svc could not bind its port (held by another connection?); retrying in 5 s"
      sleep 5
      continue
    fi
    [[ -n $STARTED_FAILED ]] && show_log "$svc"
    die "$svc did not start"
  done
}

post_start() {
  if declare -F "post_start_$1" >/dev/null; then "post_start_$1"; fi
}

for _f in "$INFRA_DIR"/lib/svc-*.sh; do
  # shellcheck disable=SC1090
  source "$_f"
done
unset _f
