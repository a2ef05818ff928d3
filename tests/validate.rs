//! Staged validation with the real `nginx -t` and `php-fpm8.2 -t`: the live server is
//! never touched, unsafe configs are refused before anything runs, and a failure writes
//! nothing. Tests needing the binaries skip (loudly) when they are absent, and fail instead
//! when CONFLINT_REQUIRE_VALIDATORS=1.

use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::live_state;

fn have(binary: &str) -> bool {
    let found = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].iter().any(|d| Path::new(d).join(binary).exists());
    if !found {
        assert!(std::env::var("CONFLINT_REQUIRE_VALIDATORS").as_deref() != Ok("1"), "{binary} is required (CONFLINT_REQUIRE_VALIDATORS=1) but not installed");
        eprintln!("SKIPPED: {binary} is not installed; set CONFLINT_REQUIRE_VALIDATORS=1 to make this a failure");
    }
    found
}

/// Skip a test whose setting is missing here; in CI (CONFLINT_REQUIRE_VALIDATORS=1, as root,
/// with the user `linter` and its /etc/subuid range) that is a failure instead.
fn skip(why: &str) {
    assert!(std::env::var("CONFLINT_REQUIRE_VALIDATORS").as_deref() != Ok("1"), "cannot run (CONFLINT_REQUIRE_VALIDATORS=1): {why}");
    eprintln!("SKIPPED: {why}");
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn conflint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A Debian-shaped tree: absolute includes, an absolute symlink in sites-enabled, live
/// pid/log paths, a certificate that does not exist here, an upstream host name, and
/// a `user` whose chown of the temp directories would show on the live system. The site
/// has one fixable finding (NGX101).
fn debian_tree(site_extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let n = dir.path().join("nginx");
    write(&n.join("nginx.conf"), "user www-data;\nworker_processes 1;\npid /run/nginx.pid;\nerror_log /var/log/nginx/error.log;\ninclude /etc/nginx/modules-enabled/*.conf;\nevents { worker_connections 2048; }\nhttp {\n    access_log /var/log/nginx/access.log;\n    include /etc/nginx/sites-enabled/*;\n}\n");
    write(
        &n.join("sites-available/shop"),
        &format!(
            "upstream php {{ server app.internal.example:9000; }}\nserver {{\n    listen 80;\n    listen 443 ssl;\n    ssl_certificate /etc/letsencrypt/live/shop.example.com/fullchain.pem;\n    ssl_certificate_key /etc/letsencrypt/live/shop.example.com/privkey.pem;\n{site_extra}    location ~ \\.php$ {{\n        fastcgi_pass php;\n        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n        fastcgi_read_timeout 30s;\n    }}\n}}\n"
        ),
    );
    std::fs::create_dir_all(n.join("sites-enabled")).unwrap();
    std::fs::create_dir_all(n.join("modules-enabled")).unwrap();
    symlink("/etc/nginx/sites-available/shop", n.join("sites-enabled/shop")).unwrap();
    dir
}

#[test]
fn namespace_validation_leaves_the_live_server_untouched() {
    if !have("nginx") {
        return;
    }
    if !is_root() {
        skip("the live-state comparison is meaningful as root (where nginx -t would chown /var/lib/nginx)");
        return;
    }
    let tree = debian_tree("");
    let before = live_state();
    let o = conflint(tree.path(), &["check", "nginx", "--select", "NGX101", "--fix", "--unsafe-fixes", "--validate", "always"]);
    let after = live_state();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(before, after, "the live system changed:\n{}", text(&o));
    let out = text(&o);
    assert!(out.contains("validated nginx/nginx.conf with") && out.contains("in a private namespace"), "{out}");
    assert!(out.contains("throw-away certificate for /etc/letsencrypt/live/shop.example.com/fullchain.pem"), "{out}");
    assert!(out.contains("app.internal.example"), "{out}");
    assert!(out.contains("Fixed 1 problem in 1 file"), "{out}");
    let site = std::fs::read_to_string(tree.path().join("nginx/sites-available/shop")).unwrap();
    assert!(site.contains("fastcgi_read_timeout 300s;"), "{site}");
}

/// As root without a namespace (a log under a top-level directory this machine lacks cannot be
/// confined, so the rewritten copy runs) nginx -t would chown the live temp directories and
/// open the live pid and logs, if the copy did not point them all into the stage.
#[test]
fn a_rewritten_copy_run_as_root_leaves_the_live_server_untouched() {
    if !have("nginx") {
        return;
    }
    if !is_root() {
        skip("the live-state comparison is meaningful as root");
        return;
    }
    let tree = debian_tree("    access_log /conflint-test-absent/shop.log;\n");
    let before = live_state();
    let o = conflint(tree.path(), &["check", "nginx", "--select", "NGX101", "--fix", "--unsafe-fixes", "--validate", "always"]);
    let out = text(&o);
    assert_eq!(live_state(), before, "the live system changed:\n{out}");
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("on a rewritten copy (no namespace: cannot confine writes to /conflint-test-absent"), "{out}");
    assert!(!Path::new("/conflint-test-absent").exists());
    assert!(std::fs::read_to_string(tree.path().join("nginx/sites-available/shop")).unwrap().contains("300s;"));
}

