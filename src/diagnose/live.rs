//! Live checks on the machine diagnose runs on: does each pass target accept a
//! connection (and answer FastCGI), does each pool's master run, may nginx's workers open
//! each socket, what each pool's status page says, and the host's memory, open-file limit
//! and free disk. Everything here only reads: `/proc`, `stat`, `statvfs`, a connect and a
//! FastCGI exchange. No process is signalled, nothing is written. Only loopback addresses
//! and unix sockets are probed unless `--probe-remote`.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::effective::address::{Addr, Host};
use crate::effective::nginx::ScopeId;
use crate::workspace::Workspace;

use super::explain::Model;
use super::fcgi;
use super::locate::{pass_targets, PASSES};

/// How long a probe may wait: a healthy local socket answers in microseconds.
const TIMEOUT: Duration = Duration::from_millis(1000);
/// The share of memory PHP may use (FPM101's and FPM102's default `share`).
const SHARE: f64 = 0.8;

pub struct Options {
    pub probe_remote: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Requests fail because of it now (a 50x cause).
    Fail,
    Warn,
    Info,
    /// Could not be checked (and why is in the message).
    Skipped,
}

#[derive(Debug, Serialize)]
pub struct Check {
    /// `connect`, `fastcgi`, `socket-permissions`, `pool-running`, `pool-status`,
    /// `pool-memory`, `open-files`, `disk-space`.
    pub check: &'static str,
    /// `unix:/run/php/php8.2-fpm.sock`, `pool www`, `nginx workers`, a directory.
    pub subject: String,
    pub status: Status,
    pub message: String,
    /// Numbers the check read (status page fields, limits, sizes).
    pub facts: BTreeMap<String, serde_json::Value>,
    #[serde(skip)]
    target: Option<Addr>,
    #[serde(skip)]
    pool: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct HostFacts {
    pub memory_total: Option<u64>,
    pub memory_available: Option<u64>,
    pub cpus: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub host: HostFacts,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn failures(&self) -> usize {
        self.checks.iter().filter(|c| c.status == Status::Fail).count()
    }

    /// What the checks say about a target and a pool (for a cause's report).
    pub fn about(&self, target: Option<&Addr>, pool: Option<usize>) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c.status != Status::Ok || c.check == "pool-status")
            .filter(|c| (target.is_some() && c.target.as_ref() == target) || (pool.is_some() && c.pool == pool))
            .map(|c| format!("{}: {}", c.subject, c.message))
            .collect()
    }
}

fn check(check: &'static str, subject: impl Into<String>, status: Status, message: impl Into<String>) -> Check {
    Check { check, subject: subject.into(), status, message: message.into(), facts: BTreeMap::new(), target: None, pool: None }
}

/// One process, from `/proc/PID`.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    /// The command line (or process title), NULs as spaces.
    pub cmdline: String,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub rss: u64,
}

pub fn procs() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let dir = e.path();
            let cmd = std::fs::read(dir.join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmd).replace('\0', " ").trim().to_string();
            let status = std::fs::read_to_string(dir.join("status")).ok()?;
            let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
            let ids = |name: &str| -> Vec<u32> { field(name).map(|v| v.split_whitespace().filter_map(|x| x.parse().ok()).collect()).unwrap_or_default() };
            let uid = ids("Uid:").get(1).copied().unwrap_or(u32::MAX);
            let gid = ids("Gid:").get(1).copied().unwrap_or(u32::MAX);
            let rss = field("VmRSS:").and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok()).unwrap_or(0) * 1024;
            Some(Proc { pid, ppid: field("PPid:").and_then(|v| v.parse().ok()).unwrap_or(0), cmdline, uid, gid, groups: ids("Groups:"), rss })
        })
        .collect()
}

pub struct Master {
    pub pid: u32,
    pub config: PathBuf,
}

/// Running PHP-FPM masters and their configuration files (`php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)`).
pub fn fpm_masters() -> Vec<Master> {
    fpm_masters_in(&procs())
}

