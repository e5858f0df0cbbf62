#!/usr/bin/env bash
# Fails when compose.yaml is not a valid Compose project: `docker compose config` where the Compose
# plugin is installed, otherwise the loader Compose itself is built on (compose-spec/compose-go,
# schema validation + model consistency: unknown keys, bad depends_on, missing networks/volumes…),
# built once with `go install` into .cache/compose-go.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
COMPOSE_GO_VERSION=v2.16.2

if docker compose version >/dev/null 2>&1; then
  docker compose -f compose.yaml config --quiet
  echo "check-compose: docker compose config accepts compose.yaml"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "check-compose: neither the docker compose plugin nor Go is installed" >&2
  exit 2
fi
bin="$root/.cache/compose-go/$COMPOSE_GO_VERSION/bin"
if [[ ! -x "$bin/cmd" ]]; then
  echo "check-compose: building compose-go $COMPOSE_GO_VERSION (once)"
  mkdir -p "$bin"
  (cd "$bin" && GOBIN="$bin" go install "github.com/compose-spec/compose-go/v2/cmd@$COMPOSE_GO_VERSION")
fi
"$bin/cmd" compose.yaml >/dev/null
echo "check-compose: compose-go $COMPOSE_GO_VERSION accepts compose.yaml (the loader of docker compose config)"
