//! The output formats on hand-made findings: positions, cross-file related spans, fixes,
//! non-UTF-8 and CRLF files, a span at end of file.

use conflint::finding::{Applicability, Edit, Finding, Fix, Location, Severity};
use conflint::report::{render, summary, Format, Options};
use conflint::rules::Registry;
use conflint::source::{SourceFile, Sources, Span};

fn sources() -> (Sources, Vec<Finding>) {
    let mut s = Sources::default();
    let site = s.add(SourceFile::new("nginx/sites/shop.conf", None, "server {\n    location ~ \\.php$ {\n        fastcgi_read_timeout 30s;\n        fastcgi_pass unix:/run/php/php8.1-fpm.sock;\n    }\n}\n".as_bytes().to_vec()));
    let pool = s.add(SourceFile::new("php/pool.d/shop.conf", None, b"[shop]\nlisten = /run/php/php8.2-fpm.sock\nrequest_terminate_timeout = 300\n".to_vec()));
    let latin1 = s.add(SourceFile::new("nginx/caf\u{e9}.conf", None, b"server_name caf\xe9.example;\nlisten 8\xe9;\n".to_vec()));
    let crlf = s.add(SourceFile::new("nginx/crlf.conf", None, b"events {}\r\nhttp {\r\n".to_vec()));
    let timeout = Span::new(62, 65);
    let findings = vec![
        Finding::new("NGX101", Severity::Warning, Location { file: site, span: timeout }, "fastcgi_read_timeout is 30s here; PHP requests slower than that end in 504 Gateway Timeout")
            .with_related(Location { file: pool, span: Span::new(69, 72) }, "pool `shop` allows 300s")
            .with_fix(Fix { applicability: Applicability::Safe, message: "raise to 300s".into(), edits: vec![Edit { location: Location { file: site, span: timeout }, content: "300s".into() }] }),
        Finding::new("NGX001", Severity::Error, Location { file: latin1, span: Span::new(34, 36) }, "invalid port in \"8\u{fffd}\""),
        Finding::new("NGX001", Severity::Error, Location { file: crlf, span: Span::empty(19) }, "unexpected end of file, expecting \"}\""),
        Finding::new("CFL002", Severity::Info, Location { file: site, span: Span::new(0, 6) }, "something outside"),
    ];
    (s, findings)
}

fn output(format: Format) -> String {
    let (s, f) = sources();
    let mut out = Vec::new();
    render(format, &f, &s, &Registry::builtin(), &Options::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn json_has_the_contract_shape_and_exact_positions() {
    let v: serde_json::Value = serde_json::from_str(&output(Format::Json)).unwrap();
    let first = &v[0];
    assert_eq!(first["code"], "NGX101");
    assert_eq!(first["name"], "fastcgi-read-timeout-low");
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["path"], "nginx/sites/shop.conf");
    assert_eq!(first["span"]["start"], serde_json::json!({"line": 3, "column": 30, "offset": 62}));
    assert_eq!(first["span"]["end"], serde_json::json!({"line": 3, "column": 33, "offset": 65}));
    assert_eq!(first["related"][0]["path"], "php/pool.d/shop.conf");
    assert_eq!(first["related"][0]["span"]["start"]["line"], 3);
    assert_eq!(first["fix"]["applicability"], "safe");
    assert_eq!(first["fix"]["edits"][0]["content"], "300s");
    assert_eq!(first["url"], "docs/rules/NGX101.md");
    // Columns count characters of the lossily decoded line, offsets count bytes.
    assert_eq!(v[1]["span"]["start"], serde_json::json!({"line": 2, "column": 9, "offset": 34}));
    assert_eq!(v[2]["span"]["start"], serde_json::json!({"line": 3, "column": 1, "offset": 19}));
    assert_eq!(v[3]["fix"], serde_json::Value::Null);
}

#[test]
fn json_lines_is_one_object_per_line() {
    let out = output(Format::JsonLines);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4);
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["code"].is_string());
    }
}

