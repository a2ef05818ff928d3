//! `check --fix` with validation: write the fixes the real validators accept.
//!
//! 1. Validate the fixed tree. When it passes (the usual case) everything is written,
//!    after one validator run per root config.
//! 2. When it fails, validate the unfixed tree too. Each error it already has is named,
//!    with conflint's own finding at that place; when the error points at a directive,
//!    the staged copies leave that directive out from then on, so that the validator
//!    (which stops at its first error) sees past it.
//! 3. A fixed tree that still has an error the unfixed one has not is searched for the
//!    fixes that cause it, by file, then by fix: the shortest prefix of the fixed files
//!    whose fixes fail, then the shortest prefix of that file's fixes. That fix is left
//!    out and named with the validator's message, and the rest is tried again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::validate::{Checked, Problem, ValidateError, ValidateOptions, Validation, Validator};
use super::{Applied, FixId, Outcome};
use crate::check::{lint, Error, Linted, Settings};
use crate::finding::Severity;
use crate::nginx::ast::End;
use crate::source::{LineTable, Span};
use crate::workspace::Workspace;

/// Errors of the unfixed tree looked past (directives left out of the staged copies).
const MAX_LEFT_OUT: usize = 8;

/// A validator error the tree had before any fix.
#[derive(Debug, Clone)]
pub struct Already {
    /// `nginx -t`.
    pub validator: String,
    pub message: String,
    /// conflint's own finding there: `NGX204 at nginx/sites-enabled/api.conf:20`.
    pub finding: Option<String>,
    /// Where it points in the unfixed tree (left out of the staged copies).
    places: Vec<Mask>,
    /// The root config whose validation reported it.
    root: PathBuf,
}

/// A fix the validator refused, left out.
#[derive(Debug, Clone)]
pub struct Dropped {
    pub fix: Applied,
    /// `/usr/sbin/nginx -t (nginx/nginx.conf)`.
    pub validator: String,
    pub message: String,
}

pub struct Report {
    /// The fixes to write.
    pub outcome: Outcome,
    /// The last validation of what is written (with the `left_out` directives left out).
    pub validation: Validation,
    /// What was not validated, and why.
    pub skipped: Vec<String>,
    /// Errors of the unfixed tree that the written tree still has.
    pub already: Vec<Already>,
    /// Places left out of the staged copies to see past `already` (`nginx/x.conf:20`).
    pub left_out: Vec<String>,
    pub dropped: Vec<Dropped>,
    /// The written tree still fails its validator (with errors it had before).
    pub still_failing: bool,
}

/// Validation could not run, or was refused: nothing may be written.
pub struct Stopped {
    pub error: ValidateError,
    pub outcome: Outcome,
}

/// A line of a file of the unfixed tree: (real path, 1-based line).
type Mask = (PathBuf, usize);

/// Contents to validate instead of the disk's, by real path.
type Contents = HashMap<PathBuf, Vec<u8>>;

fn contents_of(outcome: &Outcome) -> Contents {
    outcome.files.iter().map(|f| (f.path.clone(), f.fixed.clone())).collect()
}

