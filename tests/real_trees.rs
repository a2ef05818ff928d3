//! `check --fix` with validation on the trees the Debian packages install: copies of the
//! machine's `/etc/nginx` and `/etc/php/8.2` (installed here and in CI), never the live
//! ones. Hand-written minimal trees missed what the distribution's own files need
//! (opcache's lock file in /tmp, conf.d links into mods-available).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn conflint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A temporary directory holding `nginx/` (a copy of /etc/nginx) and `php/8.2/` (of
/// /etc/php/8.2), as `cp -a` copies them; `None` (the test skips) where the packages are
/// not installed, a failure in CI.
fn stock_tree() -> Option<tempfile::TempDir> {
    let installed = ["/etc/nginx/nginx.conf", "/etc/php/8.2/fpm/php-fpm.conf", "/usr/sbin/nginx", "/usr/sbin/php-fpm8.2"].iter().all(|p| Path::new(p).exists());
    if !installed {
        assert!(std::env::var("CONFLINT_REQUIRE_VALIDATORS").as_deref() != Ok("1"), "nginx and php8.2-fpm are required (CONFLINT_REQUIRE_VALIDATORS=1) but not installed");
        eprintln!("SKIPPED: the nginx and php8.2-fpm packages are not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("php")).unwrap();
    for (from, to) in [("/etc/nginx", "."), ("/etc/php/8.2", "php")] {
        let ok = Command::new("cp").arg("-a").arg(from).arg(dir.path().join(to)).status().unwrap().success();
        assert!(ok, "cp -a {from}");
    }
    Some(dir)
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

/// Every file of a tree with its bytes (or link target), to show that nothing changed.
fn tree_state(dir: &Path) -> Vec<(PathBuf, Vec<u8>, u32)> {
    let mut out = Vec::new();
    for e in ignore::WalkBuilder::new(dir).standard_filters(false).follow_links(false).build().flatten() {
        let m = std::fs::symlink_metadata(e.path()).unwrap();
        let bytes = if m.file_type().is_symlink() { std::fs::read_link(e.path()).unwrap().into_os_string().into_encoded_bytes() } else if m.is_file() { std::fs::read(e.path()).unwrap() } else { Vec::new() };
        out.push((e.path().to_path_buf(), bytes, m.mode()));
    }
    out.sort();
    out
}

/// The stock tree as the packages install it: Debian's php.ini and conf.d load opcache,
/// whose lock file goes to /tmp; the staged php-fpm -t must have a private writable one.
#[test]
fn the_stock_debian_tree_is_fixed_and_validated() {
    let Some(tree) = stock_tree() else { return };
    let d = tree.path();
    let o = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix", "--validate", "always"]);
    let out = text(&o);
    // FPM101 and FPM201 (unsafe fixes) remain: warnings, exit 1.
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("validated php/8.2/fpm/php-fpm.conf with /usr/sbin/php-fpm8.2 in a private namespace"), "{out}");
    assert!(out.contains("Fixed 2 problems in 2 files"), "{out}");
    assert!(read(d, "php/8.2/fpm/pool.d/www.conf").contains("\npm.max_requests = "), "{out}");
    let state = tree_state(d);
    let again = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix", "--validate", "always"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(!text(&again).contains("Fixed"), "{}", text(&again));
    assert_eq!(tree_state(d), state, "a second --fix changed the tree");
}
