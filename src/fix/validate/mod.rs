//! Validate fixed configs with the real `nginx -t` and `php-fpm -t` before anything is
//! written, on a staged copy, without touching the live server.
//!
//! Order: decide what would be validated, refuse (before running anything) configs that
//! would make the validator load code or read files from outside the linted tree, find the
//! binaries, then run each validator in a private namespace (or on a rewritten copy when
//! namespaces are unavailable). Validator output names the user's files, not the stage's.

mod accounts;
mod dummies;
mod fpm;
mod nginx;
mod process;
pub mod sandbox;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::effective::nginx::NginxView;
use crate::finding::Finding;
use crate::fix::Outcome;
use crate::rules::builtin::validation::plan_nginx;
use crate::source::FileId;
use crate::workspace::Workspace;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Validate when the binary is found; say so loudly when it is not.
    Auto,
    /// Fail when validation cannot run.
    Always,
    Never,
}

pub struct ValidateOptions {
    pub mode: Mode,
    pub nginx: Option<PathBuf>,
    pub php_fpm: Option<PathBuf>,
    /// For showing paths as the user named them.
    pub cwd: PathBuf,
}

/// How the validator was kept away from the live system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// Private mount + network namespace, stage mounted at the live config directory.
    Namespace,
    /// A copy with pid, logs, temp paths and live-directory paths rewritten into it; `why`
    /// the namespace could not be used.
    RewrittenCopy { why: String },
}

#[derive(Clone, Debug)]
pub struct Ran {
    /// The binary.
    pub validator: String,
    /// The root config validated, as the user knows it.
    pub config: String,
    pub isolation: Isolation,
    /// Stand-ins used: throw-away certificates, host names mapped to 127.0.0.1.
    pub substitutions: Vec<String>,
    /// What the validator said (paths mapped to the user's).
    pub output: String,
}

#[derive(Debug, Default)]
pub struct Validation {
    pub ran: Vec<Ran>,
    /// What was not validated, and why.
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("{validator} failed:\n{output}")]
    Failed { validator: String, output: String },
    #[error("validation refused: the configuration would make the validator read or run files outside the linted tree")]
    Refused { findings: Vec<Finding> },
    #[error("cannot validate: {0}")]
    Unavailable(String),
    #[error("{validator} did not finish within {}s and was stopped ({} sets the limit in seconds)", limit.as_secs_f64(), process::TIMEOUT_VAR)]
    TimedOut { validator: String, limit: Duration },
    #[error("{0}")]
    Setting(String),
}

/// A validator that could not be started, or was stopped at the time limit.
fn run_error(e: process::RunError, validator: String, limit: Duration) -> ValidateError {
    match e {
        process::RunError::Spawn(e) => ValidateError::Unavailable(format!("cannot run {validator}: {e}")),
        process::RunError::TimedOut => ValidateError::TimedOut { validator, limit },
    }
}

