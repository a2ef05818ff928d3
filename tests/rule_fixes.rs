//! Every rule with a fix, on each of its failing fixtures: `--fix --unsafe-fixes` produces
//! the reviewed output (a snapshot of the diff), the fixed tree no longer has that rule's
//! finding, a second `--fix` changes nothing, and the real `nginx -t` / `php-fpm -t`
//! accept the fixed output through the product's staged validator.

mod common;

use std::collections::BTreeMap;
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

/// A failing fixture of a rule with a fix.
struct Case {
    code: String,
    /// `fail-…` as in fixtures/<CODE>/.
    name: String,
    path: PathBuf,
}

impl Case {
    /// A fresh copy of the fixture in `<tmp>/case`.
    fn copy(&self, tmp: &Path) -> PathBuf {
        let target = tmp.join("case");
        if self.path.is_dir() {
            copy_tree(&self.path, &target);
        } else {
            std::fs::create_dir_all(&target).unwrap();
            std::fs::copy(&self.path, target.join(&self.name)).unwrap();
        }
        target
    }
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for rule in conflint::rules::all().iter().filter(|r| r.fix != conflint::rules::FixKind::None) {
        let dir = manifest().join("fixtures").join(&rule.code);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("fail-")).collect();
        paths.sort();
        out.extend(paths.into_iter().map(|path| Case { code: rule.code.clone(), name: path.file_name().unwrap().to_string_lossy().into_owned(), path }));
    }
    out
}

#[test]
fn fixes_apply_clean_up_and_are_idempotent() {
    let mut problems = Vec::new();
    for case in cases() {
        let (code, name) = (&case.code, &case.name);
        let tmp = tempfile::tempdir().unwrap();
        let target = case.copy(tmp.path());
        let select = ["--select", code.as_str()];
        let (_, diff) = conflint(&target, &["check", select[0], select[1], "--unsafe-fixes", "--diff", "."]);
        if !diff.contains("+++ b/") {
            // Some failing cases have findings without a fix (e.g. no single candidate).
            continue;
        }
        let (status, out) = conflint(&target, &["check", select[0], select[1], "--fix", "--unsafe-fixes", "--validate", "never", "--output-format", "concise", "."]);
        if out.lines().any(|l| l.contains(&format!(" {code} ")) && l.contains("[*]")) {
            problems.push(format!("{code}/{name}: a safe fix is still offered after --fix (exit {status}):\n{out}"));
        }
        let (_, again) = conflint(&target, &["check", select[0], select[1], "--unsafe-fixes", "--diff", "."]);
        if again.contains("+++ b/") {
            problems.push(format!("{code}/{name}: a second --fix would change more:\n{again}"));
        }
        insta::with_settings!({ snapshot_path => "../fixtures/snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("{code}__{}__fix", name.trim_end_matches(".conf")), diff);
        });
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

/// Every file under `dir` (relative path → bytes), `conflint.toml` aside.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in ignore::WalkBuilder::new(dir).standard_filters(false).build().flatten() {
        let rel = entry.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        if entry.file_type().is_some_and(|t| t.is_file()) && rel != "conflint.toml" {
            out.insert(rel, std::fs::read(entry.path()).unwrap());
        }
    }
    out
}

fn is_fpm(text: &[u8]) -> bool {
    conflint::fpm::parse(text).lines.iter().any(|l| matches!(l.kind, conflint::fpm::ast::LineKind::Section(_)))
}

/// Names of the top-level directives of an nginx file.
fn top_level(text: &[u8]) -> Vec<String> {
    conflint::nginx::parse(text).items.iter().filter_map(|i| match i {
        conflint::nginx::ast::Item::Directive(d) => Some(d.name.value.to_string()),
        _ => None,
    }).collect()
}

/// Packaged files nginx fixtures include without shipping them (Debian's `/etc/nginx`).
const PACKAGED: &[&str] = &["fastcgi_params", "fastcgi.conf", "proxy_params", "mime.types"];

