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
    pub already: Vec<Already>,
    /// Places left out of the staged copies to see past `already` (`nginx/x.conf:20`).
    pub left_out: Vec<String>,
    pub dropped: Vec<Dropped>,
    /// The written tree still fails its validator (with the errors it had before).
    pub still_failing: bool,
    /// Validator runs, each covering every root config involved.
    pub runs: usize,
}

/// Validation could not run, or was refused: nothing may be written.
pub struct Stopped {
    pub error: ValidateError,
    pub outcome: Outcome,
}

type Mask = (PathBuf, usize);

pub fn fix(settings: &Settings, unsafe_fixes: bool, opts: &ValidateOptions) -> Result<Result<Report, Stopped>, Error> {
    let outcome = super::run(settings, unsafe_fixes, &HashSet::new())?;
    let mut report = Report { outcome, validation: Validation::default(), skipped: Vec::new(), already: Vec::new(), left_out: Vec::new(), dropped: Vec::new(), still_failing: false, runs: 0 };
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
    let mut s = Search { settings, unsafe_fixes, validator: &validator, masks: Vec::new(), residual: Vec::new(), before: None, runs: 0 };
    macro_rules! attempt {
        ($e:expr, $outcome:expr) => {
            match $e {
                Ok(v) => v,
                Err(error) => return Ok(Err(Stopped { error, outcome: $outcome })),
            }
        };
    }
    let first = attempt!(s.validate(&report.outcome, false), report.outcome);
    if first.passed() {
        report.validation = first;
        report.runs = s.runs;
        return Ok(Ok(report));
    }
    // The unfixed tree: which of these errors were there before any fix.
    let before = lint(settings, &mut std::io::empty())?;
    report.already = attempt!(s.baseline(&before), report.outcome);
    report.left_out = s.masks.iter().map(|(p, line)| format!("{}:{line}", shown(&before.workspace, p))).collect();
    s.before = Some(before);
    let mut current = report.outcome;
    let mut checked = attempt!(s.validate(&current, true), current);
    let mut skip: HashSet<FixId> = HashSet::new();
    // Each round drops at least one fix.
    for _ in 0..=current.fixes.len() {
        let Some((validator_label, message)) = s.new_error(&checked) else { break };
        let culprit = match s.culprit(&current, &skip, (validator_label, message)) {
            Ok(c) => c,
            Err(error) => return Ok(Err(Stopped { error, outcome: current })),
        };
        let Some(dropped) = culprit else { break };
        skip.insert(dropped.fix.id.clone());
        report.dropped.push(dropped);
        current = super::run(settings, unsafe_fixes, &skip)?;
        if current.files.is_empty() {
            checked = Validation::default();
            break;
        }
        checked = attempt!(s.validate(&current, true), current);
    }
    if let Some((label, message)) = s.new_error(&checked) {
        // No fix could be blamed: write nothing, as before.
        return Ok(Err(Stopped { error: ValidateError::Failed { validator: label, output: message }, outcome: current }));
    }
    // What the written tree will do, without anything left out.
    if !current.files.is_empty() {
        let real = attempt!(s.validate(&current, false), current);
        report.still_failing = !real.passed();
    } else {
        report.still_failing = true;
    }
    report.validation = checked;
    report.outcome = current;
    report.runs = s.runs;
    Ok(Ok(report))
}

struct Search<'a> {
    settings: &'a Settings,
    unsafe_fixes: bool,
    validator: &'a Validator,
    /// Directives left out of every staged copy: (real path, line in the unfixed file).
    masks: Vec<Mask>,
    /// Errors of the unfixed tree that no directive can be left out for, by validator:
    /// the same error after a fix is not new.
    residual: Vec<(String, String)>,
    /// The lint of the unfixed tree.
    before: Option<Linted>,
    runs: usize,
}

