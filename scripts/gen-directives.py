#!/usr/bin/env python3
"""Generate conflint's nginx directive tables from nginx's own source.

Reads the `ngx_command_t` arrays (name, context mask, arity, set handler, post table) of
every module at the pinned revisions in src/nginx/directives/data/SOURCES, joins the
default, syntax and appeared-in of each directive from nginx.org's documentation XML, and
writes one JSON-lines table per pinned source into src/nginx/directives/data/.

The sources are read with `git show REV:path` from local mirrors of the public
repositories, `<mirrors>/<owner>+<name>/repo` (default /work/.mirror; `--mirrors DIR` or
$CONFLINT_MIRRORS). Nothing else is read, so regenerating from the recorded revisions gives
the committed files byte for byte (`--check` compares instead of writing; exit 1 on a
difference, 3 when a mirror is missing).

Only facts are written (names, masks, handler kinds, value lists, bounds, defaults,
versions, syntax lines); no code or prose of nginx is copied.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "src", "nginx", "directives", "data")
SOURCES = os.path.join(DATA, "SOURCES")

# Set handlers of nginx's core whose parsing conflint knows (src/core/ngx_conf_file.c and
# the subsystems' complex-value slots). Any other handler is recorded as "custom".
HANDLERS = {
    "ngx_conf_set_flag_slot": "flag",
    "ngx_conf_set_str_slot": "str",
    "ngx_conf_set_str_array_slot": "str_array",
    "ngx_conf_set_keyval_slot": "keyval",
    "ngx_conf_set_num_slot": "num",
    "ngx_conf_set_size_slot": "size",
    "ngx_conf_set_off_slot": "off",
    "ngx_conf_set_msec_slot": "msec",
    "ngx_conf_set_sec_slot": "sec",
    "ngx_conf_set_bufs_slot": "bufs",
    "ngx_conf_set_enum_slot": "enum",
    "ngx_conf_set_bitmask_slot": "bitmask",
    "ngx_conf_set_path_slot": "path",
    "ngx_conf_set_access_slot": "access",
    "ngx_conf_include": "include",
    "ngx_http_set_complex_value_slot": "complex",
    "ngx_http_set_complex_value_zero_slot": "complex",
    "ngx_http_set_complex_value_size_slot": "complex_size",
    "ngx_stream_set_complex_value_slot": "complex",
    "ngx_stream_set_complex_value_zero_slot": "complex",
    "ngx_stream_set_complex_value_size_slot": "complex_size",
}

# Mask bits of ngx_command_t.type (src/core/ngx_conf_file.h and the subsystems' headers),
# by the name conflint's tables use. An unknown bit stops the generator.
MASKS = {
    "NGX_MAIN_CONF": "main", "NGX_DIRECT_CONF": "direct", "NGX_ANY_CONF": "any",
    "NGX_EVENT_CONF": "event",
    "NGX_HTTP_MAIN_CONF": "http", "NGX_HTTP_SRV_CONF": "server", "NGX_HTTP_LOC_CONF": "location",
    "NGX_HTTP_UPS_CONF": "upstream", "NGX_HTTP_SIF_CONF": "server_if", "NGX_HTTP_LIF_CONF": "location_if",
    "NGX_HTTP_LMT_CONF": "limit_except",
    "NGX_STREAM_MAIN_CONF": "stream", "NGX_STREAM_SRV_CONF": "stream_server", "NGX_STREAM_UPS_CONF": "stream_upstream",
    "NGX_MAIL_MAIN_CONF": "mail", "NGX_MAIL_SRV_CONF": "mail_server",
    "NGX_RTMP_MAIN_CONF": "rtmp", "NGX_RTMP_SRV_CONF": "rtmp_server", "NGX_RTMP_APP_CONF": "rtmp_application",
    "NGX_RTMP_REC_CONF": "rtmp_recorder",
    "NGX_CONF_NOARGS": "0", "NGX_CONF_TAKE1": "1", "NGX_CONF_TAKE2": "2", "NGX_CONF_TAKE3": "3",
    "NGX_CONF_TAKE4": "4", "NGX_CONF_TAKE5": "5", "NGX_CONF_TAKE6": "6", "NGX_CONF_TAKE7": "7",
    "NGX_CONF_TAKE12": "1,2", "NGX_CONF_TAKE13": "1,3", "NGX_CONF_TAKE23": "2,3",
    "NGX_CONF_TAKE123": "1,2,3", "NGX_CONF_TAKE1234": "1,2,3,4",
    "NGX_CONF_ARGS_NUMBER": "", "NGX_CONF_BLOCK": "block", "NGX_CONF_FLAG": "flag",
    "NGX_CONF_ANY": "any", "NGX_CONF_1MORE": "1+", "NGX_CONF_2MORE": "2+",
}
CONTEXT_BITS = {v for k, v in MASKS.items() if not k.startswith("NGX_CONF_")}

VARS_RE = re.compile(r"ngx_(http|stream)_variable_t\s+(\w+)\s*\[\s*\]\s*=\s*\{")
ARRAY_RE = re.compile(r"ngx_command_t\s+(\w+)\s*\[\s*\]\s*=\s*\{")
MODULE_RE = re.compile(r"ngx_module_t\s+(\w+)\s*=\s*\{\s*NGX_MODULE_V1\s*,\s*[^,]*,\s*(\w+)\s*,\s*(\w+)")
TABLE_RE = re.compile(r"ngx_conf_(enum|bitmask)_t\s+(\w+)\s*\[\s*\]\s*=\s*\{(.*?)\}\s*;", re.S)
PAIR_RE = re.compile(r'ngx_string\(\s*"([^"]*)"\s*\)')
BOUNDS_RE = re.compile(r"ngx_conf_num_bounds_t\s+(\w+)\s*=\s*\{\s*ngx_conf_check_num_bounds\s*,\s*(-?\w+)\s*,\s*(-?\w+)\s*\}")
POST_RE = re.compile(r"ngx_conf_post_t\s+(\w+)\s*=\s*\{\s*(\w+)\s*\}")
DEPRECATED_RE = re.compile(r'ngx_conf_deprecated_t\s+(\w+)\s*=\s*\{\s*ngx_conf_deprecated\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*\}')


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True).stdout


def strip_comments(src):
    """C source without comments, strings kept (a "/*" inside a string stays)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * src.count("\n", i, j))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_top(s):
    """Split on commas outside parentheses and braces."""
    parts, depth, cur = [], 0, []
    for c in s:
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def normalize_cond(line):
    return re.sub(r"\s+", " ", line.strip()[1:].strip())


