//! PHP-FPM syntax verdicts: conflint's parser against real `php-fpm8.2 -t` on crafted
//! lines (`fixtures/fpm-syntax/`), and a lossless round trip of the whole FPM corpus.

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A pool that `php-fpm -t` accepts; each case's line is appended to it.
const BASE: &str = "[global]\nerror_log = @DIR@/fpm.log\npid = @DIR@/fpm.pid\n[www]\nuser = www-data\ngroup = www-data\nlisten = @DIR@/www.sock\npm = static\npm.max_children = 2\n";

fn cases() -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = std::fs::read_dir(manifest().join("fixtures/fpm-syntax"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let accept = name.starts_with("accept-");
            assert!(accept || name.starts_with("reject-"), "{name}: name must start with accept- or reject-");
            (name, std::fs::read_to_string(&p).unwrap(), accept)
        })
        .collect();
    out.sort();
    out
}

fn has_syntax_error(text: &str) -> bool {
    conflint::fpm::parse(text.as_bytes()).lines.iter().any(|l| matches!(l.kind, conflint::fpm::ast::LineKind::Error { .. }))
}

#[test]
fn parser_verdicts_match_the_crafted_expectations() {
    let cases = cases();
    assert!(cases.len() >= 25, "only {} cases", cases.len());
    let wrong: Vec<&str> = cases.iter().filter(|(_, line, accept)| has_syntax_error(&format!("{BASE}{line}")) == *accept).map(|(n, _, _)| n.as_str()).collect();
    assert!(wrong.is_empty(), "conflint disagrees on: {wrong:?}");
}

fn php_fpm() -> Option<PathBuf> {
    ["/usr/sbin/php-fpm8.2", "/usr/bin/php-fpm8.2"].iter().map(PathBuf::from).find(|p| p.exists())
}

#[test]
fn real_php_fpm_agrees_with_every_case() {
    let Some(bin) = php_fpm() else {
        assert!(std::env::var_os("CONFLINT_REQUIRE_VALIDATORS").is_none(), "php-fpm8.2 is required (CONFLINT_REQUIRE_VALIDATORS=1) but not installed");
        eprintln!("skipping: php-fpm8.2 not found (apt-get install -y php8.2-fpm)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for (name, line, accept) in cases() {
        let conf = dir.path().join(format!("{name}.conf"));
        std::fs::write(&conf, format!("{}{line}", BASE.replace("@DIR@", &dir.path().display().to_string()))).unwrap();
        let out = Command::new(&bin).arg("-t").arg("-y").arg(&conf).output().unwrap();
        if out.status.success() != accept {
            wrong.push(format!("{name}: php-fpm said {}\n{}", out.status, String::from_utf8_lossy(&out.stderr)));
        }
    }
    assert!(wrong.is_empty(), "php-fpm disagrees with the fixture names:\n{}", wrong.join("\n"));
}

fn corpus() -> Option<PathBuf> {
    let p = manifest().join("../shared/corpus/fpm");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/corpus/fpm not found");
        None
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = ignore::WalkBuilder::new(dir).standard_filters(false).build().flatten().map(|e| e.into_path()).filter(|p| p.is_file()).collect();
    v.sort();
    v
}

#[test]
fn corpus_round_trips_byte_for_byte() {
    let Some(dir) = corpus() else { return };
    let all = files(&dir);
    assert!(all.len() > 50);
    for path in all {
        let bytes = std::fs::read(&path).unwrap();
        let parsed = conflint::fpm::parse(&bytes);
        let mut rebuilt = Vec::new();
        for l in &parsed.lines {
            rebuilt.extend_from_slice(&bytes[l.span.start..l.span.end]);
            rebuilt.extend_from_slice(&bytes[l.eol.start..l.eol.end]);
        }
        assert!(rebuilt == bytes, "{} does not round-trip", path.display());
    }
}

#[test]
fn corpus_syntax_errors_are_exactly_the_known_ones() {
    let Some(dir) = corpus() else { return };
    // PHP-FPM 5.2 used an XML configuration; no current PHP-FPM reads it.
    let expected = ["devilbox__docker-php-fpm/Dockerfiles__base__data__php-fpm.conf__php-fpm-5.2.conf"];
    let rejected: Vec<String> = files(&dir)
        .into_iter()
        .filter(|p| has_syntax_error(&String::from_utf8_lossy(&std::fs::read(p).unwrap())))
        .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(rejected, expected);
}