#[test]
fn concise_is_grep_friendly() {
    insta::assert_snapshot!(output(Format::Concise), @r#"
    nginx/sites/shop.conf:3:30: NGX101 [warning] [*] fastcgi_read_timeout is 30s here; PHP requests slower than that end in 504 Gateway Timeout
    nginx/café.conf:2:9: NGX001 [error] invalid port in "8�"
    nginx/crlf.conf:3:1: NGX001 [error] unexpected end of file, expecting "}"
    nginx/sites/shop.conf:1:1: CFL002 [info] something outside
    "#);
}

#[test]
fn full_shows_source_related_file_help_and_fix() {
    let out = output(Format::Full);
    assert!(!out.contains('\u{1b}'), "no colour codes without a terminal");
    insta::assert_snapshot!(out);
}

#[test]
fn summary_counts_and_fix_hints() {
    let (_, f) = sources();
    assert_eq!(summary(&f), "Found 4 problems (2 errors, 1 warning, 1 info).\n[*] 1 fixable with `conflint check --fix`.\n");
    assert_eq!(summary(&[]), "All checks passed!\n");
}

/// Line breaks inside a message are shown as symbols, as in `full`: one finding is one
/// line of text, whatever a file name or config value holds.
#[test]
fn github_annotations_escape_data_and_properties() {
    let mut s = Sources::default();
    let f = s.add(SourceFile::new("nginx/a,b:c%.conf", None, b"server {\n    listen 80;\n}\n".to_vec()));
    let findings = vec![
        Finding::new("NGX001", Severity::Error, Location { file: f, span: Span::new(13, 22) }, "100% sure: a, b\r\nand c"),
        Finding::new("NGX101", Severity::Warning, Location { file: f, span: Span::new(0, 24) }, "spans three lines").with_help("raise it, then reload"),
        Finding::new("CFL002", Severity::Info, Location { file: f, span: Span::empty(24) }, "at the last line"),
    ];
    let mut out = Vec::new();
    render(Format::Github, &findings, &s, &Registry::builtin(), &Options::default(), &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "::error file=nginx/a%2Cb%3Ac%25.conf,line=2,col=5,endLine=2,endColumn=14,title=NGX001 syntax-error::nginx/a,b:c%25.conf:2:5: 100%25 sure: a, b␍␤and c\n\
         ::warning file=nginx/a%2Cb%3Ac%25.conf,line=1,endLine=3,title=NGX101 fastcgi-read-timeout-low::nginx/a,b:c%25.conf:1:1: spans three lines%0Ahelp: raise it, then reload\n\
         ::notice file=nginx/a%2Cb%3Ac%25.conf,line=3,col=1,endLine=3,endColumn=1,title=CFL002 include-outside-tree::nginx/a,b:c%25.conf:3:1: at the last line\n"
    );
}

#[test]
fn sarif_counts_columns_in_code_points_and_keeps_related_spans_and_fixes() {
    let log: serde_json::Value = serde_json::from_str(&output(Format::Sarif)).unwrap();
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let timeout = &results[0];
    assert_eq!(timeout["level"], "warning");
    let at = &timeout["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"], serde_json::json!({"uri": "nginx/sites/shop.conf", "uriBaseId": "%SRCROOT%"}));
    assert_eq!(at["region"], serde_json::json!({"startLine": 3, "startColumn": 30, "endLine": 3, "endColumn": 33}));
    let related = &timeout["relatedLocations"][0];
    assert_eq!(related["message"]["text"], "pool `shop` allows 300s");
    assert_eq!(related["physicalLocation"]["artifactLocation"]["uri"], "php/pool.d/shop.conf");
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 3);
    let replacement = &timeout["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(replacement["deletedRegion"], at["region"]);
    assert_eq!(replacement["insertedContent"]["text"], "300s");
    // A byte that is not UTF-8 is one code point (U+FFFD); the file name is percent-encoded.
    let latin1 = &results[1]["locations"][0]["physicalLocation"];
    assert_eq!(latin1["artifactLocation"]["uri"], "nginx/caf%C3%A9.conf");
    assert_eq!(latin1["region"]["startColumn"], 9);
    assert_eq!(results[1]["level"], "error");
    assert_eq!(results[3]["level"], "note");
    // Without a repository root there is no absolute base to name.
    assert!(run.get("originalUriBaseIds").is_none());
    let rules: Vec<&str> = run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(rules, ["CFL002", "NGX001", "NGX101"]);
    assert_eq!(results[0]["ruleIndex"], 2);
    // Two NGX001 in different files with different text: different fingerprints.
    assert_ne!(results[1]["partialFingerprints"], results[2]["partialFingerprints"]);
}

#[test]
fn github_says_how_many_annotations_github_will_not_show() {
    let (s, f) = sources();
    let many: Vec<Finding> = std::iter::repeat_n(f[0].clone(), 12).chain(std::iter::repeat_n(f[1].clone(), 10)).collect();
    assert_eq!(
        conflint::report::github_overflow_note(&many).as_deref(),
        Some("GitHub shows at most 10 annotations of each severity per step: 2 more are only in this log (or upload SARIF for all of them)")
    );
    assert_eq!(conflint::report::github_overflow_note(&many[2..]), None, "ten of each is shown");
    let mut out = Vec::new();
    render(Format::Github, &many, &s, &Registry::builtin(), &Options::default(), &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 22, "the log still has every finding");
}

/// A report of thousands of findings (drawn side by side on several threads, in batches)
/// is, byte for byte, each finding's own report in the findings' order.
#[test]
fn a_large_full_report_is_every_findings_report_in_order() {
    let (s, base) = sources();
    let findings: Vec<Finding> = (0..5000)
        .map(|i| {
            let mut f = base[i % base.len()].clone();
            f.message = format!("{} (#{i})", f.message);
            f
        })
        .collect();
    let render_full = |findings: &[Finding]| {
        let mut out = Vec::new();
        render(Format::Full, findings, &s, &Registry::builtin(), &Options::default(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let whole = render_full(&findings);
    let one_by_one: String = findings.iter().map(|f| render_full(std::slice::from_ref(f))).collect();
    assert_eq!(whole, one_by_one);
    assert!(whole.find("(#4098)").unwrap() < whole.find("(#4099)").unwrap());
}