pub fn fix(settings: &Settings, unsafe_fixes: bool, opts: &ValidateOptions) -> Result<Result<Report, Stopped>, Error> {
    let outcome = super::run(settings, unsafe_fixes, &HashSet::new())?;
    let mut report = Report { outcome, validation: Validation::default(), skipped: Vec::new(), already: Vec::new(), left_out: Vec::new(), dropped: Vec::new(), still_failing: false };
    if report.outcome.files.is_empty() {
        return Ok(Ok(report));
    }
    let fixed: BTreeSet<PathBuf> = report.outcome.files.iter().map(|f| f.path.clone()).collect();
    let validator = match Validator::new(&report.outcome.remaining.workspace, &fixed, opts) {
        Ok(v) => v,
        Err(error) => return Ok(Err(Stopped { error, outcome: report.outcome })),
    };
    report.skipped = validator.skipped.clone();
    if validator.is_empty() {
        return Ok(Ok(report));
    }
    let mut s = Search { settings, unsafe_fixes, validator: &validator, masks: Vec::new(), residual: Vec::new(), before: None };
    macro_rules! attempt {
        ($e:expr, $outcome:expr) => {
            match $e {
                Ok(v) => v,
                Err(error) => return Ok(Err(Stopped { error, outcome: $outcome })),
            }
        };
    }
    let first = attempt!(s.validate(&report.outcome.remaining.workspace, &contents_of(&report.outcome), false, None), report.outcome);
    if first.passed() {
        report.validation = first;
        return Ok(Ok(report));
    }
    // From here on only the root configs that failed are run again; the others passed
    // with every fix, and fixes of one config's files do not change another's result
    // (unless a fix is dropped: then all run again at the end).
    let failing: BTreeSet<PathBuf> = first.ran.iter().filter(|c| !c.passed()).map(|c| c.root.clone()).collect();
    // The unfixed tree: which of these errors were there before any fix.
    let before = lint(settings, &mut std::io::empty())?;
    let already = attempt!(s.baseline(&before, failing.clone()), report.outcome);
    s.before = Some(before);
    let mut current = report.outcome;
    let mut checked = attempt!(s.validate(&current.remaining.workspace, &contents_of(&current), true, Some(&failing)), current);
    let mut skip: HashSet<FixId> = HashSet::new();
    // Each round drops one fix.
    for _ in 0..=current.fixes.len() {
        let Some(failed) = s.new_error(&checked) else { break };
        let dropped = match s.culprit(&current, &skip, failed) {
            Ok(Some(d)) => d,
            Ok(None) => break,
            Err(error) => return Ok(Err(Stopped { error, outcome: current })),
        };
        skip.insert(dropped.fix.id.clone());
        report.dropped.push(dropped);
        current = super::run(settings, unsafe_fixes, &skip)?;
        checked = match current.files.is_empty() {
            true => Validation::default(),
            false => attempt!(s.validate(&current.remaining.workspace, &contents_of(&current), true, Some(&failing)), current),
        };
    }
    if !report.dropped.is_empty() && !current.files.is_empty() {
        checked = attempt!(s.validate(&current.remaining.workspace, &contents_of(&current), true, None), current);
    } else {
        // The configs that passed with every fix, as they were validated.
        checked.ran.extend(first.ran.into_iter().filter(|c| c.passed() && !failing.contains(&c.root)));
        checked.skipped.extend(first.skipped);
    }
    if let Some(failed) = s.new_error(&checked) {
        // No fix could be blamed: write nothing, as before.
        return Ok(Err(Stopped { error: ValidateError::Failed { validator: failed.label, output: failed.message }, outcome: current }));
    }
    // Which of the old errors the written tree still has: those whose directive is still
    // left out (no fix changed its line), and those without a place it still reports.
    let contents = contents_of(&current);
    let before = s.before.as_ref().expect("set above");
    report.already = already.into_iter().filter(|a| still_there(a, &s.residual, &before.workspace, &contents, &checked)).collect();
    report.still_failing = !report.already.is_empty();
    report.left_out = s.masks.iter().filter(|m| unchanged(m, &before.workspace, &contents)).map(|(p, line)| format!("{}:{line}", shown(&before.workspace, p))).collect();
    report.validation = checked;
    report.outcome = current;
    Ok(Ok(report))
}

/// Whether the written tree (`contents` over `before`) still has the old error `a`: its
/// place was not changed by a fix, or (without a place) the validator still says it in
/// `checked`.
fn still_there(a: &Already, residual: &[(PathBuf, String)], before: &Workspace, contents: &Contents, checked: &Validation) -> bool {
    if !a.places.is_empty() {
        return a.places.iter().any(|m| unchanged(m, before, contents));
    }
    checked.ran.iter().filter(|c| c.root == a.root && !c.passed()).any(|c| residual.iter().any(|(r, key)| *r == c.root && *key == c.problems[0].key()))
}

/// Whether line `m` of the unfixed tree is still there, unchanged, in `contents`.
fn unchanged(m: &Mask, before: &Workspace, contents: &Contents) -> bool {
    let Some(now) = contents.get(&m.0) else { return true };
    let Some(old) = text_of(before, &m.0) else { return true };
    line_map(old, now).get(m.1 - 1).is_some_and(Option::is_some)
}

/// A validator error the unfixed tree does not have.
struct Failed {
    root: PathBuf,
    label: String,
    message: String,
}

struct Search<'a> {
    settings: &'a Settings,
    unsafe_fixes: bool,
    validator: &'a Validator,
    /// Directives left out of every staged copy: lines of the unfixed files.
    masks: Vec<Mask>,
    /// Errors of the unfixed tree that no directive can be left out for, by root config:
    /// the same error after a fix is not new.
    residual: Vec<(PathBuf, String)>,
    /// The lint of the unfixed tree.
    before: Option<Linted>,
}

