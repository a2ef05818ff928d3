//! Syntax verdicts on `fixtures/fpm-syntax/`, checked against real `php-fpm8.2 -t`.
//!
//! Each fixture is a complete pool config whose name says what php-fpm does with it:
//! `accept-*.conf` passes `php-fpm8.2 -t`, `reject-*.conf` fails to load. Only syntax-level
//! cases belong here (what FPM001 decides), not validation failures such as
//! `pm.max_children = 0`. The test asserts that
//! 1. our parser + resolver report FPM001 exactly for the `reject-` files, and
//! 2. when `php-fpm8.2` is installed, the binary still agrees with every file name (it runs on
//!    a copy with `error_log`/`pid` pointed into a temp dir; the live config is never read).
//!    Without the binary that half is skipped, unless `CONFLINT_REQUIRE_VALIDATORS=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;



fn fixtures() -> Vec<(PathBuf, bool)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fpm-syntax");
    let mut cases: Vec<(PathBuf, bool)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            let accept = match name.split('-').next() {
                Some("accept") => true,
                Some("reject") => false,
                _ => panic!("{name}: fixture names start with accept- or reject-"),
            };
            (p, accept)
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "only {} fixtures", cases.len());
    cases
}

/// FPM001 messages our side produces for `bytes`.
fn our_syntax_errors(bytes: &[u8]) -> Vec<String> {
    let config = common::resolve_alone("x.conf", bytes);
    config.findings.into_iter().filter(|f| f.code == "FPM001").map(|f| f.message).collect()
}

#[test]
fn our_verdicts_match_the_fixture_names() {
    let mut wrong = Vec::new();
    for (path, accept) in fixtures() {
        let errors = our_syntax_errors(&std::fs::read(&path).unwrap());
        if errors.is_empty() != accept {
            wrong.push(format!("{}: FPM001 {errors:?}", path.display()));
        }
    }
    assert!(wrong.is_empty(), "verdicts differ from php-fpm:\n{}", wrong.join("\n"));
}

fn php_fpm() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("php-fpm8.2")).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates.into_iter().chain([PathBuf::from("/usr/sbin/php-fpm8.2")]).find(|p| p.is_file())
}

#[test]
fn php_fpm_agrees_with_the_fixture_names() {
    let Some(binary) = php_fpm() else {
        if std::env::var("CONFLINT_REQUIRE_VALIDATORS").as_deref() == Ok("1") {
            panic!("php-fpm8.2 not found and CONFLINT_REQUIRE_VALIDATORS=1");
        }
        eprintln!("skipping: php-fpm8.2 not found (install php8.2-fpm to check the fixtures against it)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for (path, accept) in fixtures() {
        // A `[global]` header in front sends the logs and pid into the temp dir; the fixture
        // follows unchanged, so its own global lines and sections keep their meaning.
        let mut copy =
            format!("[global]\nerror_log = {0}/fpm.log\npid = {0}/fpm.pid\n", tmp.path().display()).into_bytes();
        copy.extend(std::fs::read(&path).unwrap());
        let target = tmp.path().join(path.file_name().unwrap());
        std::fs::write(&target, copy).unwrap();
        let output = Command::new(&binary)
            .arg("-t")
            .arg("-y")
            .arg(&target)
            .env_remove("CONFLINT_ORACLE_UNSET")
            .output()
            .unwrap();
        if output.status.success() != accept {
            wrong.push(format!(
                "{}: php-fpm exit {:?}\n{}",
                path.display(),
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(wrong.is_empty(), "php-fpm disagrees with the fixture names:\n{}", wrong.join("\n"));
}
