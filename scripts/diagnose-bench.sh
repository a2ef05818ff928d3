#!/bin/sh
# Streams a generated ~1 GB nginx error.log (plus a 100 MB PHP-FPM log) through
# `conflint diagnose` against tests/fixtures/diagnose/site and reports the wall time and
# peak resident memory (GNU time). Memory must not grow with the log: run it with
# SIZE_MB=100 and SIZE_MB=1000 and compare. Needs `cargo build --release` first.
set -eu
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1000}
DIR=${DIR:-$(mktemp -d)}
mkdir -p "$DIR"
LOG="$DIR/error.log"
FPM="$DIR/php-fpm.log"
if [ ! -s "$LOG" ]; then
    python3 - "$LOG" "$FPM" "$SIZE_MB" <<'PY'
import random, sys
log, fpm, size = sys.argv[1], sys.argv[2], int(sys.argv[3]) << 20
random.seed(1)
lines = [
    '[crit] 812#812: *{n} connect() to unix:/run/php/php7.4-fpm.sock failed (2: No such file or directory) while connecting to upstream, client: 198.51.100.{c}, server: _, request: "GET /p{n}.php?x={n} HTTP/1.1", upstream: "fastcgi://unix:/run/php/php7.4-fpm.sock:", host: "192.0.2.10"',
    '[error] 812#812: *{n} upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.{c}, server: shop.example.com, request: "GET /products/{n} HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm-shop.sock", host: "shop.example.com", referrer: "https://shop.example.com/c/{c}"',
    '[error] 813#813: *{n} limiting requests, excess: 0.960 by zone "login", client: 192.0.2.{c}, server: shop.example.com, request: "POST /login HTTP/1.1", host: "shop.example.com"',
    '[error] 1201#1201: *{n} upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.{c}, server: shop.example.com, request: "GET /api/admin/report/{n} HTTP/2.0", upstream: "http://127.0.0.1:8081/api/admin/report/{n}", host: "shop.example.com"',
    '[info] 812#812: *{n} client closed connection while waiting for request, client: 198.51.100.{c}, server: 0.0.0.0:80',
    '[notice] 812#812: signal process started',
]
with open(log, "w") as out:
    written, n, t = 0, 0, 0
    while written < size:
        n += 1
        if n % 50 == 0:
            t += 1
        s = t % 60; m = t // 60 % 60; h = 10 + t // 3600 % 14
        line = "2025/01/20 %02d:%02d:%02d " % (h, m, s) + random.choice(lines).format(n=n, c=n % 250) + "\n"
        out.write(line)
        written += len(line)
with open(fpm, "w") as out:
    written, n = 0, 0
    while written < size // 10:
        n += 1
        line = "[20-Jan-2025 10:%02d:%02d] WARNING: [pool shop] server reached pm.max_children setting (5), consider raising it\n" % (n // 60 % 60, n % 60)
        out.write(line)
        written += len(line)
PY
fi
ls -l "$LOG" "$FPM"
/usr/bin/time -v ./target/release/conflint diagnose --no-live --timezone UTC --log "$LOG" --log "$FPM" -o "$DIR/report.txt" tests/fixtures/diagnose/site 2>"$DIR/time.txt" || true
grep -E "Elapsed|Maximum resident" "$DIR/time.txt"
grep -E "^[0-9]+\." "$DIR/report.txt" | head -8
echo "(files kept in $DIR)"
