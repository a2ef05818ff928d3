//! `nginx -t` on the staged tree of one root nginx.conf: in a namespace where the stage
//! is mounted at the live conf directory, else on a copy whose paths are rewritten.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::accounts;
use super::dummies::Dummies;
use super::process::{self, RunError};
use super::sandbox::{self, Run, Sandbox};
use super::{checked, run_error, Checked, Isolation, Ran, ValidateError};
use crate::fix::stage::Stage;
use crate::nginx::ast::{Item, Word};
use crate::rules::builtin::validation::{absolute, host_of, written_path, DummyKind, NginxBuild, NginxPlan, UPSTREAM_PASSES};
use crate::workspace::paths::display_path;
use crate::workspace::{Context, Workspace};

/// The build facts from `nginx -V` (Debian's where it says nothing).
pub fn build_of(binary: &Path, limit: Duration) -> Result<NginxBuild, ValidateError> {
    let mut b = NginxBuild::default();
    let out = match process::output(Command::new(binary).arg("-V"), limit) {
        Ok(out) => out,
        Err(RunError::Spawn(_)) => return Ok(b),
        Err(e) => return Err(run_error(e, format!("{} -V", binary.display()), limit)),
    };
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let opt = |name: &str| text.split_whitespace().find_map(|w| w.strip_prefix(&format!("--{name}="))).map(PathBuf::from);
    if let Some(p) = opt("prefix") {
        b.prefix = p;
    }
    if let Some(dir) = opt("conf-path").and_then(|p| p.parent().map(Path::to_path_buf)) {
        b.conf_dir = dir;
    }
    if let Some(m) = opt("modules-path") {
        b.module_dirs.insert(0, m);
    }
    for (directive, path) in b.temp_paths.iter_mut() {
        let flag = match directive.as_str() {
            "client_body_temp_path" => "http-client-body-temp-path".to_string(),
            d => format!("http-{}-temp-path", d.trim_end_matches("_temp_path")),
        };
        if let Some(p) = opt(&flag) {
            *path = p;
        }
    }
    // A module built out has no temp directory (and no directive to move it).
    b.temp_paths.retain(|(d, _)| !text.contains(&format!("--without-http_{}_module", d.trim_end_matches("_temp_path"))));
    let logs = [opt("pid-path"), opt("error-log-path").filter(|p| p != Path::new("stderr")), opt("http-log-path")];
    b.default_writes = logs.into_iter().flatten().chain(b.temp_paths.iter().map(|(_, p)| p.join("x"))).collect();
    Ok(b)
}

