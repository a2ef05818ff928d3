//! `full`: miette's graphical report with the source excerpt, related places, help and the
//! fix hint.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, NamedSource, SourceCode,
    SourceSpan, SpanContents,
};

use super::lossy::{printable, Lossy};
use super::Options;
use crate::rules::Registry;
use crate::finding::{Applicability, Finding, Location, Severity};
use crate::source::{FileId, LineTable, Sources};

#[derive(Debug)]
struct Diag {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    source: NamedSource<Excerpt>,
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

/// A file's decoded text as miette reads it. miette finds a span's line by counting lines
/// from the start of the text, which makes a report of thousands of findings in one large
/// file quadratic; this starts counting a few lines before the span instead.
#[derive(Debug, Clone)]
struct Excerpt {
    text: Arc<String>,
    lines: Arc<LineTable>,
}

impl Excerpt {
    fn new(text: Arc<String>) -> Self {
        // The decoded text has no lone `\r` (see `lossy`), so lines end at `\n` as for miette.
        let lines = Arc::new(LineTable::of(text.as_bytes()));
        Excerpt { text, lines }
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let line = self.lines.line_of(span.offset());
        // One line more than the context, so miette's count starts exactly as on the whole text.
        let first = line.saturating_sub(context_lines_before + 1);
        let base = self.lines.start(first);
        let window = &self.text.as_bytes()[base..];
        let inner = window.read_span(&SourceSpan::new((span.offset() - base).into(), span.len()), context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new(
            inner.data(),
            SourceSpan::new((inner.span().offset() + base).into(), inner.span().len()),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

/// Decoded files, each decoded once per report.
struct Texts<'s> {
    sources: &'s Sources,
    cache: HashMap<FileId, (Lossy, Excerpt)>,
}

impl Texts<'_> {
    fn get(&mut self, id: FileId) -> &(Lossy, Excerpt) {
        let sources = self.sources;
        self.cache.entry(id).or_insert_with(|| {
            let lossy = Lossy::new(&sources.get(id).text);
            let excerpt = Excerpt::new(Arc::clone(&lossy.text));
            (lossy, excerpt)
        })
    }

    fn named(&mut self, id: FileId) -> NamedSource<Excerpt> {
        let name = printable(&self.sources.get(id).display).into_owned();
        NamedSource::new(name, self.get(id).1.clone())
    }

    fn span(&mut self, at: Location) -> (usize, usize) {
        let (lossy, _) = self.get(at.file);
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
            labels.push(LabeledSpan::new_with_span(Some(printable(&r.message).into_owned()), texts.span(r.location)));
        } else {
            related.push(Diag {
                message: printable(&r.message).into_owned(),
                code: None,
                severity: miette::Severity::Advice,
                source: texts.named(r.location.file),
                labels: vec![LabeledSpan::new_primary_with_span(None, texts.span(r.location))],
                help: None,
                related: Vec::new(),
            });
        }
    }
    let mut help: Vec<String> = f.help.iter().map(|h| printable(h).into_owned()).collect();
    if let Some(fix) = &f.fix {
        help.push(match fix.applicability {
            Applicability::Safe => format!("fix: {} (`conflint check --fix`)", printable(&fix.message)),
            Applicability::Unsafe => format!("fix: {} (unsafe: `--fix --unsafe-fixes`)", printable(&fix.message)),
        });
    }
    if let Some(m) = &meta {
        help.push(format!("see {} or `conflint rule {}`", m.url(), f.code));
    }
    Diag {
        message: printable(&f.message).into_owned(),
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
        // miette leaves a space after the heading of related locations (`Advice: `).
        for line in s.lines() {
            writeln!(out, "{}", line.trim_end())?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything miette shows of a span: its text, where that starts, and the line numbers.
    fn read(source: &dyn SourceCode, offset: usize, len: usize, context: usize) -> Option<(Vec<u8>, SourceSpan, usize, usize, usize)> {
        let c = source.read_span(&SourceSpan::new(offset.into(), len), context, context).ok()?;
        Some((c.data().to_vec(), *c.span(), c.line(), c.column(), c.line_count()))
    }

    #[test]
    fn excerpts_read_exactly_what_miette_reads_from_the_whole_text() {
        let text = "a;\n\nlocation / {\r\n    root /srv;\n}\n\n# é\nlast".to_string();
        let excerpt = Excerpt::new(Arc::new(text.clone()));
        for offset in 0..=text.len() {
            for len in [0, 1, 5, 20].into_iter().filter(|len| offset + len <= text.len()) {
                for context in [0, 1, 3] {
                    assert_eq!(
                        read(&excerpt, offset, len, context),
                        read(&text.as_bytes(), offset, len, context),
                        "offset {offset}, length {len}, {context} context lines"
                    );
                }
            }
        }
    }
}
