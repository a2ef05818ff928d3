//! conflint against the real `nginx -t` and `php-fpm8.2 -t`, on single mutations of a
//! realistic tree built from the packages' own /etc/nginx and /etc/php/8.2/fpm: of the
//! configs a validator refuses, conflint must report a validity error on at least 98%;
//! on the configs it accepts, never. The confusion matrix per family is printed.
//!
//! The validators run through conflint's own staged validation (`fix::validate`, the one
//! `--fix` uses), never on the live paths. Needs both binaries: skips with a message when
//! they are absent, fails when CONFLINT_REQUIRE_VALIDATORS=1 (CI).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use conflint::check::{lint, Settings};
use conflint::finding::Severity;
use conflint::fix::validate::{Mode, ValidateOptions, Validator};
use conflint::fpm::directives::{self as fpm_directives, Kind as FpmKind, Place};
use conflint::nginx::directives::{self, Kind, Target, VersionSource};

const NGINX: &str = "/usr/sbin/nginx";
const PHP_FPM: &str = "/usr/sbin/php-fpm8.2";

/// The site added to Debian's /etc/nginx: the contexts mutations go into, each marked.
const APP_SITE: &str = r#"upstream backend {
    # @upstream
    server 127.0.0.1:9001;
    keepalive 8;
}
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
limit_req_zone $binary_remote_addr zone=perip:10m rate=10r/s;
server {
    # @server
    listen 8080;
    server_name app.example.com;
    root /var/www/app;
    index index.php index.html;
    client_max_body_size 16m;
    if ($http_x_block) {
        # @server_if
        return 403;
    }
    location / {
        # @location
        try_files $uri $uri/ /index.php?$args;
        if ($request_method = POST) {
            # @if
            add_header X-Post yes;
        }
        limit_except GET POST {
            # @limit_except
            deny all;
        }
    }
    location ~ ^/api/(.*)$ {
        proxy_pass http://backend;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header X-Path $1;
        proxy_read_timeout 120s;
        proxy_buffering on;
        limit_req zone=perip burst=20 nodelay;
    }
    location ~ \.php$ {
        include snippets/fastcgi-php.conf;
        fastcgi_pass unix:/run/php/php8.2-fpm.sock;
        fastcgi_read_timeout 120s;
        fastcgi_buffer_size 16k;
        fastcgi_buffers 16 16k;
        fastcgi_keep_conn off;
        fastcgi_next_upstream error timeout;
        gzip_comp_level 5;
        expires off;
    }
    location = /health {
        access_log off;
        return 200 "ok\n";
    }
}
"#;

struct Base {
    dir: tempfile::TempDir,
    /// Relative path → contents of every regular file of the tree.
    files: BTreeMap<String, Vec<u8>>,
}

fn build_base() -> Base {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| assert!(Command::new(args[0]).args(&args[1..]).status().unwrap().success(), "{args:?}");
    run(&["cp", "-a", "/etc/nginx", &dir.path().join("nginx").to_string_lossy()]);
    std::fs::create_dir_all(dir.path().join("php/8.2")).unwrap();
    run(&["cp", "-a", "/etc/php/8.2/fpm", &dir.path().join("php/8.2/fpm").to_string_lossy()]);
    std::fs::write(dir.path().join("nginx/sites-available/app"), APP_SITE).unwrap();
    std::os::unix::fs::symlink("/etc/nginx/sites-available/app", dir.path().join("nginx/sites-enabled/app")).unwrap();
    let mut files = BTreeMap::new();
    for rel in ["nginx/nginx.conf", "nginx/sites-available/app", "nginx/sites-available/default", "nginx/snippets/fastcgi-php.conf", "php/8.2/fpm/php-fpm.conf", "php/8.2/fpm/pool.d/www.conf"] {
        files.insert(rel.to_string(), std::fs::read(dir.path().join(rel)).unwrap());
    }
    Base { dir, files }
}

