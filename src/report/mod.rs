// TEMPORARY local stub (not committed) until the report branch lands.
use crate::finding::Finding;
use crate::source::Sources;
pub enum Format { Full, Concise, Json, JsonLines }
pub struct RuleRef { pub name: String, pub url: String }
#[derive(Default)]
pub struct Options { pub color: bool }
pub fn render(_f: Format, findings: &[Finding], sources: &Sources, _r: &dyn Fn(&str) -> Option<RuleRef>, _o: &Options, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    for f in findings { let s = sources.get(f.location.file); let p = s.position(f.location.span.start); writeln!(out, "{}:{}:{}: {} [{}] {}", s.display, p.line, p.column, f.code, f.severity.as_str(), f.message)?; }
    Ok(())
}
pub fn summary(findings: &[Finding]) -> String { format!("Found {} problems.\n", findings.len()) }