/// An error no fix addresses does not block the fixes: the tree is validated before any
/// fix too, the error is named as one it already had, and the fixes are written.
#[test]
fn an_error_the_tree_already_has_is_named_and_the_fixes_are_still_written() {
    if !have("nginx") {
        return;
    }
    let tree = debian_tree("    proxy_buffer_size 1x;\n");
    let diff = String::from_utf8_lossy(&conflint(tree.path(), &["check", "nginx", "--unsafe-fixes", "--diff"]).stdout).into_owned();
    assert!(diff.contains("+++ b/nginx/nginx.conf") && diff.contains("+++ b/nginx/sites-available/shop"), "{diff}");
    let o = conflint(tree.path(), &["check", "nginx", "--fix", "--unsafe-fixes"]);
    let out = text(&o);
    // The tree still does not load: exit 1, and the error is joined to conflint's own finding.
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("nginx -t already fails before any fix: \"proxy_buffer_size\" directive invalid value in nginx/sites-enabled/shop:7 (conflint: NGX005 at nginx/sites-available/shop:7)\n"), "{out}");
    assert!(out.contains("the fixes were validated with nginx/sites-available/shop:7 left out of the staged copy"), "{out}");
    assert!(out.contains("Fixed 2 problems in 2 files"), "{out}");
    assert!(!out.contains("All checks passed"), "{out}");
    assert!(!out.contains("conflint-stage-"), "stage paths leak into the message: {out}");
    let site = std::fs::read_to_string(tree.path().join("nginx/sites-available/shop")).unwrap();
    assert!(site.contains("fastcgi_read_timeout 300s;") && site.contains("proxy_buffer_size 1x;"), "{site}");
}

