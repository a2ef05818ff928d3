//! Checks written in Rust, named by the `check.builtin` key of their rule file.

mod timeouts;
// NGX2xx, NGX3xx
mod arrays;
mod fastcgi;
mod limit_req;

use super::context::RuleContext;
use crate::finding::Finding;

pub type CheckFn = fn(&RuleContext, &mut Vec<Finding>);

/// The check named `name`; `workspace` (structural findings made while reading) has none.
pub fn get(name: &str) -> Option<CheckFn> {
    Some(match name {
        "fastcgi_read_timeout_low" => timeouts::fastcgi_read_timeout_low,
        "proxy_read_timeout_low" => timeouts::proxy_read_timeout_low,
        // NGX2xx, NGX3xx
        "limit_req_no_burst" => limit_req::limit_req_no_burst,
        "limit_req_burst_small" => limit_req::limit_req_burst_small,
        "limit_req_status_default" => limit_req::limit_req_status_default,
        "limit_zone_undefined" => limit_req::limit_zone_undefined,
        "limit_req_zone_invalid" => limit_req::limit_req_zone_invalid,
        "limit_req_bypassed" => limit_req::limit_req_bypassed,
        "fastcgi_script_filename_missing" => fastcgi::fastcgi_script_filename_missing,
        "array_directive_overrides_parent" => arrays::array_directive_overrides_parent,
        _ => return None,
    })
}
