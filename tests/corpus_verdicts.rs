//! The hand-judged corpus findings (tests/corpus_verdicts.tsv) against today's linter: a
//! finding judged false and fixed must not come back (at its severity or higher). Open false
//! findings (owned by another item) and true findings that disappeared are listed, so the
//! verdict file can be brought up to date.
//!
//! Each repository of the corpus (`../shared/corpus`, SOURCES.tsv) is rebuilt as its own tree
//! the way `scripts/corpus-review` does. Without the corpus the test skips, saying so; with
//! CONFLINT_REQUIRE_CORPUS=1 that is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use conflint::check::{lint, Settings};
use conflint::finding::Severity;
use conflint::workspace::Options;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Verdict {
    rule: String,
    repo: String,
    path: String,
    line: usize,
    severity: Severity,
    truth: bool,
    fixed: bool,
    reason: String,
}

fn severity(s: &str) -> Severity {
    match s {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        "info" => Severity::Info,
        other => panic!("unknown severity {other:?} in the verdict file"),
    }
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
    }
}

fn verdicts() -> Vec<Verdict> {
    let text = std::fs::read_to_string(manifest().join("tests/corpus_verdicts.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 8, "8 tab-separated columns: {l}");
            assert!(matches!(f[5], "true" | "false"), "verdict is true or false: {l}");
            assert!(f[5] == "true" || f[6] == "fixed" || f[6].starts_with("open"), "a false verdict says fixed or open: {l}");
            assert!(!f[7].trim().is_empty(), "every verdict has a reason: {l}");
            Verdict {
                rule: f[0].into(),
                repo: f[1].into(),
                path: f[2].into(),
                line: f[3].parse().unwrap(),
                severity: severity(f[4]),
                truth: f[5] == "true",
                fixed: f[6] == "fixed",
                reason: f[7].into(),
            }
        })
        .collect()
}

/// Where a corpus file lives in its repository: `path_in_repo`, or for a file extracted
/// from another one (a test's heredoc, a Dockerfile's echo) `<path_in_repo>.d/<what it
/// writes>`, as scripts/corpus-review places it.
fn tree_path(local: &str, in_repo: &str, note: &str) -> String {
    let name = local.rsplit('/').next().unwrap_or(local);
    let short = name.rsplit("__").next().unwrap_or(name);
    if Some(short) == in_repo.rsplit('/').next() {
        return in_repo.to_string();
    }
    let written = note
        .split_once("write_file_expand('")
        .and_then(|(_, r)| r.split_once('\''))
        .map(|(w, _)| w)
        .or_else(|| note.split_once("writes ").map(|(_, r)| r.split_whitespace().next().unwrap_or(r)));
    format!("{in_repo}.d/{}", written.unwrap_or(short))
}

/// Rebuild `repos` under `into`, one directory per repository.
fn rebuild(corpus: &Path, repos: &BTreeSet<&str>, into: &Path) -> BTreeMap<String, PathBuf> {
    let sources = std::fs::read_to_string(corpus.join("SOURCES.tsv")).unwrap();
    let mut lines = sources.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("SOURCES.tsv has no {name} column"));
    let (local, repo, in_repo, note) = (col("local_path"), col("repo"), col("path_in_repo"), col("note"));
    let mut trees = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        if !repos.contains(f[repo]) {
            continue;
        }
        let root = into.join(f[repo].replace('/', "__"));
        let dest = root.join(tree_path(f[local], f[in_repo], f.get(note).copied().unwrap_or("")));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(corpus.join(f[local]), &dest).unwrap();
        trees.insert(f[repo].to_string(), root);
    }
    trees
}

#[test]
fn findings_judged_false_do_not_come_back() {
    let corpus = manifest().join("../shared/corpus");
    if !corpus.join("SOURCES.tsv").exists() {
        assert!(std::env::var("CONFLINT_REQUIRE_CORPUS").as_deref() != Ok("1"), "the corpus is required (CONFLINT_REQUIRE_CORPUS=1) but {} is absent", corpus.display());
        eprintln!("SKIPPED: no corpus at {}; set CONFLINT_REQUIRE_CORPUS=1 to make this a failure", corpus.display());
        return;
    }
    let verdicts = verdicts();
    let repos: BTreeSet<&str> = verdicts.iter().map(|v| v.repo.as_str()).collect();
    assert!(verdicts.len() >= 80 && repos.len() >= 20, "the review covers at least 80 findings from 20 repositories");
    let tmp = tempfile::tempdir().unwrap();
    let trees = rebuild(&corpus, &repos, tmp.path());
    // (repo, rule, path, line) → the highest severity found there.
    let mut found: BTreeMap<(String, String, String, usize), Severity> = BTreeMap::new();
    for (repo, root) in &trees {
        let opts = Options { paths: vec![".".into()], cwd: root.canonicalize().unwrap(), ..Default::default() };
        let settings = Settings { workspace: opts, config: Default::default(), selection: Default::default(), registry: conflint::rules::Registry::builtin() };
        let linted = lint(&settings, &mut std::io::empty()).unwrap_or_else(|e| panic!("{repo}: {e}"));
        for f in &linted.findings {
            let src = linted.workspace.source(f.location.file);
            let key = (repo.clone(), f.code.clone(), src.display.clone(), src.position(f.location.span.start()).line);
            let e = found.entry(key).or_insert(f.severity);
            if rank(f.severity) > rank(*e) {
                *e = f.severity;
            }
        }
    }
    let now = |v: &Verdict| found.get(&(v.repo.clone(), v.rule.clone(), v.path.clone(), v.line)).copied();
    let back: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.truth && v.fixed)
        .filter(|v| now(v).is_some_and(|s| rank(s) >= rank(v.severity)))
        .map(|v| format!("{} {} {}:{} ({})", v.rule, v.repo, v.path, v.line, v.reason))
        .collect();
    let open: Vec<&Verdict> = verdicts.iter().filter(|v| !v.truth && !v.fixed).collect();
    for v in open.iter().filter(|v| now(v).is_none()) {
        eprintln!("NOTE: open false finding no longer reported, mark it fixed: {} {} {}:{}", v.rule, v.repo, v.path, v.line);
    }
    for v in verdicts.iter().filter(|v| v.truth && now(v).is_none()) {
        eprintln!("NOTE: finding judged true no longer reported (moved or lost?): {} {} {}:{}", v.rule, v.repo, v.path, v.line);
    }
    let judged = verdicts.iter().filter(|v| v.truth || !v.fixed).count();
    let true_now = verdicts.iter().filter(|v| v.truth).count();
    eprintln!("{} verdicts from {} repositories; of the findings still reported, {true_now} of {judged} judged true", verdicts.len(), repos.len());
    assert!(back.is_empty(), "findings judged false came back:\n{}", back.join("\n"));
}
