//! Hover: on a directive name, what the directive tables say of it; on a diagnostic, the
//! documentation of its rule, as `conflint rule CODE` prints it. Both when both apply.

use std::path::Path;

use lsp_types::{Diagnostic, Hover, HoverContents, MarkupContent, MarkupKind, NumberOrString, Position, Range};

use super::complete::{contexts_at, fpm_markdown, fpm_section, kind_of, kind_words, FPM_UNPLACED};
use super::tables::Tables;
use crate::fpm::ast::LineKind;
use crate::fpm::directives::{self as fpm_table, Place};
use crate::rules::Registry;
use crate::workspace::Kind;

/// One hover out of the table's facts (first: short, and about the word itself) and the
/// rule pages; its range is the directive name's, else the diagnostic's.
pub fn hover(facts: Option<(String, Range)>, rules: Option<(String, Range)>) -> Option<Hover> {
    let range = facts.as_ref().or(rules.as_ref()).map(|(_, r)| *r);
    let pages: Vec<String> = facts.into_iter().chain(rules).map(|(text, _)| text).collect();
    if pages.is_empty() {
        return None;
    }
    Some(Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: pages.join("\n---\n\n") }), range })
}

/// The pages of the rules of the diagnostics under `at`.
pub fn rule_pages(at: Position, published: &[Diagnostic], registry: &Registry) -> Option<(String, Range)> {
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
    Some((pages.join("\n---\n\n"), under[0].range))
}

/// The table's facts on the directive (nginx) or key (PHP-FPM) whose name holds `offset`.
pub fn facts(tables: &Tables, path: &Path, text: &[u8], offset: usize, range_of: &dyn Fn(usize, usize) -> Range) -> Option<(String, Range)> {
    match kind_of(tables, path, text) {
        Kind::Nginx => {
            let config = crate::nginx::parse(text);
            let (_, written) = config.name_at(offset)?;
            let name = &written.name;
            let (here, guessed) = contexts_at(tables, path, &config, name.span.start());
            let entries = tables.entries(&name.value);
            let &(d, ref u) = entries.iter().find(|(d, _)| here.iter().all(|&c| d.contexts & c != 0)).or(entries.first())?;
            let mut text = tables.markdown(d, u, &here);
            if let Some(g) = guessed {
                text.push_str(&format!("\n_Where it stands: {g}._\n"));
            }
            Some((text, range_of(name.span.start(), name.span.end())))
        }
        Kind::Fpm => {
            let file = crate::fpm::parse(text);
            let n = file.lines.iter().position(|l| l.span.start() <= offset && offset <= l.span.end())?;
            let LineKind::Entry(entry) = &file.lines[n].kind else { return None };
            if !(entry.name_span.start() <= offset && offset <= entry.name_span.end()) {
                return None;
            }
            let here = fpm_section(&file, n, tables.is_fpm_main(path));
            let name = entry.name.as_str();
            let (place, what) = if entry.array_key.is_some() || fpm_table::ARRAYS.contains(&name) {
                (Some(Place::Pool), format!("an array: `{name}[name] = value`"))
            } else if name.eq_ignore_ascii_case("include") {
                (None, "a path or glob of files read in place".to_string())
            } else {
                // The entry of the section it stands in, else the other one's.
                let first = here.unwrap_or(Place::Pool);
                let found = fpm_table::lookup(name, first).or_else(|| fpm_table::lookup(name, other(first)))?;
                (Some(found.place), kind_words(found.kind))
            };
            let mut text = fpm_markdown(name, place, &what);
            match (place, here) {
                (Some(p), Some(h)) if p != h => text.push_str("\n**Not allowed in this section.**\n"),
                (Some(_), None) => text.push_str(&format!("\n_{FPM_UNPLACED}._\n")),
                _ => {}
            }
            Some((text, range_of(entry.name_span.start(), entry.name_span.end())))
        }
        Kind::Other(_) => None,
    }
}

fn other(p: Place) -> Place {
    if p == Place::Global {
        Place::Pool
    } else {
        Place::Global
    }
}
