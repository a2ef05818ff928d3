//! Upstream targets, timeouts' units, buffers and worker limits: NGX103, NGX104, NGX110–
//! NGX114, NGX401.

use crate::effective::nginx::Placed;
use crate::effective::values::{parse_size, parse_time, Millis, TimeKind};
use crate::finding::{Applicability, Edit, Finding, Severity};
use crate::fpm::directives::edit_distance;
use crate::rules::context::RuleContext;
use crate::rules::edit;
use crate::workspace::Context;

/// Every directive `name` in the workspace, with its scope.
/// NGX103: a connect timeout above what the kernel waits for a TCP handshake.
pub fn connect_timeout_too_high(cx: &RuleContext, out: &mut Vec<Finding>) {
    let limit = Millis::secs(75);
    for name in ["fastcgi_connect_timeout", "proxy_connect_timeout"] {
        for (_, p) in cx.nginx().named(name) {
            let Some(v) = p.arg(0).and_then(|v| parse_time(v, TimeKind::Msec)) else { continue };
            if v > limit {
                out.push(
                    cx.finding(p.arg_location(0), format!("{name} {v}: the kernel gives up on a TCP connect first (about 75s on BSD, 127s on Linux), so a dead backend ends in 502 `connect() failed (110: Connection timed out)`, not this timeout"))
                        .with_fix(edit::fix(Applicability::Safe, "set 75s", vec![edit::replace_arg(p, 0, "75s")])),
                );
            }
        }
    }
}
register!(connect_timeout_too_high);

const MSEC_TIMEOUTS: &[&str] = &[
    "fastcgi_read_timeout", "fastcgi_send_timeout", "fastcgi_connect_timeout", "proxy_read_timeout", "proxy_send_timeout", "proxy_connect_timeout",
    "uwsgi_read_timeout", "scgi_read_timeout", "grpc_read_timeout", "client_body_timeout", "client_header_timeout", "send_timeout", "keepalive_timeout",
];

/// NGX104: time units that mean something else than written, or that nginx refuses.
pub fn timeout_unit_slip(cx: &RuleContext, out: &mut Vec<Finding>) {
    for &name in MSEC_TIMEOUTS {
        for (_, p) in cx.nginx().named(name) {
            let Some(v) = p.arg(0) else { continue };
            if v.contains('y') || v.contains('M') {
                let mut f = cx.finding(p.arg_location(0), format!("{name} {v}: `y` and `M` are not allowed on millisecond timeouts; nginx refuses the configuration (\"{name}\" directive invalid value)"));
                f.severity = Severity::Error;
                out.push(f.with_help("write days: `30d`"));
            } else if let Some(ms) = v.strip_suffix("ms").and_then(|n| n.parse::<u64>().ok()).filter(|ms| *ms < 1000) {
                if name.ends_with("read_timeout") || name.ends_with("send_timeout") {
                    out.push(cx.finding(
                        p.arg_location(0),
                        format!("{name} {v} is {ms} milliseconds: every response slower than that ends in 504 Gateway Timeout (meant {ms}s?)"),
                    ));
                }
            }
        }
    }
    for (_, p) in cx.nginx().named("server") {
        for (i, a) in p.directive.args.iter().enumerate().skip(1) {
            if let Some(v) = a.value.strip_prefix("fail_timeout=") {
                if v.ends_with("ms") || parse_time(v, TimeKind::Sec).is_none() {
                    let mut f = cx.finding(p.arg_location(i), format!("fail_timeout={v}: seconds only, nginx refuses the configuration (invalid parameter \"fail_timeout={v}\")"));
                    f.severity = Severity::Error;
                    out.push(f);
                }
            }
        }
    }
}
register!(timeout_unit_slip);

