//! Every rule's fixtures under `fixtures/<CODE>/`: `fail-*` cases fire exactly where their
//! `expect: CODE line:col` markers say, `pass-*` cases (the near misses) do not fire.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use conflint::check::{lint, Linted, Settings};
use conflint::workspace::Options;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(path, line, column)` triples, paths relative to the manifest directory.
type Places = BTreeSet<(String, usize, usize)>;

fn run(case: &Path) -> Linted {
    let rel = case.strip_prefix(manifest()).unwrap().to_string_lossy().into_owned();
    let opts = Options { paths: vec![rel], cwd: manifest(), ..Default::default() };
    // A case may carry its own conflint.toml (rule options, host facts).
    let registry = conflint::rules::Registry::builtin();
    let mut config = conflint::config::discover(case)
        .filter(|p| p.starts_with(case))
        .map(|p| conflint::config::load(&p).expect("fixture conflint.toml"))
        .unwrap_or_default();
    config.check_against(&registry).expect("fixture conflint.toml matches the rules");
    let settings = Settings { workspace: opts, config, selection: Default::default(), registry };
    lint(&settings, &mut std::io::empty()).expect("fixture loads")
}

fn fired(linted: &Linted, code: &str) -> Places {
    linted
        .findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| {
            let src = linted.workspace.source(f.location.file);
            let p = src.position(f.location.span.start());
            (src.display.clone(), p.line, p.column)
        })
        .collect()
}

/// Markers `expect: CODE line:col` in any file of the case (in a `#` or `;` comment).
fn expected(case: &Path, code: &str) -> Places {
    let mut out = Places::new();
    for entry in ignore::WalkBuilder::new(case).follow_links(false).build().flatten() {
        let path = entry.path();
        if !path.is_file() || path.is_symlink() {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let rel = path.strip_prefix(manifest()).unwrap().to_string_lossy().into_owned();
        for (_, rest) in text.match_indices("expect: ").map(|(i, _)| ((), &text[i + 8..])) {
            let mut words = rest.split_whitespace();
            if words.next() != Some(code) {
                continue;
            }
            let (line, col) = words.next().and_then(|p| p.split_once(':')).expect("marker has line:col");
            out.insert((rel.clone(), line.parse().unwrap(), col.parse().unwrap()));
        }
    }
    out
}

fn rule_dirs() -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<(String, PathBuf)> = conflint::rules::all()
        .iter()
        .map(|r| (r.code.clone(), manifest().join("fixtures").join(&r.code)))
        .collect();
    dirs.sort();
    dirs
}

/// The `full` report of a failing case, as a user sees it, reviewed as a snapshot.
fn snapshot(code: &str, case: &str, linted: &Linted) {
    let findings: Vec<_> = linted.findings.iter().filter(|f| f.code == code).cloned().collect();
    let registry = conflint::rules::Registry::builtin();
    let mut out = Vec::new();
    conflint::report::render(conflint::report::Format::Full, &findings, &linted.workspace.sources, &registry, &Default::default(), &mut out).unwrap();
    let name = format!("{code}__{}", case.trim_end_matches(".conf"));
    insta::with_settings!({ snapshot_path => "../fixtures/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, String::from_utf8_lossy(&out));
    });
}

#[test]
fn every_rule_has_a_failing_and_a_passing_case() {
    for (code, dir) in rule_dirs() {
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("fixtures/{code}/ is missing"))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().any(|n| n.starts_with("fail-")), "fixtures/{code}/ has no fail-* case");
        assert!(names.iter().any(|n| n.starts_with("pass-")), "fixtures/{code}/ has no pass-* case");
    }
}

#[test]
fn fail_cases_fire_exactly_at_their_markers_and_pass_cases_stay_silent() {
    let mut problems = Vec::new();
    for (code, dir) in rule_dirs() {
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        cases.sort();
        for case in cases {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let linted = run(&case);
            let got = fired(&linted, &code);
            if name.starts_with("fail-") {
                snapshot(&code, &name, &linted);
                let want = expected(&case, &code);
                if want.is_empty() {
                    problems.push(format!("{code}/{name}: no `expect: {code} line:col` marker"));
                } else if got != want {
                    problems.push(format!("{code}/{name}: expected {want:?}, got {got:?}"));
                }
            } else if name.starts_with("pass-") && !got.is_empty() {
                problems.push(format!("{code}/{name}: must not fire, fired at {got:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
