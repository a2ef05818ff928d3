//! `sarif`: SARIF 2.1.0 as GitHub code scanning ingests it (`../shared/reference/
//! linter-conventions.md` §1.9.2). Rule descriptors come from the rule registry, the same
//! text `conflint rule CODE` prints.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::repo::{self, Place, RepoRoot};
use super::Options;
use crate::finding::{Finding, Fix, Location, Severity};
use crate::rules::{Registry, RuleMeta};
use crate::source::{FileId, SourceFile, Sources};

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// GitHub truncates longer descriptions.
const MAX_DESCRIPTION: usize = 1024;

pub fn render(findings: &[Finding], sources: &Sources, rules: &Registry, opts: &Options, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let root = opts.root.as_ref();
    let mut codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let metas: Vec<&RuleMeta> = codes.iter().filter_map(|c| rules.get(c)).collect();
    let index: HashMap<&str, usize> = metas.iter().enumerate().map(|(i, m)| (m.code.as_str(), i)).collect();

    let tool = json!({"driver": {
        "name": "conflint",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "informationUri": env!("CARGO_PKG_REPOSITORY"),
        "rules": metas.iter().map(|m| descriptor(m)).collect::<Vec<_>>(),
    }});
    let run = Run {
        column_kind: "unicodeCodePoints",
        original_uri_base_ids: root.map(|root| json!({SRCROOT: {"uri": repo::file_uri(&root.dir, true)}})),
        results: Results { findings, sources, root, index: &index },
        tool,
    };
    let log = Log { schema: SCHEMA, runs: [run], version: "2.1.0" };
    super::lossy::write_json(&mut *out, &log, true)?;
    writeln!(out)
}

// The log's outer objects, with their keys in the sorted order `serde_json::Value` writes
// them in. They exist so the results are written one by one as they are made: a log of
// thousands of findings is never held whole.
#[derive(serde::Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a>; 1],
    version: &'static str,
}

#[derive(serde::Serialize)]
struct Run<'a> {
    #[serde(rename = "columnKind")]
    column_kind: &'static str,
    #[serde(rename = "originalUriBaseIds", skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<Value>,
    results: Results<'a>,
    tool: Value,
}

struct Results<'a> {
    findings: &'a [Finding],
    sources: &'a Sources,
    root: Option<&'a RepoRoot>,
    index: &'a HashMap<&'a str, usize>,
}

impl serde::Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seen = HashMap::new();
        serializer.collect_seq(self.findings.iter().map(|f| result(f, self.sources, self.root, self.index, &mut seen)))
    }
}

/// `seen` counts the findings per file and line hash so far.
fn result(f: &Finding, sources: &Sources, root: Option<&RepoRoot>, index: &HashMap<&str, usize>, seen: &mut HashMap<(String, String), usize>) -> Value {
    let src = sources.get(f.location.file);
    let hash = line_hash(&f.code, src, f.location);
    let n = seen.entry((repo::place(src, root).shown(), hash.clone())).or_insert(0);
    *n += 1;
    let mut r = json!({
        "ruleId": f.code,
        "level": level(f.severity),
        "message": {"text": message(f)},
        "locations": [{"physicalLocation": physical(sources, f.location, root)}],
        "partialFingerprints": {"primaryLocationLineHash": format!("{hash}:{n}")},
    });
    if let Some(&i) = index.get(f.code.as_str()) {
        r["ruleIndex"] = json!(i);
    }
    if !f.related.is_empty() {
        let related: Vec<Value> = f
            .related
            .iter()
            .enumerate()
            .map(|(id, rel)| json!({"id": id, "physicalLocation": physical(sources, rel.location, root), "message": {"text": rel.message}}))
            .collect();
        r["relatedLocations"] = json!(related);
    }
    if let Some(fix) = &f.fix {
        r["fixes"] = json!([{
            "description": {"text": fix.message},
            "artifactChanges": artifact_changes(sources, fix, root),
            "properties": {"applicability": fix.applicability},
        }]);
    }
    r
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn message(f: &Finding) -> String {
    match &f.help {
        Some(help) => format!("{}\nhelp: {help}", f.message),
        None => f.message.clone(),
    }
}

fn descriptor(m: &RuleMeta) -> Value {
    let doc = m.markdown();
    let mut d = json!({
        "id": m.code,
        "name": m.name,
        "shortDescription": {"text": clip(m.summary.trim())},
        "fullDescription": {"text": clip(m.docs.what.trim())},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": level(m.severity)},
        "properties": {"tags": [m.family]},
    });
    if let Some(url) = m.web_url() {
        d["helpUri"] = json!(url);
    }
    d
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(MAX_DESCRIPTION) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn artifact_location(src: &SourceFile, root: Option<&RepoRoot>) -> Value {
    match repo::place(src, root) {
        Place::Inside(rel) => json!({"uri": repo::uri_path(&rel), "uriBaseId": SRCROOT}),
        Place::Outside(abs) => json!({"uri": repo::file_uri(&abs, false)}),
    }
}

/// 1-based lines, columns in Unicode code points (`columnKind`), end column exclusive.
fn region(src: &SourceFile, at: Location) -> Value {
    let (start, end) = (src.position(at.span.start), src.position(at.span.end));
    json!({"startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column})
}

fn physical(sources: &Sources, at: Location, root: Option<&RepoRoot>) -> Value {
    let src = sources.get(at.file);
    json!({"artifactLocation": artifact_location(src, root), "region": region(src, at)})
}

/// One change per file, in the order the fix first touches them.
fn artifact_changes(sources: &Sources, fix: &Fix, root: Option<&RepoRoot>) -> Vec<Value> {
    let mut by_file: Vec<(FileId, Vec<Value>)> = Vec::new();
    for e in &fix.edits {
        let replacement = json!({"deletedRegion": region(sources.get(e.location.file), e.location), "insertedContent": {"text": e.content}});
        match by_file.iter_mut().find(|(file, _)| *file == e.location.file) {
            Some((_, list)) => list.push(replacement),
            None => by_file.push((e.location.file, vec![replacement])),
        }
    }
    by_file
        .into_iter()
        .map(|(file, replacements)| json!({"artifactLocation": artifact_location(sources.get(file), root), "replacements": replacements}))
        .collect()
}

/// A fingerprint that survives edits elsewhere in the file: the rule and the flagged
/// lines' text with whitespace runs collapsed, never the line number. The caller appends
/// the how-manieth such finding in the file this is.
fn line_hash(code: &str, src: &SourceFile, at: Location) -> String {
    let (start, end) = (src.position(at.span.start), src.position(at.span.end));
    // A span that ends at the start of a line does not flag that line.
    let last = if end.line > start.line && end.column == 1 { end.line - 1 } else { end.line };
    let mut text = String::new();
    for line in start.line..=last {
        let line = String::from_utf8_lossy(src.slice(src.line_span(line)));
        text.push_str(&line.split_whitespace().collect::<Vec<_>>().join(" "));
        text.push('\n');
    }
    format!("{:016x}", fnv1a(format!("{code}\0{text}").as_bytes()))
}

/// FNV-1a, 64 bit: fixed forever, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
