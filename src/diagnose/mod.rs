//! `conflint diagnose`: from the error logs of a server answering 50x to the config line
//! and rule responsible, with live checks of the sockets, pools and host.
//!
//! logs → [`parse`] lines into [`event`]s → [`explain`] each event's path through the
//! configuration ([`locate`]: server and location by nginx's rules; pass target; pool) →
//! group into causes, streamed (memory stays flat however long the log) → attach the
//! findings of `check` that explain them → [`live`] checks → [`report`]. Read-only: no
//! config is written, no process signalled, nothing restarted.

pub mod event;
pub mod command;
pub mod explain;
mod fcgi;
pub mod live;
pub mod locate;
pub mod logs;
pub mod parse;
pub mod report;
pub mod time;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::Linted;
use crate::finding::{Applicability, Finding, Location};
use crate::rules::Registry;

use event::{Event, Kind, Origin};
use explain::{Model, Path as EventPath};
use logs::{LogSpec, Writer};
use parse::Line;
use time::Zone;

pub struct Options {
    /// `--log` files; `-` is standard input. Empty: the logs the configuration names.
    pub logs: Vec<String>,
    /// Unix time: only events at or after it (`--since`).
    pub since: Option<i64>,
    pub now: i64,
    /// How to read naive log times.
    pub zone: Zone,
    /// `--live` / `--no-live`; `None`: on when this is the server whose config is read.
    pub live: Option<bool>,
    pub probe_remote: bool,
    /// The config paths were not given: this is the live layout of this machine.
    pub live_layout: bool,
    /// The configuration paths read (for the `conflint check --diff` hint).
    pub paths: Vec<String>,
}

/// The whole result, as `json` prints it (field names are documented in docs/diagnose.md
/// and stable).
#[derive(Debug, Serialize)]
pub struct Diagnosis {
    pub version: u32,
    pub window: Window,
    pub logs: Vec<LogRead>,
    pub causes: Vec<Cause>,
    pub live: Option<live::Report>,
    pub notes: Vec<String>,
    pub summary: Summary,
}

#[derive(Debug, Serialize)]
pub struct Window {
    /// RFC 3339 UTC; `null`: the whole of the current logs.
    pub since: Option<String>,
    pub until: String,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub events: u64,
    pub causes: usize,
    /// Causes that are (or make) 502/503/504 answers, plus failed live checks.
    pub causes_50x: usize,
    pub live_failures: usize,
}

#[derive(Debug, Serialize)]
pub struct LogRead {
    pub path: String,
    pub writer: Writer,
    /// Where the configuration names the log (`nginx/nginx.conf:4`).
    pub named_at: Option<String>,
    /// A rotated predecessor read because the window reaches back into it.
    pub rotated: bool,
    pub lines: u64,
    pub events: u64,
    /// Lines in neither nginx's nor PHP-FPM's format.
    pub unparsed: u64,
    pub not_utf8: u64,
    /// Lines longer than 64 KiB, cut.
    pub cut: u64,
    /// Events before `--since`.
    pub before_window: u64,
    /// Why the log was not (completely) read.
    pub error: Option<String>,
}

