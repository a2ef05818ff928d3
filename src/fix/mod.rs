//! The fixer: turn findings' edits into new file contents, re-lint until nothing
//! changes, then show a diff or write (after validation).

mod apply;

pub(crate) use apply::splice;
pub mod diff;
pub mod stage;
pub mod validate;
pub mod write;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::check::{lint, Error, Linted, Settings};
use crate::finding::{Applicability, Edit, Finding};
use crate::source::Span;

/// ruff stops at 100; ten passes is plenty for config files and bounds a fix loop.
pub const MAX_PASSES: usize = 10;

pub struct FixedFile {
    /// The real path on disk.
    pub path: PathBuf,
    /// As shown to the user.
    pub display: String,
    pub original: Vec<u8>,
    pub fixed: Vec<u8>,
}

pub struct Outcome {
    /// Files whose contents changed, in display order.
    pub files: Vec<FixedFile>,
    /// How many fixes were applied over all passes.
    pub applied: usize,
    /// Passes dropped because they broke parsing, with why.
    pub dropped: Vec<String>,
    /// The lint of the fixed contents (what remains).
    pub remaining: Linted,
}

fn wanted(f: &Finding, unsafe_fixes: bool) -> bool {
    f.fix.as_ref().is_some_and(|fix| fix.applicability == Applicability::Safe || unsafe_fixes)
}

fn overlaps(a: Span, b: Span) -> bool {
    if a.is_empty() && b.is_empty() {
        return false;
    }
    if a.is_empty() {
        return b.start < a.start && a.start < b.end;
    }
    if b.is_empty() {
        return a.start < b.start && b.start < a.end;
    }
    a.start < b.end && b.start < a.end
}

/// Errors that keep nginx or PHP-FPM from loading the files (syntax errors, an include
/// cycle, an include of a missing file), per file: a pass that adds any is dropped. Counted
/// whatever rules are selected.
fn breakage(l: &Linted) -> HashMap<PathBuf, usize> {
    const BREAKING: &[&str] = &["NGX001", "NGX007", "NGX008", "FPM001"];
    let mut m = HashMap::new();
    for f in l.workspace.findings.iter().filter(|f| BREAKING.contains(&f.code.as_str())) {
        if let Some(p) = &l.workspace.source(f.location.file).disk_path {
            *m.entry(p.clone()).or_insert(0) += 1;
        }
    }
    m
}

pub fn run(settings: &Settings, unsafe_fixes: bool) -> Result<Outcome, Error> {
    let mut settings = settings.clone();
    let mut current = lint(&settings, &mut std::io::empty())?;
    let mut originals: BTreeMap<PathBuf, (String, Vec<u8>)> = BTreeMap::new();
    let mut applied = 0;
    let mut dropped = Vec::new();
    for pass in 1..=MAX_PASSES {
        // Accept whole fixes whose edits overlap no edit already accepted.
        let mut accepted: HashMap<PathBuf, Vec<Edit>> = HashMap::new();
        let mut count = 0;
        for f in current.findings.iter().filter(|f| wanted(f, unsafe_fixes)) {
            let fix = f.fix.as_ref().expect("filtered");
            let paths: Option<Vec<PathBuf>> = fix.edits.iter().map(|e| current.workspace.source(e.location.file).disk_path.clone()).collect();
            let Some(paths) = paths else { continue };
            let clash = fix.edits.iter().zip(&paths).any(|(e, p)| accepted.get(p).is_some_and(|v| v.iter().any(|a| overlaps(a.location.span, e.location.span))));
            if clash {
                continue;
            }
            for (e, p) in fix.edits.iter().zip(paths) {
                accepted.entry(p).or_default().push(e.clone());
            }
            count += 1;
        }
        if accepted.is_empty() {
            break;
        }
        let mut overlay = settings.workspace.overlay.clone();
        let mut changed = false;
        for (path, edits) in &accepted {
            let file = current.workspace.sources.iter().find(|(_, s)| s.disk_path.as_ref() == Some(path)).map(|(_, s)| s).expect("edited file is loaded");
            originals.entry(path.clone()).or_insert_with(|| (file.display.clone(), file.text.clone()));
            let fixed = apply::apply(&file.text, &edits.iter().collect::<Vec<_>>());
            changed |= fixed != file.text;
            overlay.insert(path.clone(), fixed);
        }
        if !changed {
            break;
        }
        let mut next_settings = settings.clone();
        next_settings.workspace.overlay = overlay;
        let next = lint(&next_settings, &mut std::io::empty())?;
        let (before, after) = (breakage(&current), breakage(&next));
        let broken: Vec<String> = after
            .iter()
            .filter(|(p, n)| **n > before.get(*p).copied().unwrap_or(0))
            .map(|(p, _)| originals.get(p).map_or_else(|| p.display().to_string(), |o| o.0.clone()))
            .collect();
        if !broken.is_empty() {
            dropped.push(format!("pass {pass} was dropped: its fixes broke the syntax or the includes of {}", broken.join(", ")));
            break;
        }
        applied += count;
        settings = next_settings;
        current = next;
    }
    let files = originals
        .into_iter()
        .filter_map(|(path, (display, original))| {
            let fixed = settings.workspace.overlay.get(&path)?.clone();
            (fixed != original).then_some(FixedFile { path, display, original, fixed })
        })
        .collect();
    Ok(Outcome { files, applied, dropped, remaining: current })
}

/// The path to show in a diff header: relative to the repository root holding the file,
/// else as displayed.
pub fn diff_path(file: &FixedFile) -> String {
    let repo = file.path.ancestors().skip(1).find(|d| d.join(".git").exists());
    match repo.and_then(|r| file.path.strip_prefix(r).ok()) {
        Some(rel) => rel.to_string_lossy().into_owned(),
        None => file.display.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Selection;

    #[test]
    fn breakage_counts_errors_of_unselected_rules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nginx.conf"), "events {}\nhttp {\n    include a.conf;\n}\n").unwrap();
        std::fs::write(dir.path().join("a.conf"), "include nginx.conf;\nserver {\n").unwrap();
        let settings = Settings {
            workspace: crate::workspace::Options { paths: vec![".".into()], cwd: dir.path().to_path_buf(), ..Default::default() },
            config: Default::default(),
            selection: Selection { select: Some(vec!["NGX101".into()]), ..Default::default() },
            registry: crate::rules::Registry::builtin(),
        };
        let linted = lint(&settings, &mut std::io::empty()).unwrap();
        assert!(linted.findings.is_empty());
        let a = dir.path().canonicalize().unwrap().join("a.conf");
        // The include cycle (NGX008) and the unclosed block (NGX001).
        assert_eq!(breakage(&linted).get(&a), Some(&2), "{:?}", linted.workspace.findings);
    }
}