fn fpm_masters_in(ps: &[Proc]) -> Vec<Master> {
    ps.iter()
        .filter_map(|p| {
            let rest = p.cmdline.strip_prefix("php-fpm: master process (")?;
            Some(Master { pid: p.pid, config: PathBuf::from(rest.trim_end().strip_suffix(')')?) })
        })
        .collect()
}

/// Running nginx masters and their nginx.conf (`-c`, else the compiled-in default,
/// relative to `-p`).
fn nginx_masters_in(ps: &[Proc]) -> Vec<Master> {
    ps.iter()
        .filter_map(|p| {
            let rest = p.cmdline.strip_prefix("nginx: master process ")?;
            let words: Vec<&str> = rest.split_whitespace().collect();
            let arg = |flag: &str| words.iter().position(|w| *w == flag).and_then(|i| words.get(i + 1)).map(|s| s.to_string());
            let prefix = arg("-p").unwrap_or_else(|| "/usr/share/nginx".into());
            let conf = arg("-c").unwrap_or_else(|| "/etc/nginx/nginx.conf".into());
            let conf = if Path::new(&conf).is_absolute() { PathBuf::from(conf) } else { Path::new(&prefix).join(conf) };
            Some(Master { pid: p.pid, config: conf })
        })
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Is the configuration read the one a running nginx or PHP-FPM master of this machine uses?
pub fn runs_here(ws: &Workspace) -> bool {
    let ps = procs();
    let nginx_roots: Vec<&Path> = ws.nginx_roots.iter().filter_map(|&f| ws.source(f).disk_path.as_deref()).collect();
    let fpm_roots: Vec<&Path> = ws.fpm.iter().filter_map(|c| c.root.and_then(|f| ws.source(f).disk_path.as_deref())).collect();
    nginx_masters_in(&ps).iter().any(|m| nginx_roots.iter().any(|r| same_file(r, &m.config))) || fpm_masters_in(&ps).iter().any(|m| fpm_roots.iter().any(|r| same_file(r, &m.config)))
}

pub fn run(model: &Model, opts: &Options) -> Report {
    let ps = procs();
    let ws = model.ws;
    let mut checks = Vec::new();
    let nginx_roots: Vec<&Path> = ws.nginx_roots.iter().filter_map(|&f| ws.source(f).disk_path.as_deref()).collect();
    let masters: Vec<Master> = nginx_masters_in(&ps).into_iter().filter(|m| nginx_roots.iter().any(|r| same_file(r, &m.config))).collect();
    let workers: Vec<&Proc> = ps.iter().filter(|p| masters.iter().any(|m| m.pid == p.ppid) && p.cmdline.starts_with("nginx: worker process")).collect();
    let nginx_creds = workers.first().map(|w| (w.uid, w.gid, w.groups.clone())).or_else(|| configured_user(model));

    // Pass targets, each once, with the directive that names it first.
    let mut targets: Vec<(Addr, &str, ScopeId)> = Vec::new();
    for name in PASSES {
        for (scope, p) in model.view.named(name) {
            for a in pass_targets(&model.view, scope, p) {
                if !targets.iter().any(|(t, _, _)| *t == a) {
                    targets.push((a, name, scope));
                }
            }
        }
    }
    for (addr, pass, _) in &targets {
        let fastcgi = *pass == "fastcgi_pass";
        let listener = model.join.listeners.iter().find(|l| super::locate::same_address(addr, &l.addr)).map(|l| l.pool.name().to_string());
        let who = listener.as_ref().map(|n| format!(" (pool {n} is configured to listen here)")).unwrap_or_default();
        let mut c = probe(addr, fastcgi, opts.probe_remote, &who);
        c.target = Some(addr.clone());
        checks.push(c);
        if let (Addr::Unix(path), Some((uid, gid, groups))) = (addr, &nginx_creds) {
            if let Some(mut c) = permissions(path, *uid, *gid, groups, workers.is_empty()) {
                c.target = Some(addr.clone());
                checks.push(c);
            }
        }
    }

    // Pools: master, workers, status page, memory.
    let memory_total = meminfo("MemTotal:");
    let fmasters = fpm_masters_in(&ps);
    for (i, pool) in model.pools.iter().enumerate() {
        let subject = format!("pool {}", pool.name());
        let root = pool.config.root.and_then(|f| ws.source(f).disk_path.clone());
        let master = root.as_ref().and_then(|r| fmasters.iter().find(|m| same_file(r, &m.config))).map(|m| m.pid).or_else(|| pid_file_master(model, i, &ps));
        let mut c = match master {
            Some(pid) => check("pool-running", &subject, Status::Ok, format!("PHP-FPM master running (pid {pid})")),
            None => {
                let pid_file = pool.config.global.iter().rev().find(|s| s.name == "pid").map(|s| s.value.text.clone());
                let why = match pid_file {
                    Some(p) => format!("no php-fpm master for this configuration is running (pid file {p}: {})", pid_file_state(Path::new(&*p))),
                    None => "no php-fpm master for this configuration is running".into(),
                };
                // Down matters when nginx sends requests there.
                match model.sites_of_pool(i).len() {
                    0 => check("pool-running", &subject, Status::Warn, format!("{why} (no nginx location of the configuration read passes to it)")),
                    _ => check("pool-running", &subject, Status::Fail, format!("{why}: every request passed to it gets 502")),
                }
            }
        };
        c.pool = Some(i);
        checks.push(c);
        let Some(master) = master else { continue };
        let title = format!("php-fpm: pool {}", pool.name());
        let pool_workers: Vec<&Proc> = ps.iter().filter(|p| p.ppid == master && p.cmdline == title).collect();
        if let Some(c) = pool_memory(i, &subject, pool, &pool_workers, memory_total) {
            checks.push(c);
        }
        if let Some(status_path) = pool.get(crate::pool_key!("pm.status_path")) {
            let listen = pool.get(crate::pool_key!("pm.status_listen")).or(pool.get(crate::pool_key!("listen")));
            let prefix = pool.get(crate::pool_key!("prefix")).map(|p| PathBuf::from(&*p.value.text)).unwrap_or_else(|| ws.fpm_prefix.clone());
            if let Some(addr) = listen.and_then(|l| crate::effective::address::fpm_listen(&l.value.text, &prefix)) {
                let mut c = status_page(&addr, &status_path.value.text, &subject);
                c.pool = Some(i);
                checks.push(c);
            }
        }
    }

    // nginx workers' open-file limit against worker_connections.
    if let Some(w) = workers.first() {
        let limit = std::fs::read_to_string(format!("/proc/{}/limits", w.pid)).ok().and_then(|l| {
            l.lines().find(|x| x.starts_with("Max open files")).and_then(|x| x.split_whitespace().nth(3)?.parse::<u64>().ok())
        });
        let wc = ws.nginx_roots.first().and_then(|_| model.view.tops.first()).and_then(|&t| model.view.events_directive(t, "worker_connections")).and_then(|p| p.arg(0)?.parse::<u64>().ok()).unwrap_or(512);
        if let Some(limit) = limit {
            let (status, message) = if limit < wc {
                (Status::Fail, format!("worker_connections {wc} is above the workers' open-file limit {limit}: under load nginx logs `(24: Too many open files)` and answers 500"))
            } else if limit < 2 * wc {
                (Status::Warn, format!("each proxied request needs two descriptors: {wc} worker_connections need {} open files, the workers may open {limit}", 2 * wc))
            } else {
                (Status::Ok, format!("open-file limit {limit} covers worker_connections {wc} (two descriptors per proxied request)"))
            };
            let mut c = check("open-files", format!("nginx workers (pid {})", w.pid), status, message);
            c.facts.insert("limit".into(), limit.into());
            c.facts.insert("worker_connections".into(), wc.into());
            checks.push(c);
        }
    }

    // Free space where logs and request bodies are written.
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (_, p) in model.view.named("error_log") {
        if let Some(a) = p.arg(0).filter(|a| a.starts_with('/')) {
            dirs.extend(Path::new(a).parent().map(Path::to_path_buf));
        }
    }
    for name in ["client_body_temp_path", "fastcgi_temp_path", "proxy_temp_path"] {
        for (_, p) in model.view.named(name) {
            dirs.extend(p.arg(0).filter(|a| a.starts_with('/')).map(PathBuf::from));
        }
    }
    if !nginx_roots.is_empty() && model.view.named("client_body_temp_path").next().is_none() {
        dirs.push("/var/lib/nginx".into());
    }
    let mut seen_fs = Vec::new();
    for d in dirs {
        let Some(existing) = d.ancestors().find(|a| a.exists()).map(Path::to_path_buf) else { continue };
        let Some((free, total, dev)) = statvfs(&existing) else { continue };
        if seen_fs.contains(&dev) {
            continue;
        }
        seen_fs.push(dev);
        let pct = if total > 0 { free as f64 * 100.0 / total as f64 } else { 100.0 };
        let status = if free < 16 << 20 {
            Status::Fail
        } else if pct < 5.0 {
            Status::Warn
        } else {
            Status::Ok
        };
        let mut c = check("disk-space", existing.display().to_string(), status, format!("{} free of {} ({pct:.0}%){}", human(free), human(total), if status == Status::Fail { ": nginx cannot buffer request bodies or responses, and logs stop" } else { "" }));
        c.facts.insert("free".into(), free.into());
        c.facts.insert("total".into(), total.into());
        checks.push(c);
    }

    Report {
        host: HostFacts { memory_total, memory_available: meminfo("MemAvailable:"), cpus: std::thread::available_parallelism().map_or(1, |n| n.get()) },
        checks,
    }
}

fn is_loopback(addr: &Addr) -> Option<bool> {
    match addr {
        Addr::Unix(_) => Some(true),
        Addr::Tcp { host: Host::Ip(ip), .. } => Some(ip.is_loopback()),
        Addr::Tcp { host: Host::Name(n), .. } if n == "localhost" => Some(true),
        Addr::Tcp { .. } => None,
    }
}

/// Connect (and for FastCGI, `FCGI_GET_VALUES`).
fn probe(addr: &Addr, fastcgi: bool, probe_remote: bool, who: &str) -> Check {
    let subject = addr.to_string();
    if is_loopback(addr) != Some(true) && !probe_remote {
        return check("connect", subject, Status::Skipped, "not a loopback address: not probed (--probe-remote probes it)");
    }
    let answer = |result: std::io::Result<Vec<(String, String)>>| -> (Status, String, BTreeMap<String, serde_json::Value>) {
        match result {
            Ok(values) => {
                let shown: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let facts = values.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
                (Status::Ok, format!("accepts connections; a FastCGI server answers ({})", if shown.is_empty() { "no values".into() } else { shown.join(", ") }), facts)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                (Status::Warn, format!("accepts connections but gave no FastCGI answer within {} ms: every worker busy?", TIMEOUT.as_millis()), BTreeMap::new())
            }
            Err(e) => (Status::Warn, format!("accepts connections but the FastCGI exchange failed ({e}): is this a FastCGI server?"), BTreeMap::new()),
        }
    };
    let (status, message, facts) = match addr {
        Addr::Unix(path) => match std::fs::metadata(path) {
            Err(e) if e.kind() == ErrorKind::NotFound => (Status::Fail, format!("no socket at {}: nginx gets (2: No such file or directory){who}", path.display()), BTreeMap::new()),
            Ok(m) if !m.file_type().is_socket() => (Status::Fail, format!("{} is not a socket", path.display()), BTreeMap::new()),
            _ => match UnixStream::connect(path) {
                Ok(mut s) => {
                    if fastcgi {
                        let _ = s.set_read_timeout(Some(TIMEOUT));
                        let _ = s.set_write_timeout(Some(TIMEOUT));
                        answer(fcgi::get_values(&mut s))
                    } else {
                        (Status::Ok, "accepts connections".into(), BTreeMap::new())
                    }
                }
                Err(e) => connect_error(&e, who),
            },
        },
        Addr::Tcp { host, port } => {
            let host_text = match host {
                Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
                Host::Ip(ip) => ip.to_string(),
                Host::Name(n) => n.clone(),
                Host::Any => "127.0.0.1".into(),
            };
            let resolved: Vec<SocketAddr> = format!("{host_text}:{port}").to_socket_addrs().map(|i| i.collect()).unwrap_or_default();
            let resolved: Vec<SocketAddr> = resolved.into_iter().filter(|a| probe_remote || a.ip().is_loopback()).collect();
            match resolved.first() {
                None => (Status::Skipped, format!("{host_text} does not resolve to a loopback address: not probed"), BTreeMap::new()),
                Some(sa) => match TcpStream::connect_timeout(sa, TIMEOUT) {
                    Ok(mut s) => {
                        if fastcgi {
                            let _ = s.set_read_timeout(Some(TIMEOUT));
                            let _ = s.set_write_timeout(Some(TIMEOUT));
                            answer(fcgi::get_values(&mut s))
                        } else {
                            (Status::Ok, "accepts connections".into(), BTreeMap::new())
                        }
                    }
                    Err(e) => connect_error(&e, who),
                },
            }
        }
    };
    let mut c = check(if fastcgi && status == Status::Ok { "fastcgi" } else { "connect" }, subject, status, message);
    c.facts = facts;
    c
}

fn connect_error(e: &std::io::Error, who: &str) -> (Status, String, BTreeMap<String, serde_json::Value>) {
    let msg = match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => format!("connection refused: nothing listens (nginx gets (111: Connection refused)){who}"),
        Some(libc::EAGAIN) => "listen queue full (nginx gets (11: Resource temporarily unavailable))".to_string(),
        Some(libc::EACCES) => return (Status::Skipped, "conflint's own user may not open it (run as root to probe)".into(), BTreeMap::new()),
        Some(libc::ETIMEDOUT) | None if e.kind() == ErrorKind::TimedOut => format!("no answer to connect within {} ms (nginx gets 504 or (110))", TIMEOUT.as_millis()),
        _ => format!("connect failed: {e}"),
    };
    (Status::Fail, msg, BTreeMap::new())
}