#[allow(clippy::too_many_arguments)]
pub fn validate(ws: &Workspace, plan: &NginxPlan, fixed: &HashMap<PathBuf, Vec<u8>>, binary: &Path, build: &NginxBuild, cwd: &Path, limit: Duration) -> Result<Checked, ValidateError> {
    let io = |e: std::io::Error| ValidateError::Unavailable(format!("cannot stage the nginx configuration: {e}"));
    let stage = Stage::new(&plan.units, fixed).map_err(io)?;
    let conf = &plan.units[0];
    let root_name = ws.source(plan.root).disk_path.as_ref().and_then(|p| p.file_name()).map(PathBuf::from).unwrap_or_else(|| "nginx.conf".into());
    let dummies = Dummies::new(stage.path().join("stand-ins"));
    let mut substitutions = Vec::new();
    // Stand-ins outside the staged directories, by live path. One file may be loaded as
    // several kinds (a certificate and its key in one .pem): its stand-in holds them all.
    let mut outside: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut wanted: BTreeMap<(&PathBuf, Option<&PathBuf>), BTreeSet<DummyKind>> = BTreeMap::new();
    for d in &plan.dummies {
        wanted.entry((&d.system, d.local.as_ref())).or_default().insert(d.kind);
    }
    for ((system, local), kinds) in wanted {
        let prepared = dummies.get(&kinds).map_err(ValidateError::Unavailable)?;
        let what = super::dummies::describe(&kinds);
        match local.and_then(|l| stage.staged_of_local(l)) {
            Some(staged) => {
                std::fs::create_dir_all(staged.parent().unwrap_or(stage.path())).map_err(io)?;
                std::fs::copy(&prepared, &staged).map_err(io)?;
                substitutions.push(format!("throw-away {what} for {} (absent from the tree)", display_path(local.expect("some"), cwd)));
            }
            None => {
                substitutions.push(format!("throw-away {what} for {} (not read)", system.display()));
                outside.insert(system.clone(), prepared);
            }
        }
    }
    let hosts = (!plan.hosts.is_empty()).then(|| stage.path().join("hosts"));
    if let Some(h) = &hosts {
        let names: Vec<&str> = plan.hosts.iter().map(String::as_str).collect();
        std::fs::write(h, format!("127.0.0.1 localhost\n::1 localhost\n127.0.0.1 {}\n", names.join(" "))).map_err(io)?;
        substitutions.push(format!("host names resolved to 127.0.0.1: {}", names.join(", ")));
    }
    let shown = display_path(&stage.units[0].unit.local.join(&root_name), cwd);
    let scratch = stage.path().join("scratch");
    std::fs::create_dir_all(&scratch).map_err(io)?;
    let mut writes: Vec<PathBuf> = plan.writes.iter().cloned().collect();
    writes.sort();
    let (users, groups) = accounts_of(ws, plan);
    let accounts = accounts::stand_ins(&users, &groups, &stage.path().join("accounts")).map_err(io)?;
    let sb = Sandbox {
        writes,
        binds: stage.units.iter().map(|u| (u.staged.clone(), u.unit.system.clone())).collect(),
        files: outside.iter().map(|(system, prepared)| (prepared.clone(), system.clone())).chain(accounts.files).collect(),
        hosts,
    };
    let cmd: Vec<OsString> = vec![binary.into(), "-t".into(), "-c".into(), conf.system.join(&root_name).into()];
    let ran = |isolation, output: String| Ran { validator: binary.display().to_string(), config: shown.clone(), isolation, substitutions: substitutions.clone(), output };
    match sandbox::run(&sb, &scratch, &cmd, limit) {
        Run::Ran(out) => {
            let raw = String::from_utf8_lossy(&out.stderr).into_owned();
            let mut r = ran(Isolation::Namespace, stage.map_output(&raw, cwd));
            r.substitutions.extend(accounts.note);
            Ok(checked(&stage, r, format!("{} -t ({shown})", binary.display()), &raw, out.status.success(), cwd, &|m| m.to_string()))
        }
        Run::TimedOut => Err(run_error(RunError::TimedOut, format!("{} -t ({shown})", binary.display()), limit)),
        Run::NoNamespace(why) => {
            let mut c = fallback(ws, plan, &stage, &outside, binary, build, cwd, &shown, &why, limit)?;
            c.ran.substitutions.extend(substitutions);
            c.ran.isolation = Isolation::RewrittenCopy { why };
            Ok(c)
        }
    }
}

/// The user and group of `user USER [GROUP];` (the group defaults to the user's name).
fn accounts_of(ws: &Workspace, plan: &NginxPlan) -> (BTreeSet<String>, BTreeSet<String>) {
    let items = ws.nginx.get(&plan.root).map_or(&[][..], |f| &f.config.items[..]);
    let user = items.iter().find_map(|i| match i {
        Item::Directive(d) if d.name.value == "user" => Some(d),
        _ => None,
    });
    let Some(args) = user.map(|d| &d.args) else { return Default::default() };
    let name = |i: usize| args.get(i).map(|w| w.value.to_string());
    (name(0).into_iter().collect(), name(1).or_else(|| name(0)).into_iter().collect())
}

