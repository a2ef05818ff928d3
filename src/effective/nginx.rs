//! The nginx configuration as nginx evaluates it: includes spliced in place, one scope
//! per block, and the effective value of a directive at any scope (set there, else
//! inherited from the enclosing location/server/http, else nginx's default).

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::finding::Location;
use crate::nginx::ast::{Directive, Item};
use crate::source::FileId;
use crate::workspace::{Context, Workspace};

/// An `include` directive as written, with the files it pulled in.
#[derive(Clone, Copy, Debug)]
pub struct IncludeAt<'w> {
    pub directive: Placed<'w>,
    /// The files it was resolved to; empty when nothing was read (missing, outside the
    /// linted tree, a glob without match, or a cut cycle).
    pub targets: &'w [FileId],
    /// It names something that was not read (missing, outside the linted tree,
    /// unreadable), so what it brings is unknown. `false` for a glob without match: nginx
    /// loads nothing there.
    pub unread: bool,
    /// Written in the scope's own block (`false`: inside a file another include pulled in).
    pub direct: bool,
}

impl IncludeAt<'_> {
    /// The include pattern has glob characters (`*?[`).
    pub fn is_glob(&self) -> bool {
        self.directive.arg(0).is_some_and(|a| a.contains(['*', '?', '[']))
    }
}

pub type ScopeId = usize;

/// Include chains deeper than this are not spliced further (cycles are already cut by
/// the workspace; this bounds pathological diamonds).
const MAX_INCLUDE_DEPTH: usize = 32;

/// A directive together with the file it was written in.
#[derive(Clone, Copy, Debug)]
pub struct Placed<'w> {
    pub file: FileId,
    pub directive: &'w Directive,
}

impl<'w> Placed<'w> {
    pub fn location(&self) -> Location {
        Location { file: self.file, span: self.directive.span }
    }
    pub fn name(&self) -> &'w str {
        &self.directive.name.value
    }
    pub fn arg(&self, i: usize) -> Option<&'w str> {
        self.directive.args.get(i).map(|a| a.value.as_str())
    }
    /// Location of argument `i` (or of the directive when there is none).
    pub fn arg_location(&self, i: usize) -> Location {
        let span = self.directive.args.get(i).map_or(self.directive.span, |a| a.span);
        Location { file: self.file, span }
    }
}

#[derive(Debug)]
pub struct Scope<'w> {
    pub context: Context,
    /// The block directive that opened the scope (`server`, `location`, `if`, ...);
    /// `None` for the top of a root file or a snippet.
    pub block: Option<Placed<'w>>,
    pub parent: Option<ScopeId>,
    /// Directives directly in this block, includes spliced in order; block directives
    /// are here too, and also have a child scope.
    pub directives: Vec<Placed<'w>>,
    pub children: Vec<ScopeId>,
    /// The file the whole tree was read from (root nginx.conf or snippet).
    pub origin: FileId,
    /// The interned name of each entry of `directives`: rules ask every scope for a few
    /// names, and comparing small integers in one array beats chasing each directive.
    names: Vec<NameId>,
    /// Indexes into `directives` by name, for big blocks only: an `http{}` with thousands
    /// of `server` blocks is asked for its `fastcgi_read_timeout` by every location below.
    by_name: FxHashMap<NameId, Vec<u32>>,
    /// The top scope of the tree this scope belongs to.
    top: ScopeId,
}

type NameId = u32;

#[derive(Debug, Default)]
pub struct NginxView<'w> {
    pub scopes: Vec<Scope<'w>>,
    /// One top scope per root file and per snippet.
    pub tops: Vec<ScopeId>,
    /// The scopes of each tree, by top scope (lookups "anywhere in this tree" stay linear
    /// in the tree, not in the whole workspace).
    tree: HashMap<ScopeId, Vec<ScopeId>>,
    /// `upstream NAME {}` blocks of each tree, by top scope.
    upstream_blocks: HashMap<ScopeId, HashMap<&'w str, ScopeId>>,
    /// Every directive name in the workspace, interned.
    name_ids: FxHashMap<&'w str, NameId>,
    /// Every directive by name: (scope, index in its `directives`), in scope order.
    occurrences: Vec<Vec<(ScopeId, u32)>>,
    /// [`Self::includes_in`] of each scope, made on first use: NGX301 asks it of every
    /// level above every PHP location, and finding an http{}'s includes means walking all
    /// of its thousands of server blocks (a 4 MB config took 3.8 s instead of 0.2 s).
    includes: Vec<std::sync::OnceLock<Vec<IncludeAt<'w>>>>,
}