/// Does a process with these credentials get write access to the socket (and search
/// access to every directory above it)?
fn permissions(path: &Path, uid: u32, gid: u32, groups: &[u32], from_config: bool) -> Option<Check> {
    let m = std::fs::metadata(path).ok()?;
    let whose = if from_config { "nginx's configured user" } else { "nginx's workers" };
    let may = |meta: &std::fs::Metadata, bits: u32| -> bool {
        if uid == 0 {
            return true;
        }
        let mode = meta.mode();
        if meta.uid() == uid {
            mode & (bits << 6) == bits << 6
        } else if meta.gid() == gid || groups.contains(&meta.gid()) {
            mode & (bits << 3) == bits << 3
        } else {
            mode & bits == bits
        }
    };
    let subject = format!("unix:{}", path.display());
    for dir in path.ancestors().skip(1) {
        if let Ok(dm) = std::fs::metadata(dir) {
            if !may(&dm, 0o1) {
                return Some(check("socket-permissions", subject, Status::Fail, format!("{whose} (uid {uid}) may not enter {} (mode {:o}): nginx gets (13: Permission denied)", dir.display(), dm.mode() & 0o7777)));
            }
        }
    }
    let owner = format!("owner {} group {} mode {:o}", name_of("/etc/passwd", m.uid()), name_of("/etc/group", m.gid()), m.mode() & 0o777);
    let mut c = if may(&m, 0o2) {
        check("socket-permissions", subject, Status::Ok, format!("{whose} (uid {uid}) may write to it ({owner})"))
    } else {
        check("socket-permissions", subject, Status::Fail, format!("{whose} (uid {uid}, gid {gid}) may not write to it ({owner}): nginx gets (13: Permission denied)"))
    };
    c.facts.insert("uid".into(), m.uid().into());
    c.facts.insert("gid".into(), m.gid().into());
    c.facts.insert("mode".into(), format!("{:o}", m.mode() & 0o777).into());
    Some(c)
}

