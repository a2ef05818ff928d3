//! `php-fpm -t` on the staged copy of one PHP-FPM configuration (its php-fpm.conf
//! directory): in a namespace with the stage mounted at the live directory, else on a copy
//! whose `error_log`, `pid`, logs and absolute includes are rewritten into the stage.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::accounts;
use super::process::{self, RunError};
use super::sandbox::{self, Run, Sandbox};
use super::{run_error, Isolation, Ran, ValidateError};
use crate::finding::{Finding, Severity};
use crate::fix::stage::{Stage, Unit};
use crate::fpm::ast::LineKind;
use crate::fpm::resolve::FpmConfig;
use crate::workspace::paths::display_path;
use crate::workspace::Workspace;

/// Settings whose value is a file PHP-FPM opens for writing when it checks the config.
const WRITTEN: &[&str] = &["error_log", "pid", "access.log", "slowlog"];

/// The live directory of the binary's php-fpm.conf (`Configuration File (php.ini) Path`
/// of `php-fpm -i`: Debian's `/etc/php/8.2/fpm`).
pub fn conf_dir_of(binary: &Path, limit: Duration) -> Result<PathBuf, ValidateError> {
    let text = match process::output(Command::new(binary).arg("-i"), limit) {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(RunError::Spawn(_)) => String::new(),
        Err(e) => return Err(run_error(e, format!("{} -i", binary.display()), limit)),
    };
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("Configuration File (php.ini) Path => "))
        .map(|p| PathBuf::from(p.trim()))
        .unwrap_or_else(|| PathBuf::from("/etc/php/8.2/fpm")))
}

/// The directory to stage for `config`, and what keeps it from being validated safely.
pub fn plan(ws: &Workspace, config: &FpmConfig, default_system: &Path) -> (Option<Unit>, Vec<Finding>) {
    let Some(local) = config.root.and_then(|r| ws.source(r).disk_path.as_ref()).and_then(|p| p.parent()).map(Path::to_path_buf) else {
        return (None, Vec::new());
    };
    let system = match ws.confinement.unmap(&local) {
        s if s != local => s.components().collect(),
        _ => default_system.to_path_buf(),
    };
    let mut refusals: Vec<Finding> = ws.findings.iter().filter(|f| f.code == "CFL002" && config.files.contains(&f.location.file)).cloned().collect();
    for &f in &config.files {
        if !ws.source(f).disk_path.as_ref().is_some_and(|p| p.starts_with(&local)) {
            let at = config.root.map(|r| crate::finding::Location { file: r, span: crate::source::Span::empty(0) }).expect("has a root");
            refusals.push(Finding::new(
                crate::rules::builtin::validation::CODE,
                Severity::Error,
                at,
                format!("{} lies outside the directory of {}; php-fpm -t would read the live system's file instead", ws.source(f).display, ws.source(config.root.expect("root")).display),
            ));
        }
    }
    (Some(Unit { system, local }), refusals)
}

