#!/usr/bin/env bash
# Lint every repository of ../shared/corpus on its own (its nginx and PHP-FPM files
# together, as one tree), and print the findings per rule over all of them.
# Usage: scripts/corpus-stats.sh [extra conflint args]   (after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=../shared/corpus
bin=./target/release/conflint
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -d "$corpus" ] || { echo "no $corpus" >&2; exit 2; }
out=$(mktemp)
repos=$( (ls "$corpus/nginx"; ls "$corpus/fpm") | sort -u)
for repo in $repos; do
    dirs=()
    for side in nginx fpm; do [ -d "$corpus/$side/$repo" ] && dirs+=("$corpus/$side/$repo"); done
    "$bin" check --output-format concise --exit-zero --quiet "$@" "${dirs[@]}" >> "$out" 2>/dev/null || echo "conflint failed on $repo (exit $?)" >&2
done
grep -oE ': [A-Z]{3}[0-9]{3} ' "$out" | sort | uniq -c | sort -rn
echo "total: $(grep -cE ': [A-Z]{3}[0-9]{3} ' "$out") findings in $(echo "$repos" | wc -w) repositories; all findings in $out"