fn name_of(file: &str, id: u32) -> String {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| t.lines().find(|l| l.split(':').nth(2) == Some(&id.to_string())).and_then(|l| l.split(':').next().map(str::to_string)))
        .unwrap_or_else(|| id.to_string())
}

/// nginx is not running: the `user` of nginx.conf (else www-data), from /etc/passwd.
fn configured_user(model: &Model) -> Option<(u32, u32, Vec<u32>)> {
    let top = model.view.tops.first().copied()?;
    let user = model.view.first_here(top, "user").and_then(|p| p.arg(0).map(str::to_string)).unwrap_or_else(|| "www-data".into());
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.split(':').next() == Some(user.as_str()))?;
    let f: Vec<&str> = line.split(':').collect();
    let (uid, gid) = (f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?);
    let groups = std::fs::read_to_string("/etc/group").ok().map_or_else(Vec::new, |g| {
        g.lines().filter(|l| l.rsplit(':').next().is_some_and(|m| m.split(',').any(|x| x == user))).filter_map(|l| l.split(':').nth(2)?.parse().ok()).collect()
    });
    Some((uid, gid, groups))
}

fn pid_file_state(p: &Path) -> String {
    match std::fs::read_to_string(p) {
        Err(e) if e.kind() == ErrorKind::NotFound => "missing".into(),
        Err(e) => e.to_string(),
        Ok(t) => match t.trim().parse::<u32>() {
            Ok(pid) if Path::new(&format!("/proc/{pid}")).exists() => format!("pid {pid} is not php-fpm"),
            Ok(pid) => format!("stale, pid {pid} is gone"),
            Err(_) => "unreadable".into(),
        },
    }
}

