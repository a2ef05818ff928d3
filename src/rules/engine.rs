//! Run the enabled rules over a workspace.

use std::collections::BTreeMap;

use super::context::{Resolved, RuleContext};
use super::options::OptionValue;
use super::builtin::directives::analysis;
use super::{builtin, declarative, placeholders, slips, RuleMeta};
use crate::host::Host;
use crate::finding::Finding;
use crate::workspace::{Note, Workspace};

/// conflint.toml's `[rules.CODE]` option values, by code and option name.
pub type RuleOptions = BTreeMap<String, BTreeMap<String, OptionValue>>;

/// Declared defaults with conflint.toml's overrides on top. Defaults are checked by the
/// test suite for every embedded rule; user rule files are checked when loaded.
pub fn options_for(rule: &RuleMeta, overrides: &RuleOptions) -> Result<BTreeMap<String, OptionValue>, String> {
    let mut out = BTreeMap::new();
    for (name, spec) in &rule.options {
        let v = spec.kind.parse(&spec.default).map_err(|e| format!("rule {} option `{name}` default: {e}", rule.code))?;
        out.insert(name.clone(), v);
    }
    if let Some(overrides) = overrides.get(&rule.code) {
        out.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Ok(out)
}

/// What the rules found, and what they could not look at.
pub struct Run {
    pub findings: Vec<Finding>,
    /// e.g. the nginx ↔ PHP-FPM join was not possible, or a file's templated values.
    pub notes: Vec<Note>,
}

pub fn run(ws: &Workspace, rules: &[&RuleMeta], rule_options: &RuleOptions, host: &Host) -> Result<Run, String> {
    let resolved = Resolved::new(ws, host);
    let run_one = |rule: &RuleMeta| -> Result<Vec<Finding>, String> {
        let options = options_for(rule, rule_options)?;
        let cx = RuleContext { rule, ws, resolved: &resolved, options: &options, host };
        let mut found = Vec::new();
        match rule.check.builtin.as_deref() {
            Some(name) => {
                if let Some(check) = builtin::get(name) {
                    check(&cx, &mut found);
                }
            }
            None => declarative::evaluate(&cx, &rule.check, &mut found),
        }
        Ok(found)
    };
    // Rules only read the workspace, so they run side by side; findings stay in rule order.
    // Most rules share views built on first use, and a thread that asks for one while
    // another builds it waits: so the slowest to build, the directive analysis (and the
    // nginx view under it), is a work item of its own, taken first, and the rules that only
    // report its problems go last. PHP-FPM rules, which need neither, run meanwhile.
    let analysis_rule = |r: &RuleMeta| analysis::CODES.contains(&r.code.as_str());
    let mut order: Vec<usize> = (0..=rules.len()).collect();
    order.sort_by_key(|&i| match rules.get(i) {
        None => 0,
        Some(r) if r.code.starts_with("FPM") => 1,
        Some(r) if analysis_rule(r) => 3,
        Some(_) => 2,
    });
    let bytes = ws.sources.iter().map(|(_, f)| f.text.len()).sum();
    let spread = crate::parallel::worth_it(bytes);
    let warm = spread && rules.iter().any(|&r| analysis_rule(r));
    let run_all = || {
        crate::parallel::map(&order, spread, |i| match rules.get(i) {
            Some(rule) => run_one(rule),
            None => {
                if warm {
                    resolved.directives();
                }
                Ok(Vec::new())
            }
        })
    };
    // The templated values are found beside the rules: they only filter what the rules found.
    let (templated, by_rule) =
        if spread { rayon::join(|| placeholders::Templated::find(ws), run_all) } else { (placeholders::Templated::find(ws), run_all()) };
    let mut findings: Vec<Finding> = by_rule.into_iter().collect::<Result<Vec<_>, String>>()?.into_iter().flatten().collect();
    findings.retain(|f| !templated.judged_by(f));
    let slip_codes: Vec<&str> = rules.iter().filter(|r| r.slip).map(|r| r.code.as_str()).collect();
    slips::fold(&mut findings, |code| slip_codes.contains(&code));
    let mut notes = templated.notes(ws);
    if rules.iter().any(|r| r.code.starts_with("XFP")) {
        let join = resolved.join();
        let why = match (join.sites.is_empty(), join.listeners.is_empty(), ws.nginx.is_empty()) {
            (false, true, _) => Some("the linted tree has `fastcgi_pass` but no PHP-FPM pool with a `listen`; lint the PHP-FPM configuration too"),
            (true, false, true) => Some("the linted tree has PHP-FPM pools but no nginx configuration; lint the nginx configuration too"),
            (true, false, false) => Some("the nginx configuration has no `fastcgi_pass` to an address or upstream"),
            _ => None,
        };
        notes.extend(why.map(|w| Note { path: String::new(), message: format!("nginx ↔ PHP-FPM rules (XFP) not checked: {w}") }));
    }
    Ok(Run { findings, notes })
}