/// Without namespaces: the copy's pid, logs, temp paths and sockets point into the stage,
/// paths into the live conf directory point at the copy, and upstream names at 127.0.0.1.
#[allow(clippy::too_many_arguments)]
fn fallback(ws: &Workspace, plan: &NginxPlan, stage: &Stage, outside: &BTreeMap<PathBuf, PathBuf>, binary: &Path, build: &NginxBuild, cwd: &Path, shown: &str, no_ns: &str, limit: Duration) -> Result<Checked, ValidateError> {
    let io = |e: std::io::Error| ValidateError::Unavailable(format!("cannot stage the nginx configuration: {e}"));
    stage.repoint_system_links().map_err(io)?;
    let work = stage.path().join("w");
    std::fs::create_dir_all(&work).map_err(io)?;
    // `proxy_pass http://relay` names the upstream when one is called so, not the host.
    let upstreams = ws.nginx.values().flat_map(|f| f.config.walk()).filter(|(_, d)| d.name.value == "upstream" && d.block().is_some()).filter_map(|(_, d)| d.args.first().map(|a| a.value.to_string())).collect();
    let mut rw = Rewriter { stage, work: &work, outside, plan, upstreams, sockets: HashMap::new(), conf_system: &plan.units[0].system, n: 0 };
    let root_staged = ws.source(plan.root).disk_path.as_ref().and_then(|p| stage.staged_of_local(p));
    for (id, _) in ws.nginx.iter() {
        let Some(staged) = ws.source(*id).disk_path.as_ref().and_then(|p| stage.staged_of_local(p)) else { continue };
        let text = std::fs::read(&staged).map_err(io)?;
        // A file pulled into a block other than http/stream/server may be part of `mail {}`.
        let mail = ws.nginx[id].context.is_some_and(|c| !matches!(c, Context::Main | Context::Http | Context::Server | Context::Stream));
        let new = rw.rewrite(&text, Some(&staged) == root_staged.as_ref(), mail, build);
        std::fs::write(&staged, new).map_err(io)?;
    }
    let root = root_staged.ok_or_else(|| ValidateError::Unavailable("the root nginx.conf is not in the stage".into()))?;
    let mut cmd = Command::new(binary);
    cmd.args(["-t", "-q", "-c"]).arg(&root).arg("-e").arg(work.join("startup.log"));
    let out = process::output(&mut cmd, limit).map_err(|e| run_error(e, format!("{} -t ({shown}, rewritten copy)", binary.display()), limit))?;
    // `unix:<stage>/w/l-1` → the address the user wrote.
    let mut sockets: Vec<(&String, &String)> = rw.sockets.iter().collect();
    sockets.sort_by_key(|(_, sock)| std::cmp::Reverse(sock.len()));
    let unmask = |text: &str| sockets.iter().fold(text.to_string(), |o, (addr, sock)| o.replace(sock.as_str(), addr));
    let raw = String::from_utf8_lossy(&out.stderr).into_owned();
    let output = stage.map_output(&unmask(&raw), cwd);
    if !out.status.success() && environmental(&output) {
        return Err(ValidateError::Unavailable(format!("{} -t could not check {shown} without a namespace ({no_ns}):\n{output}", binary.display())));
    }
    let ran = Ran { validator: binary.display().to_string(), config: shown.to_string(), isolation: Isolation::RewrittenCopy { why: String::new() }, substitutions: Vec::new(), output };
    Ok(checked(stage, ran, format!("{} -t ({shown}, rewritten copy)", binary.display()), &raw, out.status.success(), cwd, &unmask))
}

/// Errors that come from running unprivileged outside a namespace, not from the config: a
/// `mail {}` listen below 1024 (those are not moved to unix sockets).
fn environmental(output: &str) -> bool {
    let fatal: Vec<&str> = output.lines().filter(|l| l.contains("[emerg]")).collect();
    !fatal.is_empty() && fatal.iter().all(|l| l.contains("bind() to") && l.contains("(13: Permission denied)"))
}

struct Rewriter<'a> {
    stage: &'a Stage,
    work: &'a Path,
    outside: &'a BTreeMap<PathBuf, PathBuf>,
    plan: &'a NginxPlan,
    upstreams: BTreeSet<String>,
    /// Unix socket standing for each listen address.
    sockets: HashMap<String, String>,
    conf_system: &'a Path,
    n: usize,
}

