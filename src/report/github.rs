//! `github`: workflow commands that GitHub Actions turns into annotations
//! (`../shared/reference/linter-conventions.md` §1.9.1).

use super::lossy::printable;
use super::repo;
use super::Options;
use crate::finding::{Finding, Severity};
use crate::rules::Registry;
use crate::source::Sources;

/// Annotations GitHub shows per step and severity; the rest are only in the log.
const SHOWN_PER_STEP: usize = 10;

pub fn render(findings: &[Finding], sources: &Sources, rules: &Registry, opts: &Options, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    for f in findings {
        let src = sources.get(f.location.file);
        // Through the same neutralisation as `full`: a file name or config text must not
        // steer the log (ESC, BEL, bidi overrides) before the workflow-command escaping.
        let path = printable(&repo::place(src, opts.root.as_ref()).shown()).into_owned();
        let (start, end) = (src.position(f.location.span.start()), src.position(f.location.span.end()));
        // The runner drops an annotation with columns on a range over several lines.
        let range = if start.line == end.line {
            format!("line={},col={},endLine={},endColumn={}", start.line, start.column, end.line, end.column)
        } else {
            format!("line={},endLine={}", start.line, end.line)
        };
        let title = match rules.get(&f.code) {
            Some(m) => format!("{} {}", f.code, m.name),
            None => f.code.clone(),
        };
        // The location again in the text: in the raw log an annotation shows only its text.
        let mut text = format!("{path}:{}:{}: {}", start.line, start.column, printable(&f.message));
        if let Some(help) = &f.help {
            text.push_str("\nhelp: ");
            text.push_str(&printable(help));
        }
        writeln!(out, "::{} file={},{range},title={}::{}", command(f.severity), property(&path), property(&printable(&title)), data(&text))?;
    }
    Ok(())
}

/// Said (on stderr) when GitHub will not show every annotation.
pub fn overflow_note(findings: &[Finding]) -> Option<String> {
    let hidden: usize = [Severity::Error, Severity::Warning, Severity::Info]
        .iter()
        .map(|&s| findings.iter().filter(|f| f.severity == s).count().saturating_sub(SHOWN_PER_STEP))
        .sum();
    (hidden > 0).then(|| {
        format!("GitHub shows at most {SHOWN_PER_STEP} annotations of each severity per step: {hidden} more are only in this log (or upload SARIF for all of them)")
    })
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// The message part of a workflow command (`@actions/core` `escapeData`).
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A `key=value` property (`escapeProperty`): also `:` and `,`, which end a property.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
