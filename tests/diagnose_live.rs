//! `conflint diagnose` on real failures: real nginx and php-fpm8.2 on 127.0.0.1 and unix
//! sockets under a temp directory, each 502/503/504 caused for real with a few requests,
//! then diagnose reads the logs they wrote and must name the location, pass target, pool,
//! rule and count. Runs where both binaries exist; with CONFLINT_REQUIRE_VALIDATORS=1 (CI)
//! a missing binary is a failure. Every server is stopped by a guard, also on failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

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

/// Stops a server when the test ends, however it ends (SIGTERM: a killed master would
/// leave its workers holding the port and the socket).
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

const PHP: &str = "<?php\nif (isset($_GET['header'])) { header('X-Big: ' . str_repeat('a', (int)$_GET['header'])); }\nusleep((int)($_GET['ms'] ?? 0) * 1000);\necho 'ok';\n";

struct Site {
    dir: tempfile::TempDir,
    port: u16,
    nginx: PathBuf,
    fpm: PathBuf,
}

impl Site {
    /// `http` goes into `http {}`, `server` into the server block (which has a root with
    /// t.php and static.txt); `pools` are the pool sections (`{r}` is the site's directory).
    fn new(http: &str, server: &str, pools: &str) -> Option<Site> {
        let (nginx, fpm) = binaries()?;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let port = free_port();
        for d in ["nginx", "php", "www", "www/tcp", "tmp"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
            std::fs::set_permissions(root.join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::write(root.join("www/t.php"), PHP).unwrap();
        std::fs::write(root.join("www/tcp/t.php"), PHP).unwrap();
        std::fs::write(root.join("www/static.txt"), "static\n").unwrap();
        let r = root.display().to_string();
        let user = if is_root() { "user www-data;\n" } else { "" };
        let conf = format!(
            "{user}worker_processes 1;\nworker_rlimit_nofile 1024;\npid {r}/nginx.pid;\nerror_log {r}/error.log info;\nevents {{\n    worker_connections 64;\n}}\nhttp {{\n    access_log off;\n    client_body_temp_path {r}/tmp/body;\n    fastcgi_temp_path {r}/tmp/fastcgi;\n    proxy_temp_path {r}/tmp/proxy;\n    scgi_temp_path {r}/tmp/scgi;\n    uwsgi_temp_path {r}/tmp/uwsgi;\n{http}    server {{\n        listen 127.0.0.1:{port};\n        server_name live.test;\n        root {r}/www;\n{server}    }}\n}}\n"
        );
        std::fs::write(root.join("nginx/nginx.conf"), conf.replace("{r}", &r)).unwrap();
        let fpm_conf = format!("[global]\npid = {r}/fpm.pid\nerror_log = {r}/fpm.log\nprocess_control_timeout = 10s\n{}", pools.replace("{r}", &r));
        std::fs::write(root.join("php/php-fpm.conf"), fpm_conf).unwrap();
        Some(Site { dir, port, nginx, fpm })
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn start_fpm(&self, ready: &str) -> Server {
        let mut cmd = Command::new(&self.fpm);
        cmd.args(["-F", "-n", "-y"]).arg(self.root().join("php/php-fpm.conf")).stdout(Stdio::null()).stderr(Stdio::null());
        if is_root() {
            cmd.arg("--allow-to-run-as-root");
        }
        let server = Server(cmd.spawn().unwrap());
        let ready = self.root().join(ready);
        wait_for(|| ready.exists() || ready.to_str().and_then(|s| s.strip_prefix("tcp:")).is_some());
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

    /// The HTTP status of `GET path`.
    fn get(&self, path: &str) -> u16 {
        get(self.port, path)
    }

    /// `n` requests at once; their statuses.
    fn concurrent(&self, path: &str, n: usize) -> Vec<u16> {
        let port = self.port;
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let path = path.to_string();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(10 * i as u64));
                    get(port, &path)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    }

    fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.root().join(f)).unwrap_or_default();
        format!("nginx error.log:\n{}\nphp-fpm log:\n{}", read("error.log"), read("fpm.log"))
    }

    /// `conflint diagnose ARGS .` in the site: (exit code, parsed JSON, stderr).
    fn diagnose(&self, args: &[&str]) -> (i32, Value, String) {
        let o = Command::new(env!("CARGO_BIN_EXE_conflint"))
            .arg("diagnose")
            .args(["--output-format", "json"])
            .args(args)
            .arg(".")
            .current_dir(self.root())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        let json = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{stderr}", String::from_utf8_lossy(&o.stdout)));
        (o.status.code().unwrap_or(-1), json, stderr)
    }

    /// `CONFLINT_SAVE_LOGS=DIR`: keep the logs this run wrote (the reference the excerpt
    /// fixtures under tests/fixtures/diagnose are written from).
    fn save_logs(&self, name: &str) {
        let Some(dir) = std::env::var_os("CONFLINT_SAVE_LOGS") else { return };
        let dir = Path::new(&dir).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["error.log", "fpm.log", "nginx/nginx.conf", "php/php-fpm.conf"] {
            let _ = std::fs::copy(self.root().join(f), dir.join(f.replace('/', "_")));
        }
    }

    fn r(&self) -> String {
        self.root().display().to_string()
    }
}

fn get(port: u16, path: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: live.test:{port}\r\n\r\n").unwrap();
    let mut response = String::new();
    let _ = s.read_to_string(&mut response);
    response.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn wait_for(ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(10), "server did not come up");
        std::thread::sleep(Duration::from_millis(25));
    }
}

