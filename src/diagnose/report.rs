//! `full` for people (causes ranked by count, each with its config lines, rule and fix;
//! then the live checks) and `json` for scripts (the [`Diagnosis`] as serde writes it).

use std::io::Write;

use super::live::Status;
use super::time::{wall, Zone};
use super::{Cause, Diagnosis, Place};

pub fn json(d: &Diagnosis, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, d).map_err(std::io::Error::other)?;
    writeln!(out)
}

struct Paint {
    color: bool,
}

impl Paint {
    fn bold(&self, s: &str) -> String {
        if self.color { format!("\x1b[1m{s}\x1b[0m") } else { s.to_string() }
    }
    fn red(&self, s: &str) -> String {
        if self.color { format!("\x1b[1;31m{s}\x1b[0m") } else { s.to_string() }
    }
    fn yellow(&self, s: &str) -> String {
        if self.color { format!("\x1b[33m{s}\x1b[0m") } else { s.to_string() }
    }
    fn dim(&self, s: &str) -> String {
        if self.color { format!("\x1b[2m{s}\x1b[0m") } else { s.to_string() }
    }
}

fn at(p: &Place) -> String {
    match (&p.path, p.line) {
        (Some(path), Some(line)) => format!("{}  {path}:{line}", p.text),
        _ => p.text.clone(),
    }
}

fn status_text(s: Option<u16>) -> &'static str {
    match s {
        Some(500) => "500 Internal Server Error",
        Some(502) => "502 Bad Gateway",
        Some(503) => "503 Service Unavailable",
        Some(504) => "504 Gateway Timeout",
        Some(404) => "404 Not Found",
        Some(429) => "429 Too Many Requests",
        Some(_) => "error status",
        None => "no failed request by itself",
    }
}

/// A time as the logs show it (`--timezone`, else local).
fn shown(t: &Option<String>, zone: Zone) -> String {
    let Some(t) = t else { return "(no time)".into() };
    let secs = super::time::iso_prefix(format!("{t} ").as_bytes()).map(|x| x.0);
    secs.map_or_else(|| t.clone(), |s| wall(s, zone))
}