/// Make the fixture copy in `dir` a complete tree the validators load: bare nginx
/// snippets are included from a new nginx.conf (at `http{}`, or in a `server{}` when they
/// hold locations) beside the packaged files they include; bare pools are included from a
/// new php-fpm.conf, with `user`/`group` (which php-fpm -t requires of a pool run as root)
/// supplied in a file of their own so the fixture's file stays as it is.
fn complete(dir: &Path) {
    let all = files(dir);
    let (fpm, nginx): (Vec<_>, Vec<_>) = all.iter().partition(|(_, text)| is_fpm(text));
    let nginx_root = nginx.iter().find(|(_, t)| top_level(t).iter().any(|n| n == "events" || n == "http")).map(|(p, _)| dir.join(p).parent().unwrap().to_path_buf());
    if !nginx.is_empty() && nginx_root.is_none() {
        let mut conf = String::from("events {}\nhttp {\n");
        for (rel, text) in &nginx {
            conf += &match top_level(text).iter().any(|n| n == "location") {
                true => format!("    server {{\n        include {rel};\n    }}\n"),
                false => format!("    include {rel};\n"),
            };
        }
        std::fs::write(dir.join("nginx.conf"), conf + "}\n").unwrap();
    }
    let conf_dir = nginx_root.unwrap_or_else(|| dir.to_path_buf());
    for (_, text) in &nginx {
        for (_, d) in conflint::nginx::parse(text).walk().into_iter().filter(|(_, d)| d.name.value == "include") {
            let name = d.args.first().map(|a| a.value.rsplit('/').next().unwrap_or_default().to_string()).unwrap_or_default();
            if PACKAGED.contains(&name.as_str()) && !conf_dir.join(&name).exists() {
                std::fs::copy(Path::new("/etc/nginx").join(&name), conf_dir.join(&name)).unwrap();
            }
        }
    }
    let has_global = fpm.iter().any(|(_, t)| conflint::fpm::parse(t).lines.iter().any(|l| matches!(&l.kind, conflint::fpm::ast::LineKind::Section(s) if s.name == "global")));
    if fpm.is_empty() || has_global {
        return;
    }
    let mut users = String::new();
    let mut includes = String::new();
    for (rel, text) in &fpm {
        let mut pool = None;
        let mut with_user = Vec::new();
        for l in conflint::fpm::parse(text).lines {
            match l.kind {
                conflint::fpm::ast::LineKind::Section(s) => pool = Some(s.name),
                conflint::fpm::ast::LineKind::Entry(e) if e.name == "user" => with_user.extend(pool.clone()),
                _ => {}
            }
        }
        if let Some(p) = pool.filter(|p| !with_user.contains(p)) {
            users += &format!("[{p}]\nuser = www-data\ngroup = www-data\n");
        }
        includes += &format!("include = /etc/php/8.2/fpm/{rel}\n");
    }
    std::fs::write(dir.join("pool-users.conf"), users).unwrap();
    std::fs::write(dir.join("php-fpm.conf"), format!("[global]\nerror_log = /var/log/php-fpm.log\ninclude = /etc/php/8.2/fpm/pool-users.conf\n{includes}")).unwrap();
}

/// The validator binaries named in `conflint: validated X with BINARY …` lines.
fn validators(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("conflint: validated "))
        .filter_map(|l| l.split(" with ").nth(1)?.split_whitespace().next())
        .map(|b| Path::new(b).file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn fixed_fixtures_pass_the_real_validators() {
    if !common::validators_installed() {
        return;
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for case in cases() {
        let (code, name) = (&case.code, &case.name);
        // The fixture as it is: what `--fix` makes of it (the snapshotted output).
        let bare_tmp = tempfile::tempdir().unwrap();
        let bare = case.copy(bare_tmp.path());
        let before = files(&bare);
        conflint(&bare, &["check", "--select", code, "--fix", "--unsafe-fixes", "--validate", "never", "--exit-zero", "."]);
        let fixed = files(&bare);
        let changed: Vec<&String> = fixed.keys().filter(|k| before.get(*k) != fixed.get(*k)).collect();
        if changed.is_empty() {
            continue;
        }
        // The same fixture in a complete tree, fixed with validation required.
        let tmp = tempfile::tempdir().unwrap();
        let dir = case.copy(tmp.path());
        complete(&dir);
        let (status, out) = conflint(&dir, &["check", "--select", code, "--fix", "--unsafe-fixes", "--validate", "always", "--exit-zero", "."]);
        let ran = validators(&out);
        let wanted: Vec<&str> = changed.iter().map(|k| if is_fpm(&fixed[*k]) { "php-fpm" } else { "nginx" }).collect();
        let what = format!("{code}/{name} (exit {status}):\n{out}");
        if status != 0 || out.contains("NOT VALIDATED") {
            problems.push(format!("{what}\nthe fixed output was not accepted"));
        } else if let Some(w) = wanted.iter().find(|w| !ran.iter().any(|r| r.starts_with(*w))) {
            problems.push(format!("{what}\nno {w} validation ran"));
        } else if let Some(k) = changed.iter().find(|k| std::fs::read(dir.join(k)).ok().as_ref() != fixed.get(k.as_str())) {
            problems.push(format!("{what}\n{k}: fixed differently in the complete tree than alone"));
        }
        checked += 1;
    }
    // Every fixed output that has a reviewed snapshot went through a validator.
    let snapshots = std::fs::read_dir(manifest().join("fixtures/snapshots")).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with("__fix.snap")).count();
    assert_eq!(checked, snapshots, "fixtures validated vs. fix snapshots");
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}
