//! Events to the configuration: the server, location, pass target and PHP-FPM pool a
//! logged request went through, and the findings of the rules that explain it.
//!
//! A rule explains an event when the log line its documentation quotes (`[docs] log`, and
//! the nginx lines quoted in `status`) is of the event's kind — or of a kind that tells of
//! the same cause from the other side ([`Kind::same_cause`]) — and one of its findings
//! (or their related places) lies on the event's path through the configuration.

use crate::effective::address::Addr;
use crate::effective::fpm::PoolView;
use crate::effective::join::Join;
use crate::effective::nginx::{NginxView, Placed, ScopeId};
use crate::finding::{Finding, Location};
use crate::rules::Registry;
use crate::source::FileId;
use crate::workspace::{Context, Workspace};

use super::event::{Event, Kind, Origin};
use super::locate::{logged_upstream, pass_of, pass_targets, same_address, Needs, Servers};
use super::parse::quoted_kind;

/// Where an event went through the configuration. Fields the log or the tree does not
/// tell are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    /// Index into [`Servers::servers`].
    pub server: Option<usize>,
    pub location: Option<ScopeId>,
    pub via: Option<String>,
    /// The location's `*_pass`, by its place.
    pub pass: Option<Location>,
    /// The address nginx connected to (logged, else the pass's only target).
    pub upstream: Option<Addr>,
    /// Index into [`Model::pools`].
    pub pool: Option<usize>,
    /// As logged, when the tree has no such server or pool.
    pub server_name: Option<String>,
    pub pool_name: Option<String>,
}

pub struct Model<'w> {
    pub ws: &'w Workspace,
    pub view: NginxView<'w>,
    pub join: Join<'w>,
    pub servers: Servers,
    pub pools: Vec<PoolView<'w>>,
    /// The kinds of line each rule's documentation quotes.
    rule_kinds: Vec<(String, Vec<Kind>)>,
}

