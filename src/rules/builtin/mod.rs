//! Checks written in Rust, named by the `check.builtin` key of their rule file.

mod arrays;
mod cross;
mod fastcgi;
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

/// The check named `name`; `workspace` (structural findings made while reading) has none.
pub fn get(name: &str) -> Option<CheckFn> {
    Some(match name {
        "fastcgi_read_timeout_low" => timeouts::fastcgi_read_timeout_low,
        "proxy_read_timeout_low" => timeouts::proxy_read_timeout_low,
        "required_missing" => pools::required_missing,
        "pm_spare_invalid" => pools::pm_spare_invalid,
        "max_children_undersized" => pools::max_children_undersized,
        "max_children_oversized" => pools::max_children_oversized,
        "process_max_below_children" => pools::process_max_below_children,
        "duplicate_directive" => pool_files::duplicate_directive,
        "unknown_directive" => pool_values::unknown_directive,
        "invalid_value" => pool_values::invalid_value,
        "slowlog_invalid" => pool_files::slowlog_invalid,
        "duplicate_listen" => pool_files::duplicate_listen,
        "socket_owner_missing" => sockets::socket_owner_missing,
        "fastcgi_pass_no_listener" => cross::fastcgi_pass_no_listener,
        "read_timeout_below_terminate" => cross::read_timeout_below_terminate,
        "socket_permission_denied" => cross::socket_permission_denied,
        "localhost_ambiguity" => cross::localhost_ambiguity,
        "keepalive_pins_children" => cross::keepalive_pins_children,
        "allowed_clients_excludes_nginx" => cross::allowed_clients_excludes_nginx,
        "limit_req_no_burst" => limit_req::limit_req_no_burst,
        "limit_req_burst_small" => limit_req::limit_req_burst_small,
        "limit_req_status_default" => limit_req::limit_req_status_default,
        "limit_zone_undefined" => limit_req::limit_zone_undefined,
        "limit_req_zone_invalid" => limit_req::limit_req_zone_invalid,
        "limit_req_bypassed" => limit_req::limit_req_bypassed,
        "fastcgi_script_filename_missing" => fastcgi::fastcgi_script_filename_missing,
        "array_directive_overrides_parent" => arrays::array_directive_overrides_parent,
        "connect_timeout_too_high" => upstreams::connect_timeout_too_high,
        "timeout_unit_slip" => upstreams::timeout_unit_slip,
        "pass_target_undefined" => upstreams::pass_target_undefined,
        "variable_pass_without_resolver" => upstreams::variable_pass_without_resolver,
        "upstream_keepalive_ineffective" => upstreams::upstream_keepalive_ineffective,
        "upstream_no_live_server" => upstreams::upstream_no_live_server,
        "buffers_invalid" => upstreams::buffers_invalid,
        "worker_rlimit_nofile_low" => upstreams::worker_rlimit_nofile_low,
        "validation_refused" => validation::validation_refused,
        _ => return None,
    })
}
