//! `--output-format sarif` on the demo tree: valid SARIF 2.1.0 (the OASIS schema in
//! tests/fixtures), everything GitHub code scanning requires (linter-conventions.md §1.9.2),
//! repository-relative URIs, fingerprints that survive unrelated edits, fixes that apply.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A repository (`.git` at its top) holding a copy of `fixtures/demo` under `infra/demo`.
fn demo_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::create_dir_all(dir.path().join("infra")).unwrap();
    let ok = Command::new("cp").arg("-a").arg(manifest().join("fixtures/demo")).arg(dir.path().join("infra/demo")).status().unwrap();
    assert!(ok.success());
    dir
}

fn conflint(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).current_dir(cwd).env_remove("CONFLINT_OUTPUT_FORMAT").output().unwrap()
}

/// The SARIF log of `conflint check --output-format sarif demo`, run from `infra/`.
fn sarif(repo: &Path) -> Value {
    let o = conflint(&repo.join("infra"), &["check", "--output-format", "sarif", "demo"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("stdout is exactly one JSON document")
}

fn json_findings(repo: &Path) -> Vec<Value> {
    let o = conflint(&repo.join("infra"), &["check", "--output-format", "json", "demo"]);
    serde_json::from_slice::<Value>(&o.stdout).unwrap().as_array().unwrap().clone()
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

fn primary(result: &Value) -> &Value {
    &result["locations"][0]["physicalLocation"]
}

/// The shipped schema, with SARIF 2.1.0 Errata 01's correction of the `language` pattern:
/// its stray `]` is not a regular expression by ECMA-262, so the validator refuses the
/// schema itself. conflint writes no `language`; nothing else is touched.
fn sarif_schema() -> Value {
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(manifest().join("tests/fixtures/sarif-schema-2.1.0.json")).unwrap()).unwrap();
    for object in ["run", "toolComponent"] {
        let pattern = &mut schema["definitions"][object]["properties"]["language"]["pattern"];
        assert_eq!(pattern, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *pattern = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
    }
    schema
}

#[test]
fn demo_output_is_valid_against_the_oasis_sarif_schema() {
    let validator = jsonschema::draft7::options().should_validate_formats(true).offline().build(&sarif_schema()).unwrap();
    let repo = demo_repo();
    let log = sarif(repo.path());
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator does look: a result without a message, a help URI that is not absolute.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0].as_object_mut().unwrap().remove("message");
    assert!(!validator.is_valid(&broken));
    let mut broken = log.clone();
    broken["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "docs/rules/NGX101.md".into();
    assert!(!validator.is_valid(&broken));
    // A demo of about fourteen rules, with fixes and related spans, so all of it was checked.
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() >= 12, "{}", rules.len());
    assert!(results(&log).iter().any(|r| r["fixes"].is_array()));
    assert!(results(&log).iter().any(|r| r["relatedLocations"].is_array()));
}

/// No required property may be the empty string (GitHub rejects it).
fn assert_no_empty_strings(v: &Value, at: &str) {
    match v {
        Value::String(s) => assert!(!s.is_empty(), "empty string at {at}"),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| assert_no_empty_strings(x, &format!("{at}[{i}]"))),
        Value::Object(o) => o.iter().filter(|(k, _)| k.as_str() != "insertedContent").for_each(|(k, x)| assert_no_empty_strings(x, &format!("{at}.{k}"))),
        _ => {}
    }
}

#[test]
fn everything_github_code_scanning_requires_is_there() {
    let repo = demo_repo();
    let log = sarif(repo.path());
    assert!(log["$schema"].as_str().unwrap().starts_with("https://"));
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "conflint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_no_empty_strings(&log, "$");

    let rules = driver["rules"].as_array().unwrap();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let meta = conflint::rules::get(id).unwrap();
        assert_eq!(rule["name"], meta.name.as_str());
        for key in ["shortDescription", "fullDescription"] {
            let text = rule[key]["text"].as_str().unwrap();
            assert!(text.chars().count() <= 1024, "{id} {key} is over GitHub's 1024 characters");
        }
        assert_eq!(rule["shortDescription"]["text"], meta.summary.trim());
        // The same page `conflint rule CODE` prints, not a second copy of the docs.
        assert_eq!(rule["help"]["markdown"], meta.markdown());
        assert_eq!(rule["help"]["text"], meta.markdown());
        assert_eq!(rule["helpUri"].as_str().unwrap(), format!("{}/blob/main/docs/rules/{id}.md", env!("CARGO_PKG_REPOSITORY")));
        assert_eq!(rule["defaultConfiguration"]["level"], level(meta.severity.as_str()));
        assert!(rule["properties"].get("security-severity").is_none(), "no conflint rule is a security rule");
    }
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();

    let json = json_findings(repo.path());
    let results = results(&log);
    assert_eq!(results.len(), json.len(), "one result per finding");
    let mut used: Vec<&str> = results.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    used.sort();
    used.dedup();
    assert_eq!(ids, used, "the rules are exactly those that have results, sorted");
    for (r, f) in results.iter().zip(&json) {
        assert_eq!(r["ruleId"], f["code"]);
        assert_eq!(ids[r["ruleIndex"].as_u64().unwrap() as usize], f["code"].as_str().unwrap());
        assert_eq!(r["level"], level(f["severity"].as_str().unwrap()));
        assert!(r["message"]["text"].as_str().unwrap().starts_with(f["message"].as_str().unwrap()));
        let locations = r["locations"].as_array().unwrap();
        assert_eq!(locations.len(), 1);
        let region = &primary(r)["region"];
        assert_eq!(region["startLine"], f["span"]["start"]["line"]);
        assert_eq!(region["startColumn"], f["span"]["start"]["column"]);
        assert_eq!(region["endLine"], f["span"]["end"]["line"]);
        assert_eq!(region["endColumn"], f["span"]["end"]["column"]);
        assert!(r["partialFingerprints"]["primaryLocationLineHash"].is_string());
        let related = r["relatedLocations"].as_array().map_or(0, Vec::len);
        assert_eq!(related, f["related"].as_array().unwrap().len());
        assert_eq!(r["fixes"].is_array(), !f["fix"].is_null());
    }
}

