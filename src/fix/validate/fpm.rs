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
use super::ini;
use super::{checked, run_error, Checked, Isolation, Ran, ValidateError};
use crate::finding::{Finding, Severity};
use crate::fix::stage::{Stage, Unit};
use crate::fpm::ast::LineKind;
use crate::fpm::resolve::{FpmConfig, Prefix, PrefixOrigin};
use crate::workspace::paths::display_path;
use crate::workspace::Workspace;

/// Settings whose value is a file PHP-FPM opens for writing when it checks the config.
const WRITTEN: &[&str] = &["error_log", "pid", "access.log", "slowlog"];

/// Variables that would point PHP at other ini files than the staged ones.
pub const INI_ENV: &[&str] = &["PHPRC", "PHP_INI_SCAN_DIR"];

/// What `php-fpm -n -i` says about the build (Debian's where it says nothing).
#[derive(Clone, Debug)]
pub struct FpmBuild {
    /// The live directory of php-fpm.conf and php.ini (`/etc/php/8.2/fpm`).
    pub conf_dir: PathBuf,
    /// Where `extension=NAME` is loaded from (`/usr/lib/php/20220829`).
    pub extension_dir: PathBuf,
}

impl Default for FpmBuild {
    fn default() -> Self {
        FpmBuild { conf_dir: "/etc/php/8.2/fpm".into(), extension_dir: "/usr/lib/php/20220829".into() }
    }
}

/// Ask the binary for its build, reading no ini file (`-n`): the host's php.ini would load
/// opcache, whose lock file `php-fpm -i` creates in the host's /tmp.
pub fn build_of(binary: &Path, limit: Duration) -> Result<FpmBuild, ValidateError> {
    let mut cmd = Command::new(binary);
    cmd.args(["-n", "-i"]);
    INI_ENV.iter().for_each(|v| {
        cmd.env_remove(v);
    });
    let text = match process::output(&mut cmd, limit) {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(RunError::Spawn(_)) => String::new(),
        Err(e) => return Err(run_error(e, format!("{} -i", binary.display()), limit)),
    };
    let mut b = FpmBuild::default();
    let value = |key: &str| text.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.split(" => ").next()).map(|v| PathBuf::from(v.trim()));
    if let Some(p) = value("Configuration File (php.ini) Path => ") {
        b.conf_dir = p;
    }
    if let Some(p) = value("extension_dir => ").filter(|p| p.is_absolute()) {
        b.extension_dir = p;
    }
    Ok(b)
}