pub fn full(d: &Diagnosis, zone: Zone, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let p = Paint { color };
    let lines: u64 = d.logs.iter().map(|l| l.lines).sum();
    let read = d.logs.iter().filter(|l| l.error.is_none()).count();
    let window = match &d.window.since {
        Some(s) => format!("since {}", shown(&Some(s.clone()), zone)),
        None => "whole current logs".into(),
    };
    writeln!(out, "{}", p.bold(&format!("conflint diagnose: {} event{} in {read} log{} ({lines} lines, {window})", d.summary.events, plural(d.summary.events), plural(read as u64))))?;
    for l in &d.logs {
        let what = match &l.error {
            Some(e) => p.yellow(&format!("not read: {e}")),
            None => format!("{} lines, {} events{}", l.lines, l.events, if l.before_window > 0 { format!(", {} before the window", l.before_window) } else { String::new() }),
        };
        let named = l.named_at.as_ref().map(|n| format!(" (named at {n})")).unwrap_or_default();
        writeln!(out, "  {}{}{named}: {what}", l.path, if l.rotated { " [rotated]" } else { "" })?;
    }
    writeln!(out)?;
    if d.causes.is_empty() {
        writeln!(out, "No upstream, pool or limit events in the window.")?;
    }
    for c in &d.causes {
        cause(c, zone, &p, out)?;
    }
    if let Some(live) = &d.live {
        writeln!(out, "{}", p.bold("Live checks"))?;
        let h = &live.host;
        writeln!(
            out,
            "  host: {} CPUs, memory {} total, {} available",
            h.cpus,
            h.memory_total.map_or("?".into(), super::live::human),
            h.memory_available.map_or("?".into(), super::live::human)
        )?;
        for c in &live.checks {
            let mark = match c.status {
                Status::Ok => "ok  ".to_string(),
                Status::Fail => p.red("FAIL"),
                Status::Warn => p.yellow("warn"),
                Status::Info => "info".into(),
                Status::Skipped => p.dim("skip"),
            };
            writeln!(out, "  [{mark}] {} {}: {}", c.check, c.subject, c.message)?;
        }
        writeln!(out)?;
    }
    for n in &d.notes {
        writeln!(out, "note: {n}")?;
    }
    let s = &d.summary;
    let verdict = if s.causes_50x == 0 && s.live_failures == 0 {
        "No cause of 502/503/504 found.".to_string()
    } else {
        let mut parts = Vec::new();
        if s.causes_50x > 0 {
            parts.push(format!("{} cause{} of 50x in the logs", s.causes_50x, plural(s.causes_50x as u64)));
        }
        if s.live_failures > 0 {
            parts.push(format!("{} failed live check{}", s.live_failures, plural(s.live_failures as u64)));
        }
        format!("Found {}.", parts.join(" and "))
    };
    writeln!(out, "{}", p.bold(&verdict))
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn cause(c: &Cause, zone: Zone, p: &Paint, out: &mut dyn Write) -> std::io::Result<()> {
    let head = match c.status {
        Some(s) => format!("{}. {} — {}  ×{}", c.rank, status_text(Some(s)), c.title, c.count),
        None if c.is_50x => format!("{}. {} (502/504 under load)  ×{}", c.rank, c.title, c.count),
        None => format!("{}. {}  ×{}", c.rank, c.title, c.count),
    };
    writeln!(out, "{}", if c.is_50x { p.red(&head) } else { p.bold(&head) })?;
    let zone_text = c.zone.as_ref().map(|z| format!(", zone \"{z}\"")).unwrap_or_default();
    writeln!(out, "   first {}, last {}{zone_text}", shown(&c.first, zone), shown(&c.last, zone))?;
    writeln!(out, "   log       {}:{}", c.sample.path, c.sample.line_number)?;
    writeln!(out, "             {}", p.dim(&c.sample.line))?;
    if c.requests.len() > 1 {
        writeln!(out, "   requests  {}", c.requests.join(", "))?;
    }
    if let Some(s) = &c.server {
        writeln!(out, "   server    {}", at(s))?;
    }
    if let Some(l) = &c.location {
        let via = c.via.as_ref().map(|v| format!("  (reached via {v})")).unwrap_or_default();
        writeln!(out, "   location  {}{via}", at(l))?;
    }
    if let Some(x) = &c.pass {
        writeln!(out, "   pass      {}", at(x))?;
    } else if let Some(u) = &c.upstream {
        writeln!(out, "   upstream  {u}")?;
    }
    if let Some(s) = &c.setting {
        writeln!(out, "   setting   {}", at(s))?;
    }
    match &c.pool {
        Some(pool) => writeln!(out, "   pool      {}", at(pool))?,
        None if c.fastcgi && c.upstream.is_some() && c.kind.starts_with("connect-failed") => writeln!(out, "   pool      (no PHP-FPM pool in the configuration listens there)")?,
        None => {}
    }
    for s in &c.passed_from {
        writeln!(out, "   from      {}", at(s))?;
    }
    for r in &c.rules {
        writeln!(out, "   rule      {} [{}] {}", p.bold(&r.code), r.severity.as_str(), r.message)?;
        writeln!(out, "             at {}:{}:{}", r.path, r.line, r.column)?;
        if let (Some(fix), Some(cmd)) = (&r.fix, &r.command) {
            writeln!(out, "             fix: {fix} — `{cmd}` shows it")?;
        }
    }
    if c.rules.is_empty() {
        writeln!(out, "   rule      none of conflint's rules explains this on this path")?;
        if let Some(h) = &c.hint {
            writeln!(out, "   hint      {h}")?;
        }
    }
    for l in &c.live {
        writeln!(out, "   live      {l}")?;
    }
    writeln!(out)
}
