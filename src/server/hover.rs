//! Hover on a diagnostic: the documentation of its rule, as `conflint rule CODE` prints it.

use lsp_types::{Diagnostic, Hover, HoverContents, MarkupContent, MarkupKind, NumberOrString, Position};

use crate::rules::Registry;

pub fn hover(at: Position, published: &[Diagnostic], registry: &Registry) -> Option<Hover> {
    let under: Vec<&Diagnostic> = published.iter().filter(|d| d.range.start <= at && at <= d.range.end).collect();
    let mut codes: Vec<&str> = under
        .iter()
        .filter_map(|d| match &d.code {
            Some(NumberOrString::String(c)) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let pages: Vec<String> = codes.iter().filter_map(|c| registry.get(c)).map(|r| r.markdown()).collect();
    if pages.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: pages.join("\n---\n\n") }),
        range: under.first().map(|d| d.range),
    })
}