impl<'w> Model<'w> {
    pub fn new(ws: &'w Workspace, registry: &Registry) -> Model<'w> {
        let view = NginxView::build(ws);
        let join = Join::build(ws, &view);
        let servers = Servers::build(&view);
        let pools = PoolView::all(&ws.fpm);
        let rule_kinds = registry.all().iter().map(|r| (r.code.clone(), quoted_kinds(&r.docs.log, &r.docs.status))).filter(|(_, k)| !k.is_empty()).collect();
        Model { ws, view, join, servers, pools, rule_kinds }
    }

    /// The path of one event. `fpm_config`: the PHP-FPM configuration whose log the event
    /// was read from, when known (several PHP versions may each have a pool `www`).
    pub fn resolve(&self, e: &Event, fpm_config: Option<usize>) -> Path {
        let mut path = Path { server: None, location: None, via: None, pass: None, upstream: None, pool: None, server_name: None, pool_name: None };
        match e.origin {
            Origin::Nginx => {
                let upstream = e.upstream.and_then(logged_upstream);
                let uri = e.request.map(|r| r.target);
                let needs = match e.kind {
                    Kind::LimitReq | Kind::LimitReqDelay | Kind::LimitZoneFull => Needs::Effective("limit_req"),
                    Kind::LimitConn => Needs::Effective("limit_conn"),
                    _ => Needs::Pass,
                };
                if let Some(chosen) = self.servers.choose(&self.view, e.server, e.host, uri, upstream.as_ref(), needs) {
                    path.server = Some(chosen.server);
                    path.location = chosen.location;
                    path.via = chosen.via;
                } else {
                    path.server_name = e.server.map(str::to_string);
                }
                let pass = path.location.and_then(|l| pass_of(&self.view, l).map(|p| (l, p)));
                path.pass = pass.map(|(_, p)| p.location());
                path.upstream = upstream.or_else(|| {
                    let (l, p) = pass?;
                    let targets = pass_targets(&self.view, l, p);
                    (targets.len() == 1).then(|| targets[0].clone())
                });
                path.pool = path.upstream.as_ref().and_then(|a| self.join.listeners.iter().position(|l| same_address(a, &l.addr))).and_then(|li| self.pool_index_of_listener(li));
            }
            Origin::PhpFpm | Origin::Slowlog => {
                let name = e.pool;
                path.pool = name.and_then(|n| {
                    let mut hits = self.pools.iter().enumerate().filter(|(_, p)| p.name() == n);
                    match fpm_config {
                        Some(c) => hits.find(|(_, p)| std::ptr::eq(p.config, &self.ws.fpm[c])).map(|(i, _)| i),
                        None => hits.next().map(|(i, _)| i),
                    }
                });
                if path.pool.is_none() {
                    path.pool_name = name.map(str::to_string);
                }
            }
        }
        path
    }

    fn pool_index_of_listener(&self, li: usize) -> Option<usize> {
        let l = &self.join.listeners[li];
        self.pools.iter().position(|p| std::ptr::eq(p.pool, l.pool.pool))
    }

    /// The rules whose quoted log line is of this kind (or of the same cause).
    pub fn rules_for(&self, kind: Kind) -> Vec<&str> {
        let mut wanted = vec![kind];
        wanted.extend_from_slice(kind.same_cause());
        self.rule_kinds.iter().filter(|(_, ks)| ks.iter().any(|k| wanted.contains(k))).map(|(c, _)| c.as_str()).collect()
    }

    /// The findings that explain `kind` on `path`.
    pub fn explaining<'f>(&self, kind: Kind, path: &Path, findings: &'f [Finding]) -> Vec<&'f Finding> {
        let codes = self.rules_for(kind);
        if codes.is_empty() {
            return Vec::new();
        }
        let places = self.places(kind, path);
        let on_path = |at: &Location| places.iter().any(|(f, s)| *f == at.file && s.start() <= at.span.start() && at.span.end() <= s.end());
        findings.iter().filter(|f| codes.contains(&f.code.as_str()) && (on_path(&f.location) || f.related.iter().any(|r| on_path(&r.location)))).collect()
    }

    /// The stretches of configuration an event on `path` went through: the location and
    /// the levels it inherits from (their own directives), the main and events levels,
    /// the upstream block, and the pool with its `[global]`.
    fn places(&self, kind: Kind, path: &Path) -> Vec<(FileId, crate::source::Span)> {
        let v = &self.view;
        let mut out = Vec::new();
        let own = |scope: ScopeId, with_blocks: bool, out: &mut Vec<(FileId, crate::source::Span)>| {
            for d in &v.scope(scope).directives {
                let is_block = d.directive.block().is_some();
                if !is_block || (with_blocks && d.name() != "location") {
                    out.push((d.file, d.directive.span));
                }
            }
        };
        let start = path.location.or(path.server.map(|s| self.servers.servers[s].scope));
        if let Some(scope) = start {
            for (i, s) in v.chain(scope).enumerate() {
                own(s, i == 0, &mut out);
            }
            if let Some(main) = v.main_of(scope) {
                own(main, false, &mut out);
                for &c in &v.scope(main).children {
                    if v.scope(c).context == Context::Events {
                        own(c, false, &mut out);
                    }
                }
            }
            if let (Some(l), Some(pass)) = (path.location, path.pass) {
                if let Some(p) = v.scope(l).directives.iter().find(|d| d.location() == pass) {
                    if let Some(name) = p.arg(0).map(|t| t.split_once("://").map_or(t, |x| x.1)) {
                        if let Some(up) = v.upstream(l, name.split('/').next().unwrap_or(name)) {
                            own(up, false, &mut out);
                        }
                    }
                }
            }
        } else if path.pool.is_none() {
            // No request context (`worker_connections are not enough`): the main levels.
            for &top in &v.tops {
                own(top, false, &mut out);
                for &c in &v.scope(top).children {
                    if matches!(v.scope(c).context, Context::Events | Context::Http) {
                        own(c, false, &mut out);
                    }
                }
            }
        }
        if let Some(p) = path.pool.map(|i| &self.pools[i]) {
            out.push((p.pool.header.file, p.pool.header.span));
            out.extend(p.pool.settings.iter().map(|s| (s.location.file, s.location.span)));
            out.extend(p.config.global.iter().map(|s| (s.location.file, s.location.span)));
            // Nothing of PHP-FPM runs when any of its files does not load.
            if matches!(kind, Kind::ConnectFailed { errno: 2 | 111 } | Kind::FpmStartFailed) {
                for &f in &p.config.files {
                    out.push((f, crate::source::Span::new(0, self.ws.source(f).text.len())));
                }
            }
        }
        out
    }

    /// `location ~ \.php$` and where it is written.
    pub fn scope_place(&self, scope: ScopeId) -> Option<Placed<'w>> {
        self.view.scope(scope).block
    }

    /// The nginx locations that pass to pool `i` (for PHP-FPM events).
    pub fn sites_of_pool(&self, i: usize) -> Vec<ScopeId> {
        let pool = self.pools[i].pool;
        self.join.sites.iter().filter(|s| self.join.reached(s).iter().any(|l| std::ptr::eq(l.pool.pool, pool))).map(|s| s.scope).collect()
    }

    /// The effective `limit_req_status`/`limit_conn_status` where the event happened.
    pub fn status_of(&self, kind: Kind, path: &Path) -> Option<u16> {
        let directive = match kind {
            Kind::LimitReq | Kind::LimitZoneFull => "limit_req_status",
            Kind::LimitConn => "limit_conn_status",
            _ => return kind.status(),
        };
        let scope = path.location.or(path.server.map(|s| self.servers.servers[s].scope));
        let set = scope.and_then(|s| self.view.effective(s, directive)).and_then(|(_, p)| p.arg(0)?.parse().ok());
        set.or(kind.status())
    }
}

