//! The whole lint pipeline behind `conflint check`: workspace → rules → suppressions →
//! findings.

use std::path::Path;

use crate::config::Config;
use crate::finding::Finding;
use crate::rules::{self, engine, Registry, RuleMeta};
use crate::source::FileId;
use crate::workspace::{self, Workspace};

/// Which rules run: `select` (default all), plus `extend_select`, minus `ignore`.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub select: Option<Vec<String>>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    pub fn enables(&self, code: &str) -> bool {
        let base = self.select.as_ref().is_none_or(|sel| sel.iter().any(|s| rules::selector_matches(s, code)));
        (base || self.extend_select.iter().any(|s| rules::selector_matches(s, code)))
            && !self.ignore.iter().any(|s| rules::selector_matches(s, code))
    }
}

#[derive(Clone)]
pub struct Settings {
    pub workspace: workspace::Options,
    pub config: Config,
    pub selection: Selection,
    pub registry: Registry,
}

impl Settings {
    /// What conflint.toml alone says for linting the tree at `cwd`: its selection, excludes,
    /// prefixes and mappings. The language server uses it as is; `check` puts its flags on
    /// top.
    pub fn from_config(config: Config, registry: Registry, cwd: &Path) -> Settings {
        let selection = Selection { select: config.select.clone(), extend_select: config.extend_select.clone(), ignore: config.ignore.clone() };
        let workspace = workspace::Options {
            paths: vec![".".into()],
            prefix: config.nginx_prefix.clone(),
            map_roots: config.nginx_map_root.iter().chain(&config.fpm_map_root).cloned().collect(),
            fpm_prefix: config.fpm_prefix.clone(),
            excludes: config.excludes(cwd),
            cwd: cwd.to_path_buf(),
            max_file_size: config.max_file_size.unwrap_or(workspace::read::DEFAULT_MAX_FILE_SIZE),
            ..Default::default()
        };
        Settings { workspace, config, selection, registry }
    }
}

pub struct Linted {
    pub workspace: Workspace,
    /// Every finding, ordered by file, position and code.
    pub findings: Vec<Finding>,
    /// What the user should know that is not a finding (skipped files, mappings, checks
    /// that could not run).
    pub notes: Vec<workspace::Note>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Workspace(#[from] workspace::Error),
    #[error("{0}")]
    Rules(String),
}

pub fn lint(settings: &Settings, stdin: &mut dyn std::io::Read) -> Result<Linted, Error> {
    lint_reusing(settings, stdin, workspace::Reuse::default())
}

/// [`lint`], taking the trees of files unchanged since an earlier lint from `reuse`.
pub fn lint_reusing(settings: &Settings, stdin: &mut dyn std::io::Read, reuse: workspace::Reuse) -> Result<Linted, Error> {
    let workspace = Workspace::load_reusing(&settings.workspace, stdin, reuse)?;
    let enabled: Vec<&RuleMeta> = settings.registry.all().iter().filter(|r| settings.selection.enables(&r.code)).collect();
    let mut findings: Vec<Finding> = workspace.findings.iter().filter(|f| settings.selection.enables(&f.code)).cloned().collect();
    let run = engine::run(&workspace, &enabled, &settings.config.rule_options, &settings.config.host).map_err(Error::Rules)?;
    findings.extend(run.findings);
    let mut notes = workspace.notes.clone();
    notes.extend(run.notes);
    findings.retain(|f| !per_file_ignored(&settings.config, &workspace, f));
    let mut findings = crate::suppress::apply(&workspace, findings, &|code| settings.selection.enables(code));
    if !workspace.unreported.is_empty() {
        findings.retain(|f| workspace.reports(f));
        for f in &mut findings {
            // Files read only for context are never written: such a fix is left to the user.
            if f.fix.as_ref().is_some_and(|fix| fix.edits.iter().any(|e| workspace.unreported.contains(&e.location.file))) {
                f.fix = None;
            }
        }
    }
    // Files ranked by their shown path once, not compared by it for every pair of findings.
    let mut by_path: Vec<FileId> = workspace.sources.iter().map(|(id, _)| id).collect();
    by_path.sort_by(|&a, &b| workspace.source(a).display.cmp(&workspace.source(b).display));
    let mut rank = vec![0; by_path.len()];
    for (i, id) in by_path.into_iter().enumerate() {
        rank[id.0] = i;
    }
    findings.sort_by(|a, b| {
        (rank[a.location.file.0], a.location.span.start(), &a.code, &a.message).cmp(&(rank[b.location.file.0], b.location.span.start(), &b.code, &b.message))
    });
    findings.dedup();
    Ok(Linted { workspace, findings, notes })
}

/// `[check.per-file-ignores]`: globs match the path relative to the config file's
/// directory (or the path as shown, when there is no config file).
fn per_file_ignored(config: &Config, ws: &Workspace, f: &Finding) -> bool {
    if config.per_file_ignores.is_empty() {
        return false;
    }
    let src = ws.source(f.location.file);
    let base = config.path.as_deref().and_then(Path::parent);
    let rel = match (&src.disk_path, base) {
        (Some(p), Some(b)) => p.strip_prefix(b.canonicalize().unwrap_or_else(|_| b.to_path_buf())).map(|r| r.to_string_lossy().into_owned()).unwrap_or_else(|_| src.display.clone()),
        _ => src.display.clone(),
    };
    let opts = glob::MatchOptions { require_literal_separator: false, ..Default::default() };
    config.per_file_ignores.iter().any(|(pattern, codes)| {
        glob::Pattern::new(pattern).is_ok_and(|p| p.matches_with(&rel, opts)) && codes.iter().any(|c| rules::selector_matches(c, &f.code))
    })
}