const PHP_LOCATION: &str = "        location ~ \\.php$ {\n            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n            fastcgi_param REQUEST_METHOD $request_method;\n            fastcgi_param QUERY_STRING $query_string;\n";

fn pool(name: &str, listen: &str, extra: &str) -> String {
    let who = if is_root() { "user = www-data\ngroup = www-data\n" } else { "" };
    let owner = if is_root() && !extra.contains("listen.owner") && !listen.contains(':') { "listen.owner = www-data\nlisten.group = www-data\n" } else { "" };
    format!("[{name}]\n{who}{owner}listen = {listen}\npm = static\npm.max_children = 10\npm.max_requests = 500\n{extra}")
}

/// The cause of `kind` in the report (exactly one).
fn cause<'a>(d: &'a Value, kind: &str) -> &'a Value {
    let all: Vec<&Value> = d["causes"].as_array().unwrap().iter().filter(|c| c["kind"] == kind).collect();
    assert_eq!(all.len(), 1, "one `{kind}` cause expected in {}", serde_json::to_string_pretty(d).unwrap());
    all[0]
}

fn rules(c: &Value) -> Vec<&str> {
    c["rules"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect()
}

fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).expect(needle) as u64 + 1
}

#[test]
fn socket_no_pool_listens_on_is_a_502_from_xfp001() {
    let server = format!("{PHP_LOCATION}            fastcgi_pass unix:{{r}}/php-old.sock;\n        }}\n");
    let Some(site) = Site::new("", &server, &pool("www", "{r}/php.sock", "")) else { return };
    let _fpm = site.start_fpm("php.sock");
    let _nginx = site.start_nginx();
    for _ in 0..3 {
        assert_eq!(site.get("/t.php"), 502);
    }
    let (code, d, err) = site.diagnose(&["--no-live"]);
    site.save_logs("no-listener");
    assert_eq!(code, 1, "{err}");
    let c = cause(&d, "connect-failed-2");
    assert_eq!((c["count"].as_u64(), c["status"].as_u64()), (Some(3), Some(502)), "{}", site.logs());
    let conf = std::fs::read_to_string(site.root().join("nginx/nginx.conf")).unwrap();
    assert_eq!(c["location"]["text"], "location ~ \\.php$");
    assert_eq!(c["location"]["path"], "nginx/nginx.conf");
    assert_eq!(c["location"]["line"].as_u64(), Some(line_of(&conf, "location ~")));
    assert_eq!(c["pass"]["text"], format!("fastcgi_pass unix:{}/php-old.sock", site.r()));
    assert_eq!(c["upstream"], format!("unix:{}/php-old.sock", site.r()));
    assert!(c["pool"].is_null(), "no pool listens there");
    assert_eq!(c["server"]["text"], "server live.test");
    assert_eq!(rules(c), ["XFP001"]);
    assert!(c["rules"][0]["command"].as_str().unwrap().contains("--select XFP001"));
}

