//! nginx ↔ PHP-FPM: XFP001–XFP006. Each finding names the other side in `related`.

use crate::effective::address::{Addr, Host};
use crate::fpm::numbers::fpm_time;
use crate::effective::join::{Listener, PassSite};
use crate::effective::values::{parse_time, Millis, TimeKind};
use crate::finding::{Applicability, Edit, Finding};
use crate::rules::builtin::sockets::nginx_user;
use crate::rules::context::RuleContext;
use crate::rules::edit;

/// How nginx spells an address in `fastcgi_pass`.
fn nginx_spelling(addr: &Addr) -> String {
    match addr {
        Addr::Unix(p) => format!("unix:{}", p.display()),
        Addr::Tcp { host: Host::Any, port } => format!("127.0.0.1:{port}"),
        other => other.to_string(),
    }
}

fn connect_error(addr: &Addr) -> String {
    match addr {
        Addr::Unix(p) => format!("connect() to unix:{} failed (2: No such file or directory)", p.display()),
        Addr::Tcp { .. } => "connect() failed (111: Connection refused)".into(),
    }
}

/// XFP001: a `fastcgi_pass` no pool listens on.
pub fn fastcgi_pass_no_listener(cx: &RuleContext, out: &mut Vec<Finding>) {
    let join = cx.join();
    if !join.possible() {
        return;
    }
    for site in &join.sites {
        if site.targets.is_empty() || !join.reached(site).is_empty() {
            continue;
        }
        let shown: Vec<String> = site.targets.iter().map(|(a, _)| nginx_spelling(a)).collect();
        let mut f = cx.finding(
            site.pass.arg_location(0),
            format!(
                "no PHP-FPM pool listens on {}: nginx logs `{}` and answers 502 Bad Gateway",
                shown.join(", "),
                connect_error(&site.targets[0].0)
            ),
        );
        for l in join.listeners.iter().take(5) {
            f = f.with_related(l.listen.value_location(), format!("{} listens on {}", l.describe(cx.ws), nginx_spelling(&l.addr)));
        }
        let mut distinct: Vec<&Addr> = join.listeners.iter().map(|l| &l.addr).collect();
        distinct.dedup();
        if let ([only], None) = (distinct.as_slice(), site.upstream) {
            f = f.with_fix(edit::fix(
                Applicability::Unsafe,
                format!("pass to {}", nginx_spelling(only)),
                vec![edit::replace_arg(site.pass, 0, nginx_spelling(only))],
            ));
        }
        out.push(f);
    }
}
register!(fastcgi_pass_no_listener);

/// The effective `fastcgi_read_timeout` at a site and where it is set.
fn read_timeout<'w>(cx: &RuleContext<'_, 'w>, site: &PassSite<'w>) -> (Millis, Option<crate::effective::nginx::Placed<'w>>) {
    match cx.nginx().effective(site.scope, "fastcgi_read_timeout") {
        Some((_, p)) => (p.arg(0).and_then(|v| parse_time(v, TimeKind::Msec)).unwrap_or(Millis::secs(60)), Some(p)),
        None => (Millis::secs(60), None),
    }
}

/// XFP002: nginx gives up before PHP is stopped (504), or PHP is killed while nginx still
/// waits (502).
pub fn read_timeout_below_terminate(cx: &RuleContext, out: &mut Vec<Finding>) {
    for site in &cx.join().sites {
        let (read, def) = read_timeout(cx, site);
        for l in cx.join().reached(site) {
            let Some(term) = l.pool.get(crate::pool_key!("request_terminate_timeout")) else { continue };
            let Some(secs) = fpm_time(&term.value.text).filter(|s| *s > 0) else { continue };
            let terminate = Millis::secs(secs as u64);
            let at = def.map_or(site.pass.location(), |d| d.arg_location(0));
            let pool = l.describe(cx.ws);
            if read < terminate {
                let line = format!("fastcgi_read_timeout {terminate};");
                let fix = match def {
                    Some(d) => vec![edit::replace_arg(d, 0, terminate.to_string())],
                    None => vec![edit::insert_line_before(cx.ws.source(site.pass.file), site.pass.location(), &line)],
                };
                out.push(
                    cx.finding(at, format!("nginx waits {read} for PHP but {pool} lets requests run {terminate}: slower requests end in 504 Gateway Timeout while PHP keeps working"))
                        .with_related(term.value_location(), format!("request_terminate_timeout of {pool}"))
                        .with_fix(edit::fix(Applicability::Safe, format!("raise fastcgi_read_timeout to {terminate}"), fix)),
                );
            } else if terminate < read {
                let mut f = cx.finding(
                    term.value_location(),
                    format!("{pool} kills requests after {terminate} while nginx waits {read}: they end in 502 (`recv() failed (104: Connection reset by peer)`) instead of a clean timeout"),
                );
                f.severity = crate::finding::Severity::Info;
                out.push(f.with_related(at, "fastcgi_read_timeout in effect"));
            }
        }
    }
}
register!(read_timeout_below_terminate);

