//! `full`: miette's graphical report with the source excerpt, related places, help and the
//! fix hint.

use std::borrow::Cow;
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

/// The decoded files the findings point into, each decoded once per report.
struct Texts<'s> {
    sources: &'s Sources,
    decoded: HashMap<FileId, (Lossy, Excerpt)>,
}

impl<'s> Texts<'s> {
    fn of(findings: &[Finding], sources: &'s Sources, spread: bool) -> Self {
        let mut ids: Vec<FileId> =
            findings.iter().flat_map(|f| std::iter::once(f.location.file).chain(f.related.iter().map(|r| r.location.file))).collect();
        ids.sort_unstable();
        ids.dedup();
        let order: Vec<usize> = (0..ids.len()).collect();
        let texts = crate::parallel::map(&order, spread, |i| {
            let lossy = Lossy::new(&sources.get(ids[i]).text);
            let excerpt = Excerpt::new(Arc::clone(&lossy.text));
            (lossy, excerpt)
        });
        Texts { sources, decoded: ids.into_iter().zip(texts).collect() }
    }

    fn get(&self, id: FileId) -> &(Lossy, Excerpt) {
        &self.decoded[&id]
    }

    fn named(&self, id: FileId) -> NamedSource<Excerpt> {
        let name = printable(&self.sources.get(id).display).into_owned();
        NamedSource::new(name, self.get(id).1.clone())
    }

    fn span(&self, at: Location) -> (usize, usize) {
        let (lossy, _) = self.get(at.file);
        let start = lossy.offset(at.span.start());
        let end = lossy.offset(at.span.end()).max(start);
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

/// miette wraps every message and help with textwrap's Unicode line breaking, which was
/// nearly half the cost of a report of thousands of findings although most lines fit as they
/// are. The report breaks the lines itself, exactly where miette would, calling textwrap only
/// for a line that does not fit, and miette prints the lines as given.
struct Wrap {
    /// textwrap's width: miette wraps at two columns less than the terminal.
    width: usize,
    /// Display width of the indent before a message's first line, by severity, and of the
    /// bar before its other lines.
    icon: [usize; 3],
    bar: usize,
}

/// miette's indent before the lines of a help text: `  help: ` and spaces as wide.
const HELP_INDENT: usize = 8;

impl Wrap {
    fn new(theme: &GraphicalTheme, terminal_width: usize) -> Self {
        let chars = &theme.characters;
        // miette's indents are `  {icon} ` and `  {bar} `.
        let indent = |c: &str| 3 + textwrap::core::display_width(c);
        Wrap {
            width: terminal_width.saturating_sub(2),
            icon: [indent(&chars.error), indent(&chars.warning), indent(&chars.advice)],
            bar: indent(&chars.vbar.to_string()),
        }
    }

    fn message<'a>(&self, text: &'a str, severity: miette::Severity) -> Cow<'a, str> {
        let icon = match severity {
            miette::Severity::Error => self.icon[0],
            miette::Severity::Warning => self.icon[1],
            miette::Severity::Advice => self.icon[2],
        };
        self.lines(text, icon, self.bar)
    }

    fn help<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.lines(text, HELP_INDENT, HELP_INDENT)
    }

    /// `text` as `textwrap::fill` breaks it after indents `first` (before its first line)
    /// and `rest` columns wide, without the indents. textwrap wraps each line of a text on
    /// its own, the first after `first` and every other after `rest`.
    fn lines<'a>(&self, text: &'a str, first: usize, rest: usize) -> Cow<'a, str> {
        // A line that fits keeps every word on it: textwrap would change nothing but drop
        // trailing spaces, which the report trims anyway. textwrap skips ANSI escapes in
        // widths and never splits one; printable text has none, but the guard costs nothing.
        let fits = |line: &str, indent: usize| {
            let line = line.trim_end_matches(' ');
            // Printable ASCII is one column a byte, as textwrap counts it.
            let width = if line.bytes().all(|b| (0x20..0x7f).contains(&b)) { line.len() } else { textwrap::core::display_width(line) };
            !line.contains('\u{1b}') && indent + width <= self.width
        };
        let indent = |i: usize| if i == 0 { first } else { rest };
        // Borrowed until the first line that needs breaking.
        let mut out: Option<String> = None;
        let mut at = 0;
        for (i, line) in text.split('\n').enumerate() {
            let fitting = fits(line, indent(i));
            match &mut out {
                None if fitting => {}
                None => out = Some(text[..at].to_string()),
                Some(out) => out.push('\n'),
            }
            at += line.len() + 1;
            let Some(out) = &mut out else { continue };
            if fitting {
                out.push_str(line);
                continue;
            }
            // Only the widths of the indents matter to textwrap (and that they are not empty).
            let (first, rest) = (" ".repeat(indent(i)), " ".repeat(rest));
            let options = textwrap::Options::new(self.width).initial_indent(&first).subsequent_indent(&rest).break_words(true);
            for (j, piece) in textwrap::wrap(line, options).iter().enumerate() {
                if j > 0 {
                    out.push('\n');
                }
                out.push_str(piece.strip_prefix(if j == 0 { first.as_str() } else { rest.as_str() }).unwrap_or(piece));
            }
        }
        out.map_or(Cow::Borrowed(text), Cow::Owned)
    }
}