#[test]
fn socket_nginx_may_not_open_is_a_502_from_xfp003() {
    if !is_root() {
        eprintln!("SKIPPED: needs root, so nginx's workers run as www-data and PHP-FPM can chown its socket");
        return;
    }
    let server = format!("{PHP_LOCATION}            fastcgi_pass unix:{{r}}/php.sock;\n        }}\n");
    let Some(site) = Site::new("", &server, &pool("www", "{r}/php.sock", "listen.owner = nobody\nlisten.group = nogroup\nlisten.mode = 0660\n")) else { return };
    let _fpm = site.start_fpm("php.sock");
    let _nginx = site.start_nginx();
    assert_eq!(site.concurrent("/t.php", 2), [502, 502]);
    let (code, d, err) = site.diagnose(&["--live"]);
    site.save_logs("permission");
    assert_eq!(code, 1, "{err}");
    let c = cause(&d, "connect-failed-13");
    assert_eq!(c["count"].as_u64(), Some(2), "{}", site.logs());
    assert_eq!(c["pool"]["text"], format!("pool www (listen = {}/php.sock)", site.r()));
    assert_eq!(c["location"]["text"], "location ~ \\.php$");
    assert!(rules(c).contains(&"XFP003"), "{c}");
    // Live: the socket's real owner and mode against the workers' credentials.
    let perm = d["live"]["checks"].as_array().unwrap().iter().find(|k| k["check"] == "socket-permissions").expect("a permission check");
    assert_eq!(perm["status"], "fail", "{perm}");
    assert!(perm["message"].as_str().unwrap().contains("nginx's workers"), "{perm}");
}

#[test]
fn script_slower_than_fastcgi_read_timeout_is_a_504_from_ngx101() {
    let server = format!("{PHP_LOCATION}            fastcgi_read_timeout 1s;\n            fastcgi_pass unix:{{r}}/php.sock;\n        }}\n");
    let Some(site) = Site::new("", &server, &pool("www", "{r}/php.sock", "")) else { return };
    let _fpm = site.start_fpm("php.sock");
    let _nginx = site.start_nginx();
    assert_eq!(site.concurrent("/t.php?ms=1600", 2), [504, 504]);
    let (code, d, err) = site.diagnose(&["--no-live", "--since", "10m"]);
    site.save_logs("timeout");
    assert_eq!(code, 1, "{err}");
    let c = cause(&d, "upstream-timed-out-reading-header");
    assert_eq!((c["count"].as_u64(), c["status"].as_u64()), (Some(2), Some(504)), "{}", site.logs());
    assert_eq!(c["pool"]["text"], format!("pool www (listen = {}/php.sock)", site.r()));
    assert_eq!(c["pass"]["text"], format!("fastcgi_pass unix:{}/php.sock", site.r()));
    assert!(rules(c).contains(&"NGX101"), "{c}");
    let hit = c["rules"].as_array().unwrap().iter().find(|r| r["code"] == "NGX101").unwrap();
    let conf = std::fs::read_to_string(site.root().join("nginx/nginx.conf")).unwrap();
    assert_eq!(hit["line"].as_u64(), Some(line_of(&conf, "fastcgi_read_timeout 1s")));
    assert_eq!(c["requests"][0], "GET /t.php?ms=1600");
}

#[test]
fn one_child_and_concurrent_requests_reach_max_children() {
    let server = format!("{PHP_LOCATION}            fastcgi_pass unix:{{r}}/php.sock;\n        }}\n");
    let pool_text = pool("www", "{r}/php.sock", "").replace("pm = static\npm.max_children = 10\n", "pm = ondemand\npm.max_children = 1\npm.process_idle_timeout = 10s\nlisten.backlog = 1\n");
    let Some(site) = Site::new("", &server, &pool_text) else { return };
    let _fpm = site.start_fpm("php.sock");
    let _nginx = site.start_nginx();
    let statuses = site.concurrent("/t.php?ms=400", 6);
    let refused = statuses.iter().filter(|&&s| s == 502).count() as u64;
    assert!(statuses.iter().all(|&s| s == 200 || s == 502), "{statuses:?}");
    let (code, d, err) = site.diagnose(&["--no-live"]);
    site.save_logs("max-children");
    assert_eq!(code, 1, "{err}");
    let full = cause(&d, "max-children");
    assert_eq!(full["pool"]["text"], format!("pool www (listen = {}/php.sock)", site.r()), "{}", site.logs());
    assert_eq!(full["count"].as_u64(), Some(1), "PHP-FPM says it once per episode: {}", site.logs());
    assert!(rules(full).contains(&"FPM101"), "{full}");
    assert_eq!(full["passed_from"][0]["text"], "location ~ \\.php$");
    if refused > 0 {
        let eagain = cause(&d, "connect-failed-11");
        assert_eq!(eagain["count"].as_u64(), Some(refused), "{}", site.logs());
        let r = rules(eagain);
        assert!(r.contains(&"FPM104") && r.contains(&"FPM101"), "{r:?}");
    }
}