fn pid_file_master(model: &Model, i: usize, ps: &[Proc]) -> Option<u32> {
    let p = model.pools[i].config.global.iter().rev().find(|s| s.name == "pid")?;
    let pid: u32 = std::fs::read_to_string(&*p.value.text).ok()?.trim().parse().ok()?;
    ps.iter().find(|x| x.pid == pid && x.cmdline.starts_with("php-fpm: master process")).map(|x| x.pid)
}

/// Resident size of the pool's workers, and the `pm.max_children` the host's memory fits.
fn pool_memory(i: usize, subject: &str, pool: &crate::effective::fpm::PoolView, workers: &[&Proc], memory: Option<u64>) -> Option<Check> {
    if workers.is_empty() {
        return None;
    }
    let total: u64 = workers.iter().map(|w| w.rss).sum();
    let avg = total / workers.len() as u64;
    let configured = pool.int(crate::pool_key!("pm.max_children"));
    let mut c = check("pool-memory", subject, Status::Info, format!("{} workers, {} resident on average", workers.len(), human(avg)));
    c.pool = Some(i);
    c.facts.insert("workers".into(), workers.len().into());
    c.facts.insert("rss_average".into(), avg.into());
    if let (Some(mem), true) = (memory, avg > 0) {
        let fits = (mem as f64 * SHARE / avg as f64).floor() as u64;
        c.facts.insert("max_children_fits".into(), fits.into());
        let arithmetic = format!("{} × {SHARE} ÷ {} = {fits}", human(mem), human(avg));
        c.message = match configured {
            Some(n) if n as u64 > fits => {
                c.status = Status::Warn;
                format!("pm.max_children = {n} but the host's memory fits {fits} workers of this size ({arithmetic}): at full load the OOM killer ends workers (502)")
            }
            Some(n) => format!("{}; pm.max_children = {n}, the host's memory fits {fits} ({arithmetic}; MemTotal × share ÷ average resident size)", c.message),
            None => format!("{}; the host's memory fits {fits} ({arithmetic})", c.message),
        };
    }
    Some(c)
}

