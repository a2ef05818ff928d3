//! NGX009: names nginx takes once per configuration or per block: a location's URI in its
//! server, an upstream's name, a limit zone's name, a `listen` address in a server, the
//! default server of an address.

use std::collections::HashMap;

use crate::effective::nginx::{NginxView, Placed, ScopeId};
use crate::finding::Finding;
use crate::rules::context::RuleContext;
use crate::workspace::Context;

/// `listen` address as nginx prints it in its duplicate messages (`0.0.0.0:80`, `[::]:80`).
fn listen_key(arg: &str) -> Option<String> {
    if arg.contains('$') {
        return None;
    }
    if arg.starts_with("unix:") {
        return Some(arg.to_string());
    }
    if arg.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("0.0.0.0:{arg}"));
    }
    if let Some(port) = arg.strip_prefix("*:") {
        return Some(format!("0.0.0.0:{port}"));
    }
    if arg.starts_with('[') {
        return Some(if arg.contains("]:") { arg.to_string() } else { format!("{arg}:80") });
    }
    let (host, port) = arg.rsplit_once(':').unwrap_or((arg, "80"));
    // Only literal IPv4 addresses: a name resolves on the server.
    host.parse::<std::net::Ipv4Addr>().ok().map(|ip| format!("{ip}:{port}"))
}

pub fn duplicate_definition(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    for &top in &view.tops {
        let mut upstreams: HashMap<&str, Placed> = HashMap::new();
        let mut zones: HashMap<&str, Placed> = HashMap::new();
        let mut defaults: HashMap<String, Placed> = HashMap::new();
        for &s in view.tree_of(top) {
            let scope = view.scope(s);
            if scope.context == Context::Upstream && view.block_name(s) == Some("upstream") && scope.parent.is_some_and(|p| view.scope(p).context == Context::Http) {
                if let Some(b) = scope.block {
                    let name = b.arg(0).unwrap_or("");
                    match upstreams.get(name) {
                        Some(first) => out.push(cx.finding(b.location(), format!("duplicate upstream \"{name}\"")).with_related(first.location(), "first defined here")),
                        None => {
                            upstreams.insert(name, b);
                        }
                    }
                }
            }
            for p in &scope.directives {
                let kind = p.name();
                if matches!(kind, "limit_req_zone" | "limit_conn_zone") && scope.context == Context::Http {
                    let Some(zone) = p.directive.args.iter().find_map(|a| a.value.strip_prefix("zone=")).and_then(|z| z.split(':').next()) else { continue };
                    match zones.get(zone) {
                        Some(first) if first.name() == kind => out.push(
                            cx.finding(p.location(), format!("{kind} \"{zone}\" is already bound to key \"{}\"", first.arg(0).unwrap_or("")))
                                .with_related(first.location(), "first defined here"),
                        ),
                        Some(first) => out.push(
                            cx.finding(p.location(), format!("the shared memory zone \"{zone}\" is already declared for a different use"))
                                .with_related(first.location(), format!("declared by {} here", first.name())),
                        ),
                        None => {
                            zones.insert(zone, *p);
                        }
                    }
                }
            }
            if scope.context == Context::Server && view.block_name(s) == Some("server") && scope.parent.is_some_and(|p| view.scope(p).context == Context::Http) {
                listens(cx, view, s, &mut defaults, out);
            }
            if matches!(scope.context, Context::Server | Context::Location) {
                locations(cx, view, s, out);
            }
        }
    }
}
register!(duplicate_definition);

fn listens<'w>(cx: &RuleContext, view: &NginxView<'w>, server: ScopeId, defaults: &mut HashMap<String, Placed<'w>>, out: &mut Vec<Finding>) {
    let mut here: HashMap<String, Placed> = HashMap::new();
    for p in view.here(server, "listen") {
        let Some(mut key) = p.arg(0).and_then(listen_key) else { continue };
        // QUIC listens on UDP: `listen 443 ssl;` and `listen 443 quic;` are two sockets.
        let quic = p.directive.args.iter().any(|a| a.value == "quic");
        if quic {
            key.push_str(" (quic)");
        }
        if let Some(first) = here.get(&key) {
            out.push(cx.finding(p.location(), format!("a duplicate listen {key}")).with_related(first.location(), "first listened here"));
            continue;
        }
        here.insert(key.clone(), p);
        if p.directive.args.iter().skip(1).any(|a| a.value == "default_server" || a.value == "default") {
            match defaults.get(&key) {
                Some(first) => out.push(cx.finding(p.location(), format!("a duplicate default server for {key}")).with_related(first.location(), "the default server for it already")),
                None => {
                    defaults.insert(key, p);
                }
            }
        }
    }
}

/// Prefix and exact locations of one block: the same URI twice is refused.
fn locations(cx: &RuleContext, view: &NginxView, parent: ScopeId, out: &mut Vec<Finding>) {
    let mut seen: HashMap<(bool, &str), Placed> = HashMap::new();
    for &c in &view.scope(parent).children {
        let Some(b) = view.scope(c).block.filter(|b| b.name() == "location") else { continue };
        let key = match (b.arg(0), b.arg(1)) {
            (Some("="), Some(uri)) => (true, uri),
            (Some("^~"), Some(uri)) => (false, uri),
            (Some("~" | "~*"), _) => continue,
            (Some(uri), None) if !uri.starts_with('@') => match uri.strip_prefix('=') {
                Some(exact) if !exact.is_empty() => (true, exact),
                _ => (false, uri.strip_prefix("^~").filter(|u| !u.is_empty()).unwrap_or(uri)),
            },
            _ => continue,
        };
        match seen.get(&key) {
            Some(first) => out.push(cx.finding(b.location(), format!("duplicate location \"{}\"", key.1)).with_related(first.location(), "first defined here")),
            None => {
                seen.insert(key, b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::listen_key;

    #[test]
    fn listen_addresses_as_nginx_prints_them() {
        assert_eq!(listen_key("80").as_deref(), Some("0.0.0.0:80"));
        assert_eq!(listen_key("*:8080").as_deref(), Some("0.0.0.0:8080"));
        assert_eq!(listen_key("[::]:80").as_deref(), Some("[::]:80"));
        assert_eq!(listen_key("127.0.0.1").as_deref(), Some("127.0.0.1:80"));
        assert_eq!(listen_key("app.internal:80"), None);
    }
}