fn diag(f: &Finding, texts: &Texts, rules: &Registry, wrap: &Wrap) -> Diag {
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
                message: wrap.message(&printable(&r.message), miette::Severity::Advice).into_owned(),
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
    let severity = severity(f.severity);
    Diag {
        message: wrap.message(&printable(&f.message), severity).into_owned(),
        code: Some(code),
        severity,
        source: texts.named(f.location.file),
        labels,
        help: (!help.is_empty()).then(|| wrap.help(&help.join("\n")).into_owned()),
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
    let wrap = Wrap::new(&theme, opts.width);
    let handler = GraphicalReportHandler::new_themed(theme).with_width(opts.width).with_links(false).with_wrap_lines(false);
    // Each finding's report stands alone: drawn side by side, written in order, a batch at
    // a time so that a huge report is not all held at once.
    let spread = findings.len() >= PARALLEL_FINDINGS && crate::parallel::multicore();
    let texts = Texts::of(findings, sources, spread);
    let order: Vec<usize> = (0..findings.len()).collect();
    for batch in order.chunks(BATCH) {
        for r in crate::parallel::map(batch, spread, |i| report(&handler, &diag(&findings[i], &texts, rules, &wrap))) {
            writeln!(out, "{}", r.map_err(std::io::Error::other)?)?;
        }
    }
    Ok(())
}

/// Fewer findings than this are drawn on one thread: a few milliseconds' work, less than
/// starting the other threads costs.
const PARALLEL_FINDINGS: usize = 256;
const BATCH: usize = 4096;

fn report(handler: &GraphicalReportHandler, d: &Diag) -> Result<String, fmt::Error> {
    let mut s = String::new();
    handler.render_report(&mut s, d)?;
    // miette leaves a space after the heading of related locations (`Advice: `).
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything miette shows of a span: its text, where that starts, and the line numbers.
    fn read(source: &dyn SourceCode, offset: usize, len: usize, context: usize) -> Option<(Vec<u8>, SourceSpan, usize, usize, usize)> {
        let c = source.read_span(&SourceSpan::new(offset.into(), len), context, context).ok()?;
        Some((c.data().to_vec(), *c.span(), c.line(), c.column(), c.line_count()))
    }

    /// Texts of the shapes findings have (paths, hyphens, slashes, parentheses, wide and
    /// combining characters, words longer than a line, several lines), from a fixed seed.
    fn texts() -> Vec<String> {
        let long = "x".repeat(130);
        let words = [
            "a", "the", "proxy_read_timeout", "/var/run/php/php8.2-fpm.sock", "well-known", "a/b/c", "(500)", "`socket()`",
            "--fix --unsafe-fixes", "café", "日本語の", "e\u{301}", "x\ty", "end.", "1024;", "[www]", "$host:", &long,
        ];
        let seps = [" ", " ", " ", " ", "  ", "\n", "\n\n", " \n", "-"];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        (0..600)
            .map(|_| {
                let mut text = String::new();
                for i in 0..1 + next(40) {
                    if i > 0 {
                        text.push_str(seps[next(seps.len())]);
                    }
                    text.push_str(words[next(words.len())]);
                }
                text
            })
            .collect()
    }

    #[test]
    fn the_report_breaks_lines_exactly_where_miette_would() {
        let source = NamedSource::new("nginx.conf", Excerpt::new(Arc::new("events {}\n".to_string())));
        let texts = texts();
        for color in [false, true] {
            let theme = || if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
            for width in [12, 37, 60, 100] {
                let wrap = Wrap::new(&theme(), width);
                let miette = GraphicalReportHandler::new_themed(theme()).with_width(width).with_links(false);
                let ours = miette.clone().with_wrap_lines(false);
                for (i, pair) in texts.windows(2).enumerate() {
                    let severity = [miette::Severity::Error, miette::Severity::Warning, miette::Severity::Advice][i % 3];
                    let d = |message: Cow<str>, help: Cow<str>, related: Cow<str>| Diag {
                        message: message.into_owned(),
                        code: Some("NGX001 name".into()),
                        severity,
                        source: source.clone(),
                        labels: vec![LabeledSpan::new_primary_with_span(None, (0, 6))],
                        help: Some(help.into_owned()),
                        related: vec![Diag {
                            message: related.into_owned(),
                            code: None,
                            severity: miette::Severity::Advice,
                            source: source.clone(),
                            labels: vec![LabeledSpan::new_primary_with_span(None, (0, 6))],
                            help: None,
                            related: Vec::new(),
                        }],
                    };
                    let (a, b) = (pair[0].as_str(), pair[1].as_str());
                    let expected = report(&miette, &d(a.into(), b.into(), b.into())).unwrap();
                    let got = report(&ours, &d(wrap.message(a, severity), wrap.help(b), wrap.message(b, miette::Severity::Advice))).unwrap();
                    assert_eq!(got, expected, "width {width}, colour {color}, message {a:?}, help {b:?}");
                }
            }
        }
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