/// One cause: events of one kind on one path through the configuration.
#[derive(Debug, Serialize)]
pub struct Cause {
    pub rank: usize,
    /// `connect-failed-111`, `upstream-timed-out-reading-header`, `max-children`, …
    pub kind: String,
    pub title: String,
    /// The status the clients got (`null` when the line is not itself a failed request).
    pub status: Option<u16>,
    pub is_50x: bool,
    pub count: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub zone: Option<String>,
    pub sample: Sample,
    /// Up to five distinct request targets.
    pub requests: Vec<String>,
    pub server: Option<Place>,
    pub location: Option<Place>,
    /// The internal redirect followed from the logged URI to the location.
    pub via: Option<String>,
    pub pass: Option<Place>,
    /// The address nginx connected to.
    pub upstream: Option<String>,
    /// The setting in force that bounds what happened (`fastcgi_read_timeout 30s`,
    /// `pm.max_children = 5`), or its default when nothing sets it.
    pub setting: Option<Place>,
    pub pool: Option<Place>,
    /// The location passes with `fastcgi_pass` (so a pool should be at the other end).
    pub fastcgi: bool,
    /// For PHP-FPM events: the nginx locations that pass to the pool.
    pub passed_from: Vec<Place>,
    pub rules: Vec<RuleHit>,
    pub explained: bool,
    /// What the live checks found about this cause's target and pool.
    pub live: Vec<String>,
    /// When no rule explains it: where to look next.
    pub hint: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Sample {
    pub line: String,
    pub path: String,
    pub line_number: u64,
}

/// A place in the configuration: `location ~ \.php$` at `nginx/sites-enabled/shop:12`.
#[derive(Debug, Serialize, Clone, PartialEq, Eq)]
pub struct Place {
    pub text: String,
    pub path: Option<String>,
    pub line: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct RuleHit {
    pub code: String,
    pub name: String,
    pub severity: crate::finding::Severity,
    pub message: String,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub fix: Option<String>,
    pub applicability: Option<Applicability>,
    /// The command that shows (or applies) the fix.
    pub command: Option<String>,
}

/// One cause while the logs stream by.
struct Acc {
    count: u64,
    first: Option<i64>,
    last: Option<i64>,
    sample: Sample,
    requests: Vec<String>,
    order: usize,
}

type Key = (Kind, Option<String>, EventPath);

struct Collector<'m, 'w> {
    model: &'m Model<'w>,
    zone: Zone,
    since: Option<i64>,
    now: i64,
    causes: HashMap<Key, Acc>,
    events: u64,
    future: u64,
}

impl Collector<'_, '_> {
    fn add(&mut self, e: &Event, fpm_config: Option<usize>, log: &str, line_number: u64, read: &mut LogRead) -> bool {
        if let (Some(since), Some(t)) = (self.since, e.time) {
            if t < since {
                read.before_window += 1;
                return false;
            }
        }
        if e.time.is_some_and(|t| t > self.now + 3600) {
            self.future += 1;
        }
        read.events += 1;
        self.events += 1;
        let path = self.model.resolve(e, fpm_config);
        let key = (e.kind, e.zone.map(str::to_string), path);
        let order = self.causes.len();
        let acc = self.causes.entry(key).or_insert_with(|| Acc {
            count: 0,
            first: None,
            last: None,
            sample: Sample { line: e.line.chars().take(2048).collect(), path: log.to_string(), line_number },
            requests: Vec::new(),
            order,
        });
        acc.count += 1;
        if let Some(t) = e.time {
            acc.first = Some(acc.first.map_or(t, |f| f.min(t)));
            acc.last = Some(acc.last.map_or(t, |l| l.max(t)));
        }
        if let Some(r) = e.request {
            let shown: String = format!("{} {}", r.method, r.target).chars().take(512).collect();
            if acc.requests.len() < 5 && !acc.requests.contains(&shown) {
                acc.requests.push(shown);
            }
        }
        true
    }
}

/// A slowlog entry being read (header, then `script_filename`, then frames).
struct PendingSlow {
    time: Option<i64>,
    pool: String,
    header: String,
    script: Option<String>,
    /// The innermost stack frame: where the time went.
    frame: Option<String>,
    line_number: u64,
}

pub fn run(linted: &Linted, registry: &Registry, opts: &Options, stdin: &mut dyn Read) -> Diagnosis {
    let ws = &linted.workspace;
    let model = Model::new(ws, registry);
    let mut notes: Vec<String> = Vec::new();
    for u in &model.servers.unsupported {
        notes.push(format!("{u}: a regex this build cannot evaluate (look-around or back-reference); requests it would take are matched without it"));
    }
    let specs: Vec<LogSpec> = if opts.logs.is_empty() {
        let (specs, n) = logs::from_config(ws, &model.view);
        notes.extend(n);
        if specs.is_empty() {
            notes.push("the configuration names no log file and none was given: pass the logs with --log FILE (or --log - for a pasted excerpt)".into());
        }
        specs
    } else {
        opts.logs.iter().map(|l| LogSpec { path: PathBuf::from(l), writer: Writer::Given, fpm_config: None, named_at: None }).collect()
    };

    let mut c = Collector { model: &model, zone: opts.zone, since: opts.since, now: opts.now, causes: HashMap::new(), events: 0, future: 0 };
    let mut reads = Vec::new();
    let mut stdin_used = false;
    for spec in &specs {
        let mut files = vec![(spec.path.clone(), false)];
        let is_stdin = spec.path.as_os_str() == "-";
        let rotated = if is_stdin { Vec::new() } else { logs::rotated(&spec.path) };
        let mut older = rotated.into_iter();
        while let Some((path, is_rotated)) = files.pop() {
            let shown = if is_stdin { "-".to_string() } else { path.display().to_string() };
            let mut read = LogRead {
                path: shown.clone(),
                writer: spec.writer,
                named_at: spec.named_at.clone(),
                rotated: is_rotated,
                lines: 0,
                events: 0,
                unparsed: 0,
                not_utf8: 0,
                cut: 0,
                before_window: 0,
                error: None,
            };
            let mut oldest: Option<i64> = None;
            let result = if is_stdin {
                if stdin_used {
                    read.error = Some("standard input was already read".into());
                    reads.push(read);
                    continue;
                }
                stdin_used = true;
                Ok(Box::new(&mut *stdin) as Box<dyn Read>)
            } else {
                logs::open(&path)
            };
            match result {
                Err(e) => {
                    let what = match e.kind() {
                        std::io::ErrorKind::NotFound => "not found".to_string(),
                        std::io::ErrorKind::PermissionDenied => "permission denied (run as root, or give the file with --log)".to_string(),
                        _ => e.to_string(),
                    };
                    read.error = Some(what);
                }
                Ok(input) => {
                    let mut pending: Option<PendingSlow> = None;
                    let flush = |pending: &mut Option<PendingSlow>, c: &mut Collector, read: &mut LogRead| {
                        if let Some(p) = pending.take() {
                            let line = match (&p.script, &p.frame) {
                                (Some(s), Some(f)) => format!("{} — {s}: {f}", p.header),
                                (Some(s), None) => format!("{} — {s}", p.header),
                                _ => p.header.clone(),
                            };
                            let mut e = Event::new(Origin::Slowlog, Kind::SlowlogEntry, &line);
                            e.time = p.time;
                            e.pool = Some(&p.pool);
                            e.script = p.script.as_deref();
                            c.add(&e, spec.fpm_config, &shown, p.line_number, read);
                        }
                    };
                    let outcome = logs::each_line(input, |n, text| {
                        match parse::line(text, c.zone) {
                            Line::Event(e) => {
                                if let Some(t) = e.time {
                                    oldest = Some(oldest.map_or(t, |o: i64| o.min(t)));
                                }
                                c.add(&e, spec.fpm_config, &shown, n, &mut read);
                            }
                            Line::SlowHeader { time, pool, line } => {
                                flush(&mut pending, &mut c, &mut read);
                                if let Some(t) = time {
                                    oldest = Some(oldest.map_or(t, |o: i64| o.min(t)));
                                }
                                pending = Some(PendingSlow { time, pool: pool.to_string(), header: line.to_string(), script: None, frame: None, line_number: n });
                            }
                            Line::SlowScript(s) => {
                                if let Some(p) = pending.as_mut() {
                                    p.script.get_or_insert_with(|| s.to_string());
                                }
                            }
                            Line::SlowFrame(f) => {
                                if let Some(p) = pending.as_mut() {
                                    p.frame.get_or_insert_with(|| f.to_string());
                                }
                            }
                            Line::Other(time) => {
                                if let Some(t) = time {
                                    oldest = Some(oldest.map_or(t, |o: i64| o.min(t)));
                                }
                            }
                            Line::Unparsed => read.unparsed += 1,
                        }
                    });
                    flush(&mut pending, &mut c, &mut read);
                    let stats = match outcome {
                        Ok(s) => s,
                        Err(i) => {
                            read.error = Some(format!("stopped after line {}: {}", i.stats.lines, i.error));
                            i.stats
                        }
                    };
                    read.lines = stats.lines;
                    read.not_utf8 = stats.not_utf8;
                    read.cut = stats.cut;
                }
            }
            // Older rotations only when the window reaches back past this file's start.
            let wants_older = match opts.since {
                Some(since) => read.error.is_none() && oldest.is_none_or(|o| o > since),
                None => false,
            };
            reads.push(read);
            if wants_older {
                if let Some(next) = older.next() {
                    files.push((next, true));
                }
            }
        }
        if opts.since.is_none() && !is_stdin {
            let n = logs::rotated(&spec.path).len();
            if n > 0 {
                notes.push(format!("{}: {n} rotated file{} not read (give --since to reach back into them)", spec.path.display(), if n == 1 { "" } else { "s" }));
            }
        }
    }
    for r in &reads {
        if r.lines > 0 && r.unparsed * 2 > r.lines {
            notes.push(format!("{}: {} of {} lines are in neither nginx's nor PHP-FPM's error-log format (a binary file, an access log or another program's log?)", r.path, r.unparsed, r.lines));
        }
    }
    if c.future > 0 {
        notes.push(format!(
            "{} event{} dated more than an hour after now: the logs were probably written in another time zone; give it with --timezone (e.g. --timezone UTC)",
            c.future,
            if c.future == 1 { " is" } else { "s are" }
        ));
    }
    let (events, accs) = (c.events, c.causes);

    let live_on = opts.live.unwrap_or_else(|| opts.live_layout || live::runs_here(ws));
    let live_report = live_on.then(|| live::run(&model, &live::Options { probe_remote: opts.probe_remote }));

    let mut accs: Vec<(Key, Acc)> = accs.into_iter().collect();
    accs.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.1.order.cmp(&b.1.order)));
    let causes: Vec<Cause> = accs
        .into_iter()
        .enumerate()
        .map(|(i, ((kind, zone, path), acc))| build_cause(&model, &linted.findings, registry, opts, i + 1, kind, zone, &path, acc, live_report.as_ref()))
        .collect();
    let live_failures = live_report.as_ref().map_or(0, |r| r.failures());
    let summary = Summary { events, causes: causes.len(), causes_50x: causes.iter().filter(|c| c.is_50x).count(), live_failures };
    Diagnosis {
        version: 1,
        window: Window { since: opts.since.map(time::rfc3339_utc), until: time::rfc3339_utc(opts.now) },
        logs: reads,
        causes,
        live: live_report,
        notes,
        summary,
    }
}

