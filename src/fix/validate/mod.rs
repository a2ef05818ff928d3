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
mod ini;
mod nginx;
mod problems;
mod process;
pub mod sandbox;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::effective::nginx::{NginxView, ScopeId};
use crate::finding::Finding;
use crate::fix::stage::Stage;
use crate::rules::builtin::validation::{plan_nginx, NginxBuild, NginxPlan};
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

/// One error the validator reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Its words, paths as the user knows them, without time stamp or process id
    /// (`unknown directive "proxy_pas" in nginx/sites-enabled/api.conf:20`).
    pub message: String,
    /// The file of the linted tree (its real path) and line it names, if any.
    pub at: Option<(PathBuf, usize)>,
}

impl Problem {
    /// The message without line numbers: the same error after a fix moved its line.
    pub fn key(&self) -> String {
        let mut out = String::with_capacity(self.message.len());
        let mut chars = self.message.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ':' && chars.peek().is_some_and(char::is_ascii_digit) {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                continue;
            }
            out.push(c);
        }
        out
    }
}

/// One validator run on one root configuration.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The root config validated (its real path).
    pub root: PathBuf,
    pub ran: Ran,
    /// `/usr/sbin/nginx -t (nginx/nginx.conf)`.
    pub label: String,
    /// Its errors, in its order (the first one stopped it); empty when it passed.
    pub problems: Vec<Problem>,
}

impl Checked {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, Default)]
pub struct Validation {
    pub ran: Vec<Checked>,
    /// What was not validated, and why.
    pub skipped: Vec<String>,
}

