//! The cross-file rules' claims, proved on real nginx and php-fpm8.2 on loopback: the
//! firing config gives the 502/504 and the error.log line the rule's doc quotes, and after
//! `conflint check --fix` the same request gets 200. Runs where both binaries exist; with
//! CONFLINT_REQUIRE_VALIDATORS=1 (CI) a missing binary is a failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn binaries() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| names.iter().map(PathBuf::from).find(|p| p.exists());
    match (find(&["/usr/sbin/nginx"]), find(&["/usr/sbin/php-fpm8.2"])) {
        (Some(n), Some(f)) => Some((n, f)),
        _ => {
            assert!(std::env::var("CONFLINT_REQUIRE_VALIDATORS").as_deref() != Ok("1"), "nginx and php-fpm8.2 are required (CONFLINT_REQUIRE_VALIDATORS=1)");
            eprintln!("SKIPPED: nginx or php-fpm8.2 not installed");
            None
        }
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Stops the server when the test ends, however it ends. SIGTERM, not SIGKILL: a killed
/// master would leave its workers holding the port and the socket.
struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Site {
    dir: tempfile::TempDir,
    port: u16,
    nginx: PathBuf,
    fpm: PathBuf,
}

impl Site {
    /// `nginx_location` goes inside the PHP location; `pool` is appended to the pool.
    fn new(nginx_location: &str, socket: &str, pool: &str) -> Option<Site> {
        let (nginx, fpm) = binaries()?;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // nginx's workers (www-data) must reach the socket and the script.
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        for d in ["nginx", "php", "www", "tmp"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
            std::fs::set_permissions(root.join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::write(root.join("www/t.php"), "<?php usleep((int)($_GET['s'] ?? 0) * 1000000); echo 'ok';\n").unwrap();
        let r = root.display();
        let user = if is_root() { "user www-data;\n" } else { "" };
        std::fs::write(
            root.join("nginx/nginx.conf"),
            format!(
                "{user}worker_processes 1;\nworker_rlimit_nofile 1024;\npid {r}/nginx.pid;\nerror_log {r}/error.log info;\nevents {{ worker_connections 64; }}\nhttp {{\n    access_log off;\n    client_body_temp_path {r}/tmp/body;\n    fastcgi_temp_path {r}/tmp/fastcgi;\n    proxy_temp_path {r}/tmp/proxy;\n    scgi_temp_path {r}/tmp/scgi;\n    uwsgi_temp_path {r}/tmp/uwsgi;\n    server {{\n        listen 127.0.0.1:{port};\n        root {r}/www;\n        location ~ \\.php$ {{\n            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n            fastcgi_param REQUEST_METHOD $request_method;\n            fastcgi_param QUERY_STRING $query_string;\n{nginx_location}            fastcgi_pass unix:{r}/{socket};\n        }}\n    }}\n}}\n"
            ),
        )
        .unwrap();
        let who = if is_root() { "user = www-data\ngroup = www-data\nlisten.owner = www-data\nlisten.group = www-data\n" } else { "" };
        std::fs::write(
            root.join("php/php-fpm.conf"),
            format!("[global]\npid = {r}/fpm.pid\nerror_log = {r}/fpm.log\nprocess_control_timeout = 10s\n[www]\n{who}listen = {r}/php.sock\npm = static\npm.max_children = 10\npm.max_requests = 500\n{pool}"),
        )
        .unwrap();
        Some(Site { dir, port, nginx, fpm })
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn start_fpm(&self) -> Server {
        let conf = self.root().join("php/php-fpm.conf");
        let mut cmd = Command::new(&self.fpm);
        cmd.args(["-F", "-n", "-y"]).arg(&conf).stdout(Stdio::null()).stderr(Stdio::null());
        if is_root() {
            cmd.arg("--allow-to-run-as-root");
        }
        let server = Server(cmd.spawn().unwrap());
        wait_for(|| self.root().join("php.sock").exists());
        server
    }

    fn start_nginx(&self) -> Server {
        let server = Server(
            Command::new(&self.nginx)
                .arg("-c")
                .arg(self.root().join("nginx/nginx.conf"))
                .arg("-p")
                .arg(self.root())
                .args(["-g", "daemon off;"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        wait_for(|| TcpStream::connect(("127.0.0.1", self.port)).is_ok());
        server
    }

    /// The HTTP status of `GET /t.php?s=SECONDS`.
    fn get(&self, seconds: u32) -> u16 {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(s, "GET /t.php?s={seconds} HTTP/1.0\r\nHost: live.test\r\n\r\n").unwrap();
        let mut response = String::new();
        let _ = s.read_to_string(&mut response);
        response.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.root().join("error.log")).unwrap_or_default()
    }

    fn logs(&self) -> String {
        let fpm = std::fs::read_to_string(self.root().join("fpm.log")).unwrap_or_default();
        format!("nginx error.log:\n{}\nphp-fpm log:\n{fpm}", self.error_log())
    }

    fn conflint(&self, args: &[&str]) -> String {
        let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).arg(".").current_dir(self.root()).output().unwrap();
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    }
}

fn wait_for(ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(10), "server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn xfp001_no_listener_is_a_502_until_fixed() {
    let Some(site) = Site::new("", "php-old.sock", "") else { return };
    let lint = site.conflint(&["check", "--output-format", "concise", "--select", "XFP001"]);
    assert!(lint.contains("XFP001"), "{lint}");
    let _fpm = site.start_fpm();
    {
        let _nginx = site.start_nginx();
        assert_eq!(site.get(0), 502);
        let log = site.error_log();
        let line = format!("connect() to unix:{}/php-old.sock failed (2: No such file or directory)", site.root().display());
        assert!(log.contains(&line), "{log}");
    }
    let fixed = site.conflint(&["check", "--select", "XFP001", "--fix", "--unsafe-fixes", "--validate", "never"]);
    assert!(fixed.contains("Fixed 1 problem"), "{fixed}");
    let _nginx = site.start_nginx();
    assert_eq!(site.get(0), 200, "{}", site.logs());
}

#[test]
fn xfp002_nginx_giving_up_first_is_a_504_until_fixed() {
    let Some(site) = Site::new("            fastcgi_read_timeout 1s;\n", "php.sock", "request_terminate_timeout = 5\n") else { return };
    let lint = site.conflint(&["check", "--output-format", "concise", "--select", "XFP002"]);
    assert!(lint.contains("XFP002"), "{lint}");
    let _fpm = site.start_fpm();
    {
        let _nginx = site.start_nginx();
        assert_eq!(site.get(2), 504, "{}", site.logs());
        let log = site.error_log();
        assert!(log.contains("upstream timed out (110: Connection timed out) while reading response header from upstream"), "{log}");
    }
    let fixed = site.conflint(&["check", "--select", "XFP002", "--fix", "--unsafe-fixes", "--validate", "never"]);
    assert!(fixed.contains("Fixed 1 problem"), "{fixed}");
    let _nginx = site.start_nginx();
    assert_eq!(site.get(2), 200, "{}", site.logs());
}

#[test]
fn xfp003_socket_nginx_may_not_open_is_a_502_until_fixed() {
    if !is_root() {
        eprintln!("SKIPPED: needs root, so nginx's workers run as www-data and PHP-FPM can chown its socket");
        return;
    }
    let Some(site) = Site::new("", "php.sock", "listen.owner = nobody\nlisten.group = nogroup\nlisten.mode = 0660\n") else { return };
    let lint = site.conflint(&["check", "--output-format", "concise", "--select", "XFP003"]);
    assert!(lint.contains("XFP003"), "{lint}");
    {
        let _fpm = site.start_fpm();
        let _nginx = site.start_nginx();
        assert_eq!(site.get(0), 502);
        let log = site.error_log();
        let line = format!("connect() to unix:{}/php.sock failed (13: Permission denied)", site.root().display());
        assert!(log.contains(&line), "{log}");
    }
    let fixed = site.conflint(&["check", "--select", "XFP003", "--fix", "--unsafe-fixes", "--validate", "never"]);
    assert!(fixed.contains("Fixed 1 problem"), "{fixed}");
    let _fpm = site.start_fpm();
    let _nginx = site.start_nginx();
    assert_eq!(site.get(0), 200, "{}", site.logs());
}
