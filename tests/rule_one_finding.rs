//! One mistake, one finding: a slip's finding takes in the findings other rules make of the
//! same value (at the highest severity among them, naming them), and template placeholders
//! are not judged, with one note per file saying so.

use std::path::PathBuf;

use conflint::check::{lint, Linted, Settings};
use conflint::finding::Severity;
use conflint::workspace::Options;

fn lint_fixture(rel: &str) -> Linted {
    let cwd = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let settings = Settings { workspace: Options { paths: vec![rel.into()], cwd, ..Default::default() }, config: Default::default(), selection: Default::default(), registry: conflint::rules::Registry::builtin() };
    lint(&settings, &mut std::io::empty()).unwrap()
}

fn summary(linted: &Linted) -> Vec<(String, Severity, Vec<String>)> {
    linted.findings.iter().map(|f| (f.code.clone(), f.severity, f.folded.clone())).collect()
}

#[test]
fn a_misread_value_is_one_finding_at_the_severity_of_what_it_breaks() {
    // 500ms is 500 s to PHP-FPM, below the 600s slowlog timeout: PHP-FPM refuses to start.
    let linted = lint_fixture("fixtures/FPM007/pass-folded-into-the-misread-terminate.conf");
    assert_eq!(summary(&linted), [("FPM003".to_string(), Severity::Error, vec!["FPM007".to_string()])]);
    let help = linted.findings[0].help.as_deref().unwrap();
    assert!(help.contains("also trips FPM007, not reported separately"), "{help}");
}

#[test]
fn a_unit_slip_in_nginx_takes_in_the_timeout_rules() {
    let linted = lint_fixture("fixtures/NGX104/fail-slip-read-by-other-rules");
    let slip: Vec<_> = summary(&linted).into_iter().filter(|(c, ..)| matches!(c.as_str(), "NGX104" | "NGX101" | "XFP002")).collect();
    assert_eq!(slip, [("NGX104".to_string(), Severity::Warning, vec!["NGX101".to_string(), "XFP002".to_string()])]);
}

#[test]
fn placeholders_are_not_judged_and_each_file_says_so_once() {
    let linted = lint_fixture("fixtures/NGX104/pass-template-placeholders.conf");
    assert!(linted.findings.iter().all(|f| f.code != "NGX104" && f.code != "NGX101"), "{:?}", summary(&linted));
    let notes: Vec<&str> = linted.notes.iter().filter(|n| n.message.contains("template placeholder")).map(|n| n.message.as_str()).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("4 values are template placeholders (`${NGINX_PORT}`, …) and were not judged"), "{notes:?}");
}