impl Validation {
    pub fn passed(&self) -> bool {
        self.ran.iter().all(Checked::passed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The fixed tree fails its validator and no fix could be blamed.
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

/// The validations that a set of fixes calls for, decided once from the fully fixed tree
/// and then run on any version of it (unfixed, fixed, part fixed).
pub struct Validator {
    mode: Mode,
    limit: Duration,
    cwd: PathBuf,
    nginx_bin: Option<PathBuf>,
    fpm_bin: Option<PathBuf>,
    build: NginxBuild,
    fpm_build: fpm::FpmBuild,
    /// Root nginx.conf and php-fpm.conf files to validate, by real path.
    nginx_roots: BTreeSet<PathBuf>,
    fpm_roots: BTreeSet<PathBuf>,
    /// What will not be validated, and why.
    pub skipped: Vec<String>,
}

impl Validator {
    /// What validating the files `fixed` (real paths) of `ws` takes: the root configs that
    /// read them. Refuses (before anything runs) configs that would make a validator read
    /// or run files from outside the linted tree.
    pub fn new(ws: &Workspace, fixed: &BTreeSet<PathBuf>, opts: &ValidateOptions) -> Result<Validator, ValidateError> {
        let limit = process::timeout_from_env().map_err(ValidateError::Setting)?;
        let mut v = Validator {
            mode: opts.mode,
            limit,
            cwd: opts.cwd.clone(),
            nginx_bin: None,
            fpm_bin: None,
            build: NginxBuild::default(),
            fpm_build: fpm::FpmBuild::default(),
            nginx_roots: BTreeSet::new(),
            fpm_roots: BTreeSet::new(),
            skipped: Vec::new(),
        };
        if opts.mode == Mode::Never {
            v.skipped.push("validation turned off (--validate never)".into());
            return Ok(v);
        }
        let touched: BTreeSet<FileId> = ws.sources.iter().filter(|(_, s)| s.disk_path.as_ref().is_some_and(|p| fixed.contains(p))).map(|(id, _)| id).collect();

        // What would run, and what must be refused, before anything runs.
        let nginx_bin = binary(&opts.nginx, "nginx", "--nginx", |n| n == "nginx");
        if let Ok(bin) = &nginx_bin {
            if ws.nginx.keys().any(|id| touched.contains(id)) {
                v.build = nginx::build_of(bin, limit)?;
            }
        }
        let view = NginxView::build(ws);
        // Fixed files a planned validation reads; any other fixed file cannot be validated.
        let mut checked: BTreeSet<FileId> = BTreeSet::new();
        let mut refusals = Vec::new();
        for &top in &view.tops {
            let root = view.scope(top).origin;
            let Some(path) = ws.nginx_roots.contains(&root).then(|| ws.source(root).disk_path.clone()).flatten() else { continue };
            let files = files_of(&view, top);
            if files.is_disjoint(&touched) {
                continue;
            }
            refusals.extend(nginx_refusals(ws, &plan_nginx(ws, &view, top, &v.build), &files));
            checked.extend(files);
            v.nginx_roots.insert(path);
        }
        let fpm_bin = binary(&opts.php_fpm, "php-fpm", "--php-fpm", |n| n.starts_with("php-fpm"));
        if let Ok(bin) = &fpm_bin {
            if ws.fpm.iter().any(|c| c.files.iter().any(|f| touched.contains(f))) {
                v.fpm_build = fpm::build_of(bin, limit)?;
            }
        }
        for config in &ws.fpm {
            if config.files.iter().all(|f| !touched.contains(f)) {
                continue;
            }
            // Pools without their php-fpm.conf have no plan: their files stay unchecked.
            if let (Some(_), refused) = fpm::plan(ws, config, &v.fpm_build) {
                refusals.extend(refused);
                checked.extend(config.files.iter().copied());
                v.fpm_roots.extend(config.root.and_then(|r| ws.source(r).disk_path.clone()));
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
        for (roots, bin, what, slot) in [(&mut v.nginx_roots, nginx_bin, "nginx", &mut v.nginx_bin), (&mut v.fpm_roots, fpm_bin, "PHP-FPM", &mut v.fpm_bin)] {
            match bin {
                _ if roots.is_empty() => {}
                Ok(bin) => *slot = Some(bin),
                Err(why) if opts.mode == Mode::Always => return Err(ValidateError::Unavailable(why)),
                Err(why) => {
                    v.skipped.push(format!("{why}; the {what} configuration was not validated"));
                    roots.clear();
                }
            }
        }
        Ok(v)
    }

    /// Whether anything will run.
    pub fn is_empty(&self) -> bool {
        self.nginx_roots.is_empty() && self.fpm_roots.is_empty()
    }

    /// Run every planned validation (or those of the roots in `only`) on the tree `ws`,
    /// with `contents` (by real path) instead of what the disk holds.
    pub fn run(&self, ws: &Workspace, contents: &HashMap<PathBuf, Vec<u8>>, only: Option<&BTreeSet<PathBuf>>) -> Result<Validation, ValidateError> {
        let wanted = |p: &PathBuf| only.is_none_or(|o| o.contains(p));
        // Everything that will run is planned (and refused) before anything runs.
        let mut nginx_jobs = Vec::new();
        if let Some(bin) = &self.nginx_bin {
            let view = NginxView::build(ws);
            for &top in &view.tops {
                let root = view.scope(top).origin;
                let Some(path) = ws.source(root).disk_path.clone().filter(|p| ws.nginx_roots.contains(&root) && self.nginx_roots.contains(p) && wanted(p)) else { continue };
                let plan = plan_nginx(ws, &view, top, &self.build);
                let refused = nginx_refusals(ws, &plan, &files_of(&view, top));
                if !refused.is_empty() {
                    return Err(ValidateError::Refused { findings: refused });
                }
                nginx_jobs.push((path, plan, bin));
            }
        }
        let mut fpm_jobs = Vec::new();
        if let Some(bin) = &self.fpm_bin {
            for config in &ws.fpm {
                let Some(path) = config.root.and_then(|r| ws.source(r).disk_path.clone()).filter(|p| self.fpm_roots.contains(p) && wanted(p)) else { continue };
                let (Some(units), refused) = fpm::plan(ws, config, &self.fpm_build) else { continue };
                if !refused.is_empty() {
                    return Err(ValidateError::Refused { findings: refused });
                }
                fpm_jobs.push((path, config, units, bin));
            }
        }
        // The validators wait on their processes most of the time: run them side by side.
        use rayon::prelude::*;
        type Runs = Vec<(PathBuf, Result<Checked, ValidateError>)>;
        let (nginx_runs, fpm_runs): (Runs, Runs) = rayon::join(
            || nginx_jobs.par_iter().map(|(path, plan, bin)| (path.clone(), nginx::validate(ws, plan, contents, bin, &self.build, &self.cwd, self.limit))).collect(),
            || fpm_jobs.par_iter().map(|(path, config, units, bin)| (path.clone(), fpm::validate(ws, config, units, contents, bin, &self.fpm_build, &self.cwd, self.limit))).collect(),
        );
        let mut v = Validation::default();
        for (path, result) in nginx_runs.into_iter().chain(fpm_runs) {
            match result {
                Ok(r) => v.ran.push(Checked { root: path, ..r }),
                Err(ValidateError::Unavailable(why)) if self.mode != Mode::Always => v.skipped.push(why),
                Err(e) => return Err(e),
            }
        }
        Ok(v)
    }
}

/// The files one nginx root reads.
fn files_of(view: &NginxView, top: ScopeId) -> BTreeSet<FileId> {
    let root = view.scope(top).origin;
    view.tree_of(top).iter().flat_map(|&s| view.scope(s).directives.iter().map(|p| p.file)).chain([root]).collect()
}

/// Why `plan` may not run: its own refusals and the tree's includes that leave it.
fn nginx_refusals(ws: &Workspace, plan: &NginxPlan, files: &BTreeSet<FileId>) -> Vec<Finding> {
    let mut refused = plan.refusals.clone();
    refused.extend(ws.findings.iter().filter(|f| f.code == "CFL002" && files.contains(&f.location.file)).cloned());
    refused
}

/// The result of one validator run: `raw` is its output as printed (staged and live
/// paths), `unmask` turns the copy's own stand-ins (listen sockets) back into the user's
/// words.
fn checked(stage: &Stage, ran: Ran, label: String, raw: &str, success: bool, cwd: &Path, unmask: &dyn Fn(&str) -> String) -> Checked {
    let mut found: Vec<Problem> = problems::errors(raw)
        .into_iter()
        .map(|e| Problem { message: stage.map_output(&unmask(&e.message), cwd), at: e.at.and_then(|(p, line)| Some((stage.local_of(Path::new(&p))?, line))) })
        .collect();
    if success {
        found.clear();
    } else if found.is_empty() {
        let last = ran.output.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("it failed without saying why").trim().to_string();
        found.push(Problem { message: last, at: None });
    }
    Checked { root: PathBuf::new(), ran, label, problems: found }
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
