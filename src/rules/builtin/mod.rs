//! Checks written in Rust, named by the `check.builtin` key of their rule file.

/// Register a check function under its own name (before the modules, which use it).
macro_rules! register {
    ($check:ident) => {
        inventory::submit! { $crate::rules::builtin::Check { name: stringify!($check), run: $check } }
    };
}

mod arrays;
mod cross;
pub mod directives;
mod fastcgi;
mod fpm_startup;
mod limit_req;
mod pool_files;
mod pool_values;
mod pools;
pub(crate) mod sockets;
mod timeouts;
mod upstreams;
pub mod validation;

use super::context::RuleContext;
use crate::finding::Finding;

pub type CheckFn = fn(&RuleContext, &mut Vec<Finding>);

/// A check and the name a rule file gives it in `check.builtin`. Each check registers
/// itself next to its definition (`register!`), so a new rule is its TOML file, one
/// function and its fixtures.
pub struct Check {
    pub name: &'static str,
    pub run: CheckFn,
}

inventory::collect!(Check);

/// Every registered check.
pub fn all() -> impl Iterator<Item = &'static Check> {
    inventory::iter::<Check>.into_iter()
}

/// The check named `name`; `workspace` (structural findings made while reading) has none.
pub fn get(name: &str) -> Option<CheckFn> {
    all().find(|c| c.name == name).map(|c| c.run)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_check_belongs_to_exactly_one_rule_and_every_rule_finds_its_check() {
        let rules = crate::rules::all();
        for check in super::all() {
            let users: Vec<_> = rules.iter().filter(|r| r.check.builtin.as_deref() == Some(check.name)).map(|r| r.code.as_str()).collect();
            assert_eq!(users.len(), 1, "check `{}` is used by {users:?}", check.name);
        }
        for rule in rules {
            if let Some(name) = rule.check.builtin.as_deref() {
                assert!(name == crate::rules::WORKSPACE_CHECK || super::get(name).is_some(), "{}: no check `{name}`", rule.code);
            }
        }
    }
}
