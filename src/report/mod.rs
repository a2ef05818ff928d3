//! Rendering findings for people (`full`, `concise`), machines (`json`, `json-lines`) and
//! CI (`sarif`, `github`). Every format reads the same [`Finding`] model; machine formats
//! are serde, never miette.

mod full;
mod github;
mod json;
mod lossy;
mod repo;
mod sarif;

pub use github::overflow_note as github_overflow_note;
/// The one neutralisation of text bound for a terminal or a CI log.
pub use lossy::{printable, printable_lines};
pub use repo::RepoRoot;

use crate::finding::{Applicability, Finding, Severity};
use crate::rules::Registry;
use crate::source::Sources;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Full,
    Concise,
    Json,
    JsonLines,
    Sarif,
    Github,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// ANSI colours and unicode box drawing in `full`; off gives plain ASCII.
    pub color: bool,
    /// Terminal width for `full`.
    pub width: usize,
    /// What `sarif` and `github` paths are relative to; `None`: the paths as displayed.
    pub root: Option<RepoRoot>,
}

impl Default for Options {
    fn default() -> Self {
        Options { color: false, width: 100, root: None }
    }
}

/// Render `findings` in their given order.
pub fn render(
    format: Format,
    findings: &[Finding],
    sources: &Sources,
    rules: &Registry,
    opts: &Options,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Full => full::render(findings, sources, rules, opts, out),
        Format::Concise => {
            for f in findings {
                let src = sources.get(f.location.file);
                let p = src.position(f.location.span.start());
                let mark = if f.fix.as_ref().is_some_and(|x| x.applicability == Applicability::Safe) { " [*]" } else { "" };
                writeln!(out, "{}:{}:{}: {} [{}]{mark} {}", lossy::printable(&src.display), p.line, p.column, f.code, f.severity.as_str(), lossy::printable(&f.message))?;
            }
            Ok(())
        }
        Format::Json => json::render(findings, sources, rules, false, out),
        Format::JsonLines => json::render(findings, sources, rules, true, out),
        Format::Sarif => sarif::render(findings, sources, rules, opts, out),
        Format::Github => github::render(findings, sources, rules, opts, out),
    }
}

/// The closing lines of `full` and `concise` output.
pub fn summary(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "All checks passed!\n".into();
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let plural = |n: usize, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    let mut parts = Vec::new();
    for (sev, word) in [(Severity::Error, "error"), (Severity::Warning, "warning"), (Severity::Info, "info")] {
        let n = count(sev);
        if n > 0 {
            parts.push(if sev == Severity::Info { format!("{n} info") } else { plural(n, word) });
        }
    }
    let mut s = format!("Found {} ({}).\n", plural(findings.len(), "problem"), parts.join(", "));
    let safe = findings.iter().filter(|f| f.fix.as_ref().is_some_and(|x| x.applicability == Applicability::Safe)).count();
    let unsafe_ = findings.iter().filter(|f| f.fix.as_ref().is_some_and(|x| x.applicability == Applicability::Unsafe)).count();
    if safe > 0 {
        s.push_str(&format!("[*] {safe} fixable with `conflint check --fix`.\n"));
    }
    if unsafe_ > 0 {
        let fixes = if unsafe_ == 1 { "fix" } else { "fixes" };
        s.push_str(&format!("{unsafe_} more {fixes} available with `--fix --unsafe-fixes`.\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::summary;
    use crate::finding::{Applicability, Finding, Fix, Location, Severity};
    use crate::source::{FileId, Span};

    fn unsafe_fixable() -> Finding {
        let fix = Fix { applicability: Applicability::Unsafe, message: "change it".into(), edits: Vec::new() };
        Finding::new("NGX101", Severity::Warning, Location { file: FileId(0), span: Span::new(0, 1) }, "low").with_fix(fix)
    }

    #[test]
    fn hidden_fixes_are_counted_in_words() {
        assert!(summary(&[unsafe_fixable()]).contains("1 more fix available with `--fix --unsafe-fixes`"));
        assert!(summary(&[unsafe_fixable(), unsafe_fixable()]).contains("2 more fixes available"));
    }
}
