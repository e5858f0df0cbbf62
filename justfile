# Chat4All tasks. `just --list` shows them. Every recipe works on a machine with only Bun installed
# (servers are installed by infra/ when there is no Docker engine).

set shell := ["bash", "-euo", "pipefail", "-c"]

# The whole platform in one process on the embedded adapters (no servers needed).
dev:
    bun run dev

# Every test: unit, contract and end-to-end, embedded and on the real servers.
test:
    bun run test

# Only the suites that need no servers.
test-embedded:
    bun run test:embedded

# Type-check the whole tree.
typecheck:
    bun run typecheck

# Regenerate protobuf code and lint the schemas.
gen:
    bunx buf generate && bunx buf lint

# The local cluster: compose.yaml where a Docker engine answers, native servers and processes otherwise.
up:
    if docker info >/dev/null 2>&1; then docker compose up -d --build --wait; else bash scripts/cluster.sh up; fi

# Stop the local cluster.
down:
    if docker info >/dev/null 2>&1; then docker compose down; else bash scripts/cluster.sh down; fi

# What runs in the local cluster.
ps:
    if docker info >/dev/null 2>&1; then docker compose ps; else bash scripts/cluster.sh ps; fi

# Follow the logs of the cluster (or of one app).
logs app="":
    if docker info >/dev/null 2>&1; then docker compose logs -f {{app}}; else bash scripts/cluster.sh logs {{app}}; fi

# Install (when missing) and start only the servers: PostgreSQL, Redis, NATS, Kafka, Cassandra, MinIO.
infra-up *services:
    bash infra/up.sh {{services}}

# Stop the servers.
infra-down *services:
    bash infra/down.sh {{services}}

# State of the servers.
infra-status:
    bash infra/status.sh
