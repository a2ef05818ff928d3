//! Every report encoder on the findings of a generated tree: JSON and JSON lines parse,
//! SARIF parses with its runs and results, and no output of any format carries a raw
//! control character (ESC, BEL, CR, C1, bidi overrides) that could steer a terminal or
//! a CI log; `github` writes one workflow command per line and nothing else.
#![no_main]

use conflint::report::{render, Format, Options};
use conflint_fuzz::Tree;
use libfuzzer_sys::fuzz_target;

fn dangerous(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fuzz_target!(|tree: Tree| {
    let Ok(w) = tree.write() else { return };
    let Ok(linted) = conflint::check::lint(&w.settings, &mut w.stdin.as_slice()) else { return };
    let sources = &linted.workspace.sources;
    let registry = &w.settings.registry;
    for format in [Format::Full, Format::Concise, Format::Json, Format::JsonLines, Format::Sarif, Format::Github] {
        let opts = Options { root: Some(conflint::report::RepoRoot::discover(&w.root)), ..Default::default() };
        let mut out = Vec::new();
        render(format, &linted.findings, sources, registry, &opts, &mut out).expect("rendering to memory cannot fail");
        let text = String::from_utf8(out).unwrap_or_else(|e| panic!("{format:?} output is not UTF-8: {e}"));
        if let Some(c) = text.chars().find(|&c| dangerous(c)) {
            panic!("{format:?} output carries a raw control character {c:?}");
        }
        match format {
            Format::Json => {
                let v: serde_json::Value = serde_json::from_str(&text).expect("json output parses");
                assert_eq!(v.as_array().map(Vec::len), Some(linted.findings.len()), "one JSON object per finding");
            }
            Format::JsonLines => {
                let n = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).expect("each JSON line parses")).count();
                assert_eq!(n, linted.findings.len(), "one JSON line per finding");
            }
            Format::Sarif => {
                let v: serde_json::Value = serde_json::from_str(&text).expect("sarif output parses");
                let results = v["runs"][0]["results"].as_array().expect("SARIF has runs[0].results");
                assert_eq!(results.len(), linted.findings.len(), "one SARIF result per finding");
            }
            Format::Github => {
                for line in text.lines() {
                    let command = ["::error ", "::warning ", "::notice "].iter().any(|c| line.starts_with(c));
                    assert!(command, "github output line is not one annotation: {line:?}");
                }
                assert_eq!(text.lines().count(), linted.findings.len(), "one annotation line per finding");
            }
            Format::Full | Format::Concise => {}
        }
    }
    // What the CLI prints on stderr goes through the same neutralisation.
    for note in &linted.notes {
        for s in [conflint::report::printable(&note.path), conflint::report::printable(&note.message)] {
            assert!(!s.chars().any(|c| dangerous(c) || c == '\n'), "a note would print {s:?}");
        }
    }
});
