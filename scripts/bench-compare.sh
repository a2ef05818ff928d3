#!/bin/sh
# Findings and output must not change with a performance change: runs a baseline binary
# and the new one over the bench trees (scripts/bench-trees.py) and every project of the
# corpus, in the `json` and `full` formats (and `sarif`, `concise`), and compares stdout,
# stderr and exit code byte for byte.
#
#   cargo build --release && cp target/release/conflint target/baseline-conflint  # on main
#   ... change, cargo build --release ...
#   scripts/bench-compare.sh [BASELINE] [NEW]
set -eu
cd "$(dirname "$0")/.."
OLD=$(realpath "${1:-target/baseline-conflint}")
NEW=$(realpath "${2:-target/release/conflint}")
TREES=${TREES:-target/bench/trees}
CORPUS=${CORPUS:-../shared/corpus}
OUT=$(mktemp -d)
[ -d "$TREES/pooldup" ] || python3 scripts/bench-trees.py "$TREES" >/dev/null

targets=""
for t in small big debian tree10 pooldup; do targets="$targets $TREES/$t"; done
# Each project of the corpus; nginx's own test configs as one tree.
for d in "$CORPUS"/*/*; do [ -d "$d" ] && targets="$targets $d"; done
targets="$targets $CORPUS/nginx-tests"

runs=0
diffs=0
for t in $targets; do
    for fmt in json full concise sarif; do
        for bin in old new; do
            exe=$OLD
            [ $bin = new ] && exe=$NEW
            (cd "$t" && set +e; "$exe" --output-format $fmt --color never . >"$OUT/$bin.out" 2>"$OUT/$bin.err"; echo $? >"$OUT/$bin.rc")
        done
        runs=$((runs + 1))
        for part in out err rc; do
            if ! cmp -s "$OUT/old.$part" "$OUT/new.$part"; then
                diffs=$((diffs + 1))
                echo "DIFFERS: $t ($fmt, $part)"
                diff "$OUT/old.$part" "$OUT/new.$part" | head -5
            fi
        done
    done
done
rm -rf "$OUT"
echo "compared $runs runs (targets x formats) of $OLD and $NEW: $diffs differences"
[ $diffs -eq 0 ]
