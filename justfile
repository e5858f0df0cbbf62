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

# The benchmarks (not tests), one at a time (flock; -o keeps the lock out of processes a benchmark leaves
# running). Pipeline: load through the gateways, measured at the sockets, plus the raw Kafka baseline;
# writes bench/results/pipeline.{json,md} and pipeline-latency.svg (`just bench --help`). Real-time:
# bench/fanout.ts and bench/connections.ts, writing bench/results/{fanout,connections}.{json,md}.
# Benchmarks: `just bench [cluster|embedded]` (pipeline), `just bench fanout`, `just bench connections`.
bench mode="cluster" *flags:
    @case "{{mode}}" in \
      fanout) script=bench/fanout.ts; set -- {{flags}} ;; \
      connections) script=bench/connections.ts; set -- {{flags}} ;; \
      -*) script=bench/pipeline.ts; set -- {{mode}} {{flags}} ;; \
      *) script=bench/pipeline.ts; set -- --mode {{mode}} {{flags}} ;; \
    esac; \
    if command -v flock >/dev/null; then flock -o /tmp/c4a-bench.lock env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy bun --no-warnings "$script" "$@"; \
    else env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy bun --no-warnings "$script" "$@"; fi

# The pipeline benchmark on the embedded platform (one process, no servers).
bench-embedded *flags:
    {{just_executable()}} bench embedded {{flags}}

# Group fanout through Bus → one gateway → 5,000 sockets vs a bare Bun server; writes bench/results/fanout.{json,md}.
bench-fanout *flags:
    {{just_executable()}} bench fanout {{flags}}

# Idle sockets per gateway instance (memory per socket) vs a bare Bun server; writes bench/results/connections.{json,md}.
bench-connections *flags:
    {{just_executable()}} bench connections {{flags}}

# Resume storm: 10,000 sockets on gateway A, A SIGKILLed, all reconnect to B with RESUME at once (target: all
# caught up, no gap, within 10 s); writes bench/results/resume-storm.{json,md} (`--tag x` → resume-storm-x.*).
bench-resume *flags:
    @if command -v flock >/dev/null; then flock -o /tmp/c4a-bench.lock env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy bun --no-warnings bench/resume-storm.ts {{flags}}; \
    else env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy bun --no-warnings bench/resume-storm.ts {{flags}}; fi
