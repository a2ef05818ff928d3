//! `check --fix` with validation on the trees the Debian packages install: copies of the
//! machine's `/etc/nginx` and `/etc/php/8.2` (installed here and in CI), never the live
//! ones. Hand-written minimal trees missed what the distribution's own files need
//! (opcache's lock file in /tmp, conf.d links into mods-available).

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{live_state, tree_state};

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
        common::require_or_skip("CONFLINT_REQUIRE_VALIDATORS", "the nginx and php8.2-fpm packages are not installed");
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

/// The stock tree as the packages install it: Debian's php.ini and conf.d load opcache,
/// whose lock file goes to /tmp; the staged php-fpm -t must have a private writable one.
#[test]
fn the_stock_debian_tree_is_fixed_and_validated() {
    let Some(tree) = stock_tree() else { return };
    let d = tree.path();
    let live = live_state();
    // Every fix the stock tree calls for changes a runtime value (FPM103, FPM106, FPM201):
    // plain `--fix` writes nothing and says what `--unsafe-fixes` would do.
    let before = tree_state(d);
    let o = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix", "--validate", "always"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("3 more fixes available with `--fix --unsafe-fixes`."), "{out}");
    assert_eq!(tree_state(d), before, "plain --fix wrote an unsafe fix:\n{out}");
    let o = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix", "--unsafe-fixes", "--validate", "always"]);
    let out = text(&o);
    // With opcache on, as Debian ships it: the live pid files, logs, temp directories and
    // sockets are as they were.
    assert_eq!(live_state(), live, "the live system changed:\n{out}");
    // FPM101 (no fix without the host's memory) remains: a warning, exit 1.
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("validated php/8.2/fpm/php-fpm.conf with /usr/sbin/php-fpm8.2 in a private namespace"), "{out}");
    assert!(out.contains("Fixed 3 problems in 2 files"), "{out}");
    assert!(read(d, "php/8.2/fpm/pool.d/www.conf").contains("\npm.max_requests = "), "{out}");
    let state = tree_state(d);
    let again = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix", "--unsafe-fixes", "--validate", "always"]);
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
    let o = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix", "--unsafe-fixes"]);
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
    let again = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix", "--unsafe-fixes"]);
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
    let o = conflint(d, &["check", "nginx", "php/8.2/fpm", "--fix", "--unsafe-fixes", "--rules-dir", "house-rules"]);
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

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Names created in a directory while `run` runs, seen through inotify on `dir`.
fn created_in(dir: &str, run: impl FnOnce()) -> Vec<String> {
    let path = std::ffi::CString::new(dir).unwrap();
    // SAFETY: plain system calls on a descriptor this function owns; the buffer outlives them.
    unsafe {
        let fd = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
        assert!(fd >= 0, "inotify_init1");
        assert!(libc::inotify_add_watch(fd, path.as_ptr(), libc::IN_CREATE | libc::IN_MOVED_TO) >= 0, "inotify_add_watch {dir}");
        run();
        let mut names = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
            if n <= 0 {
                break;
            }
            let mut at = 0;
            while at < n as usize {
                let event = &*(buf.as_ptr().add(at) as *const libc::inotify_event);
                let name = &buf[at + std::mem::size_of::<libc::inotify_event>()..][..event.len as usize];
                // (The end of the watch, when the namespace goes, has no name.)
                if event.mask & (libc::IN_CREATE | libc::IN_MOVED_TO) != 0 {
                    names.push(String::from_utf8_lossy(name).trim_end_matches('\0').to_string());
                }
                at += std::mem::size_of::<libc::inotify_event>() + event.len as usize;
            }
        }
        libc::close(fd);
        names
    }
}

