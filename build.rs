//! Embeds every `rules/<CODE>.toml` so the registry, `conflint rule`, the generated docs
//! and SARIF metadata all come from the same files. The TOML is turned into JSON here:
//! parsing 40-odd TOML files at every start cost more than the rest of a small lint.

use std::fmt::Write;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("rules/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    names.sort();
    let mut out = String::from("pub static EMBEDDED: &[(&str, &str)] = &[\n");
    for p in names {
        println!("cargo:rerun-if-changed={}", p.display());
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&p).unwrap();
        let value: serde_json::Value = toml_edit::de::from_str(&text).unwrap_or_else(|e| panic!("rules/{file}: {e}"));
        writeln!(out, "    ({file:?}, {:?}),", value.to_string()).unwrap();
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_rules.rs");
    std::fs::write(dest, out).unwrap();
}