impl Diagnosis {
    /// 1 when a 50x cause was found (in the logs or by a live check), else 0.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.summary.causes_50x > 0 || self.summary.live_failures > 0)
    }
}

fn place_of(model: &Model, at: Location, text: String) -> Place {
    let src = model.ws.source(at.file);
    Place { text, path: Some(src.display.clone()), line: Some(src.position(at.span.start()).line) }
}

#[allow(clippy::too_many_arguments)]
fn build_cause(model: &Model, findings: &[Finding], registry: &Registry, opts: &Options, rank: usize, kind: Kind, zone: Option<String>, path: &EventPath, acc: Acc, live: Option<&live::Report>) -> Cause {
    let v = &model.view;
    let server = path.server.map(|i| {
        let s = &model.servers.servers[i];
        let text = if s.first_name().is_empty() { "server (no server_name)".to_string() } else { format!("server {}", s.first_name()) };
        match v.scope(s.scope).block {
            Some(b) => place_of(model, b.location(), text),
            None => Place { text, path: None, line: None },
        }
    });
    let server = server.or_else(|| path.server_name.as_ref().map(|n| Place { text: format!("server `{n}` (as logged; no such server_name in the configuration)"), path: None, line: None }));
    let location = path.location.and_then(|l| model.scope_place(l).map(|b| place_of(model, b.location(), v.describe(l))));
    let pass = path.pass.map(|at| {
        let d = path.location.and_then(|l| v.scope(l).directives.iter().chain(v.scope(l).children.iter().flat_map(|&c| v.scope(c).directives.iter())).find(|d| d.location() == at).copied());
        let text = d.map_or_else(String::new, |d| format!("{} {}", d.name(), d.directive.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" ")));
        place_of(model, at, text)
    });
    let pool = path.pool.map(|i| {
        let p = &model.pools[i];
        let listen = p.get(crate::pool_key!("listen")).map(|s| format!(" (listen = {})", s.value.text)).unwrap_or_default();
        place_of(model, p.pool.header, format!("pool {}{listen}", p.name()))
    });
    let pool = pool.or_else(|| path.pool_name.as_ref().map(|n| Place { text: format!("pool `{n}` (as logged; not in the configuration read)"), path: None, line: None }));
    let passed_from = match (path.pool, kind_is_fpm(kind)) {
        (Some(i), true) => model.sites_of_pool(i).into_iter().filter_map(|s| model.scope_place(s).map(|b| place_of(model, b.location(), v.describe(s)))).collect(),
        _ => Vec::new(),
    };
    let mut explaining = model.explaining(kind, path, findings);
    explaining.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let rules: Vec<RuleHit> = explaining
        .into_iter()
        .map(|f| {
            let src = model.ws.source(f.location.file);
            let pos = src.position(f.location.span.start());
            let meta = registry.get(&f.code);
            let paths = if opts.paths.is_empty() { String::new() } else { format!(" {}", opts.paths.join(" ")) };
            let command = f.fix.as_ref().map(|fix| {
                let unsafe_ = if fix.applicability == Applicability::Unsafe { " --unsafe-fixes" } else { "" };
                format!("conflint check --diff{unsafe_} --select {}{paths}", f.code)
            });
            RuleHit {
                code: f.code.clone(),
                name: meta.map_or_else(String::new, |m| m.name.clone()),
                severity: f.severity,
                message: f.message.clone(),
                path: src.display.clone(),
                line: pos.line,
                column: pos.column,
                fix: f.fix.as_ref().map(|x| x.message.clone()),
                applicability: f.fix.as_ref().map(|x| x.applicability),
                command,
            }
        })
        .collect();
    let live_notes = live.map(|r| r.about(path.upstream.as_ref(), path.pool)).unwrap_or_default();
    let hint = rules.is_empty().then(|| hint(kind, path, model, live.is_some())).flatten();
    let status = model.status_of(kind, path);
    Cause {
        rank,
        kind: kind.code(),
        title: kind.title(),
        status,
        is_50x: kind.is_50x_cause() && status.is_none_or(|s| s >= 500),
        count: acc.count,
        first: acc.first.map(time::rfc3339_utc),
        last: acc.last.map(time::rfc3339_utc),
        zone,
        sample: acc.sample,
        requests: acc.requests,
        server,
        location,
        via: path.via.clone(),
        pass,
        upstream: path.upstream.as_ref().map(ToString::to_string),
        setting: setting_of(model, kind, path),
        fastcgi: module_of(model, path).as_deref() == Some("fastcgi"),
        pool,
        passed_from,
        explained: !rules.is_empty(),
        rules,
        live: live_notes,
        hint,
    }
}

