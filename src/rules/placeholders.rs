//! Template placeholders (`${FPM_TIMEOUT}`, `{{ timeout }}`, `<PHP_TIMEOUT>`, `%%PORT%%`)
//! stand where deployment tooling writes the real value: no rule judges them. Findings that
//! rest on one are dropped, and each file that has some gets one note saying so.

use std::collections::BTreeMap;

use crate::effective::placeholder::placeholder;
use crate::finding::{Finding, Location};
use crate::source::{FileId, Span};
use crate::workspace::{Note, Workspace};

/// Where the workspace holds placeholders: per file, the spans of the directives (nginx)
/// and settings (PHP-FPM) whose values are templated, and the first placeholder seen.
pub struct Templated {
    spans: BTreeMap<FileId, Vec<Span>>,
    first: BTreeMap<FileId, (usize, String)>,
}

impl Templated {
    pub fn find(ws: &Workspace) -> Templated {
        let mut t = Templated { spans: BTreeMap::new(), first: BTreeMap::new() };
        for (&file, nf) in &ws.nginx {
            for (_, d) in nf.config.walk() {
                let Some(p) = d.args.iter().find_map(|a| placeholder(&a.value)) else { continue };
                // A block's own arguments only: the block holds other directives.
                let span = match d.block() {
                    Some(_) => Span::new(d.name.span.start(), d.args.last().map_or(d.name.span.end(), |a| a.span.end())),
                    None => d.span,
                };
                t.add(file, span, p);
            }
        }
        for (&file, f) in &ws.fpm_files {
            for line in &f.lines {
                if let crate::fpm::ast::LineKind::Entry(e) = &line.kind {
                    // `${NAME}` is PHP-FPM's own environment expansion, not a template.
                    if e.value.has_env {
                        continue;
                    }
                    if let Some(p) = placeholder(&e.value.text) {
                        t.add(file, line.span, p);
                    }
                }
            }
        }
        t
    }

    fn add(&mut self, file: FileId, span: Span, placeholder: &str) {
        self.spans.entry(file).or_default().push(span);
        let first = self.first.entry(file).or_insert((0, placeholder.to_string()));
        first.0 += 1;
    }

    fn covers(&self, at: Location) -> bool {
        self.spans.get(&at.file).is_some_and(|spans| spans.iter().any(|s| s.start() <= at.span.start() && at.span.end() <= s.end()))
    }

    /// Does `f` judge a templated value: is it, or one of the places it cites, inside a
    /// templated directive or setting?
    pub fn judged_by(&self, f: &Finding) -> bool {
        !self.spans.is_empty() && (self.covers(f.location) || f.related.iter().any(|r| self.covers(r.location)))
    }

    /// One note per file with placeholders.
    pub fn notes(&self, ws: &Workspace) -> Vec<Note> {
        self.first
            .iter()
            .map(|(&file, (n, example))| {
                let message = if *n == 1 {
                    format!("1 value is a template placeholder (`{example}`) and was not judged; lint the rendered file to check it")
                } else {
                    format!("{n} values are template placeholders (`{example}`, …) and were not judged; lint the rendered file to check them")
                };
                Note { path: ws.source(file).display.clone(), message }
            })
            .collect()
    }
}