/// Nothing conflint runs outside the sandbox writes on the host: `php-fpm -i` (run to
/// learn the build) used to load the host's php.ini, whose opcache creates and removes
/// `/tmp/.ZendSem.*`. conflint runs here with a /tmp of its own (a private tmpfs, so other
/// users of this machine cannot interfere), watched through /proc/PID/root: what the
/// sandboxed validators write goes to their overlays, not to it, so the only names that
/// may appear in it are conflint's own stages.
#[test]
fn nothing_conflint_runs_outside_the_sandbox_writes_to_the_hosts_tmp() {
    if !is_root() {
        common::require_or_skip("CONFLINT_REQUIRE_VALIDATORS", "a private /tmp needs root");
        return;
    }
    // The test hides the host's /tmp behind a tmpfs: the binary and the tree must live elsewhere.
    assert!(!Path::new(env!("CARGO_TARGET_TMPDIR")).starts_with("/tmp"), "this test mounts a tmpfs over /tmp: run it from a checkout outside /tmp");
    let Some(stock) = stock_tree() else { return };
    // The tree must be visible under the private /tmp: keep it in the target directory.
    let tree = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::rename(stock.path().join("nginx"), tree.path().join("nginx")).unwrap();
    std::fs::rename(stock.path().join("php"), tree.path().join("php")).unwrap();
    let mut child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs conflint-test /tmp && echo ready && read go && exec \"$@\"", "sh"])
        .arg(env!("CARGO_BIN_EXE_conflint"))
        .args(["check", "nginx", "php/8.2/fpm", "--fix", "--unsafe-fixes", "--validate", "always"])
        .current_dir(tree.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut ready).unwrap();
    assert_eq!(ready, "ready\n");
    let mut stderr = String::new();
    let created = created_in(&format!("/proc/{}/root/tmp", child.id()), || {
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"go\n").unwrap();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        child.wait().unwrap();
    });
    assert!(stderr.contains("validated php/8.2/fpm/php-fpm.conf with /usr/sbin/php-fpm8.2 in a private namespace"), "{stderr}");
    assert!(created.iter().any(|n| n.starts_with("conflint-stage-")), "the watch saw nothing: {created:?}");
    let foreign: Vec<&String> = created.iter().filter(|n| !n.starts_with("conflint-stage-")).collect();
    assert!(foreign.is_empty(), "written to the host's /tmp by something outside the sandbox: {foreign:?}\n{stderr}");
}

/// Fixes that the validator refuses today, found by this test: each is a defect of the
/// rule's fix (a fix must never stop the server from starting), and the test asserts that
/// validated `--fix` leaves it out and names it. None now: NGX302's fix used to repeat a
/// `limit_req` for a zone the location already limits (`"limit_req" directive is
/// duplicate`).
const REFUSED_TODAY: &[&str] = &[];