fn target() -> Target {
    let build = directives::build::probe(Path::new(NGINX)).expect("nginx -V");
    Target { version: build.version, source: VersionSource::Binary, build: Some(build), modules: None }
}

fn settings(base: &Base, overlay: Option<(&str, &[u8])>, target: &Target) -> Settings {
    let root = base.dir.path().canonicalize().unwrap();
    let mut opts = conflint::workspace::Options {
        paths: vec!["nginx".into(), "php".into()],
        cwd: root.clone(),
        map_roots: vec![(PathBuf::from("/etc/nginx"), root.join("nginx")), (PathBuf::from("/etc/php/8.2/fpm"), root.join("php/8.2/fpm"))],
        ..Default::default()
    };
    if let Some((rel, bytes)) = overlay {
        opts.overlay.insert(root.join(rel), bytes.to_vec());
    }
    let mut config = conflint::config::Config::default();
    config.host.nginx = target.clone();
    Settings { workspace: opts, config, selection: Default::default(), registry: conflint::rules::Registry::builtin() }
}

/// Rules whose errors claim that nginx -t / php-fpm -t refuses the configuration.
fn validity(code: &str) -> bool {
    code.starts_with("NGX0") || code.starts_with("FPM0") || ["NGX104", "NGX110", "NGX113", "NGX114", "NGX204", "NGX205"].contains(&code)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Oracle {
    Accepted,
    Refused(String),
    /// The validator could not run on this mutant (refused staging, time limit).
    Skipped(String),
}

/// Refusals that depend on this machine, not on the configuration's text: a directory or
/// file that does not exist here, an account or host name this machine lacks.
fn environmental(output: &str) -> bool {
    ["does not exist or is not a directory", "failed to open", "No such file or directory", "Is a directory", "host not found", "cannot load certificate", "cannot get uid", "cannot get gid"].iter().any(|p| output.contains(p))
}

struct Mutant {
    family: &'static str,
    file: String,
    text: Vec<u8>,
    what: String,
}

fn verdict(base: &Base, m: &Mutant, target: &Target) -> (Oracle, Vec<String>) {
    let s = settings(base, Some((&m.file, &m.text)), target);
    let linted = lint(&s, &mut std::io::empty()).expect("lint");
    let errors: Vec<String> = linted.findings.iter().filter(|f| f.severity == Severity::Error && validity(&f.code)).map(|f| format!("{} {}", f.code, f.message)).collect();
    let root = base.dir.path().canonicalize().unwrap();
    let path = root.join(&m.file);
    let opts = ValidateOptions { mode: Mode::Always, nginx: Some(NGINX.into()), php_fpm: Some(PHP_FPM.into()), cwd: root };
    let ws = &linted.workspace;
    let oracle = match Validator::new(ws, &BTreeSet::from([path.clone()]), &opts).and_then(|v| v.run(ws, &HashMap::from([(path, m.text.clone())]), None)) {
        Ok(v) if v.ran.is_empty() => Oracle::Skipped(format!("nothing ran: {:?}", v.skipped)),
        Ok(v) if v.passed() => Oracle::Accepted,
        Ok(v) => Oracle::Refused(v.ran.iter().filter(|c| !c.passed()).map(|c| c.ran.output.as_str()).collect::<Vec<_>>().join("\n")),
        Err(e) => Oracle::Skipped(e.to_string()),
    };
    (oracle, errors)
}

// --- mutants ------------------------------------------------------------------------------

/// Every directive line of an nginx file: (byte range of the line, name, args).
fn directive_lines(text: &str) -> Vec<(std::ops::Range<usize>, String, Vec<String>)> {
    let config = conflint::nginx::parse(text.as_bytes());
    let mut out = Vec::new();
    config.for_each_directive(&mut |d| {
        if d.block().is_none() && d.name.value != "include" {
            let start = text[..d.span.start()].rfind('\n').map_or(0, |i| i + 1);
            let end = text[d.span.end()..].find('\n').map_or(text.len(), |i| d.span.end() + i + 1);
            if text[start..d.span.start()].trim().is_empty() && text[d.span.end()..end].trim().is_empty() {
                out.push((start..end, d.name.value.to_string(), d.args.iter().map(|a| a.value.to_string()).collect()));
            }
        }
    });
    out
}

fn replace(text: &str, range: std::ops::Range<usize>, with: &str) -> Vec<u8> {
    format!("{}{}{}", &text[..range.start], with, &text[range.end..]).into_bytes()
}

fn insert_after(text: &str, marker: &str, line: &str) -> Vec<u8> {
    let at = text.find(marker).unwrap_or_else(|| panic!("marker {marker}"));
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    format!("{}{line}\n{}", &text[..end], &text[end..]).into_bytes()
}

fn quote(arg: &str) -> String {
    if arg.is_empty() || arg.contains([' ', ';', '{', '}', '"', '\'', '#']) { format!("\"{}\"", arg.replace('"', "\\\"")) } else { arg.to_string() }
}

fn line_of(name: &str, args: &[String]) -> String {
    let mut s = format!("        {name}");
    for a in args {
        s.push(' ');
        s.push_str(&quote(a));
    }
    s.push_str(";\n");
    s
}

/// Arguments a slot accepts, so that only the context decides.
fn good_args(d: &directives::Directive) -> Option<Vec<String>> {
    let one = |s: &str| Some(vec![s.to_string()]);
    match d.kind {
        Kind::Flag => one("on"),
        Kind::Num => one(&d.bounds.map_or(1, |(lo, _)| lo.max(1)).to_string()),
        Kind::Size => one("8k"),
        Kind::Off => one("1m"),
        Kind::Msec | Kind::Sec => one("10s"),
        Kind::Bufs => Some(vec!["8".into(), "8k".into()]),
        Kind::Enum | Kind::Bitmask => d.values.first().map(|v| vec![v.to_string()]),
        _ => None,
    }
}

fn typo(name: &str, k: usize) -> String {
    let b: Vec<char> = name.chars().collect();
    let i = (k * 7 + 3) % b.len().max(1);
    let mut v = b.clone();
    match k % 4 {
        0 if b.len() > 2 => {
            let j = i.min(b.len() - 2);
            v.swap(j, j + 1);
        }
        1 => {
            v.remove(i);
        }
        2 => v.insert(i, b[i]),
        _ => v.push('s'),
    }
    let s: String = v.into_iter().collect();
    if s == name { format!("{name}x") } else { s }
}

fn nginx_mutants(base: &Base, target: &Target) -> Vec<Mutant> {
    let mut out = Vec::new();
    let table = directives::nginx_table(target.version);
    let text = |rel: &str| String::from_utf8(base.files[rel].clone()).unwrap();
    let files = ["nginx/nginx.conf", "nginx/sites-available/app", "nginx/sites-available/default", "nginx/snippets/fastcgi-php.conf"];
    let mut all_lines = Vec::new();
    for f in files {
        for (range, name, args) in directive_lines(&text(f)) {
            all_lines.push((f, range, name, args));
        }
    }
    // Misspelled names, four kinds of typo per directive of the tree.
    for (k, (f, range, name, args)) in all_lines.iter().enumerate().filter(|(_, l)| l.2.len() > 2) {
        for j in 0..3 {
            let t = typo(name, k + j);
            out.push(Mutant { family: "misspelling", file: f.to_string(), text: replace(&text(f), range.clone(), &line_of(&t, args)), what: format!("{name} → {t}") });
        }
    }
    // Arity ±1 for every directive line.
    for (f, range, name, args) in &all_lines {
        let mut more = args.clone();
        more.push(args.last().cloned().unwrap_or_else(|| "on".into()));
        out.push(Mutant { family: "arity", file: f.to_string(), text: replace(&text(f), range.clone(), &line_of(name, &more)), what: format!("{name} +1 argument") });
        let mut fewer = args.clone();
        if fewer.pop().is_some() {
            out.push(Mutant { family: "arity", file: f.to_string(), text: replace(&text(f), range.clone(), &line_of(name, &fewer)), what: format!("{name} -1 argument") });
        }
    }
    // Duplicates: every directive line written twice.
    for (f, range, name, _) in &all_lines {
        let t = text(f);
        let line = &t[range.clone()];
        out.push(Mutant { family: "duplicate", file: f.to_string(), text: replace(&t, range.clone(), &format!("{line}{line}")), what: format!("{name} twice") });
    }
    // Values: wrong and right spellings for every typed directive of the tree.
    for (f, range, name, args) in &all_lines {
        let Some(d) = table.get(name).next() else { continue };
        let variants: &[&str] = match d.kind {
            Kind::Flag => &["maybe", "OFF", "yes", "1"],
            Kind::Size => &["10x", "16K", "1g", "-1", "2m"],
            Kind::Off => &["10x", "2G", "1t"],
            Kind::Msec => &["1M", "1h30m", "500ms", "30m1h", "10q", "90"],
            Kind::Sec => &["500ms", "1y", "10q", "1d"],
            Kind::Num => &["abc", "0", "99999", "-1", "4k"],
            Kind::Enum | Kind::Bitmask => &["bogus", "OFF"],
            Kind::Bufs => &["0 16k", "8 0", "8 16x", "4 8k"],
            _ => &[],
        };
        for v in variants {
            let new_args: Vec<String> = if d.kind == Kind::Bufs { v.split(' ').map(str::to_string).collect() } else { std::iter::once(v.to_string()).chain(args.iter().skip(1).cloned()).collect() };
            out.push(Mutant { family: "value", file: f.to_string(), text: replace(&text(f), range.clone(), &line_of(name, &new_args)), what: format!("{name} {}", new_args.join(" ")) });
        }
    }
    // Every directive of a sample of 60 in every context.
    let mut names: Vec<&directives::Directive> = table
        .names()
        .filter_map(|n| table.get(n).next())
        .filter(|d| good_args(d).is_some() && table.get(d.name.as_str()).count() == 1 && target.build.as_ref().is_none_or(|b| b.presence(d.module.as_str(), table.configure_options) == directives::build::Presence::Static))
        .collect();
    names.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    let step = (names.len() / 60).max(1);
    let sample: Vec<&directives::Directive> = names.into_iter().step_by(step).take(60).collect();
    let anchors: &[(&str, &str)] = &[
        ("nginx/nginx.conf", "pid /run/nginx.pid;"),
        ("nginx/nginx.conf", "events {"),
        ("nginx/nginx.conf", "http {"),
        ("nginx/sites-available/app", "# @server\n"),
        ("nginx/sites-available/app", "# @location"),
        ("nginx/sites-available/app", "# @if"),
        ("nginx/sites-available/app", "# @server_if"),
        ("nginx/sites-available/app", "# @limit_except"),
        ("nginx/sites-available/app", "# @upstream"),
    ];
    for d in &sample {
        let args = good_args(d).unwrap();
        for (f, marker) in anchors {
            out.push(Mutant { family: "context", file: f.to_string(), text: insert_after(&text(f), marker, line_of(d.name.as_str(), &args).trim_end()), what: format!("{} after {marker:?}", d.name.as_str()) });
        }
    }
    // Variables: core, module, set/map/regex-made, and unknown ones.
    for var in ["$host", "$request_uri", "$upstream_addr", "$connection_upgrade", "$1", "$nosuchvar", "$hots", "$http_x_anything", "$arg_page", "$cookie_sid", "$sent_http_location", "$ssl_protocol", "$geoip_country_code", "$request_id", "$realpath_root", "$fastcgi_script_name", "$proxy_host", "$2", "${host}x", "$binary_remote_addr"] {
        let app = text("nginx/sites-available/app");
        for marker in ["# @location", "proxy_read_timeout 120s;"] {
            out.push(Mutant { family: "variable", file: "nginx/sites-available/app".into(), text: insert_after(&app, marker, &format!("        add_header X-Test {var};")), what: format!("{var} near {marker}") });
        }
    }
    // Structure and the directives with their own parsers.
    let app = text("nginx/sites-available/app");
    let structural: &[(&str, &str, &str)] = &[
        ("# @server\n", "    location / { }", "duplicate location"),
        ("# @server\n", "    location = /health { }", "duplicate exact location"),
        ("# @server\n", "    location @fallback { return 404; }", "named location"),
        ("# @server\n", "    listen 8080;", "duplicate listen"),
        ("# @server\n", "    listen 99999;", "port out of range"),
        ("# @server\n", "    listen 8081 bogus;", "listen parameter"),
        ("# @server\n", "    listen 8082 reuseport backlog=100;", "listen parameters"),
        ("# @server\n", "    listen 8080 default_server;", "second default server"),
        ("# @server\n", "    return 999;", "return code"),
        ("# @server\n", "    return 301;", "return without URL"),
        ("# @server\n", "    return 302 /x;", "return redirect"),
        ("# @server\n", "    error_page 99 /x.html;", "error_page code"),
        ("# @server\n", "    error_page 404 =200 /x.html;", "error_page response"),
        ("# @server\n", "    error_log /tmp/x.log bogus;", "log level"),
        ("# @server\n", "    error_log /tmp/x.log warn;", "log level ok"),
        ("# @server\n", "    access_log /tmp/a.log nosuchformat;", "undefined log format"),
        ("# @server\n", "    access_log /tmp/a.log combined;", "predefined log format"),
        ("# @server\n", "    if ($a = ) { return 403; }", "if empty operand"),
        ("# @server\n", "    if $host { return 403; }", "if without parentheses"),
        ("# @server\n", "    if ($host ~ \"^www\") { return 403; }", "if regex"),
        ("# @server\n", "    if (-f $request_filename) { return 403; }", "if file test"),
        ("# @server\n", "    if ($host bogus x) { return 403; }", "if operator"),
        ("# @location", "        proxy_pass http://127.0.0.1:9001/x;", "proxy_pass with URI in prefix location"),
        ("# @if", "        proxy_pass http://127.0.0.1:9001/x;", "proxy_pass with URI in if"),
        ("proxy_read_timeout 120s;", "        proxy_buffer_size 16k;", "proxy_buffer_size alone"),
        ("proxy_read_timeout 120s;", "        proxy_buffers 2 4k;", "two proxy buffers"),
        ("proxy_read_timeout 120s;", "        proxy_busy_buffers_size 64k;", "busy buffers over total"),
        ("# @server\n", "    location ~ \\.x$ { fastcgi_pass 127.0.0.1:9000; fastcgi_buffers 2 1k; }", "two small fastcgi buffers"),
        ("# @server\n", "    location ~ \\.y$ { proxy_pass http://127.0.0.1:9001/y; }", "proxy_pass with URI in regex location"),
        ("# @server\n", "    location @n { proxy_pass http://127.0.0.1:9001/n; }", "proxy_pass with URI in named location"),
        ("# @server\n", "    location /u { proxy_pass http://127.0.0.1:9001/u; }", "proxy_pass with URI in prefix location ok"),
        ("# @server\n", "    include /etc/nginx/nosuch.conf;", "missing include"),
        ("# @server\n", "    include /etc/nginx/nosuch.d/*.conf;", "glob include without match"),
        ("# @server\n", "    location /q {", "unclosed block"),
        ("# @server\n", "    }", "stray brace"),
        ("# @server\n", "    add_header X-A \"b;", "unterminated quote"),
        ("# @server\n", "    server_name \"a\"b;", "garbage after quote"),
        ("# @server\n", "    set $v 1; add_header X-V $v;", "set variable"),
        ("# @server\n", "    set v 1;", "set without $"),
        ("limit_req_zone", "limit_req_zone $binary_remote_addr zone=perip:10m rate=5r/s;", "duplicate zone"),
        ("limit_req_zone", "upstream backend { server 127.0.0.1:9002; }", "duplicate upstream"),
        ("limit_req_zone", "upstream empty { }", "empty upstream"),
        ("limit_req_zone", "map $host $host_map { default 1; }", "map"),
        ("limit_req_zone", "map $host { default 1; }", "map without variable"),
    ];
    for (marker, line, what) in structural {
        out.push(Mutant { family: "structure", file: "nginx/sites-available/app".into(), text: insert_after(&app, marker, line), what: what.to_string() });
    }
    out
}

fn fpm_mutants(base: &Base) -> Vec<Mutant> {
    let mut out = Vec::new();
    let pool = String::from_utf8(base.files["php/8.2/fpm/pool.d/www.conf"].clone()).unwrap();
    let main = String::from_utf8(base.files["php/8.2/fpm/php-fpm.conf"].clone()).unwrap();
    let add = |text: &str, line: &str| format!("{text}\n{line}\n").into_bytes();
    let pool_lines: &[(&str, &str)] = &[
        ("pm.max_childs = 10", "misspelling"), ("pm.start_server = 2", "misspelling"), ("listen.ownr = www-data", "misspelling"), ("request_terminate_timout = 30s", "misspelling"),
        ("php_admin_valu[memory_limit] = 128M", "misspelling"), ("catch_worker_output = yes", "misspelling"),
        ("pm = adaptive", "value"), ("pm.max_children = abc", "value"), ("pm.max_children = -3", "value"), ("pm.max_children = 0", "value"), ("pm.max_children = 50", "value"),
        ("request_terminate_timeout = 30x", "value"), ("request_terminate_timeout = 30s", "value"), ("request_terminate_timeout = 1m", "value"), ("catch_workers_output = maybe", "value"),
        ("catch_workers_output = yes", "value"), ("clear_env = \"Yes\"", "value"), ("clear_env = no", "value"), ("pm.max_spare_servers = 10", "value"), ("pm.min_spare_servers = 4", "value"),
        ("pm.status_path = status", "validation"), ("pm.status_path = /status", "validation"), ("ping.path = ping", "validation"), ("ping.path = /ping", "validation"),
        ("process.priority = 30", "validation"), ("process.priority = -5", "validation"), ("php_admin_flag[display_errors] = maybe", "validation"), ("php_admin_flag[display_errors] = off", "validation"),
        ("php_flag[log_errors] = 2", "validation"), ("php_value[memory_limit] = 256M", "validation"), ("listen =", "validation"), ("request_slowlog_timeout = 5s", "validation"),
        ("slowlog = /tmp/slow.log", "validation"), ("env[PATH] = /usr/bin", "validation"), ("env[FOO] = false", "validation"), ("php_value[] = 1", "validation"),
        ("pm.max_spawn_rate = 0", "validation"), ("user = nosuchuser", "validation"), ("# hash comment", "syntax"), ("pm.max_children", "syntax"), ("php_value[x] = a=b", "syntax"),
        ("include = /tmp/nosuch.d/*.conf", "include"),
    ];
    for (line, family) in pool_lines {
        out.push(Mutant { family: leak(format!("fpm-{family}")), file: "php/8.2/fpm/pool.d/www.conf".into(), text: add(&pool, line), what: line.to_string() });
    }
    let global_lines: &[(&str, &str)] = &[
        ("process.max = -1", "validation"), ("process.max = 10", "validation"), ("log_limit = 100", "validation"), ("log_limit = 4096", "validation"),
        ("process.priority = -20", "validation"), ("process.priority = 20", "validation"), ("log_level = chatty", "value"), ("log_level = debug", "value"),
        ("emergency_restart_threshold = x", "value"), ("daemonize = perhaps", "value"), ("events.mechanism = epoll", "value"), ("syslog.facility = nowhere", "value"),
    ];
    // Global lines go before the include (after it they land in the pool).
    for (line, family) in global_lines {
        let text = main.replacen("include=", &format!("{line}\ninclude="), 1);
        out.push(Mutant { family: leak(format!("fpm-{family}")), file: "php/8.2/fpm/php-fpm.conf".into(), text: text.into_bytes(), what: line.to_string() });
    }
    let without = |text: &str, key: &str| text.lines().filter(|l| !l.trim_start().starts_with(key)).collect::<Vec<_>>().join("\n").into_bytes();
    for key in ["listen =", "user =", "pm =", "pm.max_children", "[www]"] {
        out.push(Mutant { family: "fpm-required", file: "php/8.2/fpm/pool.d/www.conf".into(), text: without(&pool, key), what: format!("without {key}") });
    }
    out.push(Mutant { family: "fpm-include", file: "php/8.2/fpm/php-fpm.conf".into(), text: main.replace("pool.d/*.conf", "nosuch.d/*.conf").into_bytes(), what: "include into a missing directory".into() });
    // Every setting of the packaged files: the commented-out examples switched on, the
    // active ones misspelled and given values of the wrong kind.
    for (file, text, place) in [("php/8.2/fpm/pool.d/www.conf", &pool, Place::Pool), ("php/8.2/fpm/php-fpm.conf", &main, Place::Global)] {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let body = line.strip_prefix(';').unwrap_or(line);
            let Some((key, value)) = body.split_once(" = ") else { continue };
            if !key.bytes().all(|b| b.is_ascii_lowercase() || b"._[]".contains(&b)) || key.is_empty() {
                continue;
            }
            let with = |new: String| {
                let mut l: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                l[i] = new;
                (l.join("\n") + "\n").into_bytes()
            };
            if line.starts_with(';') {
                out.push(Mutant { family: "fpm-uncomment", file: file.into(), text: with(body.to_string()), what: body.to_string() });
                continue;
            }
            let name = key.split('[').next().unwrap_or(key);
            out.push(Mutant { family: "fpm-misspelling", file: file.into(), text: with(format!("{} = {value}", typo(name, i) + &key[name.len()..])), what: format!("{key} misspelled") });
            let bad: &[&str] = match fpm_directives::lookup(name, place).map(|d| d.kind) {
                Some(FpmKind::Int) => &["abc", "-1", "5k"],
                Some(FpmKind::Time) => &["30x", "10", "1.5m"],
                Some(FpmKind::Bool) => &["maybe", "\"Yes\"", "On"],
                Some(FpmKind::Enum(_)) => &["bogus"],
                _ => &[""],
            };
            for b in bad {
                out.push(Mutant { family: "fpm-value", file: file.into(), text: with(format!("{key} = {b}")), what: format!("{key} = {b}") });
            }
        }
    }
    out
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[derive(Default)]
struct Cell {
    tp: usize,
    fn_: usize,
    fp: usize,
    tn: usize,
    skipped: usize,
    /// Refused for a reason of this machine (see `environmental`).
    environment: usize,
}

#[test]
fn conflint_refuses_what_nginx_and_php_fpm_refuse() {
    if !common::validators_installed() {
        return;
    }
    let started = Instant::now();
    let base = build_base();
    let target = target();
    // The unmutated tree: both validators accept it, and conflint has no validity error.
    let clean = Mutant { family: "base", file: "nginx/nginx.conf".into(), text: base.files["nginx/nginx.conf"].clone(), what: "unmutated".into() };
    let (oracle, errors) = verdict(&base, &clean, &target);
    assert_eq!(oracle, Oracle::Accepted, "the base tree must pass nginx -t");
    assert!(errors.is_empty(), "validity errors on the unmutated tree: {errors:#?}");
    let mut mutants = nginx_mutants(&base, &target);
    mutants.extend(fpm_mutants(&base));
    let results: Mutex<Vec<(usize, Oracle, Vec<String>)>> = Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        // Most of a mutant's time is the validator's processes starting: three at a time.
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(m) = mutants.get(i) else { break };
                let (o, e) = verdict(&base, m, &target);
                results.lock().unwrap().push((i, o, e));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    let mut matrix: BTreeMap<&str, Cell> = BTreeMap::new();
    let (mut misses, mut false_errors, mut skips, mut envs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, oracle, errors) in &results {
        let m = &mutants[*i];
        let cell = matrix.entry(m.family).or_default();
        match (oracle, errors.is_empty()) {
            (Oracle::Refused(out), true) if environmental(out) => {
                cell.environment += 1;
                envs.push(format!("[{}] {} in {}: {}", m.family, m.what, m.file, out.lines().next().unwrap_or("")));
            }
            (Oracle::Refused(_), false) => cell.tp += 1,
            (Oracle::Refused(out), true) => {
                cell.fn_ += 1;
                misses.push(format!("[{}] {} in {}: {}", m.family, m.what, m.file, out.lines().next().unwrap_or("")));
            }
            (Oracle::Accepted, false) => {
                cell.fp += 1;
                false_errors.push(format!("[{}] {} in {}: {}", m.family, m.what, m.file, errors.join("; ")));
            }
            (Oracle::Accepted, true) => cell.tn += 1,
            (Oracle::Skipped(why), _) => {
                cell.skipped += 1;
                skips.push(format!("[{}] {}: {why}", m.family, m.what));
            }
        }
    }
    println!("{:<18} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", "family", "refused+", "refused-", "accept+", "accept-", "env", "skipped");
    println!("{:<18} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", "", "(caught)", "(missed)", "(false)", "(clean)", "", "");
    let (mut nginx_refused, mut nginx_caught, mut fpm_refused, mut fpm_caught) = (0, 0, 0, 0);
    for (family, c) in &matrix {
        println!("{family:<18} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", c.tp, c.fn_, c.fp, c.tn, c.environment, c.skipped);
        if family.starts_with("fpm") {
            fpm_refused += c.tp + c.fn_;
            fpm_caught += c.tp;
        } else {
            nginx_refused += c.tp + c.fn_;
            nginx_caught += c.tp;
        }
    }
    let pct = |a: usize, b: usize| if b == 0 { 100.0 } else { 100.0 * a as f64 / b as f64 };
    println!("mutants: {}; nginx -t refused {nginx_refused}, conflint caught {nginx_caught} ({:.1}%); php-fpm -t refused {fpm_refused}, conflint caught {fpm_caught} ({:.1}%); wall time {:.1}s", mutants.len(), pct(nginx_caught, nginx_refused), pct(fpm_caught, fpm_refused), started.elapsed().as_secs_f64());
    for m in &misses {
        println!("MISSED {m}");
    }
    for e in &envs {
        println!("ENVIRONMENT (not counted) {e}");
    }
    for f in &false_errors {
        println!("FALSE ERROR {f}");
    }
    for s in skips.iter().take(20) {
        println!("SKIPPED {s}");
    }
    assert!(mutants.len() >= 1000, "only {} mutants", mutants.len());
    assert!(false_errors.is_empty(), "{} validity errors on configs the validators accept", false_errors.len());
    assert!(pct(nginx_caught, nginx_refused) >= 98.0, "conflint caught {nginx_caught} of {nginx_refused} configs nginx -t refuses");
    assert!(pct(fpm_caught, fpm_refused) >= 98.0, "conflint caught {fpm_caught} of {fpm_refused} configs php-fpm -t refuses");
    assert!(skips.len() * 20 < mutants.len(), "{} mutants could not be validated", skips.len());
}