/// `fastcgi`, `proxy`, … of the location's `*_pass`.
fn module_of(model: &Model, path: &EventPath) -> Option<String> {
    let (loc, at) = (path.location?, path.pass?);
    model.view.scope(loc).directives.iter().find(|d| d.location() == at).map(|d| d.name().trim_end_matches("_pass").to_string())
}

/// The directive or pool setting that bounds an event of `kind` on `path`.
fn setting_of(model: &Model, kind: Kind, path: &EventPath) -> Option<Place> {
    use event::Phase;
    let v = &model.view;
    if let Some(loc) = path.location {
        let module = module_of(model, path);
        let (name, default) = match (kind, module.as_deref()) {
            (Kind::UpstreamTimedOut { phase: Phase::ReadingHeader | Phase::ReadingBody }, Some(m)) => (format!("{m}_read_timeout"), "60s"),
            (Kind::UpstreamTimedOut { phase: Phase::Connecting }, Some(m)) => (format!("{m}_connect_timeout"), "60s"),
            (Kind::UpstreamTimedOut { phase: Phase::Sending }, Some(m)) => (format!("{m}_send_timeout"), "60s"),
            (Kind::TooBigHeader, Some(m)) => (format!("{m}_buffer_size"), "4k or 8k (one memory page)"),
            (Kind::LimitReq | Kind::LimitZoneFull, _) => ("limit_req".to_string(), ""),
            (Kind::LimitConn, _) => ("limit_conn".to_string(), ""),
            _ => return None,
        };
        return Some(match v.effective(loc, &name) {
            Some((_, p)) => place_of(model, p.location(), format!("{name} {}", p.directive.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" "))),
            None => Place { text: format!("{name} not set: nginx's default {default}"), path: None, line: None },
        });
    }
    let pool = &model.pools[path.pool?];
    let (name, key, default) = match kind {
        Kind::MaxChildren => ("pm.max_children", crate::pool_key!("pm.max_children"), "none (PHP-FPM refuses to start)"),
        Kind::ExecutionTimedOut => ("request_terminate_timeout", crate::pool_key!("request_terminate_timeout"), "0 (never)"),
        Kind::SlowRequest | Kind::SlowlogEntry => ("request_slowlog_timeout", crate::pool_key!("request_slowlog_timeout"), "0 (off)"),
        _ => return None,
    };
    Some(match pool.get(key) {
        Some(s) => place_of(model, s.location, format!("{name} = {}", s.value.text)),
        None => Place { text: format!("{name} not set: PHP-FPM's default {default}"), path: None, line: None },
    })
}

