#!/usr/bin/env bash
# Lint every repository of a corpus laid out as ../shared/corpus is (nginx/REPO/...,
# fpm/REPO/...) on its own (its nginx and PHP-FPM files together, as one tree), and print
# the findings per rule over all of them.
# Usage: scripts/corpus-stats.sh CORPUS_DIR [extra conflint args]   (after cargo build --release)
#   e.g. scripts/corpus-stats.sh ../shared/corpus --select NGX1
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 CORPUS_DIR [extra conflint args]" >&2; exit 2; }
[ -d "$1/nginx" ] || [ -d "$1/fpm" ] || { echo "$1: no nginx/ or fpm/ directory: not a corpus" >&2; exit 2; }
corpus=$(cd "$1" && pwd)
shift
cd "$(dirname "$0")/.."
bin=./target/release/conflint
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
out=$(mktemp)
repos=$( (ls "$corpus/nginx" 2>/dev/null; ls "$corpus/fpm" 2>/dev/null) | sort -u)
for repo in $repos; do
    dirs=()
    for side in nginx fpm; do [ -d "$corpus/$side/$repo" ] && dirs+=("$corpus/$side/$repo"); done
    "$bin" check --output-format concise --exit-zero --quiet "$@" "${dirs[@]}" >> "$out" 2>/dev/null || echo "conflint failed on $repo (exit $?)" >&2
done
grep -oE ': [A-Z]{3}[0-9]{3} ' "$out" | sort | uniq -c | sort -rn
echo "total: $(grep -cE ': [A-Z]{3}[0-9]{3} ' "$out") findings in $(echo "$repos" | wc -w) repositories; all findings in $out"