/// The pool's status page (`pm.status_path`), asked over FastCGI on its own socket.
fn status_page(addr: &Addr, path: &str, subject: &str) -> Check {
    let params = [("REQUEST_METHOD", "GET"), ("SCRIPT_NAME", path), ("SCRIPT_FILENAME", path), ("REQUEST_URI", path), ("QUERY_STRING", "json"), ("SERVER_PROTOCOL", "HTTP/1.1"), ("GATEWAY_INTERFACE", "CGI/1.1")];
    let result = match addr {
        Addr::Unix(p) => UnixStream::connect(p).and_then(|mut s| {
            s.set_read_timeout(Some(TIMEOUT))?;
            fcgi::get(&mut s, &params)
        }),
        Addr::Tcp { host, port } if is_loopback(addr) == Some(true) || matches!(host, Host::Any) => {
            let ip: IpAddr = match host {
                Host::Ip(ip) => *ip,
                _ => IpAddr::from([127, 0, 0, 1]),
            };
            TcpStream::connect_timeout(&SocketAddr::new(ip, *port as u16), TIMEOUT).and_then(|mut s| {
                s.set_read_timeout(Some(TIMEOUT))?;
                fcgi::get(&mut s, &params)
            })
        }
        _ => return check("pool-status", subject, Status::Skipped, "status page on a non-loopback address: not asked"),
    };
    let stdout = match result {
        Ok((out, _)) => out,
        Err(e) => return check("pool-status", subject, Status::Warn, format!("status page {path} did not answer: {e}")),
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(fcgi::body(&stdout)) else {
        return check("pool-status", subject, Status::Warn, format!("status page {path} answered something that is not its JSON"));
    };
    let num = |k: &str| v.get(k).and_then(serde_json::Value::as_u64);
    let (active, idle, reached, queue) = (num("active processes"), num("idle processes"), num("max children reached"), num("listen queue"));
    let status = if reached.unwrap_or(0) > 0 || queue.unwrap_or(0) > 0 { Status::Warn } else { Status::Ok };
    let show = |n: Option<u64>| n.map_or("?".to_string(), |n| n.to_string());
    let mut c = check(
        "pool-status",
        subject,
        status,
        format!("active {}, idle {}, max children reached {} times, listen queue {}", show(active), show(idle), show(reached), show(queue)),
    );
    if let Some(obj) = v.as_object() {
        for (k, val) in obj {
            c.facts.insert(k.clone(), val.clone());
        }
    }
    c
}

fn meminfo(key: &str) -> Option<u64> {
    let t = std::fs::read_to_string("/proc/meminfo").ok()?;
    t.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok()).map(|kb| kb * 1024)
}

