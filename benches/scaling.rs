//! Lint time against config size: `cargo bench --bench scaling` (sizes in MB with
//! `CONFLINT_SCALING_MB=1,4,100`; default 1, 4, 16, 100).
//!
//! One http{} of PHP vhosts whose locations set no `fastcgi_param` of their own, so every
//! rule that asks for an effective array value climbs to http{}: linear time per location
//! keeps the whole lint linear in the size, anything more shows here as a falling MB/s.
//!
//! Then the probes of shapes one rule could be quadratic in (a pool of 20,000 settings, a
//! server of 20,000 locations, 20,000 upstreams, 5,000 included files), each linted at a
//! quarter of its size and at its full size: linear time makes the second 4× the first,
//! and the bench prints that ratio next to its verdict (within 2× of linear: ≤ 8×).

use std::fmt::Write;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: conflint::alloc::Allocator = conflint::alloc::Allocator;

fn config(bytes: usize) -> (String, usize) {
    let mut out = String::from("user www-data;\nevents { worker_connections 1024; }\nhttp {\n    include mime.types;\n    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n    fastcgi_read_timeout 60s;\n");
    let mut i = 0;
    while out.len() < bytes {
        writeln!(out, r#"    server {{ listen 80; server_name s{i}.example.com; location ~ \.php$ {{ fastcgi_pass 127.0.0.1:9000; }} }}"#).unwrap();
        i += 1;
    }
    out.push_str("}\n");
    (out, i)
}

/// One probe: the files of a tree with `n` of the repeated thing.
struct Probe {
    name: &'static str,
    full: usize,
    files: fn(usize) -> Vec<(String, String)>,
}

const PROBES: &[Probe] = &[
    Probe { name: "pool settings", full: 20_000, files: pool_settings },
    Probe { name: "server locations", full: 20_000, files: server_locations },
    Probe { name: "upstreams", full: 20_000, files: upstreams },
    Probe { name: "included files", full: 5_000, files: included_files },
];

fn nginx_conf(http: &str) -> String {
    format!("user www-data;\nevents {{ worker_connections 1024; }}\nhttp {{\n{http}}}\n")
}

/// Every kind of setting FPM006 compares: arrays set twice, unknown names, known
/// directives repeated.
fn pool_settings(n: usize) -> Vec<(String, String)> {
    let mut pool = String::from("[www]\nuser = www-data\nlisten = /run/php/www.sock\npm = static\npm.max_children = 5\n");
    for i in 0..n {
        match i % 4 {
            0 => writeln!(pool, "php_value[opt{i}] = {i}"),
            1 => writeln!(pool, "env[VAR{}] = {i}", i / 2),
            2 => writeln!(pool, "php_admin_flag[flag{i}] = on"),
            _ => writeln!(pool, "pm.max_requests = {i}"),
        }
        .unwrap();
    }
    vec![("php-fpm.conf".into(), format!("[global]\nerror_log = /var/log/fpm.log\n{pool}"))]
}

fn server_locations(n: usize) -> Vec<(String, String)> {
    let mut server = String::from("server {\n listen 80;\n server_name one.example.com;\n root /srv;\n");
    for i in 0..n {
        match i % 3 {
            0 => writeln!(server, " location /p{i}/ {{ try_files $uri =404; }}"),
            1 => writeln!(server, " location ~ ^/r{i}/.+\\.php$ {{ fastcgi_pass 127.0.0.1:9000; }}"),
            _ => writeln!(server, " location = /e{i} {{ proxy_pass http://127.0.0.1:8080; }}"),
        }
        .unwrap();
    }
    server.push_str("}\n");
    vec![("nginx.conf".into(), nginx_conf(&server))]
}

fn upstreams(n: usize) -> Vec<(String, String)> {
    let mut http = String::new();
    for i in 0..n {
        writeln!(http, "upstream u{i} {{ server 127.0.0.1:{}; keepalive 8; }}", 1024 + i % 60000).unwrap();
    }
    http.push_str("server {\n listen 80;\n");
    for i in 0..n {
        writeln!(http, " location /u{i}/ {{ proxy_pass http://u{i}; }}").unwrap();
    }
    http.push_str("}\n");
    vec![("nginx.conf".into(), nginx_conf(&http))]
}

/// Half through one glob, half named one by one.
fn included_files(n: usize) -> Vec<(String, String)> {
    let mut http = String::from("include sites/*.conf;\n");
    let mut files = Vec::new();
    for i in 0..n {
        let dir = if i % 2 == 0 { "sites" } else { "more" };
        if i % 2 == 1 {
            writeln!(http, "include more/s{i}.conf;").unwrap();
        }
        files.push((format!("{dir}/s{i}.conf"), format!("server {{ listen 80; server_name s{i}.example.com; location / {{ root /srv/s{i}; }} }}\n")));
    }
    files.push(("nginx.conf".into(), nginx_conf(&http)));
    files
}

fn lint_time(settings: &conflint::check::Settings, runs: usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut findings = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let linted = conflint::check::lint(settings, &mut std::io::empty()).unwrap();
        best = best.min(start.elapsed());
        findings = linted.findings.len();
        // Freed outside the timer: a one-shot CLI does not free its tree at all.
        drop(linted);
    }
    (best, findings)
}

fn settings_for(dir: &std::path::Path, registry: &conflint::rules::Registry) -> conflint::check::Settings {
    conflint::check::Settings {
        // Over the default 64 MiB file cap at 100 MB: lifted, this measures the rules.
        workspace: conflint::workspace::Options { paths: vec![".".into()], cwd: dir.to_path_buf(), max_file_size: u64::MAX, ..Default::default() },
        config: Default::default(),
        selection: Default::default(),
        registry: registry.clone(),
    }
}

fn probe(probe: &Probe, registry: &conflint::rules::Registry) {
    let mut times = Vec::new();
    for n in [probe.full / 4, probe.full] {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in (probe.files)(n) {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let (time, findings) = lint_time(&settings_for(dir.path(), registry), 5);
        println!("probe {:>16} n={n:>6} ({findings} findings): lint {:8.1} ms", probe.name, time.as_secs_f64() * 1e3);
        times.push(time.as_secs_f64());
    }
    let ratio = times[1] / times[0];
    let verdict = if ratio <= 8.0 { "within 2x of linear" } else { "SUPERLINEAR" };
    println!("probe {:>16}: 4x the size took {ratio:.1}x the time ({verdict})", probe.name);
}

fn main() {
    let registry = conflint::rules::Registry::builtin();
    let only = std::env::var("CONFLINT_SCALING_ONLY").unwrap_or_default();
    if only != "size" {
        for p in PROBES {
            probe(p, &registry);
        }
    }
    if only == "probes" {
        return;
    }

    let sizes: Vec<usize> = std::env::var("CONFLINT_SCALING_MB")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 4, 16, 100]);
    for mb in sizes {
        let (text, servers) = config(mb * 1_000_000);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nginx.conf"), &text).unwrap();
        std::fs::write(dir.path().join("mime.types"), "types { text/html html; }\n").unwrap();
        // Big sizes once: the point is the slope, not the last millisecond.
        let (best, findings) = lint_time(&settings_for(dir.path(), &registry), if mb >= 16 { 1 } else { 5 });
        println!(
            "scaling {:6.1} MB ({servers} servers, {findings} findings): lint {:8.1} ms = {:6.1} MB/s",
            text.len() as f64 / 1e6,
            best.as_secs_f64() * 1e3,
            text.len() as f64 / 1e6 / best.as_secs_f64()
        );
    }
}
