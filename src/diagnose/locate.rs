//! Which `server` and `location` handled a logged request, by nginx's own rules
//! (`ngx_http_core_find_location`): an exact `=` match wins at once; else the longest
//! prefix, whose nested locations are searched next; unless that prefix is `^~`, the
//! regexes of the level are then tried in order and the first match wins (and is searched
//! for nested locations in turn). The URI is the decoded, normalised path nginx matches
//! (`%XX` decoded, `//` merged, `.`/`..` resolved, no query).

use regex::Regex;

use crate::effective::address::{nginx_target, Addr};
use crate::effective::nginx::{NginxView, Placed, ScopeId};
use crate::workspace::Context;

#[derive(Debug)]
enum Match {
    Exact(String),
    Prefix { path: String, noregex: bool },
    Regex(Regex),
    Named(String),
}

#[derive(Debug)]
pub struct Loc {
    pub scope: ScopeId,
    how: Match,
    children: Vec<Loc>,
}

#[derive(Debug)]
pub struct Server {
    pub scope: ScopeId,
    /// `server_name`s as written; nginx logs the first (`server: …`).
    pub names: Vec<String>,
    pub ports: Vec<u16>,
    locations: Vec<Loc>,
}

impl Server {
    pub fn first_name(&self) -> &str {
        self.names.first().map_or("", String::as_str)
    }
}

/// Every server of the tree with its location tree, built once.
pub struct Servers {
    pub servers: Vec<Server>,
    /// Regex locations nginx would accept but Rust's `regex` cannot compile
    /// (look-around, back-references): shown once as a note.
    pub unsupported: Vec<String>,
}

/// The location chosen for a request, and how it was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    pub server: usize,
    pub location: Option<ScopeId>,
    /// `try_files … /index.php?$args`, `index index.php`: the internal redirect followed.
    pub via: Option<String>,
}

/// What the event needs the location to have: the request is followed through internal
/// redirects (`try_files`, `index`) until a location has it. A rejected `limit_req`
/// happens before the content phase, in the first location that limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    Pass,
    /// A directive in effect there (`limit_req`, `limit_conn`).
    Effective(&'static str),
}

/// The `*_pass` directives nginx hands a request to a backend with.
pub const PASSES: [&str; 6] = ["fastcgi_pass", "proxy_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass"];

impl Servers {
    pub fn build(view: &NginxView) -> Servers {
        let mut unsupported = Vec::new();
        let servers = view
            .ids()
            .filter(|&id| view.scope(id).context == Context::Server && view.block_name(id) == Some("server") && view.scope(view.scope(id).parent.unwrap_or(id)).context == Context::Http)
            .map(|id| {
                let names = view.here(id, "server_name").flat_map(|p| p.directive.args.iter().map(|a| a.value.to_string())).collect();
                let mut ports: Vec<u16> = view.here(id, "listen").filter_map(|p| p.arg(0).and_then(listen_port)).collect();
                if view.first_here(id, "listen").is_none() {
                    ports.push(80);
                }
                Server { scope: id, names, ports, locations: locations(view, id, &mut unsupported) }
            })
            .collect();
        Servers { servers, unsupported }
    }

    /// The server block nginx names `server_name` in its log line (`None` when the log
    /// line has no `server:`), narrowed by the port of `host` and, among equals, the one
    /// whose location passes to `upstream`.
    pub fn choose(&self, view: &NginxView, server: Option<&str>, host: Option<&str>, uri: Option<&str>, upstream: Option<&Addr>, needs: Needs) -> Option<Chosen> {
        let server = server?;
        let mut candidates: Vec<usize> = (0..self.servers.len()).filter(|&i| self.servers[i].first_name() == server).collect();
        if candidates.is_empty() {
            candidates = (0..self.servers.len()).filter(|&i| self.servers[i].names.iter().any(|n| n == server)).collect();
        }
        if let Some(port) = host.and_then(|h| h.rsplit_once(':')).and_then(|(_, p)| p.parse::<u16>().ok()) {
            let on_port: Vec<usize> = candidates.iter().copied().filter(|&i| self.servers[i].ports.contains(&port)).collect();
            if !on_port.is_empty() {
                candidates = on_port;
            }
        }
        let chosen: Vec<Chosen> = candidates.iter().map(|&i| self.locate(view, i, uri, upstream, needs)).collect();
        let passes_there = |c: &Chosen| upstream.is_some_and(|u| c.location.is_some_and(|l| passes_to(view, l, u)));
        chosen.iter().find(|c| passes_there(c)).or(chosen.first()).cloned()
    }