/// The host part of a `*_pass` target, if it is a bare name (no port, dot, variable, unix:).
fn bare_name(pass: &str, target: &str) -> Option<String> {
    if target.contains('$') || target.starts_with("unix:") {
        return None;
    }
    let host = if pass == "proxy_pass" {
        let rest = target.split_once("://")?.1;
        rest.split(['/', '?']).next()?
    } else {
        target
    };
    (!host.is_empty() && !host.contains(':') && !host.contains('.') && !host.starts_with('[')).then(|| host.to_string())
}

/// NGX110: a pass target that names no upstream and no resolvable host.
pub fn pass_target_undefined(cx: &RuleContext, out: &mut Vec<Finding>) {
    for pass in ["fastcgi_pass", "proxy_pass"] {
        for (scope, p) in cx.nginx().named(pass) {
            let Some(target) = p.arg(0) else { continue };
            let Some(name) = bare_name(pass, target) else { continue };
            if cx.nginx().upstream(scope, &name).is_some() || (pass == "proxy_pass" && name == "localhost") {
                continue;
            }
            // A snippet linted without its nginx.conf may use upstreams defined there.
            if cx.nginx().main_of(scope).is_none() {
                continue;
            }
            let message = if pass == "fastcgi_pass" {
                format!("fastcgi_pass {target}: no `upstream {name}` and no port; nginx refuses the configuration (no port in upstream \"{name}\")")
            } else {
                format!("proxy_pass {target}: no `upstream {name}`, and `{name}` is not a resolvable host name; nginx refuses the configuration (host not found in upstream \"{name}\")")
            };
            let mut close: Vec<(usize, &str)> = cx.nginx().upstreams(scope).keys().map(|u| (edit_distance(&name, u), *u)).filter(|(d, _)| *d <= 2).collect();
            close.sort();
            // A bare proxy_pass host may be a container or /etc/hosts name that resolves at
            // startup; only a near-miss of an upstream name is a sure mistake.
            if pass == "proxy_pass" && close.is_empty() {
                continue;
            }
            let mut f = cx.finding(p.arg_location(0), message);
            if let Some((_, best)) = close.first() {
                f = f.with_help(format!("did you mean the upstream `{best}`?"));
                if close.len() == 1 {
                    let fixed = target.replacen(&name, best, 1);
                    f = f.with_fix(edit::fix(Applicability::Unsafe, format!("pass to `{best}`"), vec![edit::replace_arg(p, 0, fixed)]));
                }
            }
            out.push(f);
        }
    }
}
register!(pass_target_undefined);

/// NGX111: a variable target that is not an upstream name, with no resolver in effect.
pub fn variable_pass_without_resolver(cx: &RuleContext, out: &mut Vec<Finding>) {
    for pass in ["fastcgi_pass", "proxy_pass"] {
        for (scope, p) in cx.nginx().named(pass) {
            let Some(target) = p.arg(0) else { continue };
            let authority = target.split_once("://").map_or(target, |(_, r)| r).split(['/', '?']).next().unwrap_or("");
            // The host ends at the port; a variable made of a variable name stops there too.
            let host = authority.split(':').next().unwrap_or("");
            if !host.contains('$') || cx.nginx().effective(scope, "resolver").is_some() {
                continue;
            }
            // Request-controlled variables never name an upstream on purpose.
            let request_var = ["$host", "$http_", "$arg_", "$server_name"].iter().any(|v| host.contains(v));
            // `set $backend api.example.com;` in effect: a host name that needs resolving.
            let set_host = host.split('$').nth(1).map(|v| v.trim_matches(|c| c == '{' || c == '}').split([':', '/']).next().unwrap_or("")).and_then(|var| {
                cx.nginx().chain(scope).find_map(|s| cx.nginx().here(s, "set").find(|d| d.arg(0) == Some(&format!("${var}"))).and_then(|d| d.arg(1).map(str::to_string)))
            });
            let needs_dns = set_host.as_deref().is_some_and(|v| v.contains('.') && !v.contains('$') && cx.nginx().upstream(scope, v).is_none());
            if request_var || needs_dns {
                out.push(cx.finding(
                    p.arg_location(0),
                    format!("{pass} {target} resolves its host at request time, and no `resolver` is in effect: nginx logs `no resolver defined to resolve …` and answers 502 Bad Gateway"),
                ).with_help("add `resolver 127.0.0.53 valid=30s;` (your DNS server) at the http or server level, or pass to an `upstream` block"));
            }
        }
    }
}
register!(variable_pass_without_resolver);