/// XFP003: the pool's socket does not let nginx's user write to it.
pub fn socket_permission_denied(cx: &RuleContext, out: &mut Vec<Finding>) {
    let mut seen = Vec::new();
    for site in &cx.join().sites {
        let (user, group, known) = nginx_user(cx, Some(site.scope));
        for l in cx.join().reached(site) {
            if !matches!(l.addr, Addr::Unix(_)) || seen.contains(&l.listen.location) {
                continue;
            }
            if let Some(mut f) = socket_finding(cx, l, &user, &group, known) {
                if !known {
                    f.severity = crate::finding::Severity::Warning;
                    f = f.with_help("nginx's user is not set in the linted nginx.conf: assuming Debian's www-data (set `[host] nginx-user` in conflint.toml)");
                }
                seen.push(l.listen.location);
                out.push(f.with_related(site.pass.arg_location(0), format!("nginx ({user}) connects here")));
            }
        }
    }
}
register!(socket_permission_denied);

/// Accounts web servers run as; a socket owned by one of them was made for the web server.
const WEB_ACCOUNTS: &[&str] = &["www-data", "nginx", "www", "http", "apache", "_www", "nobody", "wwwrun"];

fn socket_finding(cx: &RuleContext, l: &Listener, user: &str, group: &str, user_known: bool) -> Option<Finding> {
    let get = |k: &str| l.pool.get(k).map(|s| s.value.text.trim().to_string()).filter(|v| !v.is_empty());
    let acl_users = get("listen.acl_users");
    let acl_groups = get("listen.acl_groups");
    let owner = get("listen.owner");
    let grp = get("listen.group");
    let pool = l.describe(cx.ws);
    if acl_users.is_some() || acl_groups.is_some() {
        let listed = |v: &Option<String>, name: &str| v.as_deref().is_some_and(|s| s.split(',').any(|x| x.trim() == name));
        if listed(&acl_users, user) || listed(&acl_groups, group) {
            return None;
        }
        let at = l.pool.get(crate::pool_key!("listen.acl_users")).or(l.pool.get(crate::pool_key!("listen.acl_groups"))).map_or(l.listen.location, |s| s.value_location());
        return Some(cx.finding(at, format!("the ACL of {pool}'s socket does not include nginx's user `{user}` or group `{group}`: nginx gets `(13: Permission denied)` and answers 502")));
    }
    // No owner, group or ACL at all is FPM202's finding.
    if owner.is_none() && grp.is_none() {
        return None;
    }
    let mode_setting = l.pool.get(crate::pool_key!("listen.mode"));
    let mode_text = mode_setting.map_or_else(|| "0660".to_string(), |s| s.value.text.trim().to_string());
    // PHP-FPM reads the mode with strtoul(…, 8): non-octal text is 0.
    let mode = u32::from_str_radix(mode_text.trim_start_matches("0o"), 8).unwrap_or(0);
    let owner = owner.unwrap_or_else(|| "root".into());
    let grp = grp.unwrap_or_else(|| owner.clone());
    if !user_known && (WEB_ACCOUNTS.contains(&owner.as_str()) || WEB_ACCOUNTS.contains(&grp.as_str())) {
        return None;
    }
    let writable = if owner == user {
        mode & 0o200 != 0
    } else if grp == group {
        mode & 0o020 != 0
    } else {
        mode & 0o002 != 0
    };
    if writable {
        return None;
    }
    let at = l.pool.get(crate::pool_key!("listen.owner")).or(l.pool.get(crate::pool_key!("listen.group"))).map_or(l.listen.location, |s| s.location);
    let mut edits = Vec::new();
    for (key, want) in [("listen.owner", user), ("listen.group", group)] {
        match l.pool.get(key) {
            Some(s) if *s.value.text != *want => edits.push(Edit { location: s.value_location(), content: want.to_string() }),
            Some(_) => {}
            None => edits.push(edit::insert_line_after(cx.ws.source(l.listen.location.file), l.listen.location, &format!("{key} = {want}"))),
        }
    }
    let mut f = cx.finding(
        at,
        format!("{pool}'s socket is {owner}:{grp} mode {mode:04o}: nginx's user `{user}` (group `{group}`) may not write to it, gets `(13: Permission denied)` and answers 502"),
    );
    if mode & 0o220 != 0 {
        f = f.with_fix(edit::fix(Applicability::Safe, format!("set listen.owner/listen.group to {user}/{group}"), edits));
    }
    Some(f)
}