    /// The location of server `i` for the request URI, following `try_files` and `index`
    /// redirects when the location found does not pass to a backend itself.
    fn locate(&self, view: &NginxView, i: usize, uri: Option<&str>, upstream: Option<&Addr>, needs: Needs) -> Chosen {
        let s = &self.servers[i];
        let mut out = Chosen { server: i, location: None, via: None };
        let Some(uri) = uri else {
            out.location = upstream.and_then(|u| self.by_upstream(view, i, u));
            out.via = out.location.map(|_| "the upstream it was passed to".to_string());
            return out;
        };
        let mut path = normalize_uri(uri);
        let mut loc = find(&s.locations, &path);
        for _ in 0..3 {
            let Some(l) = loc else { break };
            let has = match needs {
                Needs::Pass => has_pass(view, l),
                Needs::Effective(d) => view.effective(l, d).is_some(),
            };
            if has {
                break;
            }
            let next = match view.first_here(l, "try_files").and_then(|t| t.directive.args.last().map(|a| a.value.clone())) {
                Some(last) if last.starts_with('@') => {
                    out.via = Some(format!("try_files … {last}"));
                    loc = named(&s.locations, &last[1..]);
                    continue;
                }
                Some(last) if last.starts_with('/') => {
                    let target = last.replace("$uri", &path);
                    let target = target.split(['?', '$']).next().unwrap_or("").to_string();
                    out.via = Some(format!("try_files … {last}"));
                    Some(target)
                }
                _ if path.ends_with('/') => {
                    let index: Vec<String> = match view.effective(l, "index") {
                        Some((_, p)) => p.directive.args.iter().map(|a| a.value.to_string()).collect(),
                        None => vec!["index.html".into()],
                    };
                    let hit = index.iter().find(|f| find(&s.locations, &format!("{path}{f}")).is_some_and(|x| has_pass(view, x)));
                    hit.map(|f| {
                        out.via = Some(format!("index {f}"));
                        format!("{path}{f}")
                    })
                }
                _ => None,
            };
            match next {
                Some(p) => {
                    path = p;
                    loc = find(&s.locations, &path);
                }
                None => break,
            }
        }
        if let Some(u) = upstream {
            if !loc.is_some_and(|l| passes_to(view, l, u)) {
                if let Some(by) = self.by_upstream(view, i, u) {
                    out.via = Some("the upstream it was passed to (no location of the URI passes there)".into());
                    loc = Some(by);
                }
            }
        }
        out.location = loc;
        out
    }

    /// The only location of server `i` that passes to `upstream`.
    fn by_upstream(&self, view: &NginxView, i: usize, upstream: &Addr) -> Option<ScopeId> {
        let mut all = Vec::new();
        walk(&self.servers[i].locations, &mut |l| {
            if passes_to(view, l.scope, upstream) {
                all.push(l.scope);
            }
        });
        (all.len() == 1).then(|| all[0])
    }
}

fn walk(level: &[Loc], f: &mut dyn FnMut(&Loc)) {
    for l in level {
        f(l);
        walk(&l.children, f);
    }
}

fn named(level: &[Loc], name: &str) -> Option<ScopeId> {
    level.iter().find(|l| matches!(&l.how, Match::Named(n) if n == name)).map(|l| l.scope)
}

/// The location's own `*_pass` (passes are not inherited; `if` blocks inside count).
pub fn pass_of<'w>(view: &NginxView<'w>, loc: ScopeId) -> Option<Placed<'w>> {
    let own = PASSES.iter().find_map(|p| view.first_here(loc, p));
    own.or_else(|| {
        view.scope(loc).children.iter().filter(|&&c| view.block_name(c) == Some("if")).find_map(|&c| PASSES.iter().find_map(|p| view.first_here(c, p)))
    })
}

fn has_pass(view: &NginxView, loc: ScopeId) -> bool {
    pass_of(view, loc).is_some()
}

/// Every address a pass directive may connect to (its literal address, or its upstream
/// block's servers).
pub fn pass_targets(view: &NginxView, at: ScopeId, pass: Placed) -> Vec<Addr> {
    let Some(target) = pass.arg(0) else { return Vec::new() };
    let bare = strip_scheme(target);
    if let Some(a) = nginx_target(bare) {
        return vec![a];
    }
    let name = bare.split('/').next().unwrap_or(bare);
    match view.upstream(at, name) {
        Some(up) => view.here(up, "server").filter_map(|s| s.arg(0).and_then(nginx_target)).collect(),
        None => Vec::new(),
    }
}

