#!/usr/bin/env bash
# infra/env.sh — connection settings of the servers that infra/up.sh starts.
#   infra/env.sh            prints KEY=value lines (a .env file: infra/env.sh > .env)
#   infra/env.sh --export   prints `export KEY=value` lines (eval "$(infra/env.sh --export)")
#   . infra/env.sh          exports them into the current shell
# The ports are fixed in infra/lib/common.sh; keep both files in step.

_c4a_infra_env() {
  cat <<'ENV'
C4A_POSTGRES_URL=postgres://chat4all:chat4all@127.0.0.1:55432/chat4all
C4A_REDIS_URL=redis://127.0.0.1:56379
C4A_NATS_URL=nats://127.0.0.1:54222
C4A_KAFKA_BROKERS=127.0.0.1:59092
C4A_CASSANDRA_CONTACT_POINTS=127.0.0.1:59042
C4A_CASSANDRA_DC=datacenter1
C4A_S3_ENDPOINT=http://127.0.0.1:59000
C4A_S3_ACCESS_KEY=chat4all
C4A_S3_SECRET_KEY=chat4all-secret
C4A_S3_BUCKET=chat4all
ENV
}

if (return 0 2>/dev/null); then
  # sourced: export into the caller's shell without changing its options
  while IFS= read -r _c4a_line; do
    export "${_c4a_line?}"
  done < <(_c4a_infra_env)
  unset _c4a_line
  unset -f _c4a_infra_env
else
  set -euo pipefail
  case ${1:-} in
    --export) _c4a_infra_env | sed 's/^/export /' ;;
    '') _c4a_infra_env ;;
    *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 2 ;;
  esac
fi