impl Search<'_> {
    /// Run the validators on `outcome`'s fixed tree, with the masks applied if `masked`.
    fn validate(&mut self, outcome: &Outcome, masked: bool) -> Result<Validation, ValidateError> {
        let ws = &outcome.remaining.workspace;
        let mut contents: HashMap<PathBuf, Vec<u8>> = outcome.files.iter().map(|f| (f.path.clone(), f.fixed.clone())).collect();
        if masked {
            if let Some(before) = &self.before {
                apply_masks(&self.masks, &before.workspace, ws, &mut contents);
            }
        }
        self.runs += 1;
        self.validator.run(ws, &contents)
    }

    /// Validate the unfixed tree, leaving out each directive an error points at, until it
    /// passes or an error points at none; its errors, with conflint's findings there.
    fn baseline(&mut self, before: &Linted) -> Result<Vec<Already>, ValidateError> {
        let mut already: Vec<Already> = Vec::new();
        loop {
            let mut contents = HashMap::new();
            apply_masks(&self.masks, &before.workspace, &before.workspace, &mut contents);
            self.runs += 1;
            let v = self.validator.run(&before.workspace, &contents)?;
            let failing: Vec<&Checked> = v.ran.iter().filter(|c| !c.passed()).collect();
            let mut progressed = false;
            for c in &failing {
                let p = &c.problems[0];
                let places = places_of(p, &before.workspace);
                let entry = Already { validator: short(c), message: p.message.clone(), finding: places.iter().find_map(|m| finding_at(before, m)) };
                if !already.iter().any(|a| a.validator == entry.validator && a.message == entry.message) {
                    already.push(entry);
                }
                for m in places {
                    if self.masks.len() < MAX_LEFT_OUT && !self.masks.contains(&m) && directive_at(&before.workspace, &m.0, m.1).is_some() {
                        self.masks.push(m);
                        progressed = true;
                    }
                }
            }
            if !progressed {
                self.residual = failing.iter().map(|c| (c.label.clone(), c.problems[0].key())).collect();
                return Ok(already);
            }
        }
    }

    /// The first error of `v` that the unfixed tree (with the same directives left out)
    /// does not have.
    fn new_error(&self, v: &Validation) -> Option<(String, String)> {
        v.ran.iter().filter(|c| !c.passed()).find(|c| !self.residual.contains(&(c.label.clone(), c.problems[0].key()))).map(|c| (c.label.clone(), c.problems[0].message.clone()))
    }

    /// Does applying all fixes but `skip` add an error? The error, if so.
    fn probe(&mut self, skip: &HashSet<FixId>) -> Result<Result<Option<(String, String)>, Error>, ValidateError> {
        let outcome = match super::run(self.settings, self.unsafe_fixes, skip) {
            Ok(o) => o,
            Err(e) => return Ok(Err(e)),
        };
        if outcome.files.is_empty() {
            return Ok(Ok(None));
        }
        let v = self.validate(&outcome, true)?;
        Ok(Ok(self.new_error(&v)))
    }

    /// The fix of `current` (all fixes but `skip`) that adds an error: the first file
    /// whose fixes, added to those of the files before it, fail; then the first of that
    /// file's fixes that does.
    fn culprit(&mut self, current: &Outcome, skip: &HashSet<FixId>, failed: (String, String)) -> Result<Option<Dropped>, ValidateError> {
        let mut files: Vec<PathBuf> = Vec::new();
        for f in &current.fixes {
            if !files.contains(&f.id.path) {
                files.push(f.id.path.clone());
            }
        }
        let of_files = |from: &[PathBuf]| -> HashSet<FixId> { current.fixes.iter().filter(|f| from.contains(&f.id.path)).map(|f| f.id.clone()).collect() };
        let with = |extra: HashSet<FixId>| -> HashSet<FixId> { skip.iter().cloned().chain(extra).collect() };
        // Invariant: the fixes of files[..lo] add no error, those of files[..hi] do.
        let (mut lo, mut hi, mut error) = (0, files.len(), failed);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            match self.probe(&with(of_files(&files[mid..])))? {
                Ok(Some(e)) => (hi, error) = (mid, e),
                Ok(None) => lo = mid,
                Err(_) => return Ok(None),
            }
        }
        let Some(file) = files.get(hi.wrapping_sub(1)).cloned() else { return Ok(None) };
        let mut mine: Vec<&Applied> = current.fixes.iter().filter(|f| f.id.path == file).collect();
        mine.sort_by_key(|f| f.id.offset);
        let later = of_files(&files[hi..]);
        let (mut lo, mut hi) = (0, mine.len());
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            let rest: HashSet<FixId> = mine[mid..].iter().map(|f| f.id.clone()).chain(later.iter().cloned()).collect();
            match self.probe(&with(rest))? {
                Ok(Some(e)) => (hi, error) = (mid, e),
                Ok(None) => lo = mid,
                Err(_) => return Ok(None),
            }
        }
        Ok(mine.get(hi.wrapping_sub(1)).map(|f| Dropped { fix: (*f).clone(), validator: error.0, message: error.1 }))
    }
}

/// `nginx -t`, `php-fpm8.2 -t`.
fn short(c: &Checked) -> String {
    let name = Path::new(&c.ran.validator).file_name().map_or_else(|| c.ran.validator.clone(), |n| n.to_string_lossy().into_owned());
    format!("{name} -t")
}