def commands_of(src):
    """Every ngx_command_t array of a file: name → list of (entry fields, preprocessor conditions)."""
    arrays = {}
    for m in ARRAY_RE.finditer(src):
        body_start = m.end()
        end = src.find("ngx_null_command", body_start)
        if end < 0:
            continue
        body = src[body_start:end]
        entries, conds, depth, cur, cur_cond = [], [], 0, [], None
        for line in body.splitlines(keepends=True):
            stripped = line.strip()
            if stripped.startswith("#") and depth == 0:
                word = stripped[1:].strip().split(None, 1)[0] if stripped[1:].strip() else ""
                if word.startswith("if"):
                    conds.append(normalize_cond(stripped))
                elif word == "else":
                    conds[-1] = "!(" + conds[-1] + ")"
                elif word == "elif":
                    conds[-1] = normalize_cond(stripped)
                elif word == "endif":
                    conds.pop()
                continue
            for c in line:
                if c == "{":
                    depth += 1
                    if depth == 1:
                        cur, cur_cond = [], list(conds)
                        continue
                elif c == "}":
                    depth -= 1
                    if depth == 0:
                        entries.append((split_top("".join(cur)), cur_cond))
                        continue
                if depth >= 1:
                    cur.append(c)
        arrays[m.group(1)] = entries
    return arrays


