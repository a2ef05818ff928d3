//! The fixer: turn findings' edits into new file contents, re-lint until nothing
//! changes, then show a diff or write (after validation).

mod apply;

pub(crate) use apply::splice;
pub mod diff;
pub mod lock;
pub mod stage;
pub mod validate;
pub mod validated;
pub mod write;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use crate::check::{lint, lint_reusing, Error, Linted, Settings};
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

/// A fix by what it fixes, the same whatever other fixes were applied first: its rule,
/// the file of its finding and where the finding starts in the file as it was before any
/// fix (a later pass's finding is mapped back through the earlier passes' edits), and
/// which application of that fix it is (a rule may fix the same place again in a later
/// pass).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FixId {
    pub code: String,
    pub path: PathBuf,
    pub offset: usize,
    pub nth: usize,
}

/// One applied fix, for naming it (and leaving it out) when the validator refuses it.
#[derive(Clone, Debug)]
pub struct Applied {
    pub id: FixId,
    /// `nginx/sites-enabled/api.conf:20` (the line in the file before any fix).
    pub at: String,
    pub message: String,
    /// Every file its edits change.
    pub paths: Vec<PathBuf>,
}

pub struct Outcome {
    /// Files whose contents changed, in display order.
    pub files: Vec<FixedFile>,
    /// How many fixes were applied over all passes.
    pub applied: usize,
    /// Each of them, in the order they were applied.
    pub fixes: Vec<Applied>,
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
        return b.start() < a.start() && a.start() < b.end();
    }
    if b.is_empty() {
        return a.start() < b.start() && b.start() < a.end();
    }
    a.start() < b.end() && b.start() < a.end()
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

/// The edits of one pass in one file, as `(start, end, new length)` in the file before
/// the pass, sorted.
type PassEdits = Vec<(usize, usize, usize)>;

/// Where `offset` of a file after `passes` (oldest first) was before all of them; an
/// offset inside inserted text maps to the start of the edit that inserted it.
fn original_offset(mut offset: usize, passes: &[PassEdits]) -> usize {
    for edits in passes.iter().rev() {
        let mut delta: isize = 0;
        let mut mapped = None;
        for &(start, end, len) in edits {
            let new_start = (start as isize + delta) as usize;
            if offset < new_start {
                break;
            }
            if offset < new_start + len {
                mapped = Some(start);
                break;
            }
            delta += len as isize - (end - start) as isize;
        }
        offset = mapped.unwrap_or((offset as isize - delta).max(0) as usize);
    }
    offset
}

/// Apply the wanted fixes of the tree, pass after pass, except those in `skip`.
pub fn run(settings: &Settings, unsafe_fixes: bool, skip: &HashSet<FixId>) -> Result<Outcome, Error> {
    let current = lint(settings, &mut std::io::empty())?;
    run_from(settings, current, unsafe_fixes, skip)
}