/// Blocks with more directives than this get a by-name index.
const INDEX_ABOVE: usize = 32;

/// Directives whose values a child level replaces as a whole when it sets any of them.
pub const ARRAY_DIRECTIVES: &[&str] = &["fastcgi_param", "proxy_set_header", "add_header", "limit_req", "limit_conn", "error_page"];

impl<'w> Scope<'w> {
    fn new(context: Context, block: Option<Placed<'w>>, parent: Option<ScopeId>, origin: FileId) -> Self {
        Scope { context, block, parent, directives: Vec::new(), children: Vec::new(), origin, names: Vec::new(), by_name: FxHashMap::default(), top: 0 }
    }

    /// Positions in `directives` of the entries named `n`.
    fn indexes_of(&self, n: NameId) -> impl Iterator<Item = usize> + '_ {
        let (indexed, scanned) = if self.directives.len() > INDEX_ABOVE {
            (self.by_name.get(&n).map_or(&[][..], Vec::as_slice), &[][..])
        } else {
            (&[][..], self.names.as_slice())
        };
        let scanned = scanned.iter().enumerate().filter(move |&(_, &m)| m == n).map(|(i, _)| i);
        indexed.iter().map(|&i| i as usize).chain(scanned)
    }
}

impl<'w> NginxView<'w> {
    pub fn build(ws: &'w Workspace) -> Self {
        let mut view = NginxView::default();
        for &file in ws.nginx_roots.iter().chain(&ws.nginx_snippets) {
            let nf = &ws.nginx[&file];
            let context = nf.context.unwrap_or(Context::Main);
            let top = view.push(Scope::new(context, None, None, file));
            view.tops.push(top);
            view.fill(ws, top, file, &nf.config.items, 0);
        }
        for id in 0..view.scopes.len() {
            let top = view.scopes[id].parent.map_or(id, |p| view.scopes[p].top);
            let scope = &mut view.scopes[id];
            scope.top = top;
            scope.names.reserve_exact(scope.directives.len());
            for (i, p) in scope.directives.iter().enumerate() {
                let next = view.name_ids.len() as NameId;
                let name = *view.name_ids.entry(p.name()).or_insert(next);
                if name == next {
                    view.occurrences.push(Vec::new());
                }
                view.occurrences[name as usize].push((id, i as u32));
                scope.names.push(name);
                if scope.directives.len() > INDEX_ABOVE {
                    scope.by_name.entry(name).or_default().push(i as u32);
                }
            }
            view.tree.entry(top).or_default().push(id);
            view.includes.push(std::sync::OnceLock::new());
            if view.scopes[id].context == Context::Upstream {
                if let Some(name) = view.scopes[id].block.and_then(|b| b.arg(0)) {
                    view.upstream_blocks.entry(top).or_default().insert(name, id);
                }
            }
        }
        view
    }

    /// The scopes of the tree `id` belongs to, in document order.
    pub fn tree_of(&self, id: ScopeId) -> &[ScopeId] {
        self.tree.get(&self.top_of(id)).map_or(&[], Vec::as_slice)
    }

    fn push(&mut self, scope: Scope<'w>) -> ScopeId {
        self.scopes.push(scope);
        let id = self.scopes.len() - 1;
        if let Some(p) = self.scopes[id].parent {
            self.scopes[p].children.push(id);
        }
        id
    }

