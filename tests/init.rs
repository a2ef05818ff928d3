//! `conflint init`: the written conflint.toml is valid, records the mappings the tree
//! needs, documents every rule option with a default that is itself valid, and is never
//! replaced without `--force`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn conflint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("CONFLINT_OUTPUT_FORMAT").output().expect("conflint runs")
}

fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let status = Command::new("cp").arg("-a").arg(format!("{}/.", demo.display())).arg(dir.path()).status().unwrap();
    assert!(status.success());
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn the_written_config_is_valid_and_records_the_tree_s_mappings() {
    let dir = demo_copy();
    let before = conflint(dir.path(), &["check", "--statistics", "."]);
    let init = conflint(dir.path(), &["init"]);
    assert_eq!(init.status.code(), Some(0), "{}", text(&init.stderr));
    assert!(text(&init.stderr).contains("wrote ./conflint.toml"));
    let written = std::fs::read_to_string(dir.path().join("conflint.toml")).unwrap();
    assert!(written.contains("map-root = { \"/etc/nginx\" = \"nginx\" }"), "{written}");
    assert!(written.contains("map-root = { \"/etc/php/8.2/fpm\" = \"php/8.2/fpm\" }"), "{written}");
    assert!(written.contains("# Root configuration found: nginx/nginx.conf"), "{written}");
    assert_eq!(std::fs::metadata(dir.path().join("conflint.toml")).unwrap().permissions().mode() & 0o777, 0o644);

    // Same findings with the config as without; the mapping is now explicit, not guessed.
    let after = conflint(dir.path(), &["check", "--statistics", "."]);
    assert_eq!(after.status.code(), before.status.code(), "{}", text(&after.stderr));
    assert_eq!(text(&after.stdout), text(&before.stdout));
    assert!(text(&before.stderr).contains("/etc/nginx: mapped to nginx"));
    assert!(!text(&after.stderr).contains("/etc/nginx: mapped to nginx"), "{}", text(&after.stderr));
}

#[test]
fn every_documented_rule_option_is_valid_when_uncommented() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(conflint(dir.path(), &["init"]).status.code(), Some(0));
    let written = std::fs::read_to_string(dir.path().join("conflint.toml")).unwrap();
    let tail = &written[written.find("# [rules.").expect("rule options are listed")..];
    let options = tail.lines().filter(|l| l.starts_with("# ") && l.contains(" = ")).count();
    assert!(options >= 10, "only {options} options documented");
    let uncommented: String = tail.lines().map(|l| l.strip_prefix("# ").unwrap_or(l)).collect::<Vec<_>>().join("\n");
    let full = format!("{}{uncommented}\n", &written[..written.find("# [rules.").unwrap()]);
    std::fs::write(dir.path().join("conflint.toml"), &full).unwrap();
    std::fs::write(dir.path().join("nginx.conf"), "events {}\nhttp {}\n").unwrap();
    let check = conflint(dir.path(), &["check", "."]);
    assert_ne!(check.status.code(), Some(2), "the defaults init documents are rejected:\n{}\n{full}", text(&check.stderr));
}

#[test]
fn an_existing_config_is_replaced_only_with_force_and_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conflint.toml");
    std::fs::write(&path, "[check]\nignore = [\"NGX112\"]\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

    let refused = conflint(dir.path(), &["init"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("already exists; pass --force to replace it"), "{}", text(&refused.stderr));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "[check]\nignore = [\"NGX112\"]\n");

    let forced = conflint(dir.path(), &["init", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert!(std::fs::read_to_string(&path).unwrap().contains("No nginx.conf was found"));
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left behind");
}

#[test]
fn a_missing_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = conflint(dir.path(), &["init", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("nope is not a directory"), "{}", text(&o.stderr));
}

/// The `[nginx]` section offers the release and module keys, and uncommented they are
/// taken: the version then names the table in every message that depends on it.
#[test]
fn the_nginx_release_and_modules_are_offered_and_taken_when_uncommented() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(conflint(dir.path(), &["init"]).status.code(), Some(0));
    let written = std::fs::read_to_string(dir.path().join("conflint.toml")).unwrap();
    assert!(written.contains("conflint knows 1.22.1, "), "{written}");
    let pinned = written.replace("# version = \"", "version = \"").replace("# modules = [", "modules = [");
    let pinned = pinned.replacen(&pinned[pinned.find("version = \"").unwrap()..].lines().next().unwrap().to_string(), "version = \"1.22.1\"", 1);
    std::fs::write(dir.path().join("conflint.toml"), &pinned).unwrap();
    std::fs::write(dir.path().join("nginx.conf"), "events {}\nhttp {\n    server {\n        listen 443 quic;\n    }\n}\n").unwrap();
    let check = conflint(dir.path(), &["check", "--output-format", "concise", "."]);
    let out = text(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{out}{}", text(&check.stderr));
    assert!(out.contains("NGX005 [error] invalid parameter \"quic\""), "1.22.1 has no quic, and the release is the server's: {out}");
}
