#!/usr/bin/env bash
# Internal: bring up one service (called by infra/up.sh, one process per service).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
up_one "$1"