impl Search<'_> {
    /// Validate the tree `ws` with `contents` (the masks applied if `masked`), all root
    /// configs or those in `only`.
    fn validate(&mut self, ws: &Workspace, contents: &Contents, masked: bool, only: Option<&BTreeSet<PathBuf>>) -> Result<Validation, ValidateError> {
        let mut contents = contents.clone();
        if masked {
            if let Some(before) = &self.before {
                apply_masks(&self.masks, &before.workspace, &mut contents);
            }
        }
        self.validator.run(ws, &contents, only)
    }

    /// Validate the unfixed tree, leaving out each directive an error points at, until it
    /// passes or an error points at none; its errors, with conflint's findings there.
    fn baseline(&mut self, before: &Linted, only: BTreeSet<PathBuf>) -> Result<Vec<Already>, ValidateError> {
        let mut already: Vec<Already> = Vec::new();
        let mut only = Some(only);
        loop {
            let mut contents = HashMap::new();
            apply_masks(&self.masks, &before.workspace, &mut contents);
            let v = self.validator.run(&before.workspace, &contents, only.as_ref())?;
            let failing: Vec<&Checked> = v.ran.iter().filter(|c| !c.passed()).collect();
            let mut progressed = false;
            for c in &failing {
                let p = &c.problems[0];
                let places = places_of(p, &before.workspace);
                let finding = places.iter().find_map(|m| finding_at(before, m, p));
                if !already.iter().any(|a| a.root == c.root && a.message == p.message) {
                    already.push(Already { validator: short(c), message: p.message.clone(), finding, places: places.clone(), root: c.root.clone() });
                }
                for m in places {
                    if self.masks.len() < MAX_LEFT_OUT && !self.masks.contains(&m) && is_maskable(&before.workspace, &m) {
                        self.masks.push(m);
                        progressed = true;
                    }
                }
            }
            // Only the configs that failed need another look.
            only = Some(failing.iter().map(|c| c.root.clone()).collect());
            if !progressed {
                self.residual = failing.iter().map(|c| (c.root.clone(), c.problems[0].key())).collect();
                return Ok(already);
            }
        }
    }

    /// The first error of `v` that the unfixed tree (with the same directives left out)
    /// does not have.
    fn new_error(&self, v: &Validation) -> Option<Failed> {
        v.ran
            .iter()
            .filter(|c| !c.passed())
            .find(|c| !self.residual.contains(&(c.root.clone(), c.problems[0].key())))
            .map(|c| Failed { root: c.root.clone(), label: c.label.clone(), message: c.problems[0].message.clone() })
    }

    /// The fix of `current` (all fixes but `skip`) that makes root config `failed.root`
    /// fail: the first file whose fixes, added to those of the files before it, do; then
    /// the first of that file's fixes that does.
    fn culprit(&mut self, current: &Outcome, skip: &HashSet<FixId>, failed: Failed) -> Result<Option<Dropped>, ValidateError> {
        let only = BTreeSet::from([failed.root.clone()]);
        let ws = &current.remaining.workspace;
        // Only files of the failing config's kind: a PHP-FPM fix cannot fail nginx -t.
        let kind: HashMap<&Path, bool> = ws.sources.iter().filter_map(|(id, s)| Some((s.disk_path.as_deref()?, ws.fpm_files.contains_key(&id)))).collect();
        let fpm = kind.get(failed.root.as_path()).copied();
        let files: Vec<&super::FixedFile> = current.files.iter().filter(|f| kind.get(f.path.as_path()).copied() == fpm).collect();
        // By file: the fixed contents of files[..k], the rest as on disk. Invariant: the
        // files before `lo` add no error, those before `hi` do.
        let (mut lo, mut hi, mut error) = (0, files.len(), failed);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            let contents: Contents = files[..mid].iter().map(|f| (f.path.clone(), f.fixed.clone())).collect();
            let v = self.validate(ws, &contents, true, Some(&only))?;
            match self.new_error(&v) {
                Some(e) => (hi, error) = (mid, e),
                None => lo = mid,
            }
        }
        let Some(file) = hi.checked_sub(1).and_then(|i| files.get(i)).map(|f| f.path.clone()) else { return Ok(None) };
        // By fix, among those of the fixes whose finding is in that file (or whose edits
        // reach it), with every later file's fixes skipped.
        let later: HashSet<FixId> = current.fixes.iter().filter(|f| files[hi..].iter().any(|x| f.paths.contains(&x.path)) && !f.paths.contains(&file)).map(|f| f.id.clone()).collect();
        // In the order they were applied: a fix of a later pass may exist only because of
        // an earlier one, and must not be tried without it.
        let mine: Vec<&Applied> = current.fixes.iter().filter(|f| f.paths.contains(&file)).collect();
        let (mut lo, mut hi) = (0, mine.len());
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            let rest: HashSet<FixId> = skip.iter().chain(&later).cloned().chain(mine[mid..].iter().map(|f| f.id.clone())).collect();
            let Ok(outcome) = super::run(self.settings, self.unsafe_fixes, &rest) else { return Ok(None) };
            let v = self.validate(&outcome.remaining.workspace, &contents_of(&outcome), true, Some(&only))?;
            match self.new_error(&v) {
                Some(e) => (hi, error) = (mid, e),
                None => lo = mid,
            }
        }
        Ok(hi.checked_sub(1).and_then(|i| mine.get(i)).map(|f| Dropped { fix: (*f).clone(), validator: error.label, message: error.message }))
    }
}

