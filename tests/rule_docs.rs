//! `docs/rules/<CODE>.md` are generated from `rules/<CODE>.toml`; this test fails when they
//! are stale. Regenerate with `UPDATE_DOCS=1 cargo test --test rule_docs`.

use std::path::PathBuf;

use conflint::rules;

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/rules")
}

fn index() -> String {
    let mut s = String::from("# Rules\n\nGenerated from `rules/*.toml`; do not edit by hand.\n\n| code | name | severity | fix | summary |\n|---|---|---|---|---|\n");
    for r in rules::all() {
        let fix = format!("{:?}", r.fix).to_lowercase();
        s.push_str(&format!("| [{0}]({0}.md) | {1} | {2} | {3} | {4} |\n", r.code, r.name, r.severity.as_str(), fix, r.summary.trim()));
    }
    s
}

#[test]
fn rule_pages_are_up_to_date() {
    let dir = docs_dir();
    let mut pages: Vec<(PathBuf, String)> = rules::all().iter().map(|r| (dir.join(format!("{}.md", r.code)), r.markdown())).collect();
    pages.push((dir.join("README.md"), index()));
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (path, text) in &pages {
            std::fs::write(path, text).unwrap();
        }
    }
    let stale: Vec<String> = pages
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()))
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(stale.is_empty(), "stale rule docs (run `UPDATE_DOCS=1 cargo test --test rule_docs`): {stale:?}");
    // No page without a rule behind it.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let code = name.trim_end_matches(".md");
        assert!(name == "README.md" || rules::get(code).is_some(), "docs/rules/{name} has no rules/{code}.toml");
    }
}

#[test]
fn every_rule_file_is_complete_and_named_by_its_code() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut files: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    let codes: Vec<String> = rules::all().iter().map(|r| format!("{}.toml", r.code)).collect();
    assert_eq!(files, codes);
    for file in &files {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        if let Err(e) = rules::parse_rule(&text) {
            panic!("rules/{file}: {e}");
        }
    }
    for r in rules::all() {
        assert!(r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}: name must be kebab-case", r.code);
        for (section, text) in [("what", &r.docs.what), ("why", &r.docs.why), ("example", &r.docs.example), ("fix", &r.docs.fix), ("log", &r.docs.log)] {
            assert!(!text.trim().is_empty(), "{}: docs.{section} is empty", r.code);
        }
    }
}