def variables_of(src, path, modules):
    """Built-in variables of a file: (subsystem, name, is a prefix, module)."""
    out = []
    mods = [name for name, _, _ in MODULE_RE.findall(src)]
    for m in VARS_RE.finditer(src):
        sub = m.group(1)
        ends = [e for e in (src.find(f"ngx_{sub}_null_variable", m.end()), src.find("ngx_null_string", m.end())) if e >= 0]
        if not ends:
            continue
        end = min(ends)
        module = mods[0] if mods else f"ngx_{sub}_core_module"
        for entry in re.finditer(r'\{\s*ngx_string\(\s*"([^"]+)"\s*\)(.*?)\}', src[m.end():end], re.S):
            out.append({"variable": entry.group(1), "subsystem": sub, "module": module, "prefix": f"NGX_{sub.upper()}_VAR_PREFIX" in entry.group(2)})
    # Variables added one by one: `static ngx_str_t x = ngx_string("gzip_ratio");` then
    # `ngx_http_add_variable(cf, &x, …)`.
    strings = dict(re.findall(r'ngx_str_t\s+(\w+)\s*=\s*ngx_string\(\s*"([^"]+)"\s*\)', src))
    for sub, var in re.findall(r"ngx_(http|stream)_add_variable\(\s*cf\s*,\s*&(\w+)\s*,", src):
        if var in strings:
            module = mods[0] if mods else f"ngx_{sub}_core_module"
            out.append({"variable": strings[var], "subsystem": sub, "module": module, "prefix": False})
    return out


def posts_of(src, posts):
    for kind, name, body in TABLE_RE.findall(src):
        posts.setdefault(name, {"kind": kind, "values": PAIR_RE.findall(body)})
    for name, lo, hi in BOUNDS_RE.findall(src):
        posts.setdefault(name, {"kind": "bounds", "min": lo, "max": hi})
    for name, handler in POST_RE.findall(src):
        posts.setdefault(name, {"kind": "post", "handler": handler})
    for name, old, new in DEPRECATED_RE.findall(src):
        posts.setdefault(name, {"kind": "deprecated", "old": old, "new": new})


def mask_of(expr, where):
    contexts, args = [], []
    for tok in (t.strip() for t in expr.split("|")):
        if tok not in MASKS:
            raise SystemExit(f"{where}: unknown mask bit {tok!r}")
        v = MASKS[tok]
        if v in CONTEXT_BITS:
            contexts.append(v)
        elif v:
            args.extend(v.split(","))
    return contexts, args


def int_of(s):
    s = s.strip()
    if s in ("NGX_MAX_INT_T_VALUE", "NGX_MAX_INT32_VALUE"):
        return s
    try:
        return int(s, 0)
    except ValueError:
        return s


def read_source(gitdir, rev, under):
    files = [p for p in git(gitdir, "ls-tree", "-r", "--name-only", rev, "--", under).decode().splitlines() if p.endswith((".c", ".h"))]
    texts = {}
    for p in sorted(files):
        raw = git(gitdir, "show", f"{rev}:{p}").decode("utf-8", "replace")
        if "ngx_command_t" in raw or "ngx_conf_" in raw or "ngx_module_t" in raw:
            texts[p] = strip_comments(raw)
    return texts


