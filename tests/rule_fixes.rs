//! Every rule with a fix, on each of its failing fixtures: `--fix --unsafe-fixes` produces
//! the reviewed output (a snapshot of the diff), the fixed tree no longer has that rule's
//! finding, and a second `--fix` changes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in ignore::WalkBuilder::new(from).standard_filters(false).follow_links(false).build().flatten() {
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &dest).unwrap();
        } else if meta.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

fn conflint(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap();
    (o.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn fixes_apply_clean_up_and_are_idempotent() {
    let mut problems = Vec::new();
    for rule in conflint::rules::all().iter().filter(|r| r.fix != conflint::rules::FixKind::None) {
        let dir = manifest().join("fixtures").join(&rule.code);
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("fail-")).collect();
        cases.sort();
        for case in cases {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let tmp = tempfile::tempdir().unwrap();
            let target = tmp.path().join("case");
            if case.is_dir() {
                copy_tree(&case, &target);
            } else {
                std::fs::create_dir_all(&target).unwrap();
                std::fs::copy(&case, target.join(&name)).unwrap();
            }
            let select = ["--select", rule.code.as_str()];
            let (_, diff) = conflint(&target, &["check", select[0], select[1], "--unsafe-fixes", "--diff", "."]);
            if !diff.contains("+++ b/") {
                // Some failing cases have findings without a fix (e.g. no single candidate).
                continue;
            }
            let (code, out) = conflint(&target, &["check", select[0], select[1], "--fix", "--unsafe-fixes", "--validate", "never", "--output-format", "concise", "."]);
            if out.lines().any(|l| l.contains(&format!(" {} ", rule.code)) && l.contains("[*]")) {
                problems.push(format!("{}/{name}: a safe fix is still offered after --fix (exit {code}):\n{out}", rule.code));
            }
            let (_, again) = conflint(&target, &["check", select[0], select[1], "--unsafe-fixes", "--diff", "."]);
            if again.contains("+++ b/") {
                problems.push(format!("{}/{name}: a second --fix would change more:\n{again}", rule.code));
            }
            insta::with_settings!({ snapshot_path => "../fixtures/snapshots", prepend_module_to_snapshot => false }, {
                insta::assert_snapshot!(format!("{}__{}__fix", rule.code, name.trim_end_matches(".conf")), diff);
            });
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}
