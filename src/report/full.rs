//! `full`: miette's graphical report with the source excerpt, related places, help and the
//! fix hint.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};

use super::lossy::Lossy;
use super::Options;
use crate::rules::Registry;
use crate::finding::{Applicability, Finding, Location, Severity};
use crate::source::{FileId, Sources};

#[derive(Debug)]
struct Diag {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    source: NamedSource<Arc<String>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    related: Vec<Diag>,
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.as_ref().map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
    }
}

/// Decoded files, each decoded once per report.
struct Texts<'s> {
    sources: &'s Sources,
    cache: HashMap<FileId, Lossy>,
}

impl Texts<'_> {
    fn get(&mut self, id: FileId) -> &Lossy {
        let sources = self.sources;
        self.cache.entry(id).or_insert_with(|| Lossy::new(&sources.get(id).text))
    }

    fn named(&mut self, id: FileId) -> NamedSource<Arc<String>> {
        let name = self.sources.get(id).display.clone();
        NamedSource::new(name, Arc::clone(&self.get(id).text))
    }

    fn span(&mut self, at: Location) -> (usize, usize) {
        let lossy = self.get(at.file);
        let start = lossy.offset(at.span.start);
        let end = lossy.offset(at.span.end).max(start);
        (start, end - start)
    }
}

fn severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn diag(f: &Finding, texts: &mut Texts, rules: &Registry) -> Diag {
    let meta = rules.get(&f.code);
    let code = match &meta {
        Some(m) => format!("{} {}", f.code, m.name),
        None => f.code.clone(),
    };
    let mut labels = vec![LabeledSpan::new_primary_with_span(None, texts.span(f.location))];
    let mut related = Vec::new();
    for r in &f.related {
        if r.location.file == f.location.file {
            labels.push(LabeledSpan::new_with_span(Some(r.message.clone()), texts.span(r.location)));
        } else {
            related.push(Diag {
                message: r.message.clone(),
                code: None,
                severity: miette::Severity::Advice,
                source: texts.named(r.location.file),
                labels: vec![LabeledSpan::new_primary_with_span(None, texts.span(r.location))],
                help: None,
                related: Vec::new(),
            });
        }
    }
    let mut help: Vec<String> = f.help.iter().cloned().collect();
    if let Some(fix) = &f.fix {
        help.push(match fix.applicability {
            Applicability::Safe => format!("fix: {} (`conflint check --fix`)", fix.message),
            Applicability::Unsafe => format!("fix: {} (unsafe: `--fix --unsafe-fixes`)", fix.message),
        });
    }
    if let Some(m) = &meta {
        help.push(format!("see {} or `conflint rule {}`", m.url(), f.code));
    }
    Diag {
        message: f.message.clone(),
        code: Some(code),
        severity: severity(f.severity),
        source: texts.named(f.location.file),
        labels,
        help: (!help.is_empty()).then(|| help.join("\n")),
        related,
    }
}

pub fn render(
    findings: &[Finding],
    sources: &Sources,
    rules: &Registry,
    opts: &Options,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let theme = if opts.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(opts.width).with_links(false);
    let mut texts = Texts { sources, cache: HashMap::new() };
    for f in findings {
        let d = diag(f, &mut texts, rules);
        let mut s = String::new();
        handler.render_report(&mut s, &d).map_err(std::io::Error::other)?;
        writeln!(out, "{s}")?;
    }
    Ok(())
}