pub fn validate(ws: &Workspace, config: &FpmConfig, unit: &Unit, fixed: &HashMap<PathBuf, Vec<u8>>, binary: &Path, cwd: &Path, limit: Duration) -> Result<Ran, ValidateError> {
    let io = |e: std::io::Error| ValidateError::Unavailable(format!("cannot stage the PHP-FPM configuration: {e}"));
    let stage = Stage::new(std::slice::from_ref(unit), fixed).map_err(io)?;
    let root = ws.source(config.root.expect("planned configs have a root"));
    let name = root.disk_path.as_ref().and_then(|p| p.file_name()).map(PathBuf::from).unwrap_or_else(|| "php-fpm.conf".into());
    let shown = display_path(&unit.local.join(&name), cwd);
    let scratch = stage.path().join("scratch");
    std::fs::create_dir_all(&scratch).map_err(io)?;
    let mut writes: Vec<PathBuf> = vec!["/run/php/x".into(), "/var/log/x".into()];
    for s in config.global.iter().chain(config.pools.iter().flat_map(|p| &p.settings)) {
        if WRITTEN.contains(&s.name.as_ref()) && s.value.text.starts_with('/') && !s.value.is_deferred() {
            let pool = config.pools.iter().find(|p| p.settings.iter().any(|x| x.location == s.location)).map_or("", |p| p.name.as_str());
            writes.push(PathBuf::from(s.value.text.replace("$pool", pool)));
        }
    }
    let staged_conf = stage.units[0].staged.clone();
    // OPcache (Debian's conf.d/10-opcache.ini) creates a lock file in /tmp at start-up,
    // which the read-only namespace refuses ("Unable to create lock file"); -t runs no PHP.
    let ini: Vec<OsString> = if staged_conf.join("php.ini").exists() { vec!["-d".into(), "opcache.enable=0".into()] } else { vec!["-n".into()] };
    let (users, groups) = accounts_of(config);
    let accounts = accounts::stand_ins(&users, &groups, &stage.path().join("accounts")).map_err(io)?;
    let sb = Sandbox { writes, binds: vec![(staged_conf.clone(), unit.system.clone())], files: accounts.files, hosts: None };
    let mut cmd: Vec<OsString> = vec![binary.into(), "-t".into(), "-y".into(), unit.system.join(&name).into()];
    cmd.extend(ini.iter().cloned());
    let mut substitutions = Vec::new();
    let (out, isolation) = match sandbox::run(&sb, &scratch, &cmd, limit) {
        Run::Ran(out) => {
            substitutions.extend(accounts.note);
            (out, Isolation::Namespace)
        }
        Run::TimedOut => return Err(run_error(RunError::TimedOut, format!("{} -t ({shown})", binary.display()), limit)),
        Run::NoNamespace(why) => {
            stage.repoint_system_links().map_err(io)?;
            let work = stage.path().join("w");
            std::fs::create_dir_all(&work).map_err(io)?;
            for &f in &config.files {
                let Some(staged) = ws.source(f).disk_path.as_ref().and_then(|p| stage.staged_of_local(p)) else { continue };
                let text = std::fs::read(&staged).map_err(io)?;
                std::fs::write(&staged, rewrite(&text, &stage, &work, Some(f) == config.root)).map_err(io)?;
            }
            // Without the namespace the live php.ini would be read: use the staged one or none.
            let mut c = Command::new(binary);
            c.arg("-t").arg("-y").arg(staged_conf.join(&name));
            match staged_conf.join("php.ini").exists() {
                true => c.arg("-c").arg(staged_conf.join("php.ini")).args(&ini),
                false => c.arg("-n"),
            };
            let out = process::output(&mut c, limit).map_err(|e| run_error(e, format!("{} -t ({shown}, rewritten copy)", binary.display()), limit))?;
            (out, Isolation::RewrittenCopy { why })
        }
    };
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    let output = stage.map_output(&text, cwd);
    match out.status.success() {
        true => Ok(Ran { validator: binary.display().to_string(), config: shown, isolation, substitutions, output }),
        false => Err(ValidateError::Failed { validator: format!("{} -t ({shown})", binary.display()), output }),
    }
}

/// Names php-fpm -t looks up: pool users and groups, socket owners, ACL members.
fn accounts_of(config: &FpmConfig) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut users, mut groups) = (BTreeSet::new(), BTreeSet::new());
    for s in config.pools.iter().flat_map(|p| &p.settings).filter(|s| !s.value.is_deferred()) {
        let into = match s.name.as_ref() {
            "user" | "listen.owner" | "listen.acl_users" => &mut users,
            "group" | "listen.group" | "listen.acl_groups" => &mut groups,
            _ => continue,
        };
        into.extend(s.value.text.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()));
    }
    (users, groups)
}

/// Point `error_log`, `pid`, pool logs and absolute includes into the stage; a main file
/// without `error_log` gets one (the compiled-in default is a live log file).
fn rewrite(text: &[u8], stage: &Stage, work: &Path, is_root: bool) -> Vec<u8> {
    let file = crate::fpm::parse(text);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut has_error_log = false;
    let mut global_header = None;
    for (n, line) in file.lines.iter().enumerate() {
        match &line.kind {
            LineKind::Section { name, .. } if name.eq_ignore_ascii_case("global") => global_header = Some(line.eol.end),
            LineKind::Entry(e) if e.array_key.is_none() => {
                let name = e.name.to_ascii_lowercase();
                let v = &e.value;
                let new = if WRITTEN.contains(&name.as_str()) {
                    has_error_log |= name == "error_log";
                    Some(work.join(format!("{name}-{n}")).to_string_lossy().into_owned())
                } else if name == "include" && v.text.starts_with('/') {
                    stage.staged_of_system(Path::new(&*v.text)).map(|p| p.to_string_lossy().into_owned())
                } else {
                    None
                };
                if let Some(new) = new {
                    edits.push((v.span.start, v.span.end, format!("\"{new}\"")));
                }
            }
            _ => {}
        }
    }
    if is_root && !has_error_log {
        let line = format!("error_log = \"{}\"\n", work.join("error_log").display());
        edits.push((global_header.unwrap_or(0), global_header.unwrap_or(0), line));
    }
    crate::fix::splice(text, edits)
}