fn shown(ws: &Workspace, path: &Path) -> String {
    ws.sources.iter().find(|(_, s)| s.disk_path.as_deref() == Some(path)).map_or_else(|| path.display().to_string(), |(_, s)| s.display.clone())
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
                out.push((path.clone(), src.position(d.span.start).line));
            }
        });
    }
    out.sort();
    out
}

/// conflint's finding at `at` (on the directive there, else on the line), errors first.
fn finding_at(l: &Linted, at: &Mask) -> Option<String> {
    let (id, src) = l.workspace.sources.iter().find(|(_, s)| s.disk_path.as_deref() == Some(at.0.as_path()))?;
    let span = directive_at(&l.workspace, &at.0, at.1).unwrap_or_else(|| src.line_span(at.1.min(src.line_count()).max(1)));
    let mut here: Vec<&crate::finding::Finding> = l.findings.iter().filter(|f| f.location.file == id && span.start <= f.location.span.start && f.location.span.start <= span.end.max(span.start)).collect();
    here.sort_by_key(|f| std::cmp::Reverse(f.severity == Severity::Error));
    here.first().map(|f| format!("{} at {}:{}", f.code, src.display, src.position(f.location.span.start).line))
}

/// The span of what to leave out for an error at `line` of `path` in `ws`: for nginx the
/// innermost directive whose name-to-terminator part covers the line (nginx names the
/// line of the `;` or `{`), for PHP-FPM the line.
fn directive_at(ws: &Workspace, path: &Path, line: usize) -> Option<crate::source::Span> {
    let (id, src) = ws.sources.iter().find(|(_, s)| s.disk_path.as_deref() == Some(path))?;
    if line == 0 || line > src.line_count() {
        return None;
    }
    if ws.fpm_files.contains_key(&id) {
        return Some(src.line_span(line));
    }
    let file = ws.nginx.get(&id)?;
    let mut best: Option<(usize, crate::source::Span)> = None;
    for (depth, d) in file.config.walk() {
        let end = match &d.end {
            crate::nginx::ast::End::Semicolon(s) => s.end,
            crate::nginx::ast::End::Block(b) => b.open.end,
            crate::nginx::ast::End::Missing => d.span.end,
        };
        let (first, last) = (src.position(d.name.span.start).line, src.position(end.saturating_sub(1)).line);
        if first <= line && line <= last && best.is_none_or(|(b, _)| depth >= b) {
            best = Some((depth, d.span));
        }
    }
    best.map(|(_, s)| s)
}

/// Blank out the masked directives in `contents` (the tree `ws`; files not in `contents`
/// as `ws` has them). Masks are lines of the unfixed files (`before`); a line a fix
/// changed is not left out: the fix is what is being validated there.
fn apply_masks(masks: &[Mask], before: &Workspace, ws: &Workspace, contents: &mut HashMap<PathBuf, Vec<u8>>) {
    let text_of = |w: &Workspace, p: &Path| w.sources.iter().find(|(_, s)| s.disk_path.as_deref() == Some(p)).map(|(_, s)| s.text.clone());
    let mut by_file: HashMap<&Path, Vec<usize>> = HashMap::new();
    for (p, line) in masks {
        by_file.entry(p.as_path()).or_default().push(*line);
    }
    for (path, lines) in by_file {
        let (Some(original), Some(now)) = (text_of(before, path), text_of(ws, path)) else { continue };
        let map = line_map(&original, &now);
        let mut text = now.clone();
        for line in lines {
            let Some(&Some(at)) = map.get(line - 1) else { continue };
            if let Some(span) = directive_at(ws, path, at + 1) {
                let is_fpm = ws.sources.iter().any(|(id, s)| s.disk_path.as_deref() == Some(path) && ws.fpm_files.contains_key(&id));
                blank(&mut text, span, is_fpm);
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
fn blank(text: &mut [u8], span: crate::source::Span, fpm: bool) {
    let end = span.end.min(text.len());
    if fpm {
        if span.start < end {
            text[span.start] = b';';
        }
        return;
    }
    for b in &mut text[span.start..end] {
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
        blank(&mut t, crate::source::Span::new(3, 22), false);
        assert_eq!(t, b"a;\n         \n         \nb;\n".to_vec());
        let mut f = b"pm.max_chidren = 5\n".to_vec();
        blank(&mut f, crate::source::Span::new(0, 18), true);
        assert_eq!(f, b";m.max_chidren = 5\n".to_vec());
    }
}