impl Rewriter<'_> {
    fn scratch(&mut self, name: &str) -> String {
        self.n += 1;
        self.work.join(format!("{name}-{}", self.n)).to_string_lossy().into_owned()
    }

    fn rewrite(&mut self, text: &[u8], is_root: bool, mail: bool, build: &NginxBuild) -> Vec<u8> {
        let config = crate::nginx::parse(text);
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        self.visit(&config.items, mail, &mut edits);
        if is_root {
            self.defaults(&config.items, build, &mut edits);
        }
        crate::fix::splice(text, edits)
    }

    fn visit(&mut self, items: &[Item], mail: bool, edits: &mut Vec<(usize, usize, String)>) {
        for item in items {
            let Item::Directive(d) = item else { continue };
            let name = d.name.value.as_str();
            for (i, a) in d.args.iter().enumerate() {
                if let Some(v) = self.new_value(name, i, &a.value, mail) {
                    edits.push((a.span.start(), a.span.end(), requote(a, &v)));
                }
            }
            if let Some(b) = d.block() {
                self.visit(&b.items, mail || name == "mail", edits);
            }
        }
    }

    fn new_value(&mut self, name: &str, i: usize, v: &str, mail: bool) -> Option<String> {
        if i == 0 && written_path(name) && !(v == "off" || v == "stderr" || v.contains(':') || v.contains('$')) {
            return Some(self.scratch(name));
        }
        // nginx -t binds and listens on every address: outside a network namespace that is
        // the host's network (and ports below 1024 are refused to a normal user). A unix
        // socket in the stage per distinct address keeps duplicate-listen checks meaningful.
        // (The mail module's TCP listens are left alone: it may not take unix sockets.)
        if i == 0 && name == "listen" && (!mail || v.starts_with("unix:")) {
            let key = listen_key(v);
            let sock = match self.sockets.get(&key) {
                Some(s) => s.clone(),
                None => {
                    let s = format!("unix:{}", self.scratch("l"));
                    self.sockets.insert(key, s.clone());
                    s
                }
            };
            return Some(sock);
        }
        if let Some(prepared) = self.outside.get(&absolute(v, self.conf_system)) {
            return Some(prepared.to_string_lossy().into_owned());
        }
        if UPSTREAM_PASSES.contains(&name) || name == "server" || name == "listen" {
            let upstream = UPSTREAM_PASSES.contains(&name) && host_of(v).is_some_and(|h| self.upstreams.contains(h));
            if let Some(host) = host_of(v).filter(|h| self.plan.hosts.contains(*h) && !upstream) {
                return Some(v.replacen(host, "127.0.0.1", 1));
            }
        }
        let p = Path::new(v);
        (p.is_absolute()).then(|| self.stage.staged_of_system(p)).flatten().map(|s| s.to_string_lossy().into_owned())
    }

    /// Paths nginx uses when the config names none (pid, error log, access log, temp
    /// directories) are set explicitly, into the stage, on existing lines so that nginx's
    /// line numbers stay the user's.
    fn defaults(&mut self, items: &[Item], build: &NginxBuild, edits: &mut Vec<(usize, usize, String)>) {
        let has = |items: &[Item], n: &str| items.iter().any(|i| matches!(i, Item::Directive(d) if d.name.value == n));
        let mut top = String::new();
        for n in ["pid", "error_log"] {
            if !has(items, n) {
                top += &format!("{n} {}; ", self.scratch(n));
            }
        }
        edits.push((0, 0, top));
        let http = items.iter().find_map(|i| match i {
            Item::Directive(d) if d.name.value == "http" => d.block(),
            _ => None,
        });
        if let Some(b) = http {
            let mut add = String::new();
            for n in build.temp_paths.iter().map(|(d, _)| d.as_str()).chain(["access_log"]) {
                if !has(&b.items, n) {
                    add += &format!(" {n} {};", self.scratch(n));
                }
            }
            edits.push((b.open.end(), b.open.end(), add));
        }
    }
}

/// One spelling per listen address: `80`, `*:80` and `0.0.0.0:80` are the same socket.
fn listen_key(v: &str) -> String {
    let v = v.to_ascii_lowercase();
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return format!("*:{v}");
    }
    match v.strip_prefix("0.0.0.0:") {
        Some(port) => format!("*:{port}"),
        None if !v.contains(':') && !v.starts_with("unix") => format!("{v}:80"),
        None => v,
    }
}

fn requote(w: &Word, v: &str) -> String {
    match w.quote {
        Some(q) => format!("{q}{v}{q}"),
        None => v.to_string(),
    }
}
