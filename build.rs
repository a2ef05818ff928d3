//! Embeds every `rules/<CODE>.toml` so the registry, `conflint rule`, the generated docs
//! and SARIF metadata all come from the same files. The TOML is turned into JSON here:
//! parsing 40-odd TOML files at every start cost more than the rest of a small lint.
//! Also turns the generated nginx directive tables into static data.

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
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("embedded_rules.rs"), out).unwrap();
    directive_tables(&out_dir);
}

/// Turns each generated directive table (`src/nginx/directives/data/<id>.jsonl`) into a Rust
/// expression of a `Table`, so the tables are static data: parsing their half megabyte of
/// JSON at every start was a third of a small lint. Names (contexts, arities, kinds) are
/// checked where they are read, by const functions of `src/nginx/directives/mod.rs`. The
/// tables' words are positions in one text (`text.txt`) and their lists ranges of one
/// array (`lists.rs`), not `&str`: a pointer in static data is a relocation the loader
/// writes at every start.
fn directive_tables(out_dir: &std::path::Path) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/nginx/directives/data");
    println!("cargo:rerun-if-changed={}", dir.display());
    let dest = out_dir.join("directive_tables");
    std::fs::create_dir_all(&dest).unwrap();
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("directive tables").map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "jsonl")).collect();
    paths.sort();
    let mut words = Words::default();
    for path in paths {
        println!("cargo:rerun-if-changed={}", path.display());
        let id = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(dest.join(format!("{id}.rs")), table(&id, &text, &mut words)).unwrap();
    }
    std::fs::write(dest.join("text.txt"), &words.text).unwrap();
    std::fs::write(dest.join("lists.rs"), format!("[{}]\n", words.lists)).unwrap();
}

/// The words of every table, each once, and their lists.
#[derive(Default)]
struct Words {
    text: String,
    at: std::collections::HashMap<String, usize>,
    lists: String,
    listed: usize,
}

impl Words {
    /// `Str::new(at, len)` for `word`.
    fn word(&mut self, word: &str) -> String {
        let at = match self.at.get(word) {
            Some(&at) => at,
            None => {
                let at = self.text.len();
                self.text.push_str(word);
                self.at.insert(word.to_string(), at);
                at
            }
        };
        format!("Str::new({at}, {})", word.len())
    }

    fn opt(&mut self, word: Option<String>) -> String {
        word.map_or("None".to_string(), |w| format!("Some({})", self.word(&w)))
    }

    /// `Strs::new(at, len)` for `list`.
    fn list(&mut self, list: &[String]) -> String {
        let at = self.listed;
        for w in list {
            let w = self.word(w);
            write!(self.lists, "{w}, ").unwrap();
        }
        self.listed += list.len();
        format!("Strs::new({at}, {})", list.len())
    }
}

fn table(id: &str, text: &str, words: &mut Words) -> String {
    let (mut origin, mut options, mut directives, mut variables) = (String::new(), Vec::<String>::new(), String::new(), String::new());
    for (n, line) in text.lines().enumerate() {
        let at = || format!("{id}.jsonl:{}", n + 1);
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(from) = comment.strip_prefix("from ") {
                origin = from.split(',').next().unwrap_or(from).to_string();
            } else if let Some(opts) = comment.strip_prefix("configure options:") {
                options = opts.split_whitespace().map(str::to_string).collect();
            }
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}", at()));
        let object = value.as_object().unwrap_or_else(|| panic!("{}: not an object", at()));
        let str_of = |key: &str| object.get(key).map(|v| v.as_str().unwrap_or_else(|| panic!("{}: `{key}` is not a string", at())).to_string());
        let list = |key: &str| -> Vec<String> {
            object.get(key).map_or_else(Vec::new, |v| v.as_array().unwrap_or_else(|| panic!("{}: `{key}` is not a list", at())).iter().map(|s| s.as_str().expect("a string").to_string()).collect())
        };
        if object.contains_key("variable") {
            let prefix = object.get("prefix").and_then(|p| p.as_bool()).unwrap_or_else(|| panic!("{}: `prefix`", at()));
            let (name, subsystem, module) = (words.word(&str_of("variable").unwrap()), words.word(&str_of("subsystem").unwrap()), words.word(&str_of("module").unwrap()));
            writeln!(variables, "Variable {{ name: {name}, subsystem: {subsystem}, module: {module}, prefix: {prefix} }},").unwrap();
            continue;
        }
        const KEYS: &[&str] = &["name", "module", "contexts", "args", "type", "handler", "values", "min", "max", "post", "deprecated", "default", "syntax", "since", "link", "if"];
        if let Some(k) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
            panic!("{}: unknown field `{k}`", at());
        }
        // NGX_MAX_INT_T_VALUE and other macros stand for "no limit".
        let bound = |key: &str| match object.get(key) {
            Some(serde_json::Value::Number(n)) => Some(n.as_i64().unwrap_or_else(|| panic!("{}: `{key}`", at())).to_string()),
            Some(serde_json::Value::String(_)) => Some("i64::MAX".to_string()),
            _ => None,
        };
        let bounds = bound("min").zip(bound("max")).map_or("None".to_string(), |(lo, hi)| format!("Some(({lo}, {hi}))"));
        let kind: String = str_of("type").expect("a type").split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect();
        let since = str_of("since").and_then(|s| version(&s)).map_or("None".to_string(), |v| format!("Some({v})"));
        writeln!(
            directives,
            "Directive {{ name: {}, module: {}, contexts: ctx::bits(&{:?}), arity: Arity::of(&{:?}), kind: Kind::{kind}, handler: {}, values: {}, bounds: {bounds}, post: {}, default: {}, syntax: {}, since: {since}, link: {}, conditions: {}, table: {} }},",
            words.word(&str_of("name").expect("a name")),
            words.word(&str_of("module").expect("a module")),
            list("contexts"),
            list("args"),
            words.opt(str_of("handler")),
            words.list(&list("values")),
            words.opt(str_of("post")),
            words.opt(str_of("default")),
            words.list(&list("syntax")),
            words.opt(str_of("link")),
            words.list(&list("if")),
            words.word(id),
        )
        .unwrap();
    }
    let release = id.strip_prefix("nginx-").map(|v| version(v).unwrap_or_else(|| panic!("{id}: not a release")));
    format!(
        "Table {{ id: {id:?}, version: {}, origin: {origin:?}, configure_options: &{options:?}, directives: &[\n{directives}], variables: &[\n{variables}], by_name: OnceLock::new() }}\n",
        release.map_or("None".to_string(), |v| format!("Some({v})"))
    )
}

/// `1.27.2` (or `1.27`) as the expression `Version(1, 27, 2)`, as `Version::from_str` reads it.
fn version(s: &str) -> Option<String> {
    let parts: Vec<u16> = s.trim().split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    match parts[..] {
        [major, minor] => Some(format!("Version({major}, {minor}, 0)")),
        [major, minor, patch] => Some(format!("Version({major}, {minor}, {patch})")),
        _ => None,
    }
}
