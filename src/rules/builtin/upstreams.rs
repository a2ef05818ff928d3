//! Upstream targets, timeouts' units, buffers and worker limits: NGX103, NGX104, NGX110–
//! NGX114, NGX401.

use crate::effective::nginx::Placed;
use crate::effective::values::{parse_size, parse_time, Millis, TimeKind};
use crate::finding::{Applicability, Finding, Severity};
use crate::fpm::directives::edit_distance;
use crate::rules::context::RuleContext;
use crate::rules::edit;
use crate::workspace::Context;

/// Every directive `name` in the workspace, with its scope.
/// NGX103: a connect timeout above what the kernel waits for a TCP handshake.
pub fn connect_timeout_too_high(cx: &RuleContext, out: &mut Vec<Finding>) {
    // Linux's SYN retries (`tcp_syn_retries = 6`) end a connect after 1+2+…+64 = 127s;
    // below that nginx's own timer fires first (a 504, as configured).
    let limit = Millis::secs(127);
    for name in ["fastcgi_connect_timeout", "proxy_connect_timeout"] {
        for (_, p) in cx.nginx().named(name) {
            let Some(v) = p.arg(0).and_then(|v| parse_time(v, TimeKind::Msec)) else { continue };
            if v > limit {
                out.push(
                    cx.finding(p.arg_location(0), format!("{name} {v}: the kernel gives up on a TCP connect first (after 127s on Linux, 75s on BSD), so a dead backend ends in 502 `connect() failed (110: Connection timed out)`, not this timeout"))
                        .with_fix(edit::fix(Applicability::Unsafe, "set 75s", vec![edit::replace_arg(p, 0, "75s")])),
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
            // A time nginx reads on second-valued directives but refuses here: only `y`/`M`
            // make the difference (anything else unreadable is not a unit slip).
            if parse_time(v, TimeKind::Msec).is_none() && parse_time(v, TimeKind::Sec).is_some() {
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
            // A snippet linted without its nginx.conf may use upstreams defined there, and so
            // may a tree whose http{} includes files that were not read or holds a template
            // placeholder that swallows what follows it.
            if cx.nginx().main_of(scope).is_none() || super::limit_req::tree_has_unknown_include(cx, scope) {
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
/// An IPv4 or bracketed IPv6 address, with or without a port: nginx needs no resolver.
fn is_address(host: &str) -> bool {
    let bare = host.strip_prefix("unix:").map(|_| "").unwrap_or(host);
    if bare.is_empty() || bare.starts_with('[') {
        return true;
    }
    let ip = bare.rsplit_once(':').map_or(bare, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { bare });
    ip.parse::<std::net::Ipv4Addr>().is_ok()
}

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
            // Request-controlled variables never name an upstream on purpose. The Host is a
            // name; an argument or another header may just as well carry an address, which
            // needs no resolver.
            let host_name = ["$host", "$http_host", "$server_name"].iter().any(|v| host.contains(v));
            let request_var = host_name || ["$http_", "$arg_"].iter().any(|v| host.contains(v));
            // `set $backend api.example.com;` in effect: a host name that needs resolving.
            let set_host = host.split('$').nth(1).map(|v| v.trim_matches(|c| c == '{' || c == '}').split([':', '/']).next().unwrap_or("")).and_then(|var| {
                cx.nginx().chain(scope).find_map(|s| cx.nginx().here(s, "set").find(|d| d.arg(0) == Some(&format!("${var}"))).and_then(|d| d.arg(1).map(str::to_string)))
            });
            let needs_dns = set_host.as_deref().is_some_and(|v| v.contains('.') && !v.contains('$') && !is_address(v) && cx.nginx().upstream(scope, v).is_none());
            // A variable the configuration `set`s is judged by its value only (`set $host $2`
            // is not the request's Host).
            let (host_name, request_var) = if set_host.is_some() { (false, false) } else { (host_name, request_var) };
            if host_name || needs_dns {
                out.push(cx.finding(
                    p.arg_location(0),
                    format!("{pass} {target} resolves its host at request time, and no `resolver` is in effect: nginx logs `no resolver defined to resolve …` and answers 502 Bad Gateway"),
                ).with_help("add `resolver 127.0.0.53 valid=30s;` (your DNS server) at the http or server level, or pass to an `upstream` block"));
            } else if request_var {
                let mut f = cx.finding(
                    p.arg_location(0),
                    format!("{pass} {target} takes its host from the request, and no `resolver` is in effect: a request whose value is a host name (not an IP address) gets 502 Bad Gateway (`no resolver defined to resolve …`)"),
                );
                f.severity = Severity::Warning;
                out.push(f.with_help("add `resolver 127.0.0.53 valid=30s;` (your DNS server) at the http or server level, or pass to an `upstream` block"));
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
            // Lines the fix writes: the missing ones, and the inherited headers that must
            // come along when a `proxy_set_header` is added at this level.
            let mut lines = Vec::new();
            // Why there is no fix, when there is none.
            let mut no_fix = None;
            if pass == "fastcgi_pass" {
                if !effective("fastcgi_keep_conn").is_some_and(|v| v.eq_ignore_ascii_case("on")) {
                    missing.push("fastcgi_keep_conn on;".to_string());
                    if pins_children(cx, p, keepalive) {
                        no_fix = Some("with `fastcgi_keep_conn on` the idle connections kept by `keepalive` would hold every PHP-FPM worker of the pool (XFP005): lower `keepalive` first");
                    }
                }
            } else {
                if effective("proxy_http_version").as_deref() != Some("1.1") {
                    missing.push("proxy_http_version 1.1;".to_string());
                }
                let headers = view.effective_array(scope, "proxy_set_header").map(|(_, v)| v).unwrap_or_default();
                if !headers.iter().any(|h| h.arg(0).is_some_and(|n| n.eq_ignore_ascii_case("connection")) && h.arg(1) == Some("")) {
                    missing.push("proxy_set_header Connection \"\";".to_string());
                    match super::arrays::inherited_for_addition(cx, scope, "proxy_set_header", "Connection") {
                        Some(inherited) => lines.extend(inherited),
                        None => no_fix = Some("a `Connection` header set for this location (for WebSocket upgrades?) keeps connections from being reused; use a `map` that sends an empty Connection header for plain requests"),
                    }
                }
            }
            if missing.is_empty() || !seen.insert(p.location()) {
                continue;
            }
            // `proxy_set_header`, `proxy_http_version` and `fastcgi_keep_conn` are not
            // allowed inside `if`.
            if view.block_name(scope) != Some("location") {
                no_fix = no_fix.or(Some("the pass is inside a block where these directives are not allowed: add them to the enclosing location"));
            }
            lines.extend(missing.iter().cloned());
            let mut f = cx
                .finding(
                    p.arg_location(0),
                    format!("upstream `{name}` has `keepalive`, but this location lacks `{}`: every request opens a new connection", missing.iter().map(|m| m.trim_end_matches(';')).collect::<Vec<_>>().join("` and `")),
                )
                .with_related(keepalive.location(), "keepalive");
            let assumes = "assumes nginx < 1.29.7 (Debian 12 ships 1.22), where HTTP/1.0 and `Connection: close` are the proxy defaults";
            match no_fix {
                Some(why) => f = f.with_help(format!("{assumes}; {why}")),
                None => {
                    f = f.with_help(assumes);
                    let src = cx.ws.source(p.file);
                    f = f.with_fix(edit::fix(Applicability::Unsafe, format!("add {}", missing.join(" ")), vec![edit::insert_lines_before(src, p.location(), &lines)]));
                }
            }
            out.push(f);
        }
    }
}

/// Would `fastcgi_keep_conn on` at this `fastcgi_pass` let the upstream's idle cached
/// connections hold every worker of a pool it reaches (XFP005's finding)?
fn pins_children(cx: &RuleContext, pass: Placed, keepalive: Placed) -> bool {
    let Some(n) = keepalive.arg(0).and_then(|v| v.parse::<i64>().ok()) else { return false };
    let join = cx.join();
    let Some(site) = join.sites.iter().find(|s| s.pass.location() == pass.location()) else { return false };
    let workers = cx.nginx().main_directive(site.scope, "worker_processes").and_then(|p| p.arg(0)).and_then(|v| v.parse::<i64>().ok()).unwrap_or(1);
    join.reached(site).iter().any(|l| l.pool.int(crate::pool_key!("pm.max_children")).is_some_and(|c| c > 0 && n * workers >= c))
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
                // A count of 0 or a size nginx cannot read is refused as the value it is
                // (NGX005's "invalid value"); a single buffer passes that and fails the merge.
                let (Some(n), Some(size)) = (p.arg(0).and_then(|n| n.parse::<u64>().ok()), p.arg(1)) else { continue };
                if n == 0 || parse_size(size).is_none() {
                    continue;
                }
                if n == 1 {
                    out.push(error(cx.finding(p.arg_location(0), format!("{buffers} {n} {size}: nginx refuses the configuration (there must be at least 2 \"{buffers}\")"))));
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

/// The soft RLIMIT_NOFILE a service gets when nothing raises it (systemd's default, and
/// what a login shell and most container runtimes give).
const DEFAULT_NOFILE: u64 = 1024;

/// A shortfall of at most this many descriptors costs only the last few connections of a
/// fully loaded worker (1024 connections and two log files at the default limit): info.
const SMALL_SHORTFALL: u64 = 32;

/// NGX401: the descriptors a worker needs — `worker_connections` (which already counts
/// the upstream side of proxied requests) plus the log files and cached open files the
/// tree names — against the limit it really has: `worker_rlimit_nofile`, else the default
/// soft limit.
pub fn worker_rlimit_nofile_low(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    for &top in &view.tops {
        if view.scope(top).context != Context::Main {
            continue;
        }
        let connections_at = view.events_directive(top, "worker_connections");
        let Some(connections) = connections_at.map_or(Some(512), |p| p.arg(0).and_then(|v| v.parse::<u64>().ok())) else { continue };
        let rlimit = view.first_here(top, "worker_rlimit_nofile");
        let limit = match rlimit {
            Some(p) => match p.arg(0).and_then(|v| v.parse::<u64>().ok()) {
                Some(v) => v,
                None => continue,
            },
            None => DEFAULT_NOFILE,
        };
        // Log files are opened once and held by every worker; paths with variables are
        // opened per request and not counted.
        let mut logs: Vec<&str> = ["error_log", "access_log"]
            .iter()
            .flat_map(|d| view.all_in_tree(top, d))
            .filter_map(|(_, p)| p.arg(0))
            .filter(|a| !matches!(*a, "off" | "stderr") && !a.contains('$') && !a.starts_with("syslog:") && !a.starts_with("memory:"))
            .collect();
        logs.sort_unstable();
        logs.dedup();
        let cached = view
            .all_in_tree(top, "open_file_cache")
            .into_iter()
            .filter_map(|(_, p)| p.directive.args.iter().find_map(|a| a.value.strip_prefix("max=")).and_then(|m| m.parse::<u64>().ok()))
            .max()
            .unwrap_or(0);
        let needed = connections + logs.len() as u64 + cached;
        if needed <= limit {
            continue;
        }
        let mut parts = vec![format!("{connections} worker_connections, client and upstream together")];
        if !logs.is_empty() {
            parts.push(format!("{} log file{}", logs.len(), if logs.len() == 1 { "" } else { "s" }));
        }
        if cached > 0 {
            parts.push(format!("open_file_cache max={cached}"));
        }
        let has = match rlimit {
            Some(_) => format!("worker_rlimit_nofile is {limit}"),
            None => format!("worker_rlimit_nofile is not set, so workers keep the process's soft limit (assumed {DEFAULT_NOFILE}, the default for services)"),
        };
        let at = connections_at.map(|p| p.arg_location(0)).or(rlimit.map(|p| p.arg_location(0))).or(view.scope(top).directives.first().map(|p| p.location()));
        let Some(at) = at else { continue };
        // Never below the limit in effect; a round number with room above the need.
        let want = needed.div_ceil(1024) * 1024;
        let edits = match rlimit {
            Some(p) => vec![edit::replace_arg(p, 0, want.to_string())],
            None => {
                let Some(anchor) = view.first_here(top, "worker_processes").or_else(|| view.scope(top).directives.first().copied()) else { continue };
                vec![edit::insert_line_after(cx.ws.source(anchor.file), anchor.location(), &format!("worker_rlimit_nofile {want};"))]
            }
        };
        let short = needed - limit;
        let errors = "`socket() failed (24: Too many open files)` or `accept4() failed (24: Too many open files)`";
        let impact = if short <= SMALL_SHORTFALL {
            format!("only a fully loaded worker runs short, by {short}: its last connections fail with {errors} (500)")
        } else {
            format!("under load nginx logs {errors} and requests fail with 500")
        };
        let mut f = cx.finding(at, format!("each worker may need {needed} file descriptors ({}) but {has}: {impact}", parts.join("; ")));
        if short <= SMALL_SHORTFALL {
            f.severity = Severity::Info;
        }
        if let Some(p) = rlimit {
            f = f.with_related(p.location(), "the limit in effect");
        }
        out.push(f.with_fix(edit::fix(Applicability::Unsafe, format!("set worker_rlimit_nofile {want}"), edits)));
    }
}
register!(worker_rlimit_nofile_low);
