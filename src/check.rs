//! The whole lint pipeline behind `conflint check`: workspace → rules → findings.

use crate::finding::Finding;
use crate::workspace::{self, Workspace};

pub struct Linted {
    pub workspace: Workspace,
    /// Every finding, ordered by file, position and code.
    pub findings: Vec<Finding>,
}

pub fn lint(opts: &workspace::Options, stdin: &mut dyn std::io::Read) -> Result<Linted, workspace::Error> {
    let workspace = Workspace::load(opts, stdin)?;
    let mut findings = workspace.findings.clone();
    findings.sort_by(|a, b| {
        let (sa, sb) = (workspace.source(a.location.file), workspace.source(b.location.file));
        (&sa.display, a.location.span.start, &a.code).cmp(&(&sb.display, b.location.span.start, &b.code))
    });
    Ok(Linted { workspace, findings })
}
