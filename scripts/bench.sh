#!/bin/sh
# conflint against its peers on generated workloads (scripts/bench-trees.py): CPU time,
# wall time and peak RSS, medians of ROUNDS interleaved rounds (scripts/bench.py), then
# the path syscalls per file read on the Debian-shaped tree (strace).
#
#   scripts/bench.sh            # ROUNDS=7, the release build
#   scripts/build-deb.sh >/dev/null && CONFLINT=target/dist/conflint scripts/bench.sh
#                               # the binary the Debian package ships
#
# Peers, when present: nginx -t (the installed nginx), gixy-next in target/bench-venv
# (created here: `pip install gixy-next`), walf443/nginx-lint built from its git source
# (not on crates.io) in target/peers/nginx-lint-src:
#   git clone https://github.com/walf443/nginx-lint target/peers/nginx-lint-src
#   (cd target/peers/nginx-lint-src && cargo build --release --bin nginx-lint)
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-7}
TREES=${TREES:-target/bench/trees}
if [ -z "${CONFLINT:-}" ]; then
    cargo build --release --quiet
    CONFLINT=target/release/conflint
fi
CONFLINT=$(realpath "$CONFLINT")
if [ ! -x target/bench-venv/bin/gixy ]; then
    python3 -m venv target/bench-venv && target/bench-venv/bin/pip install --quiet gixy-next || echo "gixy-next not installed (offline?)"
fi
[ -d "$TREES/pooldup" ] || python3 scripts/bench-trees.py "$TREES"
python3 scripts/bench.py "$TREES" "$CONFLINT" "$ROUNDS"
if command -v strace >/dev/null; then
    log=$(mktemp)
    (cd "$TREES/debian" && strace -f -qq -e trace=%file -o "$log" "$CONFLINT" --output-format json . >/dev/null 2>&1 || true)
    calls=$(grep -cE '^[0-9]+ +[a-z0-9_]+\((AT_FDCWD, )?"[^"]+"' "$log")
    files=$(grep -cE "^[0-9]+ +openat\(AT_FDCWD, \"[^\"]*/debian/[^\"]*\", O_RDONLY\|O_NOCTTY" "$log")
    echo
    echo "Debian tree: $calls path syscalls (whole process, startup included) for $files files read = $(echo "scale=2; $calls / $files" | bc) per file"
    rm -f "$log"
fi
