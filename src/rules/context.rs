//! What a rule sees: the resolved configuration, its options, the host facts. Rules never
//! read files.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::options::OptionValue;
use super::RuleMeta;
use crate::host::Host;
use crate::rules::builtin::directives::analysis::Analysis;
use crate::effective::join::Join;
use crate::effective::nginx::NginxView;
use crate::effective::values::Millis;
use crate::finding::{Finding, Location};
use crate::workspace::Workspace;

pub struct RuleContext<'a, 'w> {
    pub rule: &'a RuleMeta,
    pub ws: &'w Workspace,
    pub resolved: &'a Resolved<'w>,
    /// The rule's options: declared defaults, overridden by conflint.toml.
    pub options: &'a BTreeMap<String, OptionValue>,
    pub host: &'a Host,
}

/// The nginx view and the nginx ↔ PHP-FPM join, each built once, by the first rule that
/// asks: PHP-FPM rules that need neither run on one core while another builds them.
pub struct Resolved<'w> {
    ws: &'w Workspace,
    host: &'w Host,
    nginx: OnceLock<NginxView<'w>>,
    join: OnceLock<Join<'w>>,
    directives: OnceLock<Analysis>,
}

impl<'w> Resolved<'w> {
    pub fn new(ws: &'w Workspace, host: &'w Host) -> Self {
        Resolved { ws, host, nginx: OnceLock::new(), join: OnceLock::new(), directives: OnceLock::new() }
    }

    pub fn nginx(&self) -> &NginxView<'w> {
        self.nginx.get_or_init(|| NginxView::build(self.ws))
    }

    pub fn join(&self) -> &Join<'w> {
        self.join.get_or_init(|| Join::build(self.ws, self.nginx()))
    }

    /// Every directive checked against the directive tables (NGX002–NGX006).
    pub fn directives(&self) -> &Analysis {
        self.directives.get_or_init(|| crate::rules::builtin::directives::analysis::analyse(self.ws, self.nginx(), &self.host.nginx))
    }
}

impl<'a, 'w> RuleContext<'a, 'w> {
    /// Effective nginx configuration: scopes, inheritance, includes.
    pub fn nginx(&self) -> &'a NginxView<'w> {
        self.resolved.nginx()
    }

    /// Which PHP-FPM pools each `fastcgi_pass` reaches.
    pub fn join(&self) -> &'a Join<'w> {
        self.resolved.join()
    }

    /// The directive-table analysis of every nginx tree.
    pub fn directives(&self) -> &'a Analysis {
        self.resolved.directives()
    }

    /// A finding of this rule at its declared severity.
    pub fn finding(&self, at: Location, message: impl Into<String>) -> Finding {
        Finding::new(&self.rule.code, self.rule.severity, at, message)
    }

    fn option(&self, name: &str) -> &OptionValue {
        // Every option a builtin reads is declared in its TOML; a test checks the pairing.
        self.options.get(name).unwrap_or_else(|| panic!("rule {} reads undeclared option `{name}`", self.rule.code))
    }

    pub fn duration(&self, name: &str) -> Millis {
        match self.option(name) {
            OptionValue::Duration(d) => *d,
            other => panic!("rule {} option `{name}` is {other:?}, not a duration", self.rule.code),
        }
    }

    pub fn size(&self, name: &str) -> u64 {
        match self.option(name) {
            OptionValue::Size(s) => *s,
            other => panic!("rule {} option `{name}` is {other:?}, not a size", self.rule.code),
        }
    }

    pub fn integer(&self, name: &str) -> i64 {
        match self.option(name) {
            OptionValue::Integer(i) => *i,
            other => panic!("rule {} option `{name}` is {other:?}, not an integer", self.rule.code),
        }
    }

    pub fn float(&self, name: &str) -> f64 {
        match self.option(name) {
            OptionValue::Float(f) => *f,
            other => panic!("rule {} option `{name}` is {other:?}, not a number", self.rule.code),
        }
    }

    pub fn string(&self, name: &str) -> &str {
        match self.option(name) {
            OptionValue::String(s) => s,
            other => panic!("rule {} option `{name}` is {other:?}, not a string", self.rule.code),
        }
    }
}
