//! conflint against the real `nginx -t` on every nginx file of `../shared/corpus/nginx`,
//! each wrapped into Debian's /etc/nginx the way it is deployed (a whole nginx.conf
//! replaces Debian's; an http-level file becomes a site; a server- or location-level
//! snippet is wrapped in a server). Where they disagree — nginx refuses and conflint has
//! no validity error, or the reverse — the file is listed with the reason in
//! `tests/corpus-nginx-t.tsv`; the test fails on a disagreement not listed there, and on a
//! listed one that no longer disagrees.
//!
//! Runs ~1,100 staged validations (a few minutes), so it is not part of the default run:
//! `cargo test --release --test corpus_nginx_t -- --ignored --nocapture`. With
//! `CONFLINT_WRITE_DISAGREEMENTS=1` it rewrites the list, keeping the reasons already
//! written and marking new entries `TODO` (review them).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use conflint::check::{lint, Settings};
use conflint::finding::Severity;
use conflint::fix::validate::{Mode, ValidateOptions, Validator};
use conflint::nginx::directives::{Target, VersionSource};

const NGINX: &str = "/usr/sbin/nginx";
const LIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus-nginx-t.tsv");

fn validity(code: &str) -> bool {
    code.starts_with("NGX0") || ["NGX104", "NGX110", "NGX113", "NGX114", "NGX204", "NGX205"].contains(&code)
}

/// Where a file goes in the tree, and what it is wrapped in.
fn placement(src: &[u8]) -> (&'static str, Vec<u8>) {
    let config = conflint::nginx::parse(src);
    let top: Vec<&str> = config.items.iter().filter_map(|i| match i {
        conflint::nginx::ast::Item::Directive(d) => Some(d.name.value.as_str()),
        _ => None,
    }).collect();
    let has = |names: &[&str]| top.iter().any(|t| names.contains(t));
    if has(&["http", "events", "worker_processes", "user", "pid", "load_module", "stream"]) {
        ("nginx/nginx.conf", src.to_vec())
    } else if has(&["server", "upstream", "map", "limit_req_zone", "limit_conn_zone", "log_format", "geo"]) || top.is_empty() {
        ("nginx/sites-enabled/corpus", src.to_vec())
    } else if has(&["location", "listen", "server_name"]) {
        ("nginx/sites-enabled/corpus", [b"server {\n".as_slice(), src, b"\n}\n"].concat())
    } else {
        ("nginx/sites-enabled/corpus", [b"server {\nlocation / {\n".as_slice(), src, b"\n}\n}\n"].concat())
    }
}

enum Verdict {
    Agree,
    /// nginx -t refused, conflint found no validity error: the validator's first line.
    Missed(String),
    /// nginx -t accepted, conflint reported: its errors.
    FalseError(String),
    Skipped(String),
}

