//! nginx ↔ PHP-FPM: which pools each `fastcgi_pass` reaches, with PHP-FPM's address rules
//! on one side and nginx's on the other.

use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};

use super::address::{fpm_listen, meeting_key as key, nginx_target, reaches, Addr, MeetingKey as Key};
use super::fpm::PoolView;
use super::nginx::{NginxView, Placed, ScopeId};
use crate::fpm::resolve::Setting;
use crate::workspace::Workspace;

/// One pool with the address it listens on.
#[derive(Clone)]
pub struct Listener<'w> {
    pub pool: PoolView<'w>,
    pub listen: &'w Setting,
    pub addr: Addr,
}

impl Listener<'_> {
    /// `pool `www` (PHP-FPM 8.2)` — the version when the tree holds several.
    pub fn describe(&self, ws: &Workspace) -> String {
        let version = self.pool.config.root.map(|f| &ws.source(f).display).and_then(|d| php_version(d));
        match version {
            Some(v) => format!("pool `{}` (PHP-FPM {v})", self.pool.name()),
            None => format!("pool `{}`", self.pool.name()),
        }
    }
}

/// `8.2` from `php/8.2/fpm/...` or `php82`/`php8.2-fpm` style paths.
fn php_version(path: &str) -> Option<String> {
    let b = path.as_bytes();
    (0..b.len().saturating_sub(2)).find_map(|i| {
        (b[i].is_ascii_digit() && b[i + 1] == b'.' && b[i + 2].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()))
            .then(|| path[i..i + 3].to_string())
    })
}

/// A place nginx passes requests to FastCGI.
pub struct PassSite<'w> {
    pub scope: ScopeId,
    pub pass: Placed<'w>,
    /// The addresses nginx connects to: the literal one, or an upstream's servers.
    pub targets: Vec<(Addr, Placed<'w>)>,
    /// Set when the target is an upstream block.
    pub upstream: Option<ScopeId>,
    /// The listeners it reaches (indexes into [`Join::listeners`]).
    reached: Vec<usize>,
    /// Some pool belongs to its nginx tree (see `Workspace::same_tree`).
    pools_in_tree: bool,
}

pub struct Join<'w> {
    pub listeners: Vec<Listener<'w>>,
    pub sites: Vec<PassSite<'w>>,
    /// Some pool's `listen` comes from the environment or a template (`${PHP_LISTEN}`,
    /// `{{ listen }}`, `%domain%`): it may be where any `fastcgi_pass` goes.
    pub unknown_listen: bool,
}

impl<'w> Join<'w> {
    pub fn build(ws: &'w Workspace, view: &NginxView<'w>) -> Join<'w> {
        let mut unknown_listen = false;
        let listeners: Vec<Listener<'w>> = PoolView::all(&ws.fpm)
            .into_iter()
            .filter_map(|pool| {
                let listen = pool.get(crate::pool_key!("listen"))?;
                if listen.value.is_deferred() || super::placeholder::placeholder(&listen.value.text).is_some() {
                    unknown_listen = true;
                    return None;
                }
                let prefix = pool.get(crate::pool_key!("prefix")).map(|p| PathBuf::from(&*p.value.text)).unwrap_or_else(|| ws.fpm_prefix.clone());
                let addr = fpm_listen(&listen.value.text, Path::new(&prefix))?;
                Some(Listener { pool, listen, addr })
            })
            .collect();
        let mut sites = Vec::new();
        for (scope, pass) in view.request_firsts("fastcgi_pass") {
            let Some(target) = pass.arg(0) else { continue };
            if target.contains('$') {
                continue;
            }
            if let Some(addr) = nginx_target(target) {
                sites.push(PassSite { scope, pass, targets: vec![(addr, pass)], upstream: None, reached: Vec::new(), pools_in_tree: true });
                continue;
            }
            let Some(up) = view.upstream(scope, target) else { continue };
            let targets = view
                .here(up, "server")
                .filter(|s| !s.directive.args.iter().skip(1).any(|a| a.value == "down"))
                .filter_map(|s| s.arg(0).and_then(nginx_target).map(|a| (a, s)))
                .collect();
            sites.push(PassSite { scope, pass, targets, upstream: Some(up), reached: Vec::new(), pools_in_tree: true });
        }
        // Candidates by socket path or TCP port, so the join stays linear in big trees.
        let mut by_key: FxHashMap<Key, Vec<usize>> = FxHashMap::with_capacity_and_hasher(listeners.len(), Default::default());
        for (i, l) in listeners.iter().enumerate() {
            by_key.entry(key(&l.addr)).or_default().push(i);
        }
        for site in &mut sites {
            // Pools of another nginx tree of the repository are another server's.
            let origin = view.scope(view.top_of(site.scope)).origin;
            let ours = |i: usize| listeners[i].pool.config.root.is_none_or(|f| ws.same_tree(origin, f));
            site.pools_in_tree = (0..listeners.len()).any(ours);
            let mut hit: Vec<usize> = site
                .targets
                .iter()
                .flat_map(|(a, _)| by_key.get(&key(a)).into_iter().flatten().copied().filter(|&i| ours(i) && reaches(a, &listeners[i].addr)))
                .collect();
            hit.sort_unstable();
            hit.dedup();
            site.reached = hit;
        }
        Join { listeners, sites, unknown_listen }
    }

    /// The pools a site reaches.
    pub fn reached(&self, site: &PassSite) -> Vec<&Listener<'w>> {
        site.reached.iter().map(|&l| &self.listeners[l]).collect()
    }

    /// A pool of the site's own nginx tree exists: its missing match can be judged.
    pub fn judged(&self, site: &PassSite) -> bool {
        site.pools_in_tree
    }

    /// Both sides are present: rules may compare them.
    pub fn possible(&self) -> bool {
        !self.listeners.is_empty() && !self.sites.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::php_version;

    #[test]
    fn versions_from_paths() {
        assert_eq!(php_version("php/8.2/fpm/php-fpm.conf").as_deref(), Some("8.2"));
        assert_eq!(php_version("etc/php/7.4/fpm/pool.d/www.conf").as_deref(), Some("7.4"));
        assert_eq!(php_version("php-fpm.conf"), None);
    }
}
