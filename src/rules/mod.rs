//! The rule registry: one `rules/<CODE>.toml` per rule, embedded at build time.

mod meta;
pub mod options;
pub mod edit;
pub mod builtin;
pub mod context;
pub mod declarative;
pub mod engine;

use std::sync::OnceLock;

pub use meta::{Docs, FixKind, RuleMeta};

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// The rules in effect for a run: the built-in ones and a user's rules directory.
#[derive(Clone, Debug)]
pub struct Registry {
    rules: Vec<RuleMeta>,
}

/// A rule file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleFileError {
    pub path: String,
    pub message: String,
}

impl Registry {
    pub fn builtin() -> Registry {
        Registry { rules: all().to_vec() }
    }

    /// Add every `*.toml` of `dir` (same schema as `rules/`). A code may not shadow a
    /// built-in rule.
    pub fn with_rules_dir(mut self, dir: &std::path::Path) -> Result<Registry, RuleFileError> {
        let fail = |path: &std::path::Path, message: String| RuleFileError { path: path.display().to_string(), message };
        let entries = std::fs::read_dir(dir).map_err(|e| fail(dir, format!("cannot read the rules directory: {e}")))?;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| fail(&path, e.to_string()))?;
            let rule = parse_rule(&text).map_err(|m| fail(&path, m))?;
            if self.get(&rule.code).is_some() {
                return Err(fail(&path, format!("code `{}` is already taken by another rule", rule.code)));
            }
            self.rules.push(rule);
        }
        self.rules.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(self)
    }

    pub fn all(&self) -> &[RuleMeta] {
        &self.rules
    }

    pub fn get(&self, code: &str) -> Option<&RuleMeta> {
        self.rules.iter().find(|r| r.code.eq_ignore_ascii_case(code))
    }

    pub fn selector_known(&self, selector: &str) -> bool {
        self.rules.iter().any(|r| selector_matches(selector, &r.code))
    }
}

/// `check.builtin` of the rules whose findings are made while the tree is read.
pub const WORKSPACE_CHECK: &str = "workspace";

/// Parse and validate one rule file; errors carry the line and key.
pub fn parse_rule(text: &str) -> Result<RuleMeta, String> {
    let rule: RuleMeta = toml_edit::de::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " "))?;
    let options: Vec<&str> = rule.options.keys().map(String::as_str).collect();
    for (name, spec) in &rule.options {
        spec.kind.parse(&spec.default).map_err(|e| format!("line {}: options.{name}.default: {e}", key_line(text, "default")))?;
    }
    declarative::validate(&rule.check, &options).map_err(|e| format!("line {}: {e}", key_line(text, "[check]")))?;
    if let Some(name) = rule.check.builtin.as_deref() {
        if name != WORKSPACE_CHECK && builtin::get(name).is_none() {
            return Err(format!("line {}: `check.builtin = \"{name}\"` names no built-in check", key_line(text, "[check]")));
        }
    }
    Ok(rule)
}

/// The first line that mentions `needle` (for error messages about a table).
fn key_line(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.trim_start().starts_with(needle)).map_or(1, |i| i + 1)
}

/// Every built-in rule, sorted by code.
pub fn all() -> &'static [RuleMeta] {
    static RULES: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut rules: Vec<RuleMeta> = EMBEDDED
            .iter()
            .map(|(file, text)| {
                // Turned into JSON by build.rs; `parse_rule` checks every file in the test
                // suite, so a broken one is a build bug, not a user error.
                serde_json::from_str::<RuleMeta>(text).unwrap_or_else(|e| panic!("rules/{file}: {e}"))
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
