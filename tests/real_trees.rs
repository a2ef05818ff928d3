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

/// A PHP site for the stock tree: a PHP location with a 30s read timeout (NGX101, fixed to
/// 300s), and `extra` lines in its server block.
fn api_site(extra: &str) -> String {
    format!(
        "server {{\n    listen 8080;\n    server_name api.example.com;\n    root /var/www/api;\n{extra}    location ~ \\.php$ {{\n        include snippets/fastcgi-php.conf;\n        fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n        fastcgi_read_timeout 30s;\n    }}\n}}\n"
    )
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

/// Errors no fix addresses (an include of a missing file, a PHP-FPM key that is no
/// directive at all) no longer block the other fixes: both validators already
/// fail before any fix, they say so with conflint's own finding there, and the fixes are
/// validated past those errors and written.
#[test]
fn a_stock_tree_that_already_fails_still_gets_its_other_fixes() {
    let Some(tree) = stock_tree() else { return };
    let d = tree.path();
    let site = api_site("    include snippets/missing.conf;\n");
    std::fs::write(d.join("nginx/sites-enabled/api.conf"), &site).unwrap();
    let pool = d.join("php/8.2/fpm/pool.d/www.conf");
    let www = read(d, "php/8.2/fpm/pool.d/www.conf").replace("pm.max_children = 5\n", "pm.max_children = 5\npm.frobnicate = 3\n");
    std::fs::write(&pool, &www).unwrap();
    let (inc, typo) = (line_of(&site, "missing.conf"), line_of(&www, "frobnicate"));
    let o = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("nginx -t already fails before any fix: open() \"nginx/snippets/missing.conf\" failed (2: No such file or directory) in nginx/sites-enabled/api.conf:{inc} (conflint: NGX007 at nginx/sites-enabled/api.conf:{inc})\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!("php-fpm8.2 -t already fails before any fix: [php/8.2/fpm/pool.d/www.conf:{typo}] unknown entry 'pm.frobnicate' (conflint: FPM002 at php/8.2/fpm/pool.d/www.conf:{typo})\n")),
        "{out}"
    );
    assert!(out.contains(&format!("the fixes were validated with nginx/sites-enabled/api.conf:{inc}, php/8.2/fpm/pool.d/www.conf:{typo} left out of the staged copy")), "{out}");
    assert!(out.contains("Fixed "), "{out}");
    assert!(read(d, "nginx/sites-enabled/api.conf").contains("fastcgi_read_timeout 300s;"), "{out}");
    assert!(read(d, "php/8.2/fpm/pool.d/www.conf").contains("\npm.max_requests = "), "{out}");
    // The remaining findings, as a plain check shows them.
    assert!(out.contains("NGX007") && out.contains("FPM002"), "{out}");
    let state = tree_state(d);
    let again = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(!text(&again).contains("Fixed"), "{}", text(&again));
    assert_eq!(tree_state(d), state, "a second --fix changed the tree");
}

/// A house rule whose fix nginx refuses (`fastcgi_buffers 1 4k;`: nginx wants at least 2):
/// the fix set is written without it, NGX101's fix in the same file included, and the
/// refused fix is named with nginx's words.
#[test]
fn a_fix_the_validator_refuses_is_left_out_and_named() {
    let Some(tree) = stock_tree() else { return };
    let d = tree.path();
    let rules = d.join("house-rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("ACME010.toml"),
        r#"code = "ACME010"
name = "fastcgi-buffers-explicit"
severity = "warning"
family = "ACME house rules"
summary = "PHP locations say how many FastCGI buffers they use."
fix = "safe"

[options.fix-value]
type = "string"
default = "1 4k"
doc = "What the fix writes."

[check]
where = "location"
having = "fastcgi_pass"
value = "fastcgi_buffers"
when = "unset"
message = "{scope} does not set {directive}"
fix-set = "fix-value"

[docs]
what = "PHP locations without fastcgi_buffers."
why = "House style."
log = "an upstream response is buffered to a temporary file"
status = "200, slowly"
example = "location ~ \\.php$ { fastcgi_pass php; }"
fix = "Set it."
"#,
    )
    .unwrap();
    let site = api_site("");
    std::fs::write(d.join("nginx/sites-enabled/api.conf"), &site).unwrap();
    let o = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix", "--rules-dir", "house-rules"]);
    let out = text(&o);
    let at = line_of(&site, "fastcgi_pass");
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        // nginx checks the count when it merges the http block: it names the end of it.
        out.contains(&format!("left out the ACME010 fix at nginx/sites-enabled/api.conf:{at} (add `fastcgi_buffers 1 4k;`): /usr/sbin/nginx -t (nginx/nginx.conf) refuses it: there must be at least 2 \"fastcgi_buffers\" in nginx/nginx.conf:")),
        "{out}"
    );
    assert!(!out.contains("already fails"), "{out}");
    let fixed = read(d, "nginx/sites-enabled/api.conf");
    assert!(fixed.contains("fastcgi_read_timeout 300s;") && !fixed.contains("fastcgi_buffers"), "{fixed}");
    assert!(read(d, "php/8.2/fpm/pool.d/www.conf").contains("\npm.max_requests = "), "{out}");
    assert!(out.contains("validated nginx/nginx.conf with /usr/sbin/nginx in a private namespace"), "{out}");
    // The refused fix's finding remains.
    assert!(out.contains("ACME010"), "{out}");
}