fn statvfs(p: &Path) -> Option<(u64, u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a live local.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    let dev = std::fs::metadata(p).ok()?.dev();
    Some((s.f_bavail as u64 * s.f_frsize as u64, s.f_blocks as u64 * s.f_frsize as u64, dev))
}

pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[i]) }
}

/// `[host] memory = "auto"`: this machine's memory.
pub fn host_memory() -> Option<u64> {
    meminfo("MemTotal:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_from_titles() {
        let p = |cmd: &str| Proc { pid: 7, ppid: 1, cmdline: cmd.into(), uid: 0, gid: 0, groups: vec![], rss: 0 };
        let ps = [p("php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"), p("nginx: master process /usr/sbin/nginx -c /tmp/x/nginx.conf -p /tmp/x -g daemon off;"), p("nginx: master process /usr/sbin/nginx -g daemon on; master_process on;")];
        assert_eq!(fpm_masters_in(&ps)[0].config, Path::new("/etc/php/8.2/fpm/php-fpm.conf"));
        let n = nginx_masters_in(&ps);
        assert_eq!(n[0].config, Path::new("/tmp/x/nginx.conf"));
        assert_eq!(n[1].config, Path::new("/etc/nginx/nginx.conf"));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3 << 29), "1.5 GiB");
    }
}
