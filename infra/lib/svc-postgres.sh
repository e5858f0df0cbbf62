# shellcheck shell=bash
# shellcheck disable=SC2034  # STARTED_PID is read by up_one in common.sh
# PostgreSQL (Debian's postgresql-15 binaries): initdb + pg_ctl as the `postgres` user,
# data in .run/infra/postgres/data, TCP on 127.0.0.1 only, unix socket inside .run.

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [[ -n $d && -x $d/pg_ctl ]] && printf '%s' "$d"
}

# Unix socket directory: inside .run unless that path is too long for a socket name (107 bytes).
pg_sockdir() {
  local d
  d="$(pg_home)/sock"
  if ((${#d} + 20 > 100)); then
    d="/tmp/c4a-pg-$(printf '%s' "$C4A_INFRA_RUN" | sha256sum | cut -c1-12)"
  fi
  printf '%s' "$d"
}

pg_superuser_psql() {
  "$(pg_bin)/psql" -X -q -h "$(pg_sockdir)" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

pg_url_psql() {
  "$(pg_bin)/psql" -X -Atq "host=127.0.0.1 port=$PG_PORT user=$PG_USER password=$PG_PASSWORD dbname=$PG_DB connect_timeout=3" "$@"
}

# Answers when pg_isready does and a `select 1` goes through, as the superuser over this
# checkout's socket or else with the credentials of C4A_POSTGRES_URL.
probe_postgres() {
  local b
  b=$(pg_bin) || { echo "postgres not installed"; return 1; }
  "$b/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 3 || { echo "pg_isready: no answer on 127.0.0.1:$PG_PORT"; return 1; }
  if [[ -S "$(pg_sockdir)/.s.PGSQL.$PG_PORT" ]] && PGCONNECT_TIMEOUT=3 pg_superuser_psql -Atc 'select 1' >/dev/null 2>&1; then
    echo "select 1 ok (127.0.0.1:$PG_PORT)"
    return 0
  fi
  pg_url_psql -c 'select 1' >/dev/null || return 1
  echo "select 1 as $PG_USER ok (127.0.0.1:$PG_PORT)"
}

install_postgres() {
  pg_bin >/dev/null || apt_install postgresql
  pg_bin >/dev/null || die "no PostgreSQL binaries under /usr/lib/postgresql/*/bin"
  if ! id -u postgres >/dev/null 2>&1; then
    log "creating system user postgres"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi
}

# Run a command as the postgres user from / (the caller's cwd may be closed to that user).
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# The real folder of the postgres state (.run/infra/postgres, or where its symlink points).
pg_home() { readlink -f "$(svc_dir postgres)"; }

# The server runs as `postgres`, which must be able to reach its folder. If a parent directory
# is closed to that user (a checkout under /root, say), the state goes to /var/tmp instead and
# .run/infra/postgres becomes a symlink to it.
pg_prepare_home() {
  local d alt
  d=$(svc_dir postgres)
  mkdir -p "$d"
  [[ -L $d ]] || chown postgres: "$d"
  as_postgres test -w "$d/" 2>/dev/null && return 0
  [[ -L $d ]] && die "user postgres cannot write $(pg_home)"
  [[ -e $d/data/PG_VERSION ]] && die "user postgres cannot reach $d (a parent folder is closed to it)"
  alt="/var/tmp/c4a-infra-$(printf '%s' "$C4A_INFRA_RUN" | sha256sum | cut -c1-12)/postgres"
  log "user postgres cannot reach $d (a parent folder is closed to it): its state goes to $alt (symlinked)"
  rm -rf "$d"
  mkdir -p "$alt"
  chown postgres: "$alt"
  ln -s "$alt" "$d"
}

start_postgres() {
  local d b sock
  pg_prepare_home
  d=$(pg_home)
  b=$(pg_bin)
  sock=$(pg_sockdir)
  if [[ ! -f $d/data/PG_VERSION ]]; then
    log "initdb $d/data"
    rm -rf "$d/data"
    as_postgres "$b/initdb" -D "$d/data" -U postgres -E UTF8 --locale=C \
      --auth-local=trust --auth-host=scram-sha-256 >"$d/initdb.log" 2>&1 ||
      { cat "$d/initdb.log" >&2; die "initdb failed"; }
    cat >>"$d/data/postgresql.conf" <<CONF

# ---- chat4all infra (infra/lib/svc-postgres.sh): a disposable dev/test server ----
listen_addresses = '127.0.0.1'
port = $PG_PORT
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  fi
  mkdir -p "$sock"
  chown postgres: "$sock"
  rm -f "$d/pid"
  : >>"$d/log"
  chown postgres: "$d/log"
  # -w: pg_ctl waits until the server accepts connections, or reports that it died
  if ! as_postgres "$b/pg_ctl" -D "$d/data" -l "$d/log" -w -t "${READY_TIMEOUT[postgres]}" \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $sock" start >/dev/null 8>&- 9>&-; then
    STARTED_FAILED=1
    return 0
  fi
  head -n1 "$d/data/postmaster.pid" 2>/dev/null >"$d/pid" || true
  STARTED_PID=$(cat "$d/pid" 2>/dev/null || true)
}

# Role and database of C4A_POSTGRES_URL (idempotent). The role is a superuser: this server
# exists only for development and tests, which may create databases and extensions.
post_start_postgres() {
  pg_superuser_psql >/dev/null <<SQL || die "could not create role/database $PG_USER"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN SUPERUSER PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB')\gexec
SQL
  pg_url_psql -c 'select 1' >/dev/null || die "cannot log in as $PG_USER to $PG_DB on 127.0.0.1:$PG_PORT"
  log "role $PG_USER and database $PG_DB ready"
}

stop_postgres() {
  local pid=$1 d
  d=$(pg_home)
  as_postgres "$(pg_bin)/pg_ctl" -D "$d/data" -m fast -t "${STOP_TIMEOUT[postgres]}" stop >/dev/null 2>&1 || true
  stop_pid postgres "$pid" no
}