def extract(texts, label):
    posts, modules, arrays = {}, {}, {}
    for path, src in texts.items():
        posts_of(src, posts)
        for name, cmds, kind in MODULE_RE.findall(src):
            modules.setdefault((path, cmds), (name, kind))
        for arr, entries in commands_of(src).items():
            arrays[(path, arr)] = entries
    variables = []
    for path, src in texts.items():
        variables.extend(variables_of(src, path, modules))
    # A file without its module definition (nchan's commands live in an included .c).
    by_cmds = {cmds: mod for (_, cmds), mod in modules.items()}
    out = []
    for (path, arr), entries in sorted(arrays.items()):
        mod = modules.get((path, arr)) or by_cmds.get(arr)
        if mod is None:
            continue  # an array no module uses (examples, tests)
        for fields, conds in entries:
            if len(fields) < 2:
                continue
            nm = PAIR_RE.match(fields[0])
            if not nm:
                raise SystemExit(f"{label} {path}: cannot read directive name {fields[0]!r}")
            contexts, args = mask_of(fields[1], f"{label} {path} {nm.group(1)}")
            handler = fields[2] if len(fields) > 2 else ""
            post = fields[5].lstrip("&").strip() if len(fields) > 5 else "NULL"
            d = {"name": nm.group(1), "module": mod[0], "contexts": contexts, "args": args,
                 "type": HANDLERS.get(handler, "custom")}
            if d["type"] == "custom":
                d["handler"] = handler
            p = posts.get(post)
            if p:
                if p["kind"] in ("enum", "bitmask"):
                    d["values"] = p["values"]
                elif p["kind"] == "bounds":
                    d["min"], d["max"] = int_of(p["min"]), int_of(p["max"])
                elif p["kind"] == "post":
                    d["post"] = p["handler"]
                elif p["kind"] == "deprecated":
                    d["deprecated"] = p["new"]
            if conds:
                d["if"] = conds
            out.append(d)
    return out, variables


# --- nginx.org documentation -------------------------------------------------------------

TAG_RE = re.compile(r"<[^>]+>")