/// NGX113: an upstream nothing can be sent to.
pub fn upstream_no_live_server(cx: &RuleContext, out: &mut Vec<Finding>) {
    for id in cx.nginx().ids().filter(|&s| cx.nginx().scope(s).context == Context::Upstream) {
        let Some(block) = cx.nginx().scope(id).block else { continue };
        let name = block.arg(0).unwrap_or("");
        let servers: Vec<Placed> = cx.nginx().here(id, "server").collect();
        let has_zone_or_template = cx.nginx().here(id, "zone").next().is_some();
        if servers.is_empty() && !has_zone_or_template {
            out.push(cx.finding(block.location(), format!("upstream {name} has no `server`: nginx refuses the configuration (no servers are inside upstream)")));
            continue;
        }
        let live = servers.iter().any(|s| !s.directive.args.iter().skip(1).any(|a| a.value == "down" || a.value == "backup"));
        if !servers.is_empty() && !live {
            out.push(cx.finding(block.location(), format!("every server of upstream {name} is `down` or `backup`: nginx logs `no live upstreams while connecting to upstream` and answers 502 Bad Gateway")));
        }
    }
}
register!(upstream_no_live_server);

/// NGX112: upstream `keepalive` that never keeps anything alive.
pub fn upstream_keepalive_ineffective(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    for id in view.ids().filter(|&s| view.scope(s).context == Context::Upstream) {
        let Some(keepalive) = view.first_here(id, "keepalive") else { continue };
        let directives = &view.scope(id).directives;
        let at = directives.iter().position(|d| d.location() == keepalive.location()).unwrap_or(0);
        if let Some(balancer) = directives[at..].iter().find(|d| matches!(d.name(), "least_conn" | "hash" | "ip_hash" | "random")) {
            out.push(
                cx.finding(keepalive.location(), format!("`keepalive` before `{}`: the balancing method replaces it and connections are silently not kept (nginx < 1.29.7 warns `load balancing method redefined`)", balancer.name()))
                    .with_related(balancer.location(), "the balancing method"),
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    for pass in ["proxy_pass", "fastcgi_pass"] {
        for (scope, p) in cx.nginx().named(pass) {
            let Some(target) = p.arg(0) else { continue };
            let name = if pass == "proxy_pass" { target.split_once("://").map_or(target, |(_, r)| r).split(['/', '?']).next().unwrap_or("") } else { target };
            let Some(up) = view.upstream(scope, name) else { continue };
            let Some(keepalive) = view.first_here(up, "keepalive") else { continue };
            let effective = |n: &str| view.effective(scope, n).and_then(|(_, d)| d.arg(0).map(str::to_string));
            let mut missing = Vec::new();
            if pass == "fastcgi_pass" {
                if !effective("fastcgi_keep_conn").is_some_and(|v| v.eq_ignore_ascii_case("on")) {
                    missing.push("fastcgi_keep_conn on;".to_string());
                }
            } else {
                if effective("proxy_http_version").as_deref() != Some("1.1") {
                    missing.push("proxy_http_version 1.1;".to_string());
                }
                let headers = view.effective_array(scope, "proxy_set_header").map(|(_, v)| v).unwrap_or_default();
                if !headers.iter().any(|h| h.arg(0).is_some_and(|n| n.eq_ignore_ascii_case("connection")) && h.arg(1) == Some("")) {
                    missing.push("proxy_set_header Connection \"\";".to_string());
                }
            }
            if missing.is_empty() || !seen.insert(p.location()) {
                continue;
            }
            let src = cx.ws.source(p.file);
            let edits: Vec<Edit> = missing.iter().map(|line| edit::insert_line_before(src, p.location(), line)).collect();
            out.push(
                cx.finding(
                    p.arg_location(0),
                    format!("upstream `{name}` has `keepalive`, but this location lacks `{}`: every request opens a new connection", missing.iter().map(|m| m.trim_end_matches(';')).collect::<Vec<_>>().join("` and `")),
                )
                    .with_related(keepalive.location(), "keepalive")
                    .with_help("assumes nginx < 1.29.7 (Debian 12 ships 1.22), where HTTP/1.0 and `Connection: close` are the proxy defaults")
                    .with_fix(edit::fix(Applicability::Safe, format!("add {}", missing.join(" ")), edits)),
            );
        }
    }
}
register!(upstream_keepalive_ineffective);

/// NGX114: buffer settings nginx refuses, and header buffers too small for PHP's headers.
pub fn buffers_invalid(cx: &RuleContext, out: &mut Vec<Finding>) {
    let mut reported = std::collections::BTreeSet::new();
    for kind in ["fastcgi", "proxy"] {
        let buffers = format!("{kind}_buffers");
        let buffer_size = format!("{kind}_buffer_size");
        let busy = format!("{kind}_busy_buffers_size");
        for id in cx.nginx().ids() {
            let error = |f: Finding| {
                let mut f = f;
                f.severity = Severity::Error;
                f
            };
            if let Some(p) = cx.nginx().first_here(id, &buffer_size) {
                match p.arg(0) {
                    Some(v) if v.to_ascii_lowercase().ends_with('g') => out.push(error(cx.finding(p.arg_location(0), format!("{buffer_size} {v}: sizes take only k or m; nginx refuses the configuration (\"{buffer_size}\" directive invalid value)")))),
                    Some(v) => {
                        if let Some(size) = parse_size(v).filter(|s| *s < 4096) {
                            out.push(cx.finding(p.arg_location(0), format!("{buffer_size} {v} ({size} bytes): response headers larger than that (cookies, CSP) end in 502 `upstream sent too big header`")));
                        }
                    }
                    None => {}
                }
            }
            if let Some(p) = cx.nginx().first_here(id, &buffers) {
                let (Some(n), Some(size)) = (p.arg(0).and_then(|n| n.parse::<u64>().ok()), p.arg(1)) else { continue };
                if n < 2 {
                    out.push(error(cx.finding(p.arg_location(0), format!("{buffers} {n} {size}: nginx refuses the configuration (there must be at least 2 \"{buffers}\")"))));
                    continue;
                }
                if parse_size(size).is_none() {
                    out.push(error(cx.finding(p.arg_location(1), format!("{buffers} {n} {size}: not a size nginx reads (k or m only)"))));
                    continue;
                }
            }
            // The merge nginx does for every server and location, with its defaults
            // (8 buffers of a page, a page of header buffer, busy = 2 × the larger).
            if !matches!(cx.nginx().scope(id).context, Context::Server | Context::Location) || in_stream(cx.nginx(), id) {
                continue;
            }
            let eff = |name: &str| cx.nginx().effective(id, name).map(|(_, p)| p);
            let (set_buffers, set_header, set_busy) = (eff(&buffers), eff(&buffer_size), eff(&busy));
            if set_buffers.is_none() && set_header.is_none() && set_busy.is_none() && eff(&format!("{kind}_temp_file_write_size")).is_none() {
                continue;
            }
            let (n, one) = match set_buffers.map(|p| (p.arg(0).and_then(|n| n.parse::<u64>().ok()), p.arg(1).and_then(parse_size))) {
                Some((Some(n), Some(one))) if n >= 2 => (n, one),
                Some(_) => continue,
                None => (8, 4096),
            };
            let Some(header) = set_header.map_or(Some(4096), |p| p.arg(0).and_then(parse_size)) else { continue };
            let largest = header.max(one);
            let Some(busy_size) = set_busy.map_or(Some(2 * largest), |p| p.arg(0).and_then(parse_size)) else { continue };
            let temp = format!("{kind}_temp_file_write_size");
            let temp_small = eff(&temp).and_then(|p| p.arg(0).and_then(parse_size).filter(|&t| t < largest).map(|_| p));
            if let Some(p) = temp_small {
                if reported.insert(p.location()) {
                    out.push(error(cx.finding(p.location(), format!("\"{temp}\" must be equal to or greater than the maximum of the value of \"{buffer_size}\" and one of the \"{buffers}\": nginx refuses the configuration"))));
                }
            }
            let message = if busy_size < largest {
                format!("\"{busy}\" must be equal to or greater than the maximum of the value of \"{buffer_size}\" and one of the \"{buffers}\": nginx refuses the configuration")
            } else if busy_size > (n - 1) * one {
                let why = if set_busy.is_some() { String::new() } else { format!(" ({busy} defaults to twice the larger of {buffer_size} and one buffer: {}k)", busy_size / 1024) };
                format!("\"{busy}\" must be less than the size of all \"{buffers}\" minus one buffer{why}: nginx refuses the configuration")
            } else {
                continue;
            };
            let Some(at) = set_busy.or(set_buffers).or(set_header) else { continue };
            if reported.insert(at.location()) {
                out.push(error(cx.finding(at.location(), message)));
            }
        }
    }
}

/// A scope inside `stream {}` (whose proxy buffers have no busy size).
fn in_stream(view: &crate::effective::nginx::NginxView, id: crate::effective::nginx::ScopeId) -> bool {
    std::iter::successors(Some(id), |&s| view.scope(s).parent).any(|s| view.block_name(s) == Some("stream") || view.scope(s).context == Context::Stream)
}
register!(buffers_invalid);

/// NGX401: each proxied request holds two connections, so the open-file limit must cover
/// twice `worker_connections`.
pub fn worker_rlimit_nofile_low(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    for &top in &view.tops {
        if view.scope(top).context != Context::Main {
            continue;
        }
        let proxies = view.tree_of(top).iter().any(|&s| view.first_here(s, "proxy_pass").is_some() || view.first_here(s, "fastcgi_pass").is_some());
        if !proxies {
            continue;
        }
        let connections = view.events_directive(top, "worker_connections").and_then(|p| p.arg(0)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(512);
        let want = connections * 2;
        let current = view.first_here(top, "worker_rlimit_nofile");
        let value = current.and_then(|p| p.arg(0)).and_then(|v| v.parse::<u64>().ok());
        if value.is_some_and(|v| v >= want) {
            continue;
        }
        let (at, edits) = match current {
            Some(p) => (p.arg_location(0), vec![edit::replace_arg(p, 0, want.to_string())]),
            None => {
                let anchor = view.first_here(top, "worker_processes").or_else(|| view.scope(top).directives.first().copied());
                let Some(anchor) = anchor else { continue };
                (anchor.location(), vec![edit::insert_line_after(cx.ws.source(anchor.file), anchor.location(), &format!("worker_rlimit_nofile {want};"))])
            }
        };
        let now = value.map_or("unset (the process's own limit, often 1024)".to_string(), |v| v.to_string());
        out.push(
            cx.finding(at, format!("worker_rlimit_nofile is {now} but {connections} worker_connections need {want} files when proxying (client + upstream): nginx logs `Too many open files` and requests fail with 500/502"))
                .with_fix(edit::fix(Applicability::Safe, format!("set worker_rlimit_nofile {want}"), edits)),
        );
    }
}
register!(worker_rlimit_nofile_low);