fn strip_scheme(t: &str) -> &str {
    t.split_once("://").map_or(t, |(_, rest)| rest)
}

fn passes_to(view: &NginxView, loc: ScopeId, upstream: &Addr) -> bool {
    pass_of(view, loc).is_some_and(|p| pass_targets(view, loc, p).iter().any(|a| same_address(upstream, a)))
}

/// The logged peer and a configured address are the same socket (a configured
/// `localhost` is logged as the address it resolved to).
pub fn same_address(logged: &Addr, configured: &Addr) -> bool {
    logged == configured || crate::effective::address::reaches(logged, configured)
}

/// The address in an error-log `upstream: "…"`: `fastcgi://unix:/run/x.sock:`,
/// `http://127.0.0.1:8080/path`, `fastcgi://[::1]:9000`.
pub fn logged_upstream(text: &str) -> Option<Addr> {
    let rest = strip_scheme(text);
    if let Some(path) = rest.strip_prefix("unix:") {
        // nginx prints the socket path, a `:`, then the URI (empty for FastCGI).
        let path = path.split_once(':').map_or(path, |(p, _)| p);
        return nginx_target(&format!("unix:{path}"));
    }
    let hostport = rest.split('/').next().unwrap_or(rest);
    nginx_target(hostport)
}

fn listen_port(arg: &str) -> Option<u16> {
    if arg.starts_with("unix:") {
        return None;
    }
    let port = match arg.rsplit_once(':') {
        Some((_, p)) => p,
        None if arg.bytes().all(|b| b.is_ascii_digit()) => arg,
        None => return Some(80),
    };
    port.parse().ok()
}

fn locations(view: &NginxView, parent: ScopeId, unsupported: &mut Vec<String>) -> Vec<Loc> {
    view.scope(parent)
        .children
        .iter()
        .filter(|&&c| view.block_name(c) == Some("location"))
        .filter_map(|&c| {
            let block = view.scope(c).block?;
            let args: Vec<&str> = block.directive.args.iter().map(|a| a.value.as_str()).collect();
            let (modifier, pattern) = match args.as_slice() {
                [m, p] => (*m, *p),
                [one] => split_modifier(one),
                _ => return None,
            };
            let how = match modifier {
                "=" => Match::Exact(pattern.to_string()),
                "^~" => Match::Prefix { path: pattern.to_string(), noregex: true },
                "~" | "~*" => {
                    let source = if modifier == "~*" { format!("(?i){pattern}") } else { pattern.to_string() };
                    match Regex::new(&source) {
                        Ok(r) => Match::Regex(r),
                        Err(_) => {
                            unsupported.push(format!("location {modifier} {pattern}"));
                            return None;
                        }
                    }
                }
                "" if pattern.starts_with('@') => Match::Named(pattern[1..].to_string()),
                "" => Match::Prefix { path: pattern.to_string(), noregex: false },
                _ => return None,
            };
            Some(Loc { scope: c, how, children: locations(view, c, unsupported) })
        })
        .collect()
}

/// `location =/x`, `location ~\.php$`, `location ^~/static`: nginx also accepts the
/// modifier glued to the pattern.
fn split_modifier(arg: &str) -> (&str, &str) {
    for m in ["^~", "~*", "~", "="] {
        if let Some(rest) = arg.strip_prefix(m) {
            if !rest.is_empty() {
                return (m, rest);
            }
        }
    }
    ("", arg)
}

/// nginx's search at one level (see the module comment); `chosen` is the location so far.
fn search(level: &[Loc], uri: &str, chosen: &mut Option<ScopeId>) -> bool {
    let mut best: Option<(&Loc, usize, bool)> = None;
    for l in level {
        match &l.how {
            Match::Exact(p) if p == uri => {
                *chosen = Some(l.scope);
                return true;
            }
            Match::Prefix { path, noregex } if uri.starts_with(path.as_str()) && best.is_none_or(|(_, len, _)| path.len() > len) => {
                best = Some((l, path.len(), *noregex));
            }
            _ => {}
        }
    }
    let mut noregex = false;
    if let Some((l, _, nr)) = best {
        *chosen = Some(l.scope);
        noregex = nr;
        if search(&l.children, uri, chosen) {
            return true;
        }
    }
    if !noregex {
        for l in level {
            if let Match::Regex(r) = &l.how {
                if r.is_match(uri) {
                    *chosen = Some(l.scope);
                    search(&l.children, uri, chosen);
                    return true;
                }
            }
        }
    }
    false
}

