//! A [`Finding`] as an LSP diagnostic, carrying its fix in `data` for the code actions.

use std::collections::HashMap;

use lsp_types::{CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, TextEdit, Uri};

use super::convert::{self, Encoding};
use crate::finding::{Applicability, Finding, Severity};
use crate::rules::Registry;
use crate::source::FileId;
use crate::workspace::Workspace;

pub const SOURCE: &str = "conflint";

/// What a diagnostic's code action applies; the client hands `data` back with the
/// diagnostic, so the server needs no memory of it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FixData {
    pub title: String,
    pub safe: bool,
    pub changes: HashMap<Uri, Vec<TextEdit>>,
}

pub struct Context<'a> {
    pub ws: &'a Workspace,
    pub registry: &'a Registry,
    pub encoding: Encoding,
    /// The URI of a linted file: the client's own for open documents. `None` for files
    /// not on disk, which no editor can show.
    pub uri: &'a dyn Fn(FileId) -> Option<Uri>,
}

pub fn diagnostic(cx: &Context, f: &Finding) -> Diagnostic {
    let src = cx.ws.source(f.location.file);
    let related: Vec<DiagnosticRelatedInformation> = f
        .related
        .iter()
        .filter_map(|r| {
            let uri = (cx.uri)(r.location.file)?;
            let range = convert::range(cx.ws.source(r.location.file), r.location.span, cx.encoding);
            Some(DiagnosticRelatedInformation { location: Location { uri, range }, message: r.message.clone() })
        })
        .collect();
    let message = match &f.help {
        Some(help) => format!("{}\nhelp: {help}", f.message),
        None => f.message.clone(),
    };
    Diagnostic {
        range: convert::range(src, f.location.span, cx.encoding),
        severity: Some(match f.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(f.code.clone())),
        code_description: rule_href(&f.code).map(|href| CodeDescription { href }),
        source: Some(SOURCE.into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: fix_data(cx, f).and_then(|d| serde_json::to_value(d).ok()),
    }
}

/// The rule's page in the repository, as SARIF's `helpUri`; rules from a `rules-dir` have
/// none.
fn rule_href(code: &str) -> Option<Uri> {
    crate::rules::get(code)?.web_url()?.parse().ok()
}

fn fix_data(cx: &Context, f: &Finding) -> Option<FixData> {
    let fix = f.fix.as_ref()?;
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for e in &fix.edits {
        // A fix is all or nothing: one edit in a file the editor cannot open voids it.
        let uri = (cx.uri)(e.location.file)?;
        let range = convert::range(cx.ws.source(e.location.file), e.location.span, cx.encoding);
        changes.entry(uri).or_default().push(TextEdit { range, new_text: e.content.clone() });
    }
    let safe = fix.applicability == Applicability::Safe;
    let name = cx.registry.get(&f.code).map_or(String::new(), |r| format!(" ({})", r.name));
    let title = format!("{}{name}: {}{}", f.code, fix.message, if safe { "" } else { " (unsafe fix)" });
    Some(FixData { title, safe, changes })
}