#[test]
fn unsafe_configs_are_refused_before_anything_runs_and_nothing_outside_is_printed() {
    type Breaker<'a> = (&'a str, &'a dyn Fn(&Path));
    let cases: [Breaker; 3] = [
        ("load_module", &|n: &Path| {
            let conf = std::fs::read_to_string(n.join("nginx.conf")).unwrap();
            std::fs::write(n.join("nginx.conf"), format!("load_module ./evil.so;\n{conf}")).unwrap();
        }),
        ("include", &|n: &Path| {
            let conf = std::fs::read_to_string(n.join("nginx.conf")).unwrap();
            std::fs::write(n.join("nginx.conf"), conf.replace("http {\n", "http {\n    include /etc/shadow;\n")).unwrap();
        }),
        ("symlink", &|n: &Path| symlink("/etc/shadow", n.join("sites-enabled/evil")).unwrap()),
    ];
    for (what, break_it) in cases {
        let tree = debian_tree("");
        let n = tree.path().join("nginx");
        break_it(&n);
        let site = n.join("sites-available/shop");
        let before = std::fs::read(&site).unwrap();
        let o = conflint(tree.path(), &["check", "nginx", "--fix", "--unsafe-fixes", "--nginx", "/bin/false-nginx-must-not-run"]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {out}");
        assert!(out.contains("validation refused"), "{what}: {out}");
        assert!(out.contains("CFL003") || out.contains("CFL002"), "{what}: {out}");
        assert!(!out.contains("root:") && !out.contains("NOT VALIDATED"), "{what}: {out}");
        assert_eq!(std::fs::read(&site).unwrap(), before, "{what}");
    }
}

/// `nobody` has no /etc/subuid range, so `unshare --map-auto` fails and the rewritten copy
/// is checked. nginx -t binds and listens on every `listen` address (measured: bind() and
/// listen() on 0.0.0.0:80 as root, EACCES below 1024 as a user); the copy listens on unix
/// sockets in the stage instead, so `listen 80;` is checked as a user and nothing listens on
/// the host's network.
#[test]
fn without_namespaces_a_rewritten_copy_is_checked() {
    if !have("nginx") {
        return;
    }
    if !is_root() || !Path::new("/usr/bin/setpriv").exists() {
        skip("needs root and setpriv to run as a user without subordinate ids");
        return;
    }
    let tree = debian_tree("");
    let n = tree.path().join("nginx");
    let site = n.join("sites-available/shop");
    let conf = std::fs::read_to_string(n.join("nginx.conf")).unwrap().replace("user www-data;\n", "");
    std::fs::write(n.join("nginx.conf"), conf).unwrap();
    assert!(std::fs::read_to_string(&site).unwrap().contains("listen 80;"));
    Command::new("chown").args(["-R", "nobody:nogroup"]).arg(tree.path()).status().unwrap();
    std::fs::set_permissions(tree.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let as_nobody = || {
        let o = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp"])
            .arg(env!("CARGO_BIN_EXE_conflint"))
            .args(["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "always"])
            .current_dir(tree.path())
            .output()
            .unwrap();
        (o.status.code(), text(&o))
    };
    let before = live_state();
    let (code, out) = as_nobody();
    assert_eq!(live_state(), before);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("on a rewritten copy"), "{out}");
    assert!(std::fs::read_to_string(&site).unwrap().contains("fastcgi_read_timeout 300s;"));

    // The copy's sockets still tell addresses apart: two default servers on port 80 fail.
    let fixed = std::fs::read_to_string(&site).unwrap();
    let dup = fixed.replace("300s;", "30s;").replace("listen 80;", "listen 80 default_server;") + "server {\n    listen 0.0.0.0:80 default_server;\n}\n";
    std::fs::write(&site, &dup).unwrap();
    let (code, out) = as_nobody();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("nginx -t already fails before any fix: a duplicate default server for *:80 in nginx/sites-enabled/shop:14"), "{out}");
    assert_eq!(std::fs::read_to_string(&site).unwrap(), dup.replace("30s;", "300s;"));
}

fn fpm_tree(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("php");
    write(&f.join("php-fpm.conf"), "[global]\npid = /run/php/php8.2-fpm.pid\nerror_log = /var/log/php8.2-fpm.log\ninclude = /etc/php/8.2/fpm/pool.d/*.conf\n");
    write(
        &f.join("pool.d/www.conf"),
        &format!("[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/php8.2-fpm.sock\npm = dynamic\npm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3\n{extra}"),
    );
    dir
}

#[test]
fn php_fpm_validation_in_the_stage() {
    if !have("php-fpm8.2") {
        return;
    }
    let tree = fpm_tree("");
    let log = std::fs::metadata("/var/log/php8.2-fpm.log").ok().map(|m| (m.mtime(), m.ctime(), m.len()));
    let o = conflint(tree.path(), &["check", "php", "--fix", "--unsafe-fixes", "--validate", "always", "--php-fpm", "/usr/sbin/php-fpm8.2"]);
    let out = text(&o);
    assert!(out.contains("validated php/php-fpm.conf with /usr/sbin/php-fpm8.2"), "{out}");
    assert!(out.contains("Fixed"), "{out}");
    assert_eq!(std::fs::metadata("/var/log/php8.2-fpm.log").ok().map(|m| (m.mtime(), m.ctime(), m.len())), log, "the live FPM log changed");

    // An error php-fpm -t reports without a line: the same error after the fixes is not
    // theirs.
    let broken = fpm_tree("pm.status_path = no-leading-slash\n");
    let pool = broken.path().join("php/pool.d/www.conf");
    let o = conflint(broken.path(), &["check", "php", "--fix", "--unsafe-fixes", "--validate", "always"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("php-fpm8.2 -t already fails before any fix: [pool www] the status path 'no-leading-slash' must start with a '/'"), "{out}");
    assert!(!out.contains("sandbox-ready"), "{out}");
    assert!(!out.contains("conflint-stage-"), "{out}");
    assert!(std::fs::read_to_string(&pool).unwrap().contains("\npm.max_requests = "), "{out}");
}

#[test]
fn user_namespace_validation_as_an_unprivileged_user() {
    if !have("nginx") {
        return;
    }
    // A user with a subordinate id range (`linter:100000:65536` in /etc/subuid), as set up
    // for rootless validation.
    let subuid = std::fs::read_to_string("/etc/subuid").unwrap_or_default();
    let user = subuid.lines().filter_map(|l| l.split(':').next()).find(|u| *u != "root").map(str::to_string);
    let Some(user) = user.filter(|_| is_root() && Path::new("/usr/bin/newuidmap").exists()) else {
        skip("needs root (to switch user), newuidmap and a user with an /etc/subuid range");
        return;
    };
    let tree = debian_tree("");
    Command::new("chown").args(["-R", &format!("{user}:")]).arg(tree.path()).status().unwrap();
    std::fs::set_permissions(tree.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let before = live_state();
    let o = Command::new("setpriv")
        .args([&format!("--reuid={user}"), &format!("--regid={user}"), "--clear-groups", "env", "HOME=/tmp"])
        .arg(env!("CARGO_BIN_EXE_conflint"))
        .args(["check", "nginx", "--fix", "--unsafe-fixes", "--validate", "always"])
        .current_dir(tree.path())
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(live_state(), before, "{out}");
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("in a private namespace"), "{out}");
    assert!(std::fs::read_to_string(tree.path().join("nginx/sites-available/shop")).unwrap().contains("300s;"));
}

/// The processes whose command line contains `marker`, once none is left or `bound` has
/// passed. conflint kills the validator's whole process group and reaps the validator, but
/// a killed grandchild (the script's `sleep`) is torn down by the kernel and reaped by init
/// on their own time, which under load can be after conflint has exited; its zombie has an
/// empty command line and does not count.
fn processes_left(marker: &str, bound: std::time::Duration) -> Vec<String> {
    let end = std::time::Instant::now() + bound;
    loop {
        let found = processes_with(marker);
        if found.is_empty() || std::time::Instant::now() >= end {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) {
            found.push(format!("{}: {cmdline}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

#[test]
fn a_validator_that_hangs_is_stopped_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    // Unique per run, so the leftover check sees only this test's processes; 20 s, so that
    // without a limit the test fails on time instead of hanging.
    let marker = format!("20.0{}", std::process::id());
    // An nginx that answers -V but hangs on -t; a php-fpm that hangs on everything (-i).
    let fake_nginx = dir.path().join("fake-nginx");
    write(&fake_nginx, &format!("#!/bin/sh\n[ \"$1\" = -V ] && exit 0\nsleep {marker}\n"));
    let fake_fpm = dir.path().join("fake-php-fpm");
    write(&fake_fpm, &format!("#!/bin/sh\nsleep {marker}\n"));
    for f in [&fake_nginx, &fake_fpm] {
        std::fs::set_permissions(f, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let (nginx, fpm) = (debian_tree(""), fpm_tree(""));
    let cases = [(&nginx, "nginx/sites-available/shop", "--nginx", &fake_nginx, "-t (nginx/nginx.conf)"), (&fpm, "php/pool.d/www.conf", "--php-fpm", &fake_fpm, "-i")];
    for (tree, file, flag, fake, what) in cases {
        let path = tree.path().join(file);
        let before = std::fs::read(&path).unwrap();
        let start = std::time::Instant::now();
        let o = Command::new(env!("CARGO_BIN_EXE_conflint"))
            .args(["check", "--fix", "--unsafe-fixes", flag])
            .arg(fake)
            .current_dir(tree.path())
            .env("NO_COLOR", "1")
            .env("CONFLINT_VALIDATE_TIMEOUT", "1")
            .output()
            .unwrap();
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "took {:?}: {out}", start.elapsed());
        assert!(out.contains(&format!("{} {what} did not finish within 1s and was stopped (CONFLINT_VALIDATE_TIMEOUT sets the limit in seconds)", fake.display())), "{out}");
        assert!(out.contains("nothing was written"), "{out}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "{file} changed");
        assert_eq!(processes_left(&marker, std::time::Duration::from_secs(10)), Vec::<String>::new(), "the hung validator is still running");
    }

    let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(["check", "--fix", "--unsafe-fixes"]).current_dir(nginx.path()).env("CONFLINT_VALIDATE_TIMEOUT", "soon").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("CONFLINT_VALIDATE_TIMEOUT=soon is not a number of seconds greater than 0"), "{}", text(&o));
}

#[test]
fn compose_service_names_resolve_to_the_stand_in() {
    if !have("nginx") {
        return;
    }
    // Docker Compose style: the service `relay` is both the upstream's name and its host,
    // and the server listens on its own service name.
    let conf = "events {}\nhttp {\n    upstream relay { server relay:3000; }\n    server {\n        listen web:8080;\n        location / { proxy_pass http://relay; }\n        location ~ \\.php$ {\n            fastcgi_pass 127.0.0.1:9000;\n            fastcgi_read_timeout 30s;\n        }\n    }\n}\n";
    let mut runs = vec![("namespace", Vec::<String>::new())];
    if is_root() && Path::new("/usr/bin/setpriv").exists() {
        // `nobody` has no subordinate ids: the rewritten copy.
        runs.push(("rewritten copy", ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp"].map(String::from).to_vec()));
    }
    for (how, prefix) in runs {
        let tree = tempfile::tempdir().unwrap();
        write(&tree.path().join("nginx/nginx.conf"), conf);
        std::fs::set_permissions(tree.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        std::fs::set_permissions(tree.path().join("nginx/nginx.conf"), std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
        std::fs::set_permissions(tree.path().join("nginx"), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let mut cmd = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(env!("CARGO_BIN_EXE_conflint"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_conflint")),
        };
        let o = cmd.args(["check", "nginx", "--select", "NGX101", "--fix", "--unsafe-fixes", "--validate", "always"]).current_dir(tree.path()).env("NO_COLOR", "1").output().unwrap();
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{how}: {out}");
        assert!(out.contains(&format!("on a {how}")) || (how == "namespace" && out.contains("in a private namespace")), "{how}: {out}");
        if how == "namespace" {
            assert!(out.contains("host names resolved to 127.0.0.1: relay, web"), "{out}");
        }
        assert!(std::fs::read_to_string(tree.path().join("nginx/nginx.conf")).unwrap().contains("fastcgi_read_timeout 300s;"), "{how}");
    }
}

/// A tree whose server names its files outside the tree with `ssl_lines`; a PHP location
/// gives it a fix (NGX101).
fn tls_tree(ssl_lines: &str) -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    let conf = format!("events {{}}\nhttp {{\n    server {{\n        listen 443 ssl;\n{ssl_lines}        location ~ \\.php$ {{\n            fastcgi_pass 127.0.0.1:9000;\n            fastcgi_read_timeout 30s;\n        }}\n    }}\n}}\n");
    write(&tree.path().join("nginx/nginx.conf"), &conf);
    for p in [tree.path(), &tree.path().join("nginx")] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    }
    std::fs::set_permissions(tree.path().join("nginx/nginx.conf"), std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    tree
}

/// Runs `check --fix --validate always` in the namespace and, as root, as `nobody` (no
/// subordinate ids: the rewritten copy).
fn fix_both_ways(tree: &Path) -> Vec<(&'static str, Option<i32>, String)> {
    let mut runs = vec![("namespace", Vec::<String>::new())];
    if is_root() && Path::new("/usr/bin/setpriv").exists() {
        runs.push(("rewritten copy", ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp"].map(String::from).to_vec()));
    }
    let conf = tree.join("nginx/nginx.conf");
    let original = std::fs::read(&conf).unwrap();
    let mut out = Vec::new();
    for (how, prefix) in runs {
        std::fs::write(&conf, &original).unwrap();
        let mut cmd = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(env!("CARGO_BIN_EXE_conflint"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_conflint")),
        };
        let o = cmd.args(["check", "nginx", "--select", "NGX101", "--fix", "--unsafe-fixes", "--validate", "always"]).current_dir(tree).env("NO_COLOR", "1").output().unwrap();
        out.push((how, o.status.code(), text(&o)));
    }
    out
}

/// Every file `nginx -t` loads from outside the tree gets a throw-away stand-in of its
/// kind (the real file is never read: /etc/shadow is no certificate, and validation
/// passes); a certificate and key in one file get a stand-in holding both.
#[test]
fn every_file_nginx_loads_from_outside_the_tree_gets_a_stand_in() {
    if !have("nginx") {
        return;
    }
    let outside = "/etc/conflint-test-absent";
    assert!(!Path::new(outside).exists());
    let lines = format!(
        "        ssl_certificate /etc/shadow;\n        ssl_certificate_key /etc/shadow;\n        ssl_dhparam {outside}/dh.pem;\n        ssl_client_certificate {outside}/ca.pem;\n        ssl_verify_client optional;\n        ssl_trusted_certificate {outside}/chain.pem;\n        ssl_crl {outside}/revoked.crl;\n        ssl_password_file {outside}/pass;\n        ssl_session_ticket_key {outside}/ticket.key;\n        ssl_stapling on;\n        ssl_stapling_file {outside}/ocsp.der;\n        proxy_ssl_certificate {outside}/client.pem;\n        proxy_ssl_certificate_key {outside}/client.pem;\n        proxy_ssl_trusted_certificate {outside}/upstream-ca.pem;\n        proxy_ssl_crl {outside}/upstream.crl;\n        auth_basic on;\n        auth_basic_user_file /etc/shadow;\n"
    );
    let tree = tls_tree(&lines);
    for (how, code, out) in fix_both_ways(tree.path()) {
        assert_eq!(code, Some(0), "{how}: {out}");
        assert!(out.contains("stand-in: throw-away certificate and key for /etc/shadow (not read)"), "{how}: {out}");
        for (what, file) in [("dh parameters", "dh.pem"), ("certificate", "ca.pem"), ("certificate", "chain.pem"), ("revocation list", "revoked.crl"), ("password", "pass"), ("ticket key", "ticket.key"), ("ocsp response", "ocsp.der"), ("certificate and key", "client.pem"), ("revocation list", "upstream.crl")] {
            assert!(out.contains(&format!("stand-in: throw-away {what} for {outside}/{file} (not read)")), "{how}: {what} {file}: {out}");
        }
        // nginx reads the auth_basic user file per request, not while it checks the
        // configuration: no stand-in is needed for it.
        assert_eq!(out.matches("/etc/shadow").count(), 1, "{how}: {out}");
        assert!(!Path::new(outside).exists(), "{how}");
        assert!(std::fs::read_to_string(tree.path().join("nginx/nginx.conf")).unwrap().contains("fastcgi_read_timeout 300s;"), "{how}");
    }
}

/// Directives that would make nginx -t read a file named in their arguments, or load an
/// OpenSSL engine, are refused before anything runs.
#[test]
fn openssl_commands_and_engines_that_read_or_load_files_are_refused() {
    for (line, why) in [
        ("ssl_conf_command ChainCAFile /etc/shadow;", "ssl_conf_command ChainCAFile makes nginx -t read /etc/shadow"),
        ("proxy_ssl_conf_command VerifyCAPath /etc;", "proxy_ssl_conf_command VerifyCAPath makes nginx -t read /etc"),
        ("ssl_certificate_key engine:pkcs11:key;", "engine:pkcs11:key loads an OpenSSL engine"),
    ] {
        let tree = tls_tree(&format!("        ssl_certificate /etc/shadow;\n        {line}\n"));
        let o = conflint(tree.path(), &["check", "nginx", "--select", "NGX101", "--fix", "--unsafe-fixes", "--nginx", "/bin/false-nginx-must-not-run"]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{line}: {out}");
        assert!(out.contains("validation refused") && out.contains("CFL003") && out.contains(why), "{line}: {out}");
    }
    let tree = tempfile::tempdir().unwrap();
    write(&tree.path().join("nginx/nginx.conf"), "ssl_engine pkcs11;\nevents {}\nhttp {\n    server {\n        location ~ \\.php$ {\n            fastcgi_pass 127.0.0.1:9000;\n            fastcgi_read_timeout 30s;\n        }\n    }\n}\n");
    let o = conflint(tree.path(), &["check", "nginx", "--select", "NGX101", "--fix", "--unsafe-fixes", "--nginx", "/bin/false-nginx-must-not-run"]);
    assert!(text(&o).contains("ssl_engine pkcs11 loads an OpenSSL engine"), "{}", text(&o));
    // Harmless commands are not refused.
    let tree = tls_tree("        ssl_certificate /etc/shadow;\n        ssl_certificate_key /etc/shadow;\n        ssl_conf_command Options PrioritizeChaCha;\n");
    let o = conflint(tree.path(), &["check", "nginx", "--select", "NGX101", "--fix", "--unsafe-fixes", "--validate", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