fn find(level: &[Loc], uri: &str) -> Option<ScopeId> {
    let mut chosen = None;
    search(level, uri, &mut chosen);
    chosen
}

/// The path nginx matches locations against (`ngx_http_parse_complex_uri` with the
/// default `merge_slashes on`).
pub fn normalize_uri(target: &str) -> String {
    let mut t = target;
    if let Some(rest) = t.strip_prefix("http://").or_else(|| t.strip_prefix("https://")) {
        t = rest.find('/').map_or("/", |i| &rest[i..]);
    }
    let path = t.split(['?', '#']).next().unwrap_or("");
    let mut bytes = Vec::with_capacity(path.len());
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                bytes.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        bytes.push(b[i]);
        i += 1;
    }
    let decoded = String::from_utf8_lossy(&bytes);
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = decoded.split('/').collect();
    let trailing = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    for seg in &segments {
        match *seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut s = String::with_capacity(decoded.len() + 1);
    for seg in &out {
        s.push('/');
        s.push_str(seg);
    }
    if s.is_empty() || trailing {
        s.push('/');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_as_nginx_matches_them() {
        assert_eq!(normalize_uri("/a//b/./c/../d.php?x=1"), "/a/b/d.php");
        assert_eq!(normalize_uri("/caf%C3%A9/"), "/café/");
        assert_eq!(normalize_uri("/"), "/");
        assert_eq!(normalize_uri("http://example.com/x"), "/x");
        assert_eq!(normalize_uri("/%2"), "/%2");
    }

    fn located(conf: &str, uris: &[(&str, &str)]) {
        let opts = crate::workspace::Options { paths: vec!["-".into()], stdin_filename: Some("nginx.conf".into()), ..Default::default() };
        let ws = crate::workspace::Workspace::load(&opts, &mut conf.as_bytes()).unwrap();
        let view = NginxView::build(&ws);
        let servers = Servers::build(&view);
        for (uri, want) in uris {
            let got = servers.choose(&view, Some("a"), None, Some(uri), None, Needs::Pass).and_then(|c| c.location).map(|l| view.describe(l));
            assert_eq!(got.as_deref(), Some(*want), "{uri}");
        }
    }

    #[test]
    fn locations_by_nginx_rules() {
        let conf = "http {\n server {\n server_name a;\n location = / { return 200; }\n location / { return 200; }\n location /images/ { return 200; }\n location ^~ /static/ { return 200; }\n location ~* \\.(png|jpg)$ { return 200; }\n location ~ ^/images/.*\\.png$ { return 200; }\n location /docs/ { location ~ \\.pdf$ { return 200; } }\n location =/exact { return 200; }\n }\n}\n";
        located(
            conf,
            &[
                ("/", "location = /"),
                ("/index.html", "location /"),
                ("/images/a.gif", "location /images/"),
                ("/images/a.PNG", "location ~* \\.(png|jpg)$"),
                ("/static/a.png", "location ^~ /static/"),
                ("/docs/x.pdf", "location ~ \\.pdf$"),
                ("/docs/x.png", "location ~* \\.(png|jpg)$"),
                ("/a/../images//b.jpg?x=1", "location ~* \\.(png|jpg)$"),
                ("/exact", "location =/exact"),
                ("/exactly", "location /"),
            ],
        );
    }

    #[test]
    fn internal_redirects_are_followed_to_the_pass() {
        let conf = "http {\n server {\n server_name a;\n index index.php;\n location / { try_files $uri $uri/ /index.php?$args; }\n location /app/ { try_files $uri @app; }\n location @app { fastcgi_pass unix:/run/app.sock; }\n location ~ \\.php$ { fastcgi_pass unix:/run/php.sock; }\n location /dir/ { }\n }\n}\n";
        located(conf, &[("/products/1", "location ~ \\.php$"), ("/app/x", "location @app"), ("/dir/", "location ~ \\.php$"), ("/index.php", "location ~ \\.php$")]);
    }

    #[test]
    fn logged_upstreams() {
        assert_eq!(logged_upstream("fastcgi://unix:/run/php/php8.2-fpm.sock:"), Some(Addr::Unix("/run/php/php8.2-fpm.sock".into())));
        assert_eq!(logged_upstream("http://127.0.0.1:8080/api/x"), nginx_target("127.0.0.1:8080"));
        assert_eq!(logged_upstream("fastcgi://[::1]:9000"), nginx_target("[::1]:9000"));
        assert_eq!(logged_upstream("http://unix:/run/app.sock:/x"), Some(Addr::Unix("/run/app.sock".into())));
    }
}