/// XFP004: `localhost` on either side.
pub fn localhost_ambiguity(cx: &RuleContext, out: &mut Vec<Finding>) {
    for site in &cx.join().sites {
        for (addr, placed) in &site.targets {
            if let Addr::Tcp { host: Host::Name(n), .. } = addr {
                if n == "localhost" {
                    let value = placed.arg(0).unwrap_or("");
                    out.push(
                        cx.finding(placed.arg_location(0), "`localhost` resolves to both 127.0.0.1 and ::1; nginx tries both and PHP-FPM listens on one: intermittent 502 (`connect() failed (111: Connection refused)`)")
                            .with_fix(edit::fix(Applicability::Safe, "use 127.0.0.1", vec![edit::replace_arg(*placed, 0, value.replacen("localhost", "127.0.0.1", 1))])),
                    );
                }
            }
        }
    }
    for l in &cx.join().listeners {
        if let Addr::Tcp { host: Host::Name(n), .. } = &l.addr {
            if n == "localhost" {
                out.push(
                    cx.finding(l.listen.value_location(), format!("{} listens on `localhost`: PHP-FPM binds only the first address it resolves to, nginx may connect to the other: intermittent 502", l.describe(cx.ws)))
                        .with_fix(edit::fix(Applicability::Safe, "use 127.0.0.1", vec![Edit { location: l.listen.value_location(), content: l.listen.value.text.replacen("localhost", "127.0.0.1", 1) }])),
                );
            }
        }
    }
}
register!(localhost_ambiguity);

/// XFP005: idle cached FastCGI connections hold every PHP worker.
pub fn keepalive_pins_children(cx: &RuleContext, out: &mut Vec<Finding>) {
    for site in &cx.join().sites {
        let Some(up) = site.upstream else { continue };
        let keep_conn = cx.nginx().effective(site.scope, "fastcgi_keep_conn").and_then(|(_, p)| p.arg(0)).is_some_and(|v| v.eq_ignore_ascii_case("on"));
        if !keep_conn {
            continue;
        }
        let Some(keepalive) = cx.nginx().first_here(up, "keepalive") else { continue };
        let Some(n) = keepalive.arg(0).and_then(|v| v.parse::<i64>().ok()) else { continue };
        // `auto` is at least one worker: the check stays a lower bound.
        let workers = cx.nginx().main_directive(site.scope, "worker_processes").and_then(|p| p.arg(0)).and_then(|v| v.parse::<i64>().ok()).unwrap_or(1);
        for l in cx.join().reached(site) {
            let Some(children) = l.pool.int(crate::pool_key!("pm.max_children")).filter(|c| *c > 0) else { continue };
            if n * workers >= children {
                out.push(
                    cx.finding(keepalive.arg_location(0), format!("keepalive {n} × {workers} worker process(es) ≥ pm.max_children {children} of {}: idle cached connections hold every PHP worker and new requests wait into 504/502", l.describe(cx.ws)))
                        .with_related(l.pool.get(crate::pool_key!("pm.max_children")).map_or(l.listen.location, |s| s.value_location()), "pm.max_children"),
                );
            }
        }
    }
}
register!(keepalive_pins_children);

/// XFP006: `listen.allowed_clients` shuts nginx out.
pub fn allowed_clients_excludes_nginx(cx: &RuleContext, out: &mut Vec<Finding>) {
    let mut seen = Vec::new();
    for site in &cx.join().sites {
        for l in cx.join().reached(site) {
            let Some(allowed) = l.pool.get(crate::pool_key!("listen.allowed_clients")) else { continue };
            if !matches!(l.addr, Addr::Tcp { .. }) || seen.contains(&allowed.location) {
                continue;
            }
            let entries: Vec<&str> = allowed.value.text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            let names: Vec<&str> = entries.iter().copied().filter(|e| e.parse::<std::net::IpAddr>().is_err()).collect();
            let source = site.targets.iter().find_map(|(a, _)| match a {
                Addr::Tcp { host: Host::Ip(ip), .. } if ip.is_loopback() => Some(ip.to_string()),
                Addr::Tcp { host: Host::Name(n), .. } if n == "localhost" => Some("127.0.0.1".to_string()),
                _ => None,
            });
            let missing = source.clone().filter(|s| !entries.contains(&s.as_str()));
            if names.is_empty() && missing.is_none() {
                continue;
            }
            seen.push(allowed.location);
            let mut why = Vec::new();
            if !names.is_empty() {
                why.push(format!("it names hosts ({}) where PHP-FPM only takes IP addresses (`Wrong IP address '{}' in listen.allowed_clients`)", names.join(", "), names[0]));
            }
            if let Some(src) = &missing {
                why.push(format!("nginx connects from {src}, which is not listed"));
            }
            let mut keep: Vec<String> = entries.iter().filter(|e| e.parse::<std::net::IpAddr>().is_ok()).map(|s| s.to_string()).collect();
            if let Some(src) = source {
                if !keep.contains(&src) {
                    keep.push(src);
                }
            }
            let mut f = cx.finding(
                allowed.value_location(),
                format!("listen.allowed_clients of {} shuts nginx out: {}; PHP-FPM drops the connection and nginx answers 502", l.describe(cx.ws), why.join("; ")),
            )
            .with_related(site.pass.arg_location(0), "nginx connects here");
            if !keep.is_empty() {
                f = f.with_fix(edit::fix(Applicability::Safe, format!("allow {}", keep.join(",")), vec![Edit { location: allowed.value_location(), content: keep.join(",") }]));
            }
            out.push(f);
        }
    }
}
register!(allowed_clients_excludes_nginx);