/// Every rule with a fix, planted in the stock tree; `--fix --unsafe-fixes` validated
/// with the real binaries writes them all (but the ones in [`REFUSED_TODAY`], named with
/// nginx's words), both validators pass the result, and a second run changes nothing.
#[test]
fn every_fixable_mistake_planted_in_the_stock_tree_is_fixed_and_validated() {
    let Some(tree) = stock_tree() else { return };
    let d = tree.path();
    let edit = |file: &str, from: &str, to: &str| {
        let text = read(d, file);
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(d.join(file), text.replacen(from, to, 1)).unwrap();
    };
    // NGX401: 4096 connections need more than the default 1024 files.
    edit("nginx/nginx.conf", "worker_connections 768;", "worker_connections 4096;");
    std::fs::write(
        d.join("nginx/sites-available/planted"),
        r#"limit_req_zone $binary_remote_addr zone=rl:10m rate=10r/s;
limit_req_zone $binary_remote_addr zone=one:16k rate=600r/h;
upstream api {
    server 127.0.0.1:8080;
    keepalive 16;
}
upstream php-backend {
    server unix:/run/php/php8.2-fpm.sock;
}
server {
    listen 8081;
    server_name planted.example;
    root /var/www/planted;
    proxy_set_header Host $host;
    limit_req zone=rl;
    location /api/ {
        proxy_pass http://api;
        proxy_read_timeout 20s;
        proxy_connect_timeout 300s;
    }
    location /ws/ {
        proxy_set_header Upgrade $http_upgrade;
        proxy_pass http://127.0.0.1:8080;
    }
    location /burst/ {
        limit_req zone=rl burst=5 nodelay;
    }
    location /one/ {
        limit_req zone=one burst=5;
    }
    location ~ \.php$ {
        include /etc/nginx/fastcgi_params;
        fastcgi_pass php_backend;
        fastcgi_read_timeout 30s; # conflint: ignore[NGX103] nothing to suppress
    }
    location = /local.php {
        include fastcgi.conf;
        fastcgi_pass localhost:9000;
    }
    location = /app.php {
        include fastcgi.conf;
        fastcgi_pass unix:/run/php/app.sock;
    }
}
"#,
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/nginx/sites-available/planted", d.join("nginx/sites-enabled/planted")).unwrap();
    let www = "php/8.2/fpm/pool.d/www.conf";
    edit(www, "\npm.max_spare_servers = 3", "\npm.max_spare_servers = 10");
    edit(www, "\nlisten.owner = www-data", "\n;listen.owner = www-data");
    edit(www, "\nlisten.group = www-data", "\n;listen.group = www-data");
    // `pm.max_request` is a slip for pm.max_requests: FPM002 renames it, and the FPM103 it
    // would cause folds into that finding.
    let pool = read(d, www) + "# five workers is what the distribution ships\npm.max_request = 500\nrequest_terminate_timeout = 500ms\nlisten.backlog = 128\n";
    std::fs::write(d.join(www), pool).unwrap();
    std::fs::write(
        d.join("php/8.2/fpm/pool.d/tcp.conf"),
        "[tcp]\nuser = www-data\ngroup = www-data\nlisten = 127.0.0.1:9000\nlisten.allowed_clients = localhost\npm = static\npm.max_children = 10\npm.max_requests = 500\nrequest_terminate_timeout = 300\n",
    )
    .unwrap();
    std::fs::write(
        d.join("php/8.2/fpm/pool.d/app.conf"),
        "[app]\nuser = deploy\ngroup = deploy\nlisten = /run/php/app.sock\nlisten.owner = deploy\nlisten.group = deploy\nlisten.mode = 0660\npm = static\npm.max_children = 10\npm.max_requests = 500\n",
    )
    .unwrap();
    let planted = ["CFL001", "FPM001", "FPM002", "FPM003", "FPM005", "FPM104", "FPM106", "FPM201", "FPM202", "NGX101", "NGX102", "NGX103", "NGX110", "NGX112", "NGX201", "NGX202", "NGX203", "NGX205", "NGX301", "NGX302", "NGX401", "XFP002", "XFP003", "XFP004", "XFP006"];
    let findings = |d: &Path| -> Vec<(String, bool)> {
        let o = conflint(d, &["check", "nginx", "php/8.2/fpm", "--output-format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array().unwrap().iter().map(|f| (f["code"].as_str().unwrap().to_string(), !f["fix"].is_null())).collect()
    };
    let before = findings(d);
    for code in planted {
        assert!(before.iter().any(|(c, fix)| c == code && *fix), "{code} was not planted with a fix: {before:?}");
    }
    let live = live_state();
    let args = ["check", "nginx", "php/8.2/fpm", "--fix", "--unsafe-fixes", "--validate", "always"];
    let o = conflint(d, &args);
    let out = text(&o);
    assert_eq!(live_state(), live, "the live system changed:\n{out}");
    assert!(out.contains("validated nginx/nginx.conf with /usr/sbin/nginx in a private namespace"), "{out}");
    assert!(out.contains("validated php/8.2/fpm/php-fpm.conf with /usr/sbin/php-fpm8.2 in a private namespace"), "{out}");
    assert!(!out.contains("already fails before any fix"), "{out}");
    let left_out: Vec<&str> = out.lines().filter(|l| l.starts_with("conflint: left out the ")).collect();
    for line in &left_out {
        let code = line.trim_start_matches("conflint: left out the ").split(' ').next().unwrap();
        assert!(REFUSED_TODAY.contains(&code), "a fix newly refused: {line}\n{out}");
        assert!(line.contains("/usr/sbin/nginx -t (nginx/nginx.conf) refuses it: ") || line.contains("php-fpm8.2 -t (php/8.2/fpm/php-fpm.conf) refuses it: "), "{line}");
    }
    for code in REFUSED_TODAY {
        assert!(left_out.iter().any(|l| l.contains(&format!("the {code} fix at "))), "{code} is no longer refused: update REFUSED_TODAY\n{out}");
    }
    let after = findings(d);
    let unfixed: Vec<&String> = after.iter().filter(|(c, fix)| *fix && !REFUSED_TODAY.contains(&c.as_str())).map(|(c, _)| c).collect();
    assert!(unfixed.is_empty(), "fixes not applied: {unfixed:?}\n{out}");
    let state = tree_state(d);
    let again = conflint(d, &args);
    assert!(!text(&again).contains("Fixed"), "{}", text(&again));
    assert_eq!(tree_state(d), state, "a second --fix changed the tree");
}