fn level(severity: &str) -> &str {
    match severity {
        "info" => "note",
        other => other,
    }
}

#[test]
fn uris_are_relative_to_the_repository_root_wherever_conflint_runs() {
    let repo = demo_repo();
    let log = sarif(repo.path());
    let run = &log["runs"][0];
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert_eq!(base, format!("file://{}/", repo.path().canonicalize().unwrap().display()));
    let mut locations: Vec<&Value> = Vec::new();
    for r in results(&log) {
        locations.push(primary(r));
        locations.extend(r["relatedLocations"].as_array().into_iter().flatten().map(|l| &l["physicalLocation"]));
        for fix in r["fixes"].as_array().into_iter().flatten() {
            locations.extend(fix["artifactChanges"].as_array().unwrap().iter());
        }
    }
    for l in locations {
        let artifact = &l["artifactLocation"];
        let uri = artifact["uri"].as_str().unwrap();
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%", "{uri}");
        // Run from infra/, named `demo`: the path is still the repository's.
        assert!(uri.starts_with("infra/demo/"), "{uri}");
        // The real file, symlinks resolved: sites-enabled/shop.conf is sites-available/shop.conf.
        assert!(!uri.contains("sites-enabled"), "{uri}");
        assert!(repo.path().join(uri).is_file(), "{uri} is not a file of the repository");
    }
}

/// `(ruleId, uri)` → fingerprints and start lines of the results.
fn fingerprints(log: &Value) -> BTreeMap<(String, String), Vec<(String, u64)>> {
    let mut map: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for r in results(log) {
        let uri = primary(r)["artifactLocation"]["uri"].as_str().unwrap().to_string();
        let hash = r["partialFingerprints"]["primaryLocationLineHash"].as_str().unwrap().to_string();
        map.entry((r["ruleId"].as_str().unwrap().to_string(), uri)).or_default().push((hash, primary(r)["region"]["startLine"].as_u64().unwrap()));
    }
    map
}

fn prepend(path: &Path, text: &str) {
    let old = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, format!("{text}{old}")).unwrap();
}