/// `nginx -t`, `php-fpm8.2 -t`.
fn short(c: &Checked) -> String {
    let name = Path::new(&c.ran.validator).file_name().map_or_else(|| c.ran.validator.clone(), |n| n.to_string_lossy().into_owned());
    format!("{name} -t")
}

fn source_of<'w>(ws: &'w Workspace, path: &Path) -> Option<(crate::source::FileId, &'w crate::source::SourceFile)> {
    ws.sources.iter().find(|(_, s)| s.disk_path.as_deref() == Some(path))
}

fn text_of<'w>(ws: &'w Workspace, path: &Path) -> Option<&'w [u8]> {
    source_of(ws, path).map(|(_, s)| s.text.as_slice())
}

fn shown(ws: &Workspace, path: &Path) -> String {
    source_of(ws, path).map_or_else(|| path.display().to_string(), |(_, s)| s.display.clone())
}

fn is_fpm(ws: &Workspace, path: &Path) -> Option<bool> {
    let (id, _) = source_of(ws, path)?;
    match (ws.fpm_files.contains_key(&id), ws.nginx.contains_key(&id)) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

fn is_maskable(ws: &Workspace, m: &Mask) -> bool {
    let (Some(text), Some(fpm)) = (text_of(ws, &m.0), is_fpm(ws, &m.0)) else { return false };
    directive_span(text, fpm, m.1).is_some()
}

/// Where in the unfixed tree an error points: its file and line, or for a zone nginx does
/// not know (`zero size shared memory zone "nosuch"`, reported without a place) every
/// `limit_req`/`limit_conn` that uses it.
fn places_of(p: &Problem, ws: &Workspace) -> Vec<Mask> {
    if let Some(at) = &p.at {
        return vec![at.clone()];
    }
    let Some(zone) = p.message.split("shared memory zone \"").nth(1).and_then(|r| r.split('"').next()) else { return Vec::new() };
    let mut out = Vec::new();
    for (id, file) in &ws.nginx {
        let src = ws.source(*id);
        let Some(path) = &src.disk_path else { continue };
        file.config.for_each_directive(&mut |d| {
            let uses = match d.name.value.as_str() {
                "limit_req" => d.args.iter().any(|a| a.value.strip_prefix("zone=") == Some(zone)),
                "limit_conn" => d.args.first().is_some_and(|a| a.value == zone),
                _ => false,
            };
            if uses {
                out.push((path.clone(), src.position(d.span.start()).line));
            }
        });
    }
    out.sort();
    out
}

/// conflint's error at `at` (on the directive there, else on the line) that says what the
/// validator says: the first whose message shares a quoted name with `p`, else the first.
fn finding_at(l: &Linted, at: &Mask, p: &Problem) -> Option<String> {
    let (id, src) = source_of(&l.workspace, &at.0)?;
    let span = directive_span(&src.text, is_fpm(&l.workspace, &at.0)?, at.1)?;
    let here: Vec<&crate::finding::Finding> = l.findings.iter().filter(|f| f.location.file == id && f.severity == Severity::Error && span.start() <= f.location.span.start() && f.location.span.start() <= span.end()).collect();
    let quoted: Vec<&str> = p.message.split(['"', '\'']).skip(1).step_by(2).filter(|q| !q.is_empty()).collect();
    let best = here.iter().find(|f| quoted.iter().any(|q| f.message.contains(q))).or(here.first())?;
    Some(format!("{} at {}:{}", best.code, src.display, src.position(best.location.span.start()).line))
}

/// What to leave out for an error at 1-based `line` of `text`: for nginx the innermost
/// directive whose name-to-terminator part covers the line (nginx names the line of the
/// `;` or `{`), for PHP-FPM the line.
fn directive_span(text: &[u8], fpm: bool, line: usize) -> Option<Span> {
    let lines = LineTable::of(text);
    let count = text.split_inclusive(|&b| b == b'\n').count();
    if line == 0 || line > count {
        return None;
    }
    let line_of = |offset: usize| lines.line_of(offset.min(text.len())) + 1;
    if fpm {
        let start = lines.start(line - 1);
        let end = text[start..].iter().position(|&b| b == b'\n').map_or(text.len(), |i| start + i);
        return Some(Span::new(start, end));
    }
    let config = crate::nginx::parse(text);
    let mut best: Option<(usize, Span)> = None;
    for (depth, d) in config.walk() {
        let end = match &d.end {
            End::Semicolon(s) => s.end(),
            End::Block(b) => b.open.end(),
            End::Missing => d.span.end(),
        };
        if line_of(d.name.span.start()) <= line && line <= line_of(end.saturating_sub(1)) && best.is_none_or(|(b, _)| depth >= b) {
            best = Some((depth, d.span));
        }
    }
    best.map(|(_, s)| s)
}

/// Blank out the masked directives in `contents` (files not in it as the unfixed tree
/// `before` has them). Masks are lines of the unfixed files; a line a fix changed is not
/// left out: the fix is what is being validated there.
fn apply_masks(masks: &[Mask], before: &Workspace, contents: &mut Contents) {
    let mut by_file: HashMap<&Path, Vec<usize>> = HashMap::new();
    for (p, line) in masks {
        by_file.entry(p.as_path()).or_default().push(*line);
    }
    for (path, lines) in by_file {
        let (Some(original), Some(fpm)) = (text_of(before, path), is_fpm(before, path)) else { continue };
        let now = contents.get(path).cloned().unwrap_or_else(|| original.to_vec());
        let map = line_map(original, &now);
        let mut text = now.clone();
        for line in lines {
            let Some(&Some(at)) = map.get(line - 1) else { continue };
            if let Some(span) = directive_span(&now, fpm, at + 1) {
                blank(&mut text, span, fpm);
            }
        }
        contents.insert(path.to_path_buf(), text);
    }
}

/// For each 0-based line of `old`, its line in `new` when it is there unchanged.
fn line_map(old: &[u8], new: &[u8]) -> Vec<Option<usize>> {
    let lines = |t: &[u8]| t.split_inclusive(|&b| b == b'\n').count();
    if old == new {
        return (0..lines(old)).map(Some).collect();
    }
    let (a, b) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    let diff = similar::TextDiff::from_lines(a.as_ref(), b.as_ref());
    let mut map = vec![None; lines(old)];
    for op in diff.ops() {
        if let similar::DiffOp::Equal { old_index, new_index, len } = *op {
            for i in 0..len {
                if let Some(slot) = map.get_mut(old_index + i) {
                    *slot = Some(new_index + i);
                }
            }
        }
    }
    map
}

/// Replace `span` by spaces, line breaks kept (so the validator's line numbers stay the
/// user's); a PHP-FPM line is commented out instead.
fn blank(text: &mut [u8], span: Span, fpm: bool) {
    let end = span.end().min(text.len());
    if fpm {
        if span.start() < end {
            text[span.start()] = b';';
        }
        return;
    }
    for b in &mut text[span.start()..end] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_lines_are_followed_through_a_fix() {
        let map = line_map(b"a\nb\nc\n", b"a\nx\nb\nc2\n");
        assert_eq!(map, vec![Some(0), Some(2), None]);
    }

    #[test]
    fn blanking_keeps_line_numbers() {
        let mut t = b"a;\nlimit_req\n  zone=x;\nb;\n".to_vec();
        blank(&mut t, Span::new(3, 22), false);
        assert_eq!(t, b"a;\n         \n         \nb;\n".to_vec());
        let mut f = b"pm.max_chidren = 5\n".to_vec();
        blank(&mut f, Span::new(0, 18), true);
        assert_eq!(f, b";m.max_chidren = 5\n".to_vec());
    }
}