#[test]
fn header_bigger_than_fastcgi_buffer_size_is_a_502_from_ngx114() {
    let server = format!("{PHP_LOCATION}            fastcgi_buffer_size 1k;\n            fastcgi_pass unix:{{r}}/php.sock;\n        }}\n");
    let Some(site) = Site::new("", &server, &pool("www", "{r}/php.sock", "")) else { return };
    let _fpm = site.start_fpm("php.sock");
    let _nginx = site.start_nginx();
    assert_eq!(site.get("/t.php?header=3000"), 502);
    assert_eq!(site.get("/t.php?header=3000&again=1"), 502);
    assert_eq!(site.get("/t.php"), 200);
    let (code, d, err) = site.diagnose(&["--no-live"]);
    site.save_logs("too-big-header");
    assert_eq!(code, 1, "{err}");
    let c = cause(&d, "too-big-header");
    assert_eq!((c["count"].as_u64(), c["status"].as_u64()), (Some(2), Some(502)), "{}", site.logs());
    assert_eq!(rules(c), ["NGX114"]);
    assert_eq!(c["location"]["text"], "location ~ \\.php$");
    assert_eq!(c["requests"].as_array().unwrap().len(), 2);
}

#[test]
fn limit_req_without_burst_is_a_503_from_ngx201() {
    let http = "    limit_req_zone $binary_remote_addr zone=rl:1m rate=1r/m;\n";
    let server = "        location /static.txt {\n            limit_req zone=rl;\n        }\n";
    let Some(site) = Site::new(http, server, &pool("www", "{r}/php.sock", "")) else { return };
    let _nginx = site.start_nginx();
    let statuses: Vec<u16> = (0..3).map(|_| site.get("/static.txt")).collect();
    assert_eq!(statuses, [200, 503, 503]);
    let (code, d, err) = site.diagnose(&["--no-live"]);
    site.save_logs("limit-req");
    assert_eq!(code, 1, "{err}");
    let c = cause(&d, "limit-req");
    assert_eq!((c["count"].as_u64(), c["status"].as_u64(), c["zone"].as_str()), (Some(2), Some(503), Some("rl")), "{}", site.logs());
    assert_eq!(c["location"]["text"], "location /static.txt");
    let r = rules(c);
    assert!(r.contains(&"NGX201") && r.contains(&"NGX203"), "no burst, and the default 503: {r:?}");
}

#[test]
fn a_stopped_pool_is_a_502_and_live_checks_say_so() {
    let tcp = free_port();
    let server = format!(
        "        location ^~ /tcp/ {{\n            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n            fastcgi_param REQUEST_METHOD $request_method;\n            fastcgi_pass 127.0.0.1:{tcp};\n        }}\n{PHP_LOCATION}            fastcgi_pass unix:{{r}}/php.sock;\n        }}\n"
    );
    let pools = format!("{}{}", pool("www", "{r}/php.sock", ""), pool("api", &format!("127.0.0.1:{tcp}"), ""));
    let Some(site) = Site::new("", &server, &pools) else { return };
    let fpm = site.start_fpm("php.sock");
    let _nginx = site.start_nginx();
    assert_eq!(site.get("/t.php"), 200);
    assert_eq!(site.get("/tcp/t.php"), 200);
    drop(fpm);
    assert_eq!(site.get("/t.php"), 502);
    assert_eq!(site.get("/tcp/t.php"), 502);
    assert_eq!(site.get("/tcp/t.php"), 502);
    // nginx runs with this configuration: the live checks are on by themselves.
    let (code, d, err) = site.diagnose(&[]);
    site.save_logs("stopped");
    assert_eq!(code, 1, "{err}");
    let unix = cause(&d, "connect-failed-2");
    assert_eq!(unix["count"].as_u64(), Some(1), "{}", site.logs());
    assert_eq!(unix["pool"]["text"], format!("pool www (listen = {}/php.sock)", site.r()));
    assert_eq!(unix["location"]["text"], "location ~ \\.php$");
    assert!(unix["rules"].as_array().unwrap().is_empty(), "the configuration is right: {unix}");
    let refused = cause(&d, "connect-failed-111");
    assert_eq!(refused["count"].as_u64(), Some(2));
    assert_eq!(refused["pool"]["text"], format!("pool api (listen = 127.0.0.1:{tcp})"));
    assert_eq!(refused["location"]["text"], "location ^~ /tcp/");
    assert_eq!(refused["upstream"], format!("127.0.0.1:{tcp}"));
    let checks = d["live"]["checks"].as_array().expect("live checks ran");
    let find = |check: &str, subject: &str| checks.iter().find(|c| c["check"] == check && c["subject"] == subject).unwrap_or_else(|| panic!("no {check} {subject} in {checks:?}"));
    assert_eq!(find("pool-running", "pool www")["status"], "fail");
    assert_eq!(find("pool-running", "pool api")["status"], "fail");
    let sock = find("connect", &format!("unix:{}/php.sock", site.r()));
    assert_eq!(sock["status"], "fail");
    assert!(sock["message"].as_str().unwrap().contains("no socket"), "{sock}");
    let port = find("connect", &format!("127.0.0.1:{tcp}"));
    assert_eq!(port["status"], "fail");
    assert!(port["message"].as_str().unwrap().contains("connection refused"), "{port}");
    assert!(refused["live"].as_array().unwrap().iter().any(|l| l.as_str().unwrap().contains("connection refused")), "{refused}");
}

