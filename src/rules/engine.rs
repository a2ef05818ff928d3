//! Run the enabled rules over a workspace.

use std::collections::BTreeMap;

use super::context::RuleContext;
use super::options::OptionValue;
use super::{builtin, declarative, RuleMeta};
use crate::config::Config;
use crate::effective::nginx::NginxView;
use crate::finding::Finding;
use crate::workspace::Workspace;

/// Declared defaults with conflint.toml's overrides on top. Defaults are checked by the
/// test suite for every embedded rule; user rule files are checked when loaded.
pub fn options_for(rule: &RuleMeta, config: &Config) -> Result<BTreeMap<String, OptionValue>, String> {
    let mut out = BTreeMap::new();
    for (name, spec) in &rule.options {
        let v = spec.kind.parse(&spec.default).map_err(|e| format!("rule {} option `{name}` default: {e}", rule.code))?;
        out.insert(name.clone(), v);
    }
    if let Some(overrides) = config.rule_options.get(&rule.code) {
        out.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Ok(out)
}

pub fn run(ws: &Workspace, rules: &[&RuleMeta], config: &Config) -> Result<Vec<Finding>, String> {
    let nginx = NginxView::build(ws);
    let mut findings = Vec::new();
    for rule in rules {
        let options = options_for(rule, config)?;
        let cx = RuleContext { rule, ws, nginx: &nginx, options: &options, host: &config.host };
        match rule.check.builtin.as_deref() {
            Some(name) => {
                if let Some(check) = builtin::get(name) {
                    check(&cx, &mut findings);
                }
            }
            None => declarative::evaluate(&cx, &rule.check, &mut findings),
        }
    }
    Ok(findings)
}