/// [`run`] from the lint of the unfixed tree, already made.
pub fn run_from(settings: &Settings, mut current: Linted, unsafe_fixes: bool, skip: &HashSet<FixId>) -> Result<Outcome, Error> {
    let mut settings = settings.clone();
    let mut originals: BTreeMap<PathBuf, (String, Vec<u8>)> = BTreeMap::new();
    let mut history: HashMap<PathBuf, Vec<PassEdits>> = HashMap::new();
    let mut applied = 0;
    let mut fixes = Vec::new();
    let mut dropped = Vec::new();
    // How often each place was fixed so far (`FixId::nth` of its next fix), over the passes.
    let mut times_fixed: HashMap<(String, PathBuf, usize), usize> = HashMap::new();
    for pass in 1..=MAX_PASSES {
        // Accept whole fixes whose edits overlap no edit already accepted.
        let mut accepted: HashMap<PathBuf, Vec<Edit>> = HashMap::new();
        let mut pass_fixes = Vec::new();
        let mut pass_times = times_fixed.clone();
        for f in current.findings.iter().filter(|f| wanted(f, unsafe_fixes)) {
            let fix = f.fix.as_ref().expect("filtered");
            let paths: Option<Vec<PathBuf>> = fix.edits.iter().map(|e| current.workspace.source(e.location.file).disk_path.clone()).collect();
            let Some(paths) = paths else { continue };
            let Some(mut id) = fix_id(&current, f, &history) else { continue };
            let place = (id.code.clone(), id.path.clone(), id.offset);
            id.nth = pass_times.get(&place).copied().unwrap_or(0);
            if skip.contains(&id) {
                continue;
            }
            let clash = fix.edits.iter().zip(&paths).any(|(e, p)| accepted.get(p).is_some_and(|v| v.iter().any(|a| overlaps(a.location.span, e.location.span))));
            if clash {
                continue;
            }
            for (e, p) in fix.edits.iter().zip(&paths) {
                accepted.entry(p.clone()).or_default().push(e.clone());
            }
            *pass_times.entry(place).or_default() += 1;
            let src = current.workspace.source(f.location.file);
            let original = originals.get(&id.path).map_or(&src.text, |o| &o.1);
            let line = original[..id.offset.min(original.len())].iter().filter(|&&b| b == b'\n').count() + 1;
            let mut touched = paths.clone();
            touched.sort();
            touched.dedup();
            pass_fixes.push(Applied { at: format!("{}:{line}", src.display), message: fix.message.clone(), paths: touched, id });
        }
        if accepted.is_empty() {
            break;
        }
        let mut overlay = settings.workspace.overlay.clone();
        let mut changed = false;
        let mut by_path: HashMap<&PathBuf, &crate::source::SourceFile> = HashMap::new();
        for (_, s) in current.workspace.sources.iter() {
            if let Some(p) = &s.disk_path {
                by_path.entry(p).or_insert(s);
            }
        }
        for (path, edits) in &accepted {
            let file = by_path.get(path).copied().expect("edited file is loaded");
            originals.entry(path.clone()).or_insert_with(|| (file.display.clone(), file.text.clone()));
            let fixed = apply::apply(&file.text, &edits.iter().collect::<Vec<_>>());
            changed |= fixed != file.text;
            overlay.insert(path.clone(), fixed);
        }
        let pass_edits: Vec<(PathBuf, PassEdits)> = accepted
            .iter()
            .map(|(p, edits)| {
                let mut v: PassEdits = edits.iter().map(|e| (e.location.span.start(), e.location.span.end(), e.content.len())).collect();
                v.sort();
                (p.clone(), v)
            })
            .collect();
        if !changed {
            break;
        }
        let mut next_settings = settings.clone();
        next_settings.workspace.overlay = overlay;
        let before = breakage(&current);
        // The next lint takes the trees of the files this pass leaves as they are, and the
        // rest of this lint's memory is given back before it runs.
        let next = lint_reusing(&next_settings, &mut std::io::empty(), current.workspace.into_reuse())?;
        let after = breakage(&next);
        let broken: Vec<String> = after
            .iter()
            .filter(|(p, n)| **n > before.get(*p).copied().unwrap_or(0))
            .map(|(p, _)| originals.get(p).map_or_else(|| p.display().to_string(), |o| o.0.clone()))
            .collect();
        if !broken.is_empty() {
            dropped.push(format!("pass {pass} was dropped: its fixes broke the syntax or the includes of {}", broken.join(", ")));
            // What remains is the tree before this pass, linted again.
            current = lint_reusing(&settings, &mut std::io::empty(), next.workspace.into_reuse())?;
            break;
        }
        applied += pass_fixes.len();
        fixes.extend(pass_fixes);
        times_fixed = pass_times;
        for (p, v) in pass_edits {
            history.entry(p).or_default().push(v);
        }
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
    Ok(Outcome { files, applied, fixes, dropped, remaining: current })
}

fn fix_id(l: &Linted, f: &Finding, history: &HashMap<PathBuf, Vec<PassEdits>>) -> Option<FixId> {
    let path = l.workspace.source(f.location.file).disk_path.clone()?;
    let offset = original_offset(f.location.span.start(), history.get(&path).map_or(&[][..], |v| v));
    Some(FixId { code: f.code.clone(), path, offset, nth: 0 })
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
    fn offsets_map_back_through_earlier_passes() {
        // Pass 1 replaced 2..5 by 4 bytes and inserted 3 at 8; pass 2 inserted 2 at 0.
        let passes = vec![vec![(2, 5, 4), (8, 8, 3)], vec![(0, 0, 2)]];
        assert_eq!(original_offset(1, &passes), 0, "inside pass 2's insertion");
        assert_eq!(original_offset(3, &passes), 1);
        assert_eq!(original_offset(5, &passes), 2, "inside pass 1's replacement");
        assert_eq!(original_offset(8, &passes), 5, "just after the replacement");
        assert_eq!(original_offset(11, &passes), 8, "inside the insertion at 8");
        assert_eq!(original_offset(14, &passes), 8, "the insertion's end is the old offset 8");
        assert_eq!(original_offset(15, &passes), 9);
    }

    #[test]
    fn a_pass_that_breaks_the_syntax_is_dropped_and_the_tree_kept() {
        let dir = tempfile::tempdir().unwrap();
        let conf = "events {}\nhttp {\n    server {\n        listen 80;\n    }\n}\n";
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let settings = Settings {
            workspace: crate::workspace::Options { paths: vec![".".into()], cwd: dir.path().to_path_buf(), ..Default::default() },
            config: Default::default(),
            selection: Selection::default(),
            registry: crate::rules::Registry::builtin(),
        };
        let mut linted = lint(&settings, &mut std::io::empty()).unwrap();
        let unfixed = linted.findings.clone();
        // A fix that deletes the server block's closing brace.
        let file = linted.workspace.sources.iter().next().unwrap().0;
        let brace = conf.find("    }").unwrap() + 4;
        let location = crate::finding::Location { file, span: Span::new(brace, brace + 1) };
        let mut breaking = Finding::new("NGX101", crate::finding::Severity::Warning, location, "test");
        breaking.fix = Some(crate::finding::Fix { applicability: Applicability::Safe, message: "drop the brace".into(), edits: vec![Edit { location, content: String::new() }] });
        linted.findings.push(breaking);
        let outcome = run_from(&settings, linted, false, &HashSet::new()).unwrap();
        assert!(outcome.files.is_empty() && outcome.applied == 0);
        assert_eq!(outcome.dropped.len(), 1, "{:?}", outcome.dropped);
        assert!(outcome.dropped[0].contains("pass 1 was dropped") && outcome.dropped[0].contains("nginx.conf"), "{}", outcome.dropped[0]);
        // What remains is the lint of the tree as it is, not of the broken pass.
        assert_eq!(outcome.remaining.findings, unfixed);
        assert_eq!(outcome.remaining.workspace.sources.iter().next().unwrap().1.text, conf.as_bytes());
    }

    #[test]
    fn a_lint_reusing_unchanged_trees_finds_what_a_fresh_one_does() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nginx.conf"), "events {}\nhttp {\n    include site.conf;\n}\n").unwrap();
        std::fs::write(dir.path().join("site.conf"), "server {\n    location ~ \\.php$ {\n        fastcgi_pass unix:/run/php/www.sock;\n    }\n}\n").unwrap();
        std::fs::write(dir.path().join("www.conf"), "[www]\nuser = www-data\nlisten = /run/php/www.sock\npm = static\npm.max_children = 5\n").unwrap();
        let mut settings = Settings {
            workspace: crate::workspace::Options { paths: vec![".".into()], cwd: dir.path().to_path_buf(), ..Default::default() },
            config: Default::default(),
            selection: Selection::default(),
            registry: crate::rules::Registry::builtin(),
        };
        let first = lint(&settings, &mut std::io::empty()).unwrap();
        // The included site loses its closing brace (and so gains a syntax error); the
        // other two files are as they were.
        let site = dir.path().canonicalize().unwrap().join("site.conf");
        settings.workspace.overlay.insert(site.clone(), b"server {\n    location / {\n        fastcgi_pass unix:/run/php/www.sock;\n    }\n".to_vec());
        let reused = lint_reusing(&settings, &mut std::io::empty(), first.workspace.into_reuse()).unwrap();
        let fresh = lint(&settings, &mut std::io::empty()).unwrap();
        assert_eq!(reused.findings, fresh.findings);
        assert_eq!(reused.notes, fresh.notes);
        let broken = |l: &Linted| l.workspace.findings.iter().any(|f| f.code == "NGX001" && l.workspace.source(f.location.file).disk_path.as_ref() == Some(&site));
        assert!(broken(&reused), "the changed file is parsed again: {:?}", reused.workspace.findings);
    }

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