/// The directories to stage for `config` (its php-fpm.conf directory first, then the
/// siblings its links name: Debian's `conf.d/10-opcache.ini` → `../mods-available`), and
/// what keeps it from being validated safely.
pub fn plan(ws: &Workspace, config: &FpmConfig, build: &FpmBuild) -> (Option<Vec<Unit>>, Vec<Finding>) {
    let Some(local) = config.root.and_then(|r| ws.source(r).disk_path.as_ref()).and_then(|p| p.parent()).map(Path::to_path_buf) else {
        return (None, Vec::new());
    };
    let system = match ws.confinement.unmap(&local) {
        s if s != local => s.components().collect(),
        _ => build.conf_dir.clone(),
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
    let mut units = vec![Unit { system: system.clone(), local: local.clone() }];
    units.extend(sibling_units(&local, &system));
    (Some(units), refusals)
}

/// Siblings of the php-fpm.conf directory that its links point into, when the tree has
/// them beside it as the live system does (`/etc/php/8.2/mods-available` ↔
/// `<tree>/php/8.2/mods-available`).
fn sibling_units(local: &Path, system: &Path) -> Vec<Unit> {
    let (Some(local_parent), Some(system_parent)) = (local.parent(), system.parent()) else { return Vec::new() };
    if local.file_name() != system.file_name() {
        return Vec::new();
    }
    let mut names = BTreeSet::new();
    let mut todo = vec![local.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                todo.push(e.path());
            } else if kind.is_symlink() {
                let Ok(target) = std::fs::read_link(e.path()) else { continue };
                // A relative link is followed from where the link sits on the live system.
                let link_dir = e.path().parent().and_then(|d| d.strip_prefix(local).ok()).map(|r| system.join(r)).unwrap_or_else(|| system.to_path_buf());
                let target = crate::workspace::paths::lexical_normalize(&link_dir.join(target));
                if let Some(name) = target.strip_prefix(system_parent).ok().and_then(|r| r.components().next()) {
                    names.insert(PathBuf::from(name.as_os_str()));
                }
            }
        }
    }
    names
        .into_iter()
        .filter(|n| Some(n.as_os_str()) != system.file_name())
        .filter(|n| local_parent.join(n).is_dir())
        .map(|n| Unit { system: system_parent.join(&n), local: local_parent.join(&n) })
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub fn validate(ws: &Workspace, config: &FpmConfig, units: &[Unit], fixed: &HashMap<PathBuf, Vec<u8>>, binary: &Path, build: &FpmBuild, cwd: &Path, limit: Duration) -> Result<Checked, ValidateError> {
    let io = |e: std::io::Error| ValidateError::Unavailable(format!("cannot stage the PHP-FPM configuration: {e}"));
    let stage = Stage::new(units, fixed).map_err(io)?;
    let unit = &units[0];
    let root = ws.source(config.root.expect("planned configs have a root"));
    let name = root.disk_path.as_ref().and_then(|p| p.file_name()).map(PathBuf::from).unwrap_or_else(|| "php-fpm.conf".into());
    let shown = display_path(&unit.local.join(&name), cwd);
    let scratch = stage.path().join("scratch");
    std::fs::create_dir_all(&scratch).map_err(io)?;
    let staged_conf = stage.units[0].staged.clone();
    let has_ini = staged_conf.join("php.ini").exists();
    // What the staged php.ini and conf.d/ would make php-fpm load or write.
    let ini = ini::neutralize(&stage, &staged_conf, unit, &build.extension_dir, ws.confinement.allow_outside, cwd).map_err(io)?;
    let mut writes: Vec<PathBuf> = vec!["/run/php/x".into(), "/var/log/x".into()];
    writes.extend(ini.lock_dirs.iter().map(|d| d.join("x")));
    for s in config.global.iter().chain(config.pools.iter().flat_map(|p| &p.settings)) {
        if WRITTEN.contains(&s.name.as_ref()) && s.value.text.starts_with('/') && !s.value.is_deferred() {
            let pool = config.pools.iter().find(|p| p.settings.iter().any(|x| x.location == s.location)).map_or("", |p| p.name.as_str());
            writes.push(PathBuf::from(s.value.text.replace("$pool", pool)));
        }
    }
    // The prefix the tree's layout (or the user) gives, not the validator's compiled-in
    // one: the official Docker image's `include=etc/php-fpm.d/*.conf` means /usr/local/etc.
    let differs = config.prefix.origin != PrefixOrigin::Assumed && config.prefix.dir != Prefix::ASSUMED;
    let prefix = (differs && Path::new(&config.prefix.dir).is_dir() && !ws.confinement.is_inside(Path::new(&config.prefix.dir))).then(|| PathBuf::from(&config.prefix.dir));
    if let Some(p) = &prefix {
        // Under `-p`, the default error_log is `<prefix>/log/php-fpm.log`.
        writes.push(p.join("log/x"));
    }
    let no_ini: Vec<OsString> = if has_ini { Vec::new() } else { vec!["-n".into()] };
    let (users, groups) = accounts_of(config);
    let accounts = accounts::stand_ins(&users, &groups, &stage.path().join("accounts")).map_err(io)?;
    let sb = Sandbox { writes, binds: stage.units.iter().map(|u| (u.staged.clone(), u.unit.system.clone())).collect(), files: accounts.files, hosts: None };
    let mut cmd: Vec<OsString> = vec![binary.into(), "-t".into(), "-y".into(), unit.system.join(&name).into()];
    if let Some(p) = &prefix {
        cmd.extend(["-p".into(), p.into()]);
    }
    cmd.extend(no_ini.iter().cloned());
    let mut substitutions = ini.notes.clone();
    let label = format!("{} -t ({shown})", binary.display());
    let (out, isolation, label) = match sandbox::run(&sb, &scratch, &cmd, limit) {
        Run::Ran(out) => {
            substitutions.extend(accounts.note);
            (out, Isolation::Namespace, label)
        }
        Run::TimedOut => return Err(run_error(RunError::TimedOut, label, limit)),
        Run::NoNamespace(why) => {
            stage.repoint_system_links().map_err(io)?;
            let work = stage.path().join("w");
            std::fs::create_dir_all(&work).map_err(io)?;
            for &f in &config.files {
                let Some(staged) = ws.source(f).disk_path.as_ref().and_then(|p| stage.staged_of_local(p)) else { continue };
                let text = std::fs::read(&staged).map_err(io)?;
                std::fs::write(&staged, rewrite(&text, &stage, &work, Some(f) == config.root, prefix.as_deref())).map_err(io)?;
            }
            // Without the namespace the live php.ini and conf.d/ would be read: use the
            // staged ones or none, and keep what PHP writes at startup in the stage.
            let mut c = Command::new(binary);
            c.arg("-t").arg("-y").arg(staged_conf.join(&name));
            if let Some(p) = &prefix {
                c.arg("-p").arg(p);
            }
            match has_ini {
                true => c.arg("-c").arg(staged_conf.join("php.ini")),
                false => c.arg("-n"),
            };
            c.arg("-d").arg(format!("opcache.lockfile_path={}", work.display())).arg("-d").arg(format!("error_log={}", work.join("php-error.log").display()));
            INI_ENV.iter().for_each(|v| {
                c.env_remove(v);
            });
            let scan = staged_conf.join("conf.d");
            c.env("PHP_INI_SCAN_DIR", if scan.is_dir() { scan.into_os_string() } else { OsString::new() });
            let label = format!("{} -t ({shown}, rewritten copy)", binary.display());
            let out = process::output(&mut c, limit).map_err(|e| run_error(e, label.clone(), limit))?;
            (out, Isolation::RewrittenCopy { why }, label)
        }
    };
    let mut raw = String::from_utf8_lossy(&out.stderr).into_owned();
    raw.push_str(&String::from_utf8_lossy(&out.stdout));
    let ran = Ran { validator: binary.display().to_string(), config: shown, isolation, substitutions, output: stage.map_output(&raw, cwd) };
    Ok(checked(&stage, ran, label, &raw, out.status.success(), cwd, &|m| m.to_string()))
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

/// Point `error_log`, `pid`, pool logs and includes (relative ones resolved against
/// `prefix`, when it is passed as `-p`) into the stage; a main file without `error_log`
/// gets one (the compiled-in default is a live log file).
fn rewrite(text: &[u8], stage: &Stage, work: &Path, is_root: bool, prefix: Option<&Path>) -> Vec<u8> {
    let file = crate::fpm::parse(text);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut has_error_log = false;
    let mut global_header = None;
    for (n, line) in file.lines.iter().enumerate() {
        match &line.kind {
            LineKind::Section(s) if s.name.eq_ignore_ascii_case("global") => global_header = Some(line.eol().end()),
            LineKind::Entry(e) if e.array_key.is_none() => {
                let name = e.name.to_ascii_lowercase();
                let v = &e.value;
                let new = if WRITTEN.contains(&name.as_str()) {
                    has_error_log |= name == "error_log";
                    Some(work.join(format!("{name}-{n}")).to_string_lossy().into_owned())
                } else if name == "include" && v.text.starts_with('/') {
                    stage.staged_of_system(Path::new(&*v.text)).map(|p| p.to_string_lossy().into_owned())
                } else if name == "include" {
                    prefix.and_then(|p| stage.staged_of_system(&p.join(&*v.text))).map(|p| p.to_string_lossy().into_owned())
                } else {
                    None
                };
                if let Some(new) = new {
                    edits.push((v.span.start(), v.span.end(), format!("\"{new}\"")));
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