    fn fill(&mut self, ws: &'w Workspace, scope: ScopeId, file: FileId, items: &'w [Item], depth: usize) {
        for item in items {
            let Item::Directive(d) = item else { continue };
            let placed = Placed { file, directive: d };
            if d.name.value == "include" && d.block().is_none() {
                if depth >= MAX_INCLUDE_DEPTH {
                    continue;
                }
                for target in ws.includes.get(&(file, d.span.start())).into_iter().flatten() {
                    if let Some(nf) = ws.nginx.get(target) {
                        self.fill(ws, scope, *target, &nf.config.items, depth + 1);
                    }
                }
                continue;
            }
            self.scopes[scope].directives.push(placed);
            if let Some(block) = d.block() {
                if block.raw.is_some() {
                    continue;
                }
                let context = self.scopes[scope].context.child(&d.name.value);
                let origin = self.scopes[scope].origin;
                let child = self.push(Scope::new(context, Some(placed), Some(scope), origin));
                // Sized for the block's own items (an include may still add more).
                self.scopes[child].directives.reserve_exact(block.items.len());
                self.fill(ws, child, file, &block.items, depth);
            }
        }
    }

    pub fn scope(&self, id: ScopeId) -> &Scope<'w> {
        &self.scopes[id]
    }

    /// Scopes in document order.
    pub fn ids(&self) -> impl Iterator<Item = ScopeId> {
        0..self.scopes.len()
    }

    /// The name of the block directive that opened `id` (`location`, `if`, `server`, ...).
    pub fn block_name(&self, id: ScopeId) -> Option<&'w str> {
        self.scopes[id].block.map(|b| b.name())
    }

    /// Location and `if`-in-location scopes (where requests are handled) with their first
    /// directive named `name`, for those that have one.
    pub fn request_firsts(&self, name: &str) -> impl Iterator<Item = (ScopeId, Placed<'w>)> + '_ {
        self.firsts(name).filter(|&(id, _)| self.scopes[id].context == Context::Location)
    }

    fn name_id(&self, name: &str) -> Option<NameId> {
        self.name_ids.get(name).copied()
    }

    /// Directives named `name` directly in `id`.
    pub fn here(&self, id: ScopeId, name: &str) -> impl Iterator<Item = Placed<'w>> + '_ {
        self.name_id(name).into_iter().flat_map(move |n| self.here_id(id, n))
    }

    fn here_id(&self, id: ScopeId, n: NameId) -> impl Iterator<Item = Placed<'w>> + '_ {
        let scope = &self.scopes[id];
        scope.indexes_of(n).map(move |i| scope.directives[i])
    }

    pub fn first_here(&self, id: ScopeId, name: &str) -> Option<Placed<'w>> {
        let n = self.name_id(name)?;
        self.first_here_id(id, n)
    }

    fn first_here_id(&self, id: ScopeId, n: NameId) -> Option<Placed<'w>> {
        self.here_id(id, n).next()
    }

    /// Every directive named `name` in the workspace, with its scope, in scope order.
    pub fn named(&self, name: &str) -> impl Iterator<Item = (ScopeId, Placed<'w>)> + '_ {
        let all = self.name_id(name).map_or(&[][..], |n| self.occurrences[n as usize].as_slice());
        all.iter().map(move |&(s, i)| (s, self.scopes[s].directives[i as usize]))
    }

    /// Every directive name written anywhere in the workspace.
    pub fn names(&self) -> impl Iterator<Item = &'w str> + '_ {
        self.name_ids.keys().copied()
    }

    /// The first directive named `name` of every scope that has one, in document order:
    /// rules that look at the scopes doing something (`fastcgi_pass`) visit only those.
    pub fn firsts(&self, name: &str) -> impl Iterator<Item = (ScopeId, Placed<'w>)> + '_ {
        let mut last = None;
        self.named(name).filter(move |&(s, _)| last.replace(s) != Some(s))
    }

    /// `id` and its ancestors up to the top of the inheritance chain (http level; main
    /// and events directives are not inherited by http blocks).
    pub fn chain(&self, id: ScopeId) -> impl Iterator<Item = ScopeId> + use<'_, 'w> {
        std::iter::successors(Some(id), move |&s| {
            let parent = self.scopes[s].parent?;
            matches!(self.scopes[s].context, Context::Location | Context::Server | Context::Upstream)
                .then_some(parent)
                .filter(|p| self.scopes[*p].context != Context::Main)
        })
    }

    /// The directive that sets `name`'s effective value at `id`, if any level sets it
    /// (`None` means nginx's default applies).
    pub fn effective(&self, id: ScopeId, name: &str) -> Option<(ScopeId, Placed<'w>)> {
        let n = self.name_id(name)?;
        self.chain(id).find_map(|s| self.first_here_id(s, n).map(|p| (s, p)))
    }

    /// An array directive's effective entries at `id`: those of the nearest level that
    /// sets any (a child that sets one drops all of its parent's).
    pub fn effective_array(&self, id: ScopeId, name: &str) -> Option<(ScopeId, Vec<Placed<'w>>)> {
        let n = self.name_id(name)?;
        self.chain(id).find_map(|s| {
            let here: Vec<Placed<'w>> = self.here_id(s, n).collect();
            (!here.is_empty()).then_some((s, here))
        })
    }

    /// The main-context scope `id` belongs to, when it was read from a root nginx.conf.
    pub fn main_of(&self, id: ScopeId) -> Option<ScopeId> {
        let top = self.scopes[id].top;
        (self.scopes[top].context == Context::Main).then_some(top)
    }

    /// A main-context directive (`user`, `worker_processes`, `worker_rlimit_nofile`).
    pub fn main_directive(&self, id: ScopeId, name: &str) -> Option<Placed<'w>> {
        self.first_here(self.main_of(id)?, name)
    }

    /// `worker_connections` from the `events` block of `id`'s main context.
    pub fn events_directive(&self, id: ScopeId, name: &str) -> Option<Placed<'w>> {
        let main = self.main_of(id)?;
        self.scopes[main].children.iter().find(|&&c| self.block_name(c) == Some("events")).and_then(|&c| self.first_here(c, name))
    }

    /// The `upstream NAME {}` block of that name in the same tree as `id`.
    pub fn upstream(&self, id: ScopeId, name: &str) -> Option<ScopeId> {
        self.upstream_blocks.get(&self.top_of(id)).and_then(|m| m.get(name)).copied()
    }

    /// Every `upstream NAME {}` in the same tree as `id`, by name.
    pub fn upstreams(&self, id: ScopeId) -> HashMap<&'w str, ScopeId> {
        self.upstream_blocks.get(&self.top_of(id)).cloned().unwrap_or_default()
    }

    /// Every directive named `name` anywhere in the same tree as `id`.
    pub fn all_in_tree(&self, id: ScopeId, name: &str) -> Vec<(ScopeId, Placed<'w>)> {
        let top = self.top_of(id);
        self.named(name).filter(|&(s, _)| self.scopes[s].top == top).collect()
    }

    /// The file the block of `id` is written in (for a top scope, the root or snippet).
    pub fn own_file(&self, id: ScopeId) -> FileId {
        self.scopes[id].block.map_or(self.scopes[id].origin, |b| b.file)
    }

    /// The `include` directives of scope `id` in document order, including those inside
    /// included files (`direct == false`); block directives' own includes are not listed.
    pub fn includes_in(&self, ws: &'w Workspace, id: ScopeId) -> Vec<IncludeAt<'w>> {
        // A view is built from one workspace, so the first answer holds for every call.
        self.includes[id].get_or_init(|| self.find_includes(ws, id)).clone()
    }

    fn find_includes(&self, ws: &'w Workspace, id: ScopeId) -> Vec<IncludeAt<'w>> {
        fn go<'w>(ws: &'w Workspace, file: FileId, items: &'w [Item], direct: bool, depth: usize, out: &mut Vec<IncludeAt<'w>>) {
            for item in items {
                let Item::Directive(d) = item else { continue };
                if d.name.value != "include" || d.block().is_some() {
                    continue;
                }
                let targets = ws.includes.get(&(file, d.span.start())).map_or(&[][..], Vec::as_slice);
                let unread = ws.unread_includes.contains(&(file, d.span.start()));
                out.push(IncludeAt { directive: Placed { file, directive: d }, targets, unread, direct });
                if depth < MAX_INCLUDE_DEPTH {
                    for t in targets {
                        if let Some(nf) = ws.nginx.get(t) {
                            go(ws, *t, &nf.config.items, false, depth + 1, out);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        let scope = &self.scopes[id];
        let (file, items): (FileId, &'w [Item]) = match scope.block {
            Some(b) => match b.directive.block() {
                Some(block) => (b.file, &block.items),
                None => return out,
            },
            None => match ws.nginx.get(&scope.origin) {
                Some(nf) => (scope.origin, &nf.config.items),
                None => return out,
            },
        };
        go(ws, file, items, true, 0, &mut out);
        out
    }

    /// The direct include of scope `id` through which `file` was spliced into it, if any.
    pub fn include_bringing(&self, ws: &'w Workspace, id: ScopeId, file: FileId) -> Option<Placed<'w>> {
        let all = self.includes_in(ws, id);
        let mut current = None;
        for inc in &all {
            if inc.direct {
                current = Some(inc.directive);
            }
            if inc.targets.contains(&file) {
                return current;
            }
        }
        None
    }

    pub fn top_of(&self, id: ScopeId) -> ScopeId {
        self.scopes[id].top
    }

    /// A short human name for a scope: `location ~ \.php$`, `server shop.example.com`.
    pub fn describe(&self, id: ScopeId) -> String {
        let Some(block) = self.scopes[id].block else { return "top level".into() };
        match block.name() {
            "server" => {
                let name = self.first_here(id, "server_name").and_then(|p| p.arg(0)).unwrap_or("");
                if name.is_empty() { "server".into() } else { format!("server {name}") }
            }
            other => {
                // Thousands of findings name their location: one allocation each.
                let args = &block.directive.args;
                let mut out = String::with_capacity(other.len() + args.iter().map(|a| a.value.len() + 1).sum::<usize>());
                out.push_str(other);
                for arg in args {
                    out.push(' ');
                    out.push_str(&arg.value);
                }
                out.truncate(out.trim_end().len());
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NGX301 asks every level above every PHP location for its includes: the http{} level's
    /// answer (a walk of all its servers) is made once and given again.
    #[test]
    fn includes_of_a_scope_are_found_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut conf = String::from("events {}\nhttp {\n    include fastcgi_params;\n");
        for i in 0..50 {
            conf.push_str(&format!("    server {{ listen 80; location ~ \\.php$ {{ fastcgi_pass 127.0.0.1:{i}; }} }}\n"));
        }
        conf.push_str("    include extra.conf;\n}\n");
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        std::fs::write(dir.path().join("extra.conf"), "include more.conf;\n").unwrap();
        std::fs::write(dir.path().join("more.conf"), "gzip on;\n").unwrap();
        let opts = crate::workspace::Options { paths: vec![".".into()], cwd: dir.path().to_path_buf(), ..Default::default() };
        let ws = Workspace::load(&opts, &mut std::io::empty()).unwrap();
        let view = NginxView::build(&ws);
        let http = view.scopes.iter().position(|s| s.context == Context::Http).unwrap();
        assert!(view.includes[http].get().is_none());
        let names = |v: &[IncludeAt]| v.iter().map(|i| (i.directive.arg(0).unwrap().to_string(), i.direct)).collect::<Vec<_>>();
        let first = view.includes_in(&ws, http);
        let expected = [("fastcgi_params", true), ("extra.conf", true), ("more.conf", false)].map(|(n, d)| (n.to_string(), d));
        assert_eq!(names(&first), expected);
        // Kept: later calls are answered from it, not by a second walk of the 50 servers.
        assert_eq!(names(view.includes[http].get().expect("kept after the first call")), expected);
        assert_eq!(names(&view.includes_in(&ws, http)), expected);
    }
}