/// Validate the fixed configuration of `outcome`. `ws` is the workspace of the fixed
/// contents (`outcome.remaining.workspace`): it is what will be written.
pub fn validate(outcome: &Outcome, ws: &Workspace, opts: &ValidateOptions) -> Result<Validation, ValidateError> {
    let mut v = Validation::default();
    if opts.mode == Mode::Never {
        v.skipped.push("validation turned off (--validate never)".into());
        return Ok(v);
    }
    let limit = process::timeout_from_env().map_err(ValidateError::Setting)?;
    let fixed: HashMap<PathBuf, Vec<u8>> = outcome.files.iter().map(|f| (f.path.clone(), f.fixed.clone())).collect();
    let touched: BTreeSet<FileId> = ws.sources.iter().filter(|(_, s)| s.disk_path.as_ref().is_some_and(|p| fixed.contains_key(p))).map(|(id, _)| id).collect();

    // What would run, and what must be refused, before anything runs.
    let nginx_bin = binary(&opts.nginx, "nginx", "--nginx", |n| n == "nginx");
    let build = match &nginx_bin {
        Ok(bin) if ws.nginx.keys().any(|id| touched.contains(id)) => nginx::build_of(bin, limit)?,
        _ => Default::default(),
    };
    let view = NginxView::build(ws);
    // Fixed files a planned validation reads; any other fixed file cannot be validated.
    let mut checked: BTreeSet<FileId> = BTreeSet::new();
    let mut refusals = Vec::new();
    let mut nginx_plans = Vec::new();
    for &top in &view.tops {
        let root = view.scope(top).origin;
        if !ws.nginx_roots.contains(&root) || ws.source(root).disk_path.is_none() {
            continue;
        }
        let files: BTreeSet<FileId> = view.tree_of(top).iter().flat_map(|&s| view.scope(s).directives.iter().map(|p| p.file)).chain([root]).collect();
        if files.is_disjoint(&touched) {
            continue;
        }
        let plan = plan_nginx(ws, &view, top, &build);
        refusals.extend(plan.refusals.iter().cloned());
        refusals.extend(ws.findings.iter().filter(|f| f.code == "CFL002" && files.contains(&f.location.file)).cloned());
        checked.extend(files);
        nginx_plans.push(plan);
    }
    let fpm_bin = binary(&opts.php_fpm, "php-fpm", "--php-fpm", |n| n.starts_with("php-fpm"));
    let fpm_system = match &fpm_bin {
        Ok(bin) if ws.fpm.iter().any(|c| c.files.iter().any(|f| touched.contains(f))) => fpm::conf_dir_of(bin, limit)?,
        _ => PathBuf::from("/etc/php/8.2/fpm"),
    };
    let mut fpm_plans = Vec::new();
    for config in &ws.fpm {
        if config.files.iter().all(|f| !touched.contains(f)) {
            continue;
        }
        // Pools without their php-fpm.conf have no plan: their files stay unchecked.
        if let (Some(unit), refused) = fpm::plan(ws, config, &fpm_system) {
            refusals.extend(refused);
            checked.extend(config.files.iter().copied());
            fpm_plans.push((config, unit));
        }
    }
    if !refusals.is_empty() {
        refusals.sort_by_key(|f| (f.location, f.code.clone()));
        refusals.dedup();
        return Err(ValidateError::Refused { findings: refusals });
    }
    let unchecked: Vec<String> = touched.difference(&checked).map(|&f| unchecked_why(ws, f)).collect();
    match opts.mode {
        Mode::Always if !unchecked.is_empty() => return Err(ValidateError::Unavailable(unchecked.join("; "))),
        _ => v.skipped.extend(unchecked),
    }

    let unavailable = |v: &mut Validation, why: String| match opts.mode {
        Mode::Always => Err(ValidateError::Unavailable(why)),
        _ => {
            v.skipped.push(why);
            Ok(())
        }
    };
    if !nginx_plans.is_empty() {
        match &nginx_bin {
            Err(why) => unavailable(&mut v, format!("{why}; the nginx configuration was not validated"))?,
            Ok(bin) => {
                for plan in &nginx_plans {
                    match nginx::validate(ws, plan, &fixed, bin, &build, &opts.cwd, limit) {
                        Ok(r) => v.ran.push(r),
                        Err(ValidateError::Unavailable(why)) => unavailable(&mut v, why)?,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    if !fpm_plans.is_empty() {
        match &fpm_bin {
            Err(why) => unavailable(&mut v, format!("{why}; the PHP-FPM configuration was not validated"))?,
            Ok(bin) => {
                for (config, unit) in &fpm_plans {
                    match fpm::validate(ws, config, unit, &fixed, bin, &opts.cwd, limit) {
                        Ok(r) => v.ran.push(r),
                        Err(ValidateError::Unavailable(why)) => unavailable(&mut v, why)?,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    Ok(v)
}

/// Why a fixed file is read by no validation.
fn unchecked_why(ws: &Workspace, file: FileId) -> String {
    let shown = &ws.source(file).display;
    match ws.nginx.contains_key(&file) {
        true => format!("{shown}: no nginx.conf in the linted tree includes it, so nginx -t cannot check it"),
        false => format!("{shown}: no php-fpm.conf in the linted tree includes it, so php-fpm -t cannot check it"),
    }
}

/// The validator named by `flag`, else found on PATH.
fn binary(given: &Option<PathBuf>, name: &str, flag: &str, want: impl Fn(&str) -> bool) -> Result<PathBuf, String> {
    match given {
        Some(p) if is_executable(p) => Ok(p.clone()),
        Some(p) => Err(format!("{} ({flag}) is not an executable file", p.display())),
        None => on_path(want).ok_or_else(|| format!("{name} was not found on PATH (use {flag} PATH)")),
    }
}

/// The first executable on PATH (then the sbin directories, where Debian puts nginx and
/// php-fpm) whose file name satisfies `want`; names are tried in sorted order.
fn on_path(want: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from));
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut names: Vec<String> = entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| want(n)).collect();
        names.sort();
        if let Some(found) = names.into_iter().map(|n| dir.join(n)).find(|p| is_executable(p)) {
            return Some(found);
        }
    }
    None
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
