//! The rule registry: one `rules/<CODE>.toml` per rule, embedded at build time.

mod meta;
pub mod options;
pub mod edit;
pub mod builtin;
pub mod context;
pub mod engine;

use std::sync::OnceLock;

pub use meta::{Docs, FixKind, RuleMeta};

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// Every built-in rule, sorted by code.
pub fn all() -> &'static [RuleMeta] {
    static RULES: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut rules: Vec<RuleMeta> = EMBEDDED
            .iter()
            .map(|(file, text)| {
                // Embedded files are checked by the test suite; a broken one is a build bug.
                toml_edit::de::from_str(text).unwrap_or_else(|e| panic!("rules/{file}: {e}"))
            })
            .collect();
        rules.sort_by(|a, b| a.code.cmp(&b.code));
        rules
    })
}

pub fn get(code: &str) -> Option<&'static RuleMeta> {
    all().iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// Does a `--select`/`--ignore` entry (`ALL`, `NGX`, `NGX1`, `NGX101`) cover `code`?
pub fn selector_matches(selector: &str, code: &str) -> bool {
    selector.eq_ignore_ascii_case("ALL") || code.to_ascii_uppercase().starts_with(&selector.to_ascii_uppercase())
}

/// Is `selector` a valid code or prefix of at least one known rule?
pub fn selector_known(selector: &str) -> bool {
    all().iter().any(|r| selector_matches(selector, &r.code))
}