/// The kinds of the lines a rule's docs quote: `log` (several separated by ` / `), and
/// nginx lines in backticks in `status`.
fn quoted_kinds(log: &str, status: &str) -> Vec<Kind> {
    let mut kinds: Vec<Kind> = log.split(" / ").filter_map(quoted_kind).collect();
    kinds.extend(status.split('`').skip(1).step_by(2).filter_map(quoted_kind));
    kinds.sort();
    kinds.dedup();
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_50x_log_line_in_the_issue_has_a_rule() {
        let reg = Registry::builtin();
        let ws = Workspace::load(&crate::workspace::Options { paths: Vec::new(), ..Default::default() }, &mut std::io::empty()).unwrap();
        let m = Model::new(&ws, &reg);
        let has = |k: Kind, code: &str| m.rules_for(k).contains(&code);
        assert!(has(Kind::ConnectFailed { errno: 2 }, "XFP001"));
        assert!(has(Kind::ConnectFailed { errno: 111 }, "XFP001"), "(111) is the TCP face of (2)");
        assert!(has(Kind::ConnectFailed { errno: 13 }, "XFP003") && has(Kind::ConnectFailed { errno: 13 }, "FPM202"));
        assert!(has(Kind::UpstreamTimedOut { phase: crate::diagnose::event::Phase::ReadingHeader }, "NGX101"));
        assert!(has(Kind::UpstreamTimedOut { phase: crate::diagnose::event::Phase::ReadingHeader }, "XFP002"));
        assert!(has(Kind::ConnectFailed { errno: 11 }, "FPM104") && has(Kind::ConnectFailed { errno: 11 }, "FPM101"));
        assert!(has(Kind::MaxChildren, "FPM101"));
        assert!(has(Kind::LimitReq, "NGX201") && has(Kind::LimitReq, "NGX202"));
        assert!(has(Kind::TooBigHeader, "NGX114"));
        assert!(has(Kind::NoLiveUpstreams, "NGX113"));
        assert!(!has(Kind::LimitReq, "XFP001"));
    }
}