/// Where to look when the configuration explains nothing: the cause is at run time.
fn hint(kind: Kind, path: &EventPath, model: &Model, live: bool) -> Option<String> {
    let pool = path.pool.map(|i| model.pools[i].name());
    let check = if live { "the live checks below say what runs" } else { "run diagnose on the server (or with --live) to check what runs" };
    let fastcgi = module_of(model, path).is_none_or(|m| m == "fastcgi");
    let text = match (kind, pool) {
        (Kind::ConnectFailed { errno: 2 | 111 }, Some(p)) => format!("pool {p} is configured to listen there, so the configuration agrees on both sides: is the pool running? ({check})"),
        (Kind::ConnectFailed { errno: 2 | 111 }, None) if fastcgi => format!("no pool in the configuration read listens there: should the PHP-FPM configuration that does be among the PATHS? ({check})"),
        (Kind::ConnectFailed { errno: 2 | 111 }, None) => format!("the backend does not accept connections there: is it running? ({check})"),
        (Kind::ChildSignal { signal: 9 }, _) => "SIGKILL is usually the kernel's OOM killer (`journalctl -k | grep -i 'killed process'`): with the host's memory known (`[host] memory = \"auto\"` or --host-memory) FPM102 compares the pools' worst case with it".to_string(),
        (Kind::ChildSignal { signal: 11 }, _) => "a crash in PHP or an extension: `coredumpctl list php-fpm*` shows the dumps".to_string(),
        (Kind::ConnectFailed { errno: 13 }, _) => format!("the socket's owner or mode on disk differs from the configuration (or a directory above it is closed) ({check})"),
        (Kind::UpstreamTimedOut { .. }, _) => "the timeouts are not below the thresholds of NGX101/XFP002: the request itself was slower (see the pool's slowlog)".to_string(),
        (Kind::ConnectionReset | Kind::PrematureClose, _) => "the worker died mid-request: look for `exited on signal` in the PHP-FPM log (OOM killer, crash) and PHP fatal errors".to_string(),
        _ => return None,
    };
    Some(text)
}