#[test]
#[ignore = "a few minutes of staged nginx -t runs: cargo test --release --test corpus_nginx_t -- --ignored"]
fn corpus_files_agree_with_nginx_t_or_are_listed() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/nginx");
    if !corpus.is_dir() {
        eprintln!("SKIPPED: corpus not found at {}", corpus.display());
        return;
    }
    if !common::validators_installed() {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    assert!(Command::new("cp").args(["-a", "/etc/nginx"]).arg(dir.path().join("nginx")).status().unwrap().success());
    std::fs::write(dir.path().join("nginx/sites-enabled/corpus"), "").unwrap();
    let root = dir.path().canonicalize().unwrap();
    let build = conflint::nginx::directives::build::probe(Path::new(NGINX)).expect("nginx -V");
    let target = Target { version: build.version, source: VersionSource::Binary, build: Some(build), modules: None };
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(&corpus).standard_filters(false).build().flatten().filter(|e| e.path().is_file()).map(|e| e.into_path()).collect();
    files.sort();
    let results: Mutex<BTreeMap<String, Verdict>> = Mutex::new(BTreeMap::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let rel = path.strip_prefix(&corpus).unwrap().to_string_lossy().into_owned();
                let src = std::fs::read(path).unwrap();
                let (place, text) = placement(&src);
                let mut opts = conflint::workspace::Options { paths: vec!["nginx".into()], cwd: root.clone(), map_roots: vec![(PathBuf::from("/etc/nginx"), root.join("nginx"))], ..Default::default() };
                opts.overlay.insert(root.join(place), text.clone());
                let mut config = conflint::config::Config::default();
                config.host.nginx = target.clone();
                let settings = Settings { workspace: opts, config, selection: Default::default(), registry: conflint::rules::Registry::builtin() };
                let linted = lint(&settings, &mut std::io::empty()).expect("lint");
                let errors: Vec<String> = linted.findings.iter().filter(|f| f.severity == Severity::Error && validity(&f.code)).map(|f| format!("{} {}", f.code, f.message)).collect();
                let vopts = ValidateOptions { mode: Mode::Always, nginx: Some(NGINX.into()), php_fpm: None, cwd: root.clone() };
                let ws = &linted.workspace;
                let staged = root.join(place);
                let checked = Validator::new(ws, &BTreeSet::from([staged.clone()]), &vopts).and_then(|v| v.run(ws, &HashMap::from([(staged, text)]), None));
                let verdict = match (checked, errors.is_empty()) {
                    (Ok(v), _) if v.ran.is_empty() => Verdict::Skipped(format!("nothing ran: {:?}", v.skipped)),
                    (Ok(v), true) if v.passed() => Verdict::Agree,
                    (Ok(v), false) if !v.passed() => Verdict::Agree,
                    (Ok(_), false) => Verdict::FalseError(errors.join("; ")),
                    (Ok(v), true) => {
                        let output: String = v.ran.iter().filter(|c| !c.passed()).map(|c| c.ran.output.as_str()).collect();
                        Verdict::Missed(output.lines().find(|l| l.contains("[emerg]")).unwrap_or(output.lines().next().unwrap_or("")).to_string())
                    }
                    (Err(e), _) => Verdict::Skipped(e.to_string().lines().next().unwrap_or("").to_string()),
                };
                results.lock().unwrap().insert(rel, verdict);
            });
        }
    });
    let results = results.into_inner().unwrap();
    let listed: BTreeMap<String, (String, String)> = std::fs::read_to_string(LIST)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.splitn(4, '\t');
            Some((f.next()?.to_string(), (f.next()?.to_string(), f.nth(1).unwrap_or("").to_string())))
        })
        .collect();
    let (mut agree, mut missed, mut false_errors, mut skipped) = (0, 0, 0, 0);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (file, v) in &results {
        let (kind, what) = match v {
            Verdict::Agree => {
                agree += 1;
                if listed.contains_key(file) {
                    problems.push(format!("{file} is listed but now agrees with nginx -t: remove it"));
                }
                continue;
            }
            Verdict::Missed(w) => {
                missed += 1;
                ("missed", w.clone())
            }
            Verdict::FalseError(w) => {
                false_errors += 1;
                ("false-error", w.clone())
            }
            Verdict::Skipped(w) => {
                skipped += 1;
                ("not-validated", w.clone())
            }
        };
        let what = what.replace('\t', " ");
        let what: String = what.split("[emerg] ").last().unwrap_or(&what).chars().take(200).collect();
        let reason = listed.get(file).filter(|(k, _)| k == kind).map_or("TODO", |(_, r)| r.as_str()).to_string();
        if listed.get(file).is_none_or(|(k, _)| k != kind) {
            problems.push(format!("{file}: {kind} not listed: {what}"));
        }
        rows.push(format!("{file}\t{kind}\t{what}\t{reason}"));
    }
    println!("corpus files: {}; agree {agree}, nginx -t refused but conflint silent {missed}, conflint error but nginx -t accepted {false_errors}, not validated {skipped}; {:.0}s", results.len(), started.elapsed().as_secs_f64());
    if std::env::var("CONFLINT_WRITE_DISAGREEMENTS").as_deref() == Ok("1") {
        let header = "# Corpus nginx files where conflint and the real nginx -t (1.22.1, Debian 12 build) disagree.\n# Written by tests/corpus_nginx_t.rs; the reason column is reviewed by hand.\n# file\tkind\twhat the validator (missed) or conflint (false-error) said\treason\n";
        std::fs::write(LIST, format!("{header}{}\n", rows.join("\n"))).unwrap();
    }
    for p in &problems {
        println!("{p}");
    }
    assert!(problems.is_empty(), "{} disagreements differ from tests/corpus-nginx-t.tsv", problems.len());
}
