//! `json` (an array) and `json-lines` (one object per line), exactly the shape of
//! `../shared/spec/cli.md`.

use serde::Serialize;

use crate::finding::{Applicability, Finding, Location, Severity};
use crate::rules::Registry;
use crate::source::{Position, Sources};

#[derive(Serialize)]
struct JsonSpan {
    start: Position,
    end: Position,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    path: &'a str,
    span: JsonSpan,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    path: &'a str,
    span: JsonSpan,
    content: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    applicability: Applicability,
    message: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    name: &'a str,
    severity: Severity,
    message: &'a str,
    path: &'a str,
    span: JsonSpan,
    related: Vec<JsonRelated<'a>>,
    fix: Option<JsonFix<'a>>,
    url: Option<String>,
}

fn span(sources: &Sources, at: Location) -> JsonSpan {
    let src = sources.get(at.file);
    JsonSpan { start: src.position(at.span.start()), end: src.position(at.span.end()) }
}

fn path(sources: &Sources, at: Location) -> &str {
    &sources.get(at.file).display
}

pub fn render(
    findings: &[Finding],
    sources: &Sources,
    rules: &Registry,
    lines: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let items: Vec<JsonFinding> = findings
        .iter()
        .map(|f| {
            let meta = rules.get(&f.code);
            JsonFinding {
                code: &f.code,
                name: meta.map_or("", |m| m.name.as_str()),
                severity: f.severity,
                message: &f.message,
                path: path(sources, f.location),
                span: span(sources, f.location),
                related: f.related.iter().map(|r| JsonRelated { path: path(sources, r.location), span: span(sources, r.location), message: &r.message }).collect(),
                fix: f.fix.as_ref().map(|x| JsonFix {
                    applicability: x.applicability,
                    message: &x.message,
                    edits: x.edits.iter().map(|e| JsonEdit { path: path(sources, e.location), span: span(sources, e.location), content: &e.content }).collect(),
                }),
                url: meta.map(|m| m.url()),
            }
        })
        .collect();
    if lines {
        for item in &items {
            super::lossy::write_json(&mut *out, item, false)?;
            writeln!(out)?;
        }
    } else {
        super::lossy::write_json(&mut *out, &items, true)?;
        writeln!(out)?;
    }
    Ok(())
}
