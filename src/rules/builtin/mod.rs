//! Checks written in Rust, named by the `check.builtin` key of their rule file.

mod timeouts;

use super::context::RuleContext;
use crate::finding::Finding;

pub type CheckFn = fn(&RuleContext, &mut Vec<Finding>);

/// The check named `name`; `workspace` (structural findings made while reading) has none.
pub fn get(name: &str) -> Option<CheckFn> {
    Some(match name {
        "fastcgi_read_timeout_low" => timeouts::fastcgi_read_timeout_low,
        "proxy_read_timeout_low" => timeouts::proxy_read_timeout_low,
        _ => return None,
    })
}