fn kind_is_fpm(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::MaxChildren | Kind::SeemsBusy | Kind::ProcessMax | Kind::ChildSignal { .. } | Kind::ChildExitCode | Kind::ExecutionTimedOut | Kind::SlowRequest | Kind::SlowlogEntry | Kind::FailedThreshold | Kind::ConnectionDisallowed | Kind::FpmStartFailed
    )
}

/// The configuration of this machine, found the usual ways: /etc/nginx, and each PHP-FPM
/// configuration a running master names or a distribution puts in its usual place.
pub fn live_layout() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |p: &Path| {
        let s = p.display().to_string();
        if p.exists() && !out.iter().any(|o| Path::new(o) == p || p.starts_with(o)) {
            out.push(s);
        }
    };
    add(Path::new("/etc/nginx"));
    for m in live::fpm_masters() {
        if let Some(dir) = m.config.parent() {
            // Debian's /etc/php/8.2/fpm holds php-fpm.conf and pool.d/; elsewhere the
            // file alone (its include= pulls in the pools).
            if dir.join("pool.d").is_dir() { add(dir) } else { add(&m.config) }
        }
    }
    if let Ok(entries) = std::fs::read_dir("/etc/php") {
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("fpm")).filter(|p| p.join("php-fpm.conf").is_file()).collect();
        dirs.sort();
        for d in dirs {
            add(&d);
        }
    }
    for f in ["/etc/php-fpm.conf", "/usr/local/etc/php-fpm.conf"] {
        add(Path::new(f));
    }
    for d in ["/etc/php-fpm.d", "/usr/local/etc/php-fpm.d"] {
        add(Path::new(d));
    }
    out
}