#[test]
fn a_running_pool_answers_fastcgi_and_its_status_page() {
    let server = format!("{PHP_LOCATION}            fastcgi_pass unix:{{r}}/php.sock;\n        }}\n");
    let Some(site) = Site::new("", &server, &pool("www", "{r}/php.sock", "pm.status_path = /fpm-status\n")) else { return };
    let _fpm = site.start_fpm("php.sock");
    let _nginx = site.start_nginx();
    assert_eq!(site.get("/t.php"), 200);
    let (code, d, err) = site.diagnose(&["--live"]);
    site.save_logs("running");
    assert!(d["causes"].as_array().unwrap().iter().all(|c| c["is_50x"] == false), "{d}");
    let checks = d["live"]["checks"].as_array().unwrap();
    let fcgi = checks.iter().find(|c| c["check"] == "fastcgi").unwrap_or_else(|| panic!("{checks:?}"));
    assert_eq!(fcgi["status"], "ok");
    let status = checks.iter().find(|c| c["check"] == "pool-status").unwrap_or_else(|| panic!("{checks:?}"));
    assert_eq!(status["facts"]["pool"], "www", "{status}");
    assert_eq!(status["facts"]["total processes"].as_u64(), Some(10), "{status}");
    assert!(checks.iter().any(|c| c["check"] == "pool-memory" && c["facts"]["workers"].as_u64() == Some(10)), "{checks:?}");
    let failed: Vec<&Value> = checks.iter().filter(|c| c["status"] == "fail").collect();
    assert_eq!(code, i32::from(!failed.is_empty()), "{err} {failed:?}");
}

/// nginx itself is the oracle for location matching: each location answers its own name,
/// and diagnose's search must pick the same one for every URI.
#[test]
fn location_search_agrees_with_nginx() {
    let locations = [
        ("= /", "exact-root"),
        ("/", "root"),
        ("/images/", "images"),
        ("^~ /static/", "static"),
        ("~* \\.(png|jpg)$", "pictures"),
        ("~ ^/images/.*\\.png$", "images-png"),
        ("/docs/", "docs"),
        ("= /exact", "exact"),
        ("/a/b/", "ab"),
        ("/a/", "a"),
        ("~ ^/a/b/c", "abc-regex"),
    ];
    let mut server = String::new();
    for (pattern, name) in locations {
        let nested = if name == "docs" { "            location ~ \\.pdf$ { return 200 \"docs-pdf\"; }\n" } else { "" };
        server.push_str(&format!("        location {pattern} {{\n{nested}            return 200 \"{name}\";\n        }}\n"));
    }
    let Some(site) = Site::new("", &server, &pool("www", "{r}/php.sock", "")) else { return };
    let _nginx = site.start_nginx();
    let uris = ["/", "/index.html", "/images/a.gif", "/images/a.PNG", "/images/x.png", "/static/a.png", "/docs/x.pdf", "/docs/x.png", "/docs/", "/exact", "/exactly", "/a/b/c/d", "/a/b/x", "/a/x", "/a/../images/b.jpg", "/%69mages/q.gif", "/a//b/z"];
    let opts = conflint::workspace::Options { paths: vec![site.root().join("nginx").display().to_string()], cwd: site.root().to_path_buf(), ..Default::default() };
    let ws = conflint::workspace::Workspace::load(&opts, &mut std::io::empty()).unwrap();
    let view = conflint::effective::nginx::NginxView::build(&ws);
    let servers = conflint::diagnose::locate::Servers::build(&view);
    for uri in uris {
        let mut s = TcpStream::connect(("127.0.0.1", site.port)).unwrap();
        write!(s, "GET {uri} HTTP/1.0\r\nHost: live.test\r\n\r\n").unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
        let chosen = servers.choose(&view, Some("live.test"), None, Some(uri), None, conflint::diagnose::locate::Needs::Pass).and_then(|c| c.location).expect(uri);
        let ours = view.scope(chosen).directives.iter().find(|d| d.name() == "return").and_then(|d| d.arg(1)).unwrap_or("?").to_string();
        assert_eq!(ours, body, "{uri}: nginx answered from `{body}`");
    }
}
