//! `sarif`: SARIF 2.1.0 as GitHub code scanning ingests it (`../shared/reference/
//! linter-conventions.md` §1.9.2). Rule descriptors come from the rule registry, the same
//! text `conflint rule CODE` prints.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::repo::{self, Place, RepoRoot};
use super::Options;
use crate::finding::{Finding, Fix, Location, Severity};
use crate::rules::{Registry, RuleMeta};
use crate::source::{FileId, Position, SourceFile, Sources};

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
        let mut places = Places { sources: self.sources, root: self.root, known: HashMap::new() };
        serializer.collect_seq(self.findings.iter().map(|f| result(f, &mut places, self.index, &mut seen)))
    }
}

// The objects of a result, with their fields in the order serde_json's sorted maps wrote
// them before (the output is unchanged): typed, since a `Value` per field was most of
// the time spent writing SARIF.

#[derive(serde::Serialize)]
struct SarifResult<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    fixes: Option<[SarifFix<'a>; 1]>,
    level: &'static str,
    locations: [Physical; 1],
    message: Text<String>,
    #[serde(rename = "partialFingerprints")]
    partial_fingerprints: Fingerprints,
    #[serde(rename = "relatedLocations", skip_serializing_if = "Option::is_none")]
    related_locations: Option<Vec<Related<'a>>>,
    #[serde(rename = "ruleId")]
    rule_id: &'a str,
    #[serde(rename = "ruleIndex", skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
}

#[derive(serde::Serialize)]
struct Text<T> {
    text: T,
}

#[derive(serde::Serialize)]
struct Fingerprints {
    #[serde(rename = "primaryLocationLineHash")]
    primary_location_line_hash: String,
}

#[derive(serde::Serialize)]
struct Related<'a> {
    id: usize,
    message: Text<&'a str>,
    #[serde(rename = "physicalLocation")]
    physical_location: PhysicalLocation,
}

#[derive(serde::Serialize)]
struct Physical {
    #[serde(rename = "physicalLocation")]
    physical_location: PhysicalLocation,
}

#[derive(serde::Serialize)]
struct PhysicalLocation {
    #[serde(rename = "artifactLocation")]
    artifact_location: Shared,
    region: Region,
}

/// An artifact location shared by every place in its file.
#[derive(Clone)]
struct Shared(std::rc::Rc<ArtifactLocation>);

impl serde::Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[derive(serde::Serialize)]
struct ArtifactLocation {
    uri: String,
    #[serde(rename = "uriBaseId", skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(serde::Serialize)]
struct Region {
    #[serde(rename = "endColumn")]
    end_column: usize,
    #[serde(rename = "endLine")]
    end_line: usize,
    #[serde(rename = "startColumn")]
    start_column: usize,
    #[serde(rename = "startLine")]
    start_line: usize,
}

#[derive(serde::Serialize)]
struct SarifFix<'a> {
    #[serde(rename = "artifactChanges")]
    artifact_changes: Vec<ArtifactChange<'a>>,
    description: Text<&'a str>,
    properties: FixProperties,
}

#[derive(serde::Serialize)]
struct FixProperties {
    applicability: crate::finding::Applicability,
}

#[derive(serde::Serialize)]
struct ArtifactChange<'a> {
    #[serde(rename = "artifactLocation")]
    artifact_location: Shared,
    replacements: Vec<Replacement<'a>>,
}

#[derive(serde::Serialize)]
struct Replacement<'a> {
    #[serde(rename = "deletedRegion")]
    deleted_region: Region,
    #[serde(rename = "insertedContent")]
    inserted_content: Text<&'a str>,
}

/// Each file's place in the repository and artifact location, worked out once.
struct Places<'s> {
    sources: &'s Sources,
    root: Option<&'s RepoRoot>,
    known: HashMap<FileId, (std::rc::Rc<str>, Shared)>,
}

impl Places<'_> {
    fn of(&mut self, file: FileId) -> &(std::rc::Rc<str>, Shared) {
        let (sources, root) = (self.sources, self.root);
        self.known.entry(file).or_insert_with(|| {
            let place = repo::place(sources.get(file), root);
            let shown = place.shown().into();
            (shown, Shared(std::rc::Rc::new(artifact_location(place))))
        })
    }

    fn physical(&mut self, at: Location) -> PhysicalLocation {
        let span = positions(self.sources.get(at.file), at);
        self.physical_at(at.file, span)
    }

    fn physical_at(&mut self, file: FileId, span: (Position, Position)) -> PhysicalLocation {
        let artifact_location = self.of(file).1.clone();
        PhysicalLocation { artifact_location, region: region(span) }
    }
}

