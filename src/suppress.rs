//! Suppression comments: `# conflint: ignore[CODE,...] reason` (nginx) or
//! `; conflint: ignore[...]` (PHP-FPM) at the end of the offending line or alone on the
//! line above, and `ignore-file[...]` anywhere in a file. A suppression that suppresses
//! nothing is itself a finding (CFL001).

use crate::finding::{Applicability, Edit, Finding, Fix, Location, Severity};
use crate::nginx::ast::{Comment, Item};
use crate::rules;
use crate::source::{FileId, SourceFile, Span};
use crate::workspace::Workspace;

#[derive(Debug)]
struct Directive {
    file: FileId,
    /// The whole comment (`#`/`;` included).
    comment: Span,
    codes: Vec<String>,
    whole_file: bool,
    /// The line the comment is on, and whether it stands alone on it.
    line: usize,
    alone: bool,
    used: Vec<bool>,
}

const MARK: &str = "conflint:";

/// Remove suppressed findings and add CFL001 for suppressions that matched nothing.
/// `enabled` says whether a code is selected (a disabled rule's suppression is not unused).
pub fn apply(ws: &Workspace, findings: Vec<Finding>, enabled: &dyn Fn(&str) -> bool) -> Vec<Finding> {
    let mut directives = collect(ws);
    if directives.is_empty() {
        return findings;
    }
    let mut kept = Vec::with_capacity(findings.len());
    'next: for f in findings {
        let line = ws.source(f.location.file).position(f.location.span.start()).line;
        for d in directives.iter_mut().filter(|d| d.file == f.location.file) {
            let applies = d.whole_file || line == d.line || (d.alone && line == d.line + 1);
            if !applies {
                continue;
            }
            if let Some(i) = d.codes.iter().position(|c| rules::selector_matches(c, &f.code)) {
                d.used[i] = true;
                continue 'next;
            }
        }
        kept.push(f);
    }
    if enabled("CFL001") {
        for d in &directives {
            let unused: Vec<&str> =
                d.codes.iter().zip(&d.used).filter(|(c, used)| !**used && enabled(c)).map(|(c, _)| c.as_str()).collect();
            if unused.is_empty() {
                continue;
            }
            kept.push(unused_finding(ws.source(d.file), d, &unused));
        }
    }
    kept
}

fn unused_finding(src: &SourceFile, d: &Directive, unused: &[&str]) -> Finding {
    let at = Location { file: d.file, span: d.comment };
    let what = if d.whole_file { "ignore-file" } else { "ignore" };
    let message = format!("unused suppression: `{what}[{}]` suppresses nothing here", unused.join(","));
    let remaining: Vec<&str> = d.codes.iter().map(String::as_str).filter(|c| !unused.contains(c)).collect();
    let edit = if remaining.is_empty() {
        if d.alone {
            crate::rules::edit::delete_line(src, at)
        } else {
            // The comment and the blanks before it.
            let mut start = d.comment.start();
            while start > 0 && matches!(src.text[start - 1], b' ' | b'\t') {
                start -= 1;
            }
            Edit { location: Location { file: d.file, span: Span::new(start, d.comment.end()) }, content: String::new() }
        }
    } else {
        let text = String::from_utf8_lossy(src.slice(d.comment));
        let open = text.find('[').unwrap_or(0);
        let close = text[open..].find(']').map_or(text.len(), |i| open + i + 1);
        let span = Span::new(d.comment.start() + open, d.comment.start() + close);
        Edit { location: Location { file: d.file, span }, content: format!("[{}]", remaining.join(",")) }
    };
    Finding::new("CFL001", Severity::Warning, at, message).with_fix(Fix {
        applicability: Applicability::Safe,
        message: "remove the unused suppression".into(),
        edits: vec![edit],
    })
}

fn collect(ws: &Workspace) -> Vec<Directive> {
    let mut out = Vec::new();
    // Most files have no suppression at all: one scan of the bytes says so.
    let may_have = |src: &SourceFile| memchr::memmem::find(&src.text, MARK.as_bytes()).is_some();
    for (id, nf) in &ws.nginx {
        let src = ws.source(*id);
        if !may_have(src) {
            continue;
        }
        let mut comments = Vec::new();
        nginx_comments(&nf.config.items, &mut comments);
        for c in comments {
            push_directive(src, *id, c.span, &c.text, &mut out);
        }
    }
    for (id, file) in &ws.fpm_files {
        let src = ws.source(*id);
        if !may_have(src) {
            continue;
        }
        for line in &file.lines {
            if let Some(span) = line.comment {
                let text = String::from_utf8_lossy(&src.text[span.start() + 1..span.end()]);
                push_directive(src, *id, span, &text, &mut out);
            }
        }
    }
    out.sort_by_key(|d| (d.file, d.comment.start()));
    out
}

fn nginx_comments<'a>(items: &'a [Item], out: &mut Vec<&'a Comment>) {
    for item in items {
        match item {
            Item::Comment(c) => out.push(c),
            Item::Directive(d) => {
                out.extend(d.inner_comments.iter());
                if let Some(b) = d.block() {
                    nginx_comments(&b.items, out);
                }
            }
            Item::Error(_) => {}
        }
    }
}

/// `text` is the comment without its `#`/`;`.
fn push_directive(src: &SourceFile, file: FileId, span: Span, text: &str, out: &mut Vec<Directive>) {
    let body = text.trim_start();
    let Some(rest) = body.strip_prefix(MARK) else { return };
    let rest = rest.trim_start();
    let (whole_file, rest) = if let Some(r) = rest.strip_prefix("ignore-file[") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("ignore[") {
        (false, r)
    } else {
        return;
    };
    let Some(close) = rest.find(']') else { return };
    let codes: Vec<String> = rest[..close].split(',').map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()).collect();
    if codes.is_empty() {
        return;
    }
    let pos = src.position(span.start());
    let line_span = src.line_span(pos.line);
    let alone = src.text[line_span.start()..span.start()].iter().all(|b| matches!(b, b' ' | b'\t'));
    let used = vec![false; codes.len()];
    out.push(Directive { file, comment: span, codes, whole_file, line: pos.line, alone, used });
}
