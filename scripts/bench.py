#!/usr/bin/env python3
"""The workloads of scripts/bench.sh: each tool on each tree, ROUNDS times, interleaved
(round 1 runs every command once, then round 2 ...) so a shared machine's load falls on
all of them alike. CPU time (user + system) comes from wait4(2); the table shows medians
and each peer's ratio to conflint on the same workload. Peak RSS is measured apart, once
per command, under /usr/bin/time: a child of this Python process starts out with Python's
peak RSS (~15 MiB), which execve keeps, so wait4 cannot see a small tool's own peak.

    scripts/bench.py TREES CONFLINT [ROUNDS]
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

TREES, CONFLINT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 7
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIXY = os.path.join(ROOT, "target/bench-venv/bin/gixy")
NGINX_LINT = os.path.join(ROOT, "target/peers/nginx-lint-src/target/release/nginx-lint")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def conflint(*args):
    return [CONFLINT, "--color", "never", *args, "."]


def nginx_t(tree):
    return [NGINX, "-t", "-q", "-p", os.path.join(TREES, tree, "nginx") + "/", "-c", "nginx.conf", "-e", "/dev/null"] if NGINX else None


def peers(tree):
    conf = os.path.join(TREES, tree, "nginx", "nginx.conf")
    return {
        "nginx -t": nginx_t(tree),
        "nginx-lint": [NGINX_LINT, conf] if os.access(NGINX_LINT, os.X_OK) else None,
        "gixy-next": [GIXY, conf] if os.access(GIXY, os.X_OK) else None,
    }


# (workload, tree, {label: argv}); the first command of each is what the others are compared with.
WORKLOADS = [
    ("one 35-line file", "small", {"conflint": conflint("--output-format", "json"), "nginx -t": nginx_t("small")}),
    ("5,000 lines, 1,000 servers", "big", {"conflint": conflint(), "conflint json": conflint("--output-format", "json"), **peers("big")}),
    ("Debian: 200 sites by symlink + 200 pools", "debian", {"conflint": conflint("--output-format", "json"), "nginx -t": nginx_t("debian")}),
    ("10 MB tree: full / json / sarif", "tree10", {"conflint json": conflint("--output-format", "json"), "conflint full": conflint(), "conflint sarif": conflint("--output-format", "sarif"), "nginx -t": nginx_t("tree10")}),
    ("10 MB tree: --fix --validate never", "tree10-fix", {"conflint check": conflint("--output-format", "json"), "conflint --fix": conflint("--output-format", "json", "--fix", "--validate", "never")}),
    ("40 MB tree", "tree40", {"conflint json": conflint("--output-format", "json")}),
    ("one pool of 20,000 settings", "pooldup", {"conflint json": conflint("--output-format", "json")}),
]


def tree_bytes(tree):
    total = 0
    for root, _, files in os.walk(os.path.join(TREES, tree)):
        for f in files:
            p = os.path.join(root, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def run(argv, cwd):
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=null, stderr=null)
        _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_stime, usage.ru_maxrss / 1024


def peak_rss(argv, cwd):
    """MiB, from GNU time, whose child is forked from its own small process."""
    with open(os.devnull, "wb") as null:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", "/dev/stdout", *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=null, check=False)
    return int(out.stdout.split()[-1]) / 1024


def fresh_copy(fix_tree):
    """A new copy of tree10 for the fix workload, written to disk before the run: else the
    fix's sync (one syncfs for many files) would also pay for flushing the copy itself."""
    shutil.rmtree(fix_tree, ignore_errors=True)
    shutil.copytree(os.path.join(TREES, "tree10"), fix_tree, symlinks=True)
    os.sync()


def main():
    # The fix workload edits its tree: a fresh copy of tree10 before each run, outside the timing.
    fix_tree = os.path.join(TREES, "tree10-fix")
    results = {}
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, {ROUNDS} rounds, load average before: {os.getloadavg()[0]:.2f}")
    for _ in range(ROUNDS):
        for name, tree, cmds in WORKLOADS:
            for label, argv in cmds.items():
                if argv is None:
                    continue
                if tree == "tree10-fix":
                    fresh_copy(fix_tree)
                results.setdefault((name, tree), {}).setdefault(label, []).append(run(argv, os.path.join(TREES, tree)))
    if os.access("/usr/bin/time", os.X_OK):
        for name, tree, cmds in WORKLOADS:
            for label, argv in cmds.items():
                if argv is None:
                    continue
                if tree == "tree10-fix":
                    fresh_copy(fix_tree)
                rss = peak_rss(argv, os.path.join(TREES, tree))
                results[(name, tree)][label] = [(*s[:3], rss) for s in results[(name, tree)][label]]
    else:
        print("/usr/bin/time is not installed: peak RSS below is floored at this Python's own")
    shutil.rmtree(fix_tree, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}\n")
    print(f"{'workload / command':<46} {'wall ms':>9} {'CPU ms':>9} {'sys %':>6} {'RSS MiB':>8}  ratio (CPU)")
    for (name, tree), by_label in results.items():
        size = tree_bytes(tree if tree != "tree10-fix" else "tree10")
        print(f"{name} ({size / 1e6:.2f} MB)")
        base = None
        for label, samples in by_label.items():
            wall, cpu, sys_, rss = (statistics.median(s[i] for s in samples) for i in range(4))
            base = base or cpu
            ratio = "" if cpu == base else f"{cpu / base:.2f}x"
            rss_ratio = f" = {rss * 2**20 / size:.1f}x input" if size > 5e6 else ""
            print(f"  {label:<44} {wall * 1e3:9.1f} {cpu * 1e3:9.1f} {100 * sys_ / cpu if cpu else 0:6.0f} {rss:8.1f}  {ratio}{rss_ratio}")
    missing = [n for n, p in [("nginx", NGINX), ("gixy-next", GIXY), ("nginx-lint", NGINX_LINT)] if not (p and os.path.exists(p))]
    if missing:
        print(f"\nnot measured (not installed): {', '.join(missing)}")


main()
