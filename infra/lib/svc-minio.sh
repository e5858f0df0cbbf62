# shellcheck shell=bash
# shellcheck disable=SC2034  # STARTED_PID is read by up_one in common.sh
# S3 server: MinIO built from the Go module proxy (`go install github.com/minio/minio@<pseudo-version>`,
# binary cached in .cache/infra/bin), data in .run/infra/minio/data, bucket created on start.
# C4A_S3_SERVER=versitygw selects versitygw (posix backend) instead; it is also used when the
# MinIO build fails.

s3_server() {
  local want=${C4A_S3_SERVER:-minio}
  if [[ $want == minio && ! -x $C4A_INFRA_CACHE/bin/minio && -f $C4A_INFRA_CACHE/bin/.minio-build-failed ]]; then
    want=versitygw
  fi
  printf '%s' "$want"
}

probe_minio() {
  python3 "$PROBE" http "http://127.0.0.1:$S3_PORT/minio/health/live" >/dev/null 2>&1 && { echo "minio health/live ok"; return 0; }
  # versitygw answers on the --health path instead
  python3 "$PROBE" http "http://127.0.0.1:$S3_PORT/health" >/dev/null 2>&1 && { echo "versitygw /health ok"; return 0; }
  echo "no answer on http://127.0.0.1:$S3_PORT (health)"
  return 1
}

go_install() {  # go_install MODULE_PATH@VERSION BINARY_NAME
  local target=$1 name=$2 bin="$C4A_INFRA_CACHE/bin" start
  command -v go >/dev/null || die "go is not installed (needed to build $name)"
  mkdir -p "$bin"
  start=$(date +%s)
  log "building $target with go install (first time: a few minutes)"
  if (cd "$C4A_INFRA_CACHE" && GOBIN="$bin" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "$target") \
    >"$bin/$name.build.log" 2>&1 </dev/null; then
    echo "$target" >"$bin/.$name-version"
    log "$name built in $(($(date +%s) - start)) s ($(du -h "$bin/$name" | cut -f1))"
    return 0
  fi
  tail -n 30 "$bin/$name.build.log" >&2
  return 1
}

install_minio() {
  local bin="$C4A_INFRA_CACHE/bin"
  if [[ $(s3_server) == minio ]]; then
    if [[ -x $bin/minio && $(cat "$bin/.minio-version" 2>/dev/null) == "github.com/minio/minio@$MINIO_VERSION" ]]; then
      return 0
    fi
    if go_install "github.com/minio/minio@$MINIO_VERSION" minio; then
      rm -f "$bin/.minio-build-failed"
      return 0
    fi
    log "WARNING: minio could not be built; falling back to versitygw"
    touch "$bin/.minio-build-failed"
  fi
  if [[ -x $bin/versitygw && $(cat "$bin/.versitygw-version" 2>/dev/null) == "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" ]]; then
    return 0
  fi
  go_install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" versitygw || die "versitygw could not be built"
}

start_minio() {
  local d bin="$C4A_INFRA_CACHE/bin"
  d=$(svc_dir minio)
  if [[ $(s3_server) == minio ]]; then
    mkdir -p "$d/data" "$d/certs"
    MINIO_ROOT_USER=$S3_ACCESS_KEY MINIO_ROOT_PASSWORD=$S3_SECRET_KEY MINIO_BROWSER=off MINIO_UPDATE=off \
      MINIO_CALLHOME_ENABLE=off MINIO_PROMETHEUS_AUTH_TYPE=public \
      spawn "$d/pid" "$d/log" "$bin/minio" server "$d/data" --address "127.0.0.1:$S3_PORT" \
      --console-address "127.0.0.1:$S3_CONSOLE_PORT" --certs-dir "$d/certs"
  else
    # its own folder: a MinIO data folder would show up as buckets here
    mkdir -p "$d/versitygw-data"
    ROOT_ACCESS_KEY=$S3_ACCESS_KEY ROOT_SECRET_KEY=$S3_SECRET_KEY \
      spawn "$d/pid" "$d/log" "$bin/versitygw" --port "127.0.0.1:$S3_PORT" --health /health --quiet \
      posix "$d/versitygw-data"
  fi
  STARTED_PID=$(cat "$d/pid")
}

post_start_minio() {
  python3 "$PROBE" s3-bucket "http://127.0.0.1:$S3_PORT" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$S3_BUCKET" >&2 ||
    die "could not create bucket $S3_BUCKET"
}

stop_minio() { stop_pid minio "$1"; }