fn result<'a>(f: &'a Finding, places: &mut Places, index: &HashMap<&str, usize>, seen: &mut HashMap<(std::rc::Rc<str>, String), usize>) -> SarifResult<'a> {
    let src = places.sources.get(f.location.file);
    let span = positions(src, f.location);
    let hash = line_hash(&f.code, src, span);
    let shown = std::rc::Rc::clone(&places.of(f.location.file).0);
    let n = seen.entry((shown, hash.clone())).or_insert(0);
    *n += 1;
    let n = *n;
    SarifResult {
        fixes: f.fix.as_ref().map(|fix| {
            [SarifFix { artifact_changes: artifact_changes(places, fix), description: Text { text: &fix.message }, properties: FixProperties { applicability: fix.applicability } }]
        }),
        level: level(f.severity),
        locations: [Physical { physical_location: places.physical_at(f.location.file, span) }],
        message: Text { text: message(f) },
        partial_fingerprints: Fingerprints { primary_location_line_hash: format!("{hash}:{n}") },
        related_locations: (!f.related.is_empty()).then(|| {
            f.related.iter().enumerate().map(|(id, rel)| Related { id, message: Text { text: &rel.message }, physical_location: places.physical(rel.location) }).collect()
        }),
        rule_id: &f.code,
        rule_index: index.get(f.code.as_str()).copied(),
    }
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

fn artifact_location(place: Place) -> ArtifactLocation {
    match place {
        Place::Inside(rel) => ArtifactLocation { uri: repo::uri_path(&rel), uri_base_id: Some(SRCROOT) },
        Place::Outside(abs) => ArtifactLocation { uri: repo::file_uri(&abs, false), uri_base_id: None },
    }
}

/// Where a place starts and ends: 1-based lines, columns in Unicode code points.
fn positions(src: &SourceFile, at: Location) -> (Position, Position) {
    (src.position(at.span.start()), src.position(at.span.end()))
}

/// `columnKind` columns, end column exclusive.
fn region((start, end): (Position, Position)) -> Region {
    Region { end_column: end.column, end_line: end.line, start_column: start.column, start_line: start.line }
}

/// One change per file, in the order the fix first touches them.
fn artifact_changes<'a>(places: &mut Places, fix: &'a Fix) -> Vec<ArtifactChange<'a>> {
    let mut by_file: Vec<(FileId, Vec<Replacement<'a>>)> = Vec::new();
    for e in &fix.edits {
        let replacement = Replacement { deleted_region: region(positions(places.sources.get(e.location.file), e.location)), inserted_content: Text { text: &e.content } };
        match by_file.iter_mut().find(|(file, _)| *file == e.location.file) {
            Some((_, list)) => list.push(replacement),
            None => by_file.push((e.location.file, vec![replacement])),
        }
    }
    by_file
        .into_iter()
        .map(|(file, replacements)| ArtifactChange { artifact_location: places.of(file).1.clone(), replacements })
        .collect()
}

/// A fingerprint that survives edits elsewhere in the file: the rule and the flagged
/// lines' text with whitespace runs collapsed, never the line number. The caller appends
/// the how-manieth such finding in the file this is.
fn line_hash(code: &str, src: &SourceFile, (start, end): (Position, Position)) -> String {
    // A span that ends at the start of a line does not flag that line.
    let last = if end.line > start.line && end.column == 1 { end.line - 1 } else { end.line };
    // Hashed as it goes: `code`, NUL, then each line's words joined by single spaces and
    // ended by a newline.
    let mut h = fnv1a(FNV_OFFSET, code.as_bytes());
    h = fnv1a(h, b"\0");
    for line in start.line..=last {
        let line = String::from_utf8_lossy(src.slice(src.line_span(line)));
        for (i, word) in line.split_whitespace().enumerate() {
            if i > 0 {
                h = fnv1a(h, b" ");
            }
            h = fnv1a(h, word.as_bytes());
        }
        h = fnv1a(h, b"\n");
    }
    format!("{h:016x}")
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a, 64 bit: fixed forever, unlike std's hasher.
fn fnv1a(from: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(from, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