#[test]
fn fingerprints_survive_unrelated_edits_and_follow_the_flagged_text() {
    let repo = demo_repo();
    let demo = repo.path().join("infra/demo");
    let before = fingerprints(&sarif(repo.path()));
    let distinct: std::collections::HashSet<(&String, &String)> = before.iter().flat_map(|((_, uri), v)| v.iter().map(move |(h, _)| (uri, h))).collect();
    assert_eq!(distinct.len(), before.values().map(Vec::len).sum::<usize>(), "no two results of a file share a fingerprint");

    prepend(&demo.join("nginx/nginx.conf"), "# reviewed by ops\n");
    prepend(&demo.join("php/8.2/fpm/pool.d/shop.conf"), "; pool for the shop\n\n");
    let after = fingerprints(&sarif(repo.path()));
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    let mut moved = 0;
    for (key, was) in &before {
        let now = &after[key];
        let hashes = |v: &Vec<(String, u64)>| v.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>();
        assert_eq!(hashes(was), hashes(now), "{key:?} changed its fingerprint after an edit elsewhere");
        moved += was.iter().zip(now).filter(|(a, b)| a.1 != b.1).count();
    }
    assert!(moved >= 5, "the edits moved the findings of both files ({moved} moved)");

    // Editing the flagged line itself is a different finding to GitHub.
    let conf = demo.join("nginx/nginx.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace("fastcgi_read_timeout 30s;", "fastcgi_read_timeout 31s;")).unwrap();
    let edited = fingerprints(&sarif(repo.path()));
    let key = ("NGX101".to_string(), "infra/demo/nginx/nginx.conf".to_string());
    assert_ne!(edited[&key][0].0, after[&key][0].0);
}

/// Byte offset of a SARIF line/column (columns in code points, `columnKind`).
fn offset(text: &str, line: u64, column: u64) -> usize {
    let start: usize = text.split_inclusive('\n').take(line as usize - 1).map(str::len).sum();
    let rest = &text[start..];
    start + rest.char_indices().nth(column as usize - 1).map_or(rest.len(), |(i, _)| i)
}

/// `text` with replacements applied from the last to the first.
fn apply(text: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, content) in edits {
        out.replace_range(start..end, &content);
    }
    out
}

#[test]
fn fixes_apply_exactly_like_the_json_edits() {
    let repo = demo_repo();
    let log = sarif(repo.path());
    let json = json_findings(repo.path());
    let mut checked = 0;
    for (r, f) in results(&log).iter().zip(&json) {
        let Some(fixes) = r["fixes"].as_array() else { continue };
        assert_eq!(fixes.len(), 1);
        assert_eq!(fixes[0]["description"]["text"], f["fix"]["message"]);
        assert_eq!(fixes[0]["properties"]["applicability"], f["fix"]["applicability"]);
        for change in fixes[0]["artifactChanges"].as_array().unwrap() {
            let uri = change["artifactLocation"]["uri"].as_str().unwrap();
            let text = std::fs::read_to_string(repo.path().join(uri)).unwrap();
            let by_sarif: Vec<_> = change["replacements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|rep| {
                    let d = &rep["deletedRegion"];
                    let at = |l: &str, c: &str| offset(&text, d[l].as_u64().unwrap(), d[c].as_u64().unwrap());
                    (at("startLine", "startColumn"), at("endLine", "endColumn"), rep["insertedContent"]["text"].as_str().unwrap().to_string())
                })
                .collect();
            // The JSON edits of the same file, by byte offset: what --fix splices.
            let by_json: Vec<_> = f["fix"]["edits"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| uri.ends_with(e["path"].as_str().unwrap()))
                .map(|e| (e["span"]["start"]["offset"].as_u64().unwrap() as usize, e["span"]["end"]["offset"].as_u64().unwrap() as usize, e["content"].as_str().unwrap().to_string()))
                .collect();
            assert_eq!(by_sarif.len(), by_json.len(), "{uri}");
            let fixed = apply(&text, by_sarif);
            assert_ne!(fixed, text);
            assert_eq!(fixed, apply(&text, by_json), "{} in {uri}", r["ruleId"]);
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
}

#[test]
fn written_to_a_file_with_nothing_else_on_stdout() {
    let repo = demo_repo();
    let infra = repo.path().join("infra");
    let o = Command::new(env!("CARGO_BIN_EXE_conflint"))
        .args(["check", "demo", "-o", "out.sarif"])
        .current_dir(&infra)
        .env("CONFLINT_OUTPUT_FORMAT", "sarif")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "{}", String::from_utf8_lossy(&o.stdout));
    let log: Value = serde_json::from_str(&std::fs::read_to_string(infra.join("out.sarif")).unwrap()).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("Found"), "no summary for a machine format");
}