def text_of(xml):
    t = TAG_RE.sub("", xml)
    for a, b in (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"), ("&quot;", '"'), ("&nbsp;", " ")):
        t = t.replace(a, b)
    return re.sub(r"\s+", " ", t).strip()


def read_docs(gitdir, rev):
    """(subsystem, directive) → list of doc facts; subsystem from the docs directory."""
    docs = {}
    paths = git(gitdir, "ls-tree", "-r", "--name-only", rev, "--", "xml/en/docs").decode().splitlines()
    for p in sorted(paths):
        if not p.endswith(".xml"):
            continue
        xml = git(gitdir, "show", f"{rev}:{p}").decode("utf-8", "replace")
        rel = p[len("xml/en/docs/"):-len(".xml")]
        sub = rel.split("/")[0] if "/" in rel else "core"
        module = rel.split("/")[-1]
        for m in re.finditer(r'<directive name="([^"]+)"[^>]*>(.*?)</directive>', xml, re.S):
            body = m.group(2)
            body_head = body.split("<para>")[0]
            fact = {
                "file": module,
                "link": f"https://nginx.org/en/docs/{rel}.html#{m.group(1)}",
                "syntax": [text_of(s) for s in re.findall(r"<syntax[^>]*>(.*?)</syntax>", body_head, re.S)],
                "contexts": [text_of(c) for c in re.findall(r"<context[^>]*>(.*?)</context>", body_head, re.S)],
            }
            d = re.search(r"<default[^>]*>(.*?)</default>", body_head, re.S)
            if d and text_of(d.group(1)):
                fact["default"] = text_of(d.group(1))
            a = re.search(r"<appeared-in>(.*?)</appeared-in>", body_head, re.S)
            if a:
                fact["since"] = text_of(a.group(1))
            docs.setdefault((sub, m.group(1)), []).append(fact)
    return docs


DOC_CONTEXT = {"http": "http", "server": "server", "location": "location", "upstream": "upstream",
               "if": "location_if", "if in location": "location_if", "if in server": "server_if",
               "limit_except": "limit_except", "main": "main", "events": "event", "stream": "stream",
               "mail": "mail"}


def join_docs(directives, docs):
    for d in directives:
        m = d["module"]
        sub = "http" if m.startswith("ngx_http_") else "stream" if m.startswith("ngx_stream_") else "mail" if m.startswith("ngx_mail_") else "core"
        cands = docs.get((sub, d["name"]), [])
        pick = [c for c in cands if c["file"] == m]
        if not pick and len(cands) == 1:
            pick = cands
        if not pick and cands:
            want = set(d["contexts"])
            scored = sorted(cands, key=lambda c: -len(want & {DOC_CONTEXT.get(x, x) for x in c["contexts"]}))
            pick = scored[:1]
        if pick:
            c = pick[0]
            for k in ("default", "since", "link"):
                if k in c:
                    d[k] = c[k]
            if c["syntax"]:
                d["syntax"] = c["syntax"]


# --- tables --------------------------------------------------------------------------------

def read_pins():
    pins = []
    with open(SOURCES, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            table, repo, ref, commit, under = line.split()
            pins.append({"table": table, "repo": repo, "ref": ref, "commit": commit, "under": under.split(",")})
    return pins


def mirror(mirrors, repo):
    d = os.path.join(mirrors, repo.replace("/", "+"), "repo")
    return d if os.path.isdir(d) else None


def build_options(gitdir, rev):
    """nginx's configure options that turn modules on (--with-*) or off (--without-*)."""
    text = git(gitdir, "show", f"{rev}:auto/options").decode()
    return sorted(set(re.findall(r"^\s+(--with(?:out)?-[a-z0-9_]+)\)", text, re.M)))


def render(pin, directives, docs_pin, extra_header):
    lines = [
        "# DO NOT EDIT: generated by scripts/gen-directives.py; regenerate with",
        "#   python3 scripts/gen-directives.py   (see docs/directives.md)",
        f"# from {pin['repo']} {pin['ref']} (commit {pin['commit']}), ngx_command_t arrays under {','.join(pin['under'])}",
    ]
    if docs_pin:
        lines.append(f"# joined with {docs_pin['repo']} {docs_pin['commit']} xml/en/docs (default, syntax, appeared-in, link)")
    lines.append("# Facts extracted from BSD-2-Clause licensed sources (Copyright (C) Igor Sysoev, Copyright (C) Nginx, Inc.;")
    lines.append("# third-party modules: their authors, see each repository's licence). No code or prose is copied.")
    lines.extend(extra_header)
    body = [json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":")) for d in directives]
    return "\n".join(lines + body) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirrors", default=os.environ.get("CONFLINT_MIRRORS", "/work/.mirror"))
    ap.add_argument("--check", action="store_true", help="compare with the committed tables instead of writing")
    args = ap.parse_args()
    pins = read_pins()
    docs_pin = next((p for p in pins if p["table"] == "docs"), None)
    missing = [p["repo"] for p in pins if not mirror(args.mirrors, p["repo"])]
    if missing:
        print(f"missing mirrors under {args.mirrors}: {', '.join(sorted(set(missing)))}", file=sys.stderr)
        sys.exit(3)
    docs = {}
    if docs_pin:
        docs = read_docs(mirror(args.mirrors, docs_pin["repo"]), docs_pin["commit"])
    differ = []
    for pin in pins:
        if pin["table"] == "docs":
            continue
        gitdir = mirror(args.mirrors, pin["repo"])
        resolved = git(gitdir, "rev-parse", pin["ref"] + "^{commit}").decode().strip()
        if resolved != pin["commit"]:
            raise SystemExit(f"{pin['repo']} {pin['ref']} is {resolved}, SOURCES records {pin['commit']}")
        texts = {}
        for under in pin["under"]:
            texts.update(read_source(gitdir, pin["commit"], under))
        directives, variables = extract(texts, pin["table"])
        if docs:
            join_docs(directives, docs)
        directives.sort(key=lambda d: (d["name"], d["module"], d["contexts"], d["args"]))
        extra = []
        if pin["repo"] == "nginx/nginx":
            extra.append("# configure options: " + " ".join(build_options(gitdir, pin["commit"])))
        variables = sorted({json.dumps(v, sort_keys=True) for v in variables})
        out = render(pin, directives, docs_pin, extra) + "".join(v.replace(", ", ",").replace(": ", ":") + "\n" for v in variables)
        path = os.path.join(DATA, pin["table"] + ".jsonl")
        if args.check:
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
            if old != out:
                differ.append(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(out)
            print(f"{pin['table']}: {len(directives)} entries, {len({d['name'] for d in directives})} names", file=sys.stderr)
    if differ:
        print("differs from the committed table: " + ", ".join(differ), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
