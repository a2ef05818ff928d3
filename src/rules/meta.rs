//! Rule metadata and documentation, read from `rules/<CODE>.toml`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::options::OptionSpec;
use crate::finding::Severity;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub code: String,
    pub name: String,
    pub severity: Severity,
    /// e.g. "NGX0 structure".
    pub family: String,
    /// One line: what is wrong.
    pub summary: String,
    /// `safe`, `unsafe` or `none`.
    pub fix: FixKind,
    /// The rule reports values that do not mean what they say (a unit slip, a value
    /// PHP-FPM misreads or refuses): other rules' findings on the same value are folded
    /// into its finding (`rules::slips`).
    #[serde(default)]
    pub slip: bool,
    #[serde(default)]
    pub options: BTreeMap<String, OptionSpec>,
    pub check: CheckSpec,
    pub docs: Docs,
}

/// How the rule is evaluated: a check written in Rust, named by `builtin`, or a pure-data
/// check evaluated by [`super::declarative`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CheckSpec {
    /// A check in `src/rules/builtin/`; `workspace` for the structural findings made while
    /// reading files (syntax errors, includes).
    pub builtin: Option<String>,
    /// Where to look: `location`, `server`, `http` (nginx) or `pool`, `global` (PHP-FPM).
    #[serde(rename = "where")]
    pub scope: Option<ScopeKind>,
    /// nginx: only scopes that contain this directive themselves (`fastcgi_pass`).
    pub having: Option<String>,
    /// The directive or pool key whose effective value is compared.
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<ValueKind>,
    /// The value in effect when nothing sets it (nginx's or PHP-FPM's default).
    pub default: Option<String>,
    pub when: Option<When>,
    /// The option compared against, for `below` and `above`.
    pub than: Option<String>,
    /// Message template: `{directive}`, `{value}`, `{scope}`, `{limit}`.
    pub message: Option<String>,
    /// Fix: write this option's value where the value is set (or add it to the scope).
    pub fix_set: Option<String>,
    /// PHP-FPM: a new line goes after this key of the pool (else after the section header).
    pub fix_after: Option<String>,
    /// Fix (PHP-FPM): delete the line that sets the value, so PHP-FPM's default applies.
    #[serde(default)]
    pub fix_delete: bool,
    /// `safe` or `unsafe`; when given it must agree with the rule's `fix`, which is what
    /// the fix's applicability is taken from.
    pub fix_applicability: Option<crate::finding::Applicability>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeKind {
    Location,
    Server,
    Http,
    Pool,
    Global,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ValueKind {
    Duration,
    Size,
    Integer,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    Below,
    Above,
    Unset,
    UnsetOrZero,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FixKind {
    Safe,
    Unsafe,
    None,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Docs {
    pub what: String,
    pub why: String,
    /// The error.log (or validator) line the problem produces.
    pub log: String,
    /// What the user sees: the HTTP status, or "nginx refuses to (re)load".
    pub status: String,
    pub example: String,
    /// Language of the example: `nginx` or `ini`.
    #[serde(default = "default_lang")]
    pub lang: String,
    pub fix: String,
}

fn default_lang() -> String {
    "nginx".into()
}

impl RuleMeta {
    pub fn url(&self) -> String {
        format!("docs/rules/{}.md", self.code)
    }

    /// The page on the web, for SARIF's `helpUri` and editors' links. Only built-in rules
    /// have one; `--rules-dir` rules do not.
    pub fn web_url(&self) -> Option<String> {
        crate::rules::get(&self.code).map(|_| format!("{}/blob/main/{}", env!("CARGO_PKG_REPOSITORY"), self.url()))
    }

    fn options_markdown(&self) -> String {
        if self.options.is_empty() {
            return "None.".into();
        }
        let mut s = format!("Set in `conflint.toml` under `[rules.{}]`:\n\n| option | type | default | meaning |\n|---|---|---|---|\n", self.code);
        for (name, spec) in &self.options {
            let default = match &spec.default {
                super::options::RawValue::String(v) => format!("`\"{v}\"`"),
                super::options::RawValue::Integer(i) => format!("`{i}`"),
                super::options::RawValue::Float(f) => format!("`{f}`"),
            };
            s.push_str(&format!("| `{name}` | {} | {default} | {} |\n", spec.kind.label(), spec.doc.trim().replace('\n', " ")));
        }
        s.trim_end().to_string()
    }

    /// The rule's page: `conflint rule CODE` prints it and `docs/rules/CODE.md` is it.
    pub fn markdown(&self) -> String {
        let fix = match self.fix {
            FixKind::Safe => "safe (applied by `--fix`)",
            FixKind::Unsafe => "unsafe (applied with `--fix --unsafe-fixes`)",
            FixKind::None => "none",
        };
        let d = &self.docs;
        let slip = if self.slip { "\n- One mistake, one finding: other rules' findings on a value it reports are folded into its finding" } else { "" };
        format!(
            "# {code} {name}\n\n{summary}\n\n- Severity: {sev}\n- Family: {family}\n- Fix: {fix}{slip}\n\n\
             ## What it finds\n\n{what}\n\n## Why it breaks\n\n{why}\n\nLog line:\n\n```text\n{log}\n```\n\n\
             What the user sees: {status}\n\n## Example\n\n```{lang}\n{example}\n```\n\n## Fix\n\n{fixdoc}\n\n\
             ## Options\n\n{options}\n\n## Suppression\n\n`{comment} conflint: ignore[{code}] reason` on the line or the line above.\n",
            code = self.code,
            name = self.name,
            summary = self.summary.trim(),
            sev = self.severity.as_str(),
            family = self.family,
            what = d.what.trim(),
            why = d.why.trim(),
            log = d.log.trim(),
            status = d.status.trim(),
            lang = d.lang,
            example = d.example.trim_end(),
            fixdoc = d.fix.trim(),
            comment = if d.lang == "ini" { ";" } else { "#" },
            options = self.options_markdown(),
        )
    }
}
