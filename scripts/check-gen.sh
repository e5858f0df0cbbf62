#!/usr/bin/env bash
# Fails when libs/proto/gen is not exactly what `buf generate` produces from proto/ (and when
# buf lint fails). Generates into a temporary copy; the working tree is not touched.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bunx buf lint
# Same template as buf.gen.yaml, but output into the temporary folder.
sed -e "s#out: libs/proto/gen#out: $tmp/gen#" buf.gen.yaml >"$tmp/buf.gen.yaml"
grep -q "out: $tmp/gen" "$tmp/buf.gen.yaml" || { echo "check-gen: could not retarget buf.gen.yaml" >&2; exit 2; }
bunx buf generate --template "$tmp/buf.gen.yaml"

if ! diff -r "$tmp/gen" libs/proto/gen; then
  echo "check-gen: libs/proto/gen is stale; run 'bunx buf generate' and commit the result" >&2
  exit 1
fi
echo "check-gen: libs/proto/gen is up to date"
