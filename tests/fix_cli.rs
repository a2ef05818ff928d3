//! `check --fix` and `--diff` as a user runs them: the diff applies with `git apply` and
//! `patch -p1`, fixes keep line endings, symlinks and modes, a second `--fix` changes
//! nothing, standard input cannot be fixed.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn conflint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).current_dir(dir).env("NO_COLOR", "1").stdin(Stdio::null()).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A PHP location with a 30s read timeout (NGX101, fixed to 300s by its unsafe fix), lines
/// ending in `eol`.
fn site(eol: &str, final_newline: bool) -> String {
    let lines = ["server {", "    listen 8080;", "    location ~ \\.php$ {", "        fastcgi_pass 127.0.0.1:9000;", "        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;", "        fastcgi_read_timeout 30s;", "    }", "}"];
    let mut s = lines.join(eol);
    if final_newline {
        s.push_str(eol);
    }
    s
}

fn tree(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    Command::new("git").args(["init", "-q"]).current_dir(dir.path()).status().unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

#[test]
fn diff_applies_with_git_apply_and_patch() {
    let files = [("nginx/sites/a.conf", site("\n", true)), ("nginx/sites/b.conf", site("\r\n", false))];
    for tool in [&["git", "apply"][..], &["patch", "-p1", "-s"][..]] {
        let dir = tree(&files);
        let o = conflint(dir.path(), &["check", "nginx", "--unsafe-fixes", "--diff"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let diff = o.stdout.clone();
        assert!(String::from_utf8_lossy(&diff).contains("--- a/nginx/sites/a.conf\n+++ b/nginx/sites/a.conf\n"));
        // --diff writes nothing.
        assert_eq!(std::fs::read_to_string(dir.path().join("nginx/sites/a.conf")).unwrap(), files[0].1);
        let mut child = Command::new(tool[0]).args(&tool[1..]).current_dir(dir.path()).stdin(Stdio::piped()).spawn().unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), &diff).unwrap();
        assert!(child.wait().unwrap().success(), "{tool:?} rejected:\n{}", String::from_utf8_lossy(&diff));
        for (name, original) in &files {
            let got = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert_eq!(got, original.replace("30s;", "300s;"), "{tool:?} {name}");
        }
        let again = conflint(dir.path(), &["check", "nginx", "--unsafe-fixes", "--diff"]);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        assert!(again.stdout.is_empty());
    }
}

#[test]
fn fix_keeps_line_endings_links_and_modes_and_is_idempotent() {
    let dir = tree(&[
        ("nginx/sites/crlf.conf", site("\r\n", true)),
        ("nginx/sites/no-eol.conf", site("\n", false)),
        ("nginx/available/linked.conf", site("\n", true)),
        ("nginx/sites/readonly.conf", site("\n", true)),
    ]);
    let d = dir.path();
    symlink("../available/linked.conf", d.join("nginx/sites/linked.conf")).unwrap();
    std::fs::set_permissions(d.join("nginx/sites/readonly.conf"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let o = conflint(d, &["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "never"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("Fixed 4 problems in 4 files"), "{out}");
    assert!(out.contains("NOT VALIDATED: validation turned off"), "{out}");
    assert_eq!(std::fs::read_to_string(d.join("nginx/sites/crlf.conf")).unwrap(), site("\r\n", true).replace("30s;", "300s;"));
    assert_eq!(std::fs::read_to_string(d.join("nginx/sites/no-eol.conf")).unwrap(), site("\n", false).replace("30s;", "300s;"));
    assert!(std::fs::symlink_metadata(d.join("nginx/sites/linked.conf")).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(d.join("nginx/available/linked.conf")).unwrap().contains("300s;"));
    assert_eq!(std::fs::metadata(d.join("nginx/sites/readonly.conf")).unwrap().permissions().mode() & 0o777, 0o444);
    assert!(std::fs::read_to_string(d.join("nginx/sites/readonly.conf")).unwrap().contains("300s;"));

    let snapshot = |d: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = ["crlf", "no-eol", "linked", "readonly"].iter().map(|n| (n.to_string(), std::fs::read(d.join(format!("nginx/sites/{n}.conf"))).unwrap())).collect();
        v.sort();
        v
    };
    let before = snapshot(d);
    let second = conflint(d, &["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "never"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(!text(&second).contains("Fixed"), "{}", text(&second));
    assert_eq!(snapshot(d), before);
}

#[test]
fn standard_input_cannot_be_fixed() {
    let dir = tree(&[]);
    for flag in ["--fix", "--diff"] {
        let o = conflint(dir.path(), &["check", "-", flag]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("standard input cannot be fixed"), "{}", text(&o));
    }
}

#[test]
fn validate_always_without_a_validator_writes_nothing() {
    let dir = tree(&[("nginx/nginx.conf", format!("events {{}}\nhttp {{\n{}\n}}\n", site("\n", false)))]);
    let path = dir.path().join("nginx/nginx.conf");
    let before = std::fs::read(&path).unwrap();
    // Debian's sbin directories are searched besides PATH, so where nginx is installed an
    // unusable --nginx stands for a missing one.
    let o = if Path::new("/usr/sbin/nginx").exists() {
        conflint(dir.path(), &["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "always", "--nginx", "/nonexistent/nginx"])
    } else {
        Command::new(env!("CARGO_BIN_EXE_conflint")).args(["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "always"]).current_dir(dir.path()).env("PATH", "/nonexistent").output().unwrap()
    };
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("cannot validate") && text(&o).contains("nothing was written"), "{}", text(&o));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn fixed_files_no_validator_reads_fail_validate_always_and_are_named_under_auto() {
    // sites-available/ is not included by nginx.conf; php.conf only through a site there.
    let files = [
        ("nginx/nginx.conf", "events {}\nhttp {\n    include sites-enabled/*.conf;\n}\n".to_string()),
        ("nginx/sites-available/lone.conf", site("\n", true)),
        ("nginx/sites-available/shop.conf", "server {\n    listen 8080;\n    location ~ \\.php$ {\n        include snippets/php.conf;\n    }\n}\n".into()),
        ("nginx/snippets/php.conf", "fastcgi_pass 127.0.0.1:9000;\nfastcgi_read_timeout 30s;\n".into()),
    ];
    let dir = tree(&files);
    std::fs::create_dir_all(dir.path().join("nginx/sites-enabled")).unwrap();
    let o = conflint(dir.path(), &["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "always"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    for name in ["nginx/sites-available/lone.conf", "nginx/snippets/php.conf"] {
        assert!(out.contains(&format!("{name}: no nginx.conf in the linted tree includes it, so nginx -t cannot check it")), "{out}");
    }
    assert!(out.contains("nothing was written"), "{out}");
    for (name, content) in &files {
        assert_eq!(&std::fs::read_to_string(dir.path().join(name)).unwrap(), content, "{name}");
    }

    let o = conflint(dir.path(), &["check", "nginx", "--fix", "--unsafe-fixes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    for name in ["nginx/sites-available/lone.conf", "nginx/snippets/php.conf"] {
        assert!(out.contains(&format!("NOT VALIDATED: {name}: no nginx.conf")), "{out}");
        assert!(std::fs::read_to_string(dir.path().join(name)).unwrap().contains("fastcgi_read_timeout 300s;"), "{name}");
    }
}

/// A pid no process has (above the kernel's largest, 4194304).
const DEAD_PID: u32 = 4_999_999;

/// A `--fix` killed with SIGKILL leaves `.NAME.conflint-PID.tmp` files beside the files it
/// was writing (never a half-written file). The next `--fix` removes them, and says so;
/// a temp file of a conflint that still runs is left alone.
#[test]
fn the_next_fix_removes_what_a_killed_one_left_behind() {
    let dir = tree(&[("nginx/sites/a.conf", site("\n", true)), ("nginx/sites/b.conf", site("\n", true))]);
    let d = dir.path();
    let stale = [d.join(format!("nginx/sites/.a.conf.conflint-{DEAD_PID}.tmp")), d.join(format!("nginx/sites/.b.conf.conflint-{DEAD_PID}.tmp"))];
    for s in &stale {
        std::fs::write(s, site("\n", true).replace("30s;", "300s;")).unwrap();
    }
    // Not conflint's: a name that only looks alike, and a temp file of a running conflint.
    let foreign = d.join("nginx/sites/.a.conf.conflint-x.tmp");
    std::fs::write(&foreign, "keep").unwrap();
    let mut running = Command::new(env!("CARGO_BIN_EXE_conflint")).arg("server").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let live = d.join(format!("nginx/sites/.b.conf.conflint-{}.tmp", running.id()));
    std::fs::write(&live, "in progress").unwrap();
    let o = conflint(d, &["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "never"]);
    drop(running.stdin.take());
    let _ = running.kill();
    running.wait().unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!("conflint: removed 2 temporary files left by an interrupted conflint --fix: nginx/sites/.a.conf.conflint-{DEAD_PID}.tmp, nginx/sites/.b.conf.conflint-{DEAD_PID}.tmp\n")),
        "{out}"
    );
    assert!(stale.iter().all(|s| !s.exists()));
    assert!(foreign.exists() && live.exists(), "{out}");
    assert!(std::fs::read_to_string(d.join("nginx/sites/a.conf")).unwrap().contains("300s;"));
}

/// Holds flock(2) on `dir` until dropped, as a running `conflint check --fix` does on each
/// directory named on its command line.
struct Held {
    _lock: std::fs::File,
}

impl Held {
    fn on(dir: &Path) -> Held {
        let f = std::fs::File::open(dir).unwrap();
        // SAFETY: flock on a descriptor we own.
        assert_eq!(unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&f), libc::LOCK_EX) }, 0);
        Held { _lock: f }
    }
}

/// Two `--fix` runs on one tree never both apply the same fixes: the second waits for the
/// first, says so, and then finds nothing left to fix.
#[test]
fn a_second_fix_on_the_same_tree_waits_for_the_first() {
    let dir = tree(&[("nginx/sites/a.conf", site("\n", true))]);
    let d = dir.path();
    let held = Held::on(&d.join("nginx"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_conflint"))
        .args(["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "never"])
        .current_dir(d)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut err, &mut first).unwrap();
    assert!(first.starts_with("conflint: another conflint --fix is working on nginx; waiting for it to finish"), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "did not wait");
    assert_eq!(std::fs::read_to_string(d.join("nginx/sites/a.conf")).unwrap(), site("\n", true), "wrote while the tree was locked");
    drop(held);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(std::fs::read_to_string(d.join("nginx/sites/a.conf")).unwrap().contains("300s;"));

    // Run for real, side by side: each fix is applied once. PHP-FPM's missing
    // pm.max_requests is an inserted line, so a second application would show.
    for _ in 0..4 {
        let dir = tree(&[("php/www.conf", "[www]\nlisten = /run/php/x.sock\npm = static\npm.max_children = 10\n".into())]);
        let runs: Vec<_> = (0..2).map(|_| Command::new(env!("CARGO_BIN_EXE_conflint")).args(["check", "php", "--fix", "--unsafe-fixes", "--validate", "never", "--select", "FPM103"]).current_dir(dir.path()).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap()).collect();
        let outs: Vec<String> = runs.into_iter().map(|c| String::from_utf8_lossy(&c.wait_with_output().unwrap().stderr).into_owned()).collect();
        let pool = std::fs::read_to_string(dir.path().join("php/www.conf")).unwrap();
        assert_eq!(pool.matches("pm.max_requests").count(), 1, "{pool}\n{outs:?}");
        assert_eq!(outs.iter().filter(|o| o.contains("Fixed 1 problem")).count(), 1, "{outs:?}");
    }
}

/// A file with several names (hard links) is fixed through the name conflint read: every
/// name sees the fix (the inode is kept, as a symlink's target is), and its mode with it.
#[test]
fn hard_links_are_written_through() {
    let dir = tree(&[("nginx/sites/a.conf", site("\n", true))]);
    let d = dir.path();
    let outside = tempfile::tempdir().unwrap();
    let other = outside.path().join("a-link.conf");
    std::fs::hard_link(d.join("nginx/sites/a.conf"), &other).unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o640)).unwrap();
    let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let before = inode(&other);
    let o = conflint(d, &["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(inode(&d.join("nginx/sites/a.conf")), before, "the link was split");
    assert!(std::fs::read_to_string(&other).unwrap().contains("300s;"));
    assert_eq!(std::fs::metadata(&other).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(std::fs::read_dir(d.join("nginx/sites")).unwrap().count(), 1, "temp files left");

    // Both names in the linted tree: one file, written once.
    let dir = tree(&[("nginx/sites/a.conf", site("\n", true))]);
    let d = dir.path();
    std::fs::hard_link(d.join("nginx/sites/a.conf"), d.join("nginx/sites/b.conf")).unwrap();
    let o = conflint(d, &["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(inode(&d.join("nginx/sites/a.conf")), inode(&d.join("nginx/sites/b.conf")));
    assert_eq!(std::fs::read_to_string(d.join("nginx/sites/b.conf")).unwrap(), site("\n", true).replace("30s;", "300s;"));
}
