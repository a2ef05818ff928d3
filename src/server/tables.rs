//! What completion and hover know of a root, kept from its last lint: the directive
//! tables its nginx is checked against (as the NGX002–NGX006 rules choose them), the
//! modules it loads, and where each of its files is read. A completion then parses one
//! buffer and reads no file.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::nginx::ast::Directive as Written;
use crate::nginx::directives::build::Presence;
use crate::nginx::directives::{ctx, module_tables, nginx_tables, overrides, so_stem, Catalog, Directive, Target, VersionSource};
use crate::source::FileId;
use crate::workspace::{Context, Workspace};

pub struct Tables {
    pub catalog: Catalog,
    /// `.so` stems of the tree's `load_module` lines and the names of `[nginx] modules`.
    loaded: HashSet<String>,
    /// Third-party tables the tree uses without loading them while its module set is open
    /// (no build, no `[nginx] modules`): built in, as NGX002 assumes too.
    used: HashSet<&'static str>,
    /// With a known build: whether each of nginx's own modules is in it.
    presence: HashMap<&'static str, Presence>,
    /// nginx files by real path: where their top level is read.
    tops: HashMap<PathBuf, Top>,
    /// PHP-FPM main files (php-fpm.conf), whose top lines are `[global]`.
    fpm_mains: HashSet<PathBuf>,
}

/// Where the top level of an nginx file is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Top {
    /// The context of each place that reads it (one for a root, one per include);
    /// a directive completed there must be valid in all of them.
    pub contexts: Vec<u32>,
    /// Neither a root nor included: the context is inferred from the file's content.
    pub guessed: bool,
}

/// Whether a directive can be used in this tree, and if not quite, why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Usable {
    Yes,
    /// A third-party module's, used elsewhere in the tree without `load_module`.
    BuiltIn,
    /// A dynamic module of this build the tree does not load: the `.so` stem.
    NeedsLoad(String),
    /// Newer than the release the tree is checked against.
    Newer,
}

impl Tables {
    /// The tables for `target`, and what `ws` (the root's last lint) says of its files.
    pub fn new(target: Target, ws: Option<&Workspace>) -> Tables {
        let catalog = Catalog::new(target);
        let target = &catalog.target;
        let mut loaded: HashSet<String> = target.modules.iter().flatten().map(|m| so_stem(m)).collect();
        let mut used = HashSet::new();
        let mut tops = HashMap::new();
        let mut fpm_mains = HashSet::new();
        if let Some(ws) = ws {
            let open = target.build.is_none() && target.modules.is_none();
            for file in ws.nginx.values() {
                file.config.for_each_directive(&mut |d: &Written| {
                    if d.name.value == "load_module" {
                        loaded.extend(d.args.first().map(|a| so_stem(&a.value)));
                    } else if open && !catalog.nginx.has(&d.name.value) {
                        used.extend(catalog.lookup(&d.name.value).modules.iter().map(|m| m.table.as_str()));
                    }
                });
            }
            let mut memo = HashMap::new();
            for &id in ws.nginx.keys() {
                let Some(path) = ws.source(id).disk_path.clone() else { continue };
                let contexts = top_contexts(ws, id, &mut memo, &mut HashSet::new());
                let guessed = !ws.nginx_roots.contains(&id) && ws.nginx[&id].included_from.is_empty();
                tops.insert(path, Top { contexts, guessed });
            }
            fpm_mains.extend(ws.fpm.iter().filter(|c| !c.fragment).filter_map(|c| c.root).filter_map(|id| ws.source(id).disk_path.clone()));
        }
        let mut presence = HashMap::new();
        if let Some(build) = &target.build {
            for d in catalog.nginx.directives {
                presence.entry(d.module.as_str()).or_insert_with(|| build.presence(d.module.as_str(), catalog.nginx.configure_options));
            }
        }
        Tables { catalog, loaded, used, presence, tops, fpm_mains }
    }

    /// Where the top level of the nginx file at `path` is read, if the last lint knew.
    pub fn top(&self, path: &std::path::Path) -> Option<&Top> {
        self.tops.get(path)
    }

    pub fn is_fpm_main(&self, path: &std::path::Path) -> bool {
        self.fpm_mains.contains(path)
    }

    /// Can `d` be used in this tree? `None`: not at all (a module this build lacks, a
    /// third-party module it neither loads nor uses).
    pub fn usable(&self, d: &'static Directive) -> Option<Usable> {
        let target = &self.catalog.target;
        if d.table == self.catalog.nginx.id {
            if d.since.is_some_and(|v| v > target.version && target.version_known()) {
                return Some(Usable::Newer);
            }
            return match self.presence.get(d.module.as_str()) {
                None | Some(Presence::Static) => Some(Usable::Yes),
                Some(Presence::Dynamic(stem)) if self.loaded.contains(stem) => Some(Usable::Yes),
                Some(Presence::Dynamic(stem)) => Some(Usable::NeedsLoad(stem.clone())),
                Some(Presence::Absent) => None,
            };
        }
        if nginx_tables().any(|t| t.id == d.table.as_str()) {
            // Another release's: only a newer one's is worth offering.
            return (!self.catalog.nginx.has(d.name.as_str()) && nginx_tables().find(|t| t.id == d.table.as_str()).and_then(|t| t.version) > self.catalog.nginx.version).then_some(Usable::Newer);
        }
        if crate::nginx::directives::module_loaded(&self.loaded, d.table.as_str(), d.module.as_str()) {
            Some(Usable::Yes)
        } else {
            self.used.contains(d.table.as_str()).then_some(Usable::BuiltIn)
        }
    }

    /// Every directive of the chosen release, of newer releases (names it lacks) and of
    /// the third-party modules.
    pub fn candidates(&self) -> impl Iterator<Item = &'static Directive> + '_ {
        let newer = nginx_tables().filter(move |t| t.version > self.catalog.nginx.version);
        std::iter::once(self.catalog.nginx).chain(newer).chain(module_tables()).flat_map(|t| t.directives.iter())
    }

    /// The entries of `name` worth showing, usable ones first.
    pub fn entries(&self, name: &str) -> Vec<(&'static Directive, Usable)> {
        let found = self.catalog.lookup(name);
        let mut out: Vec<(&'static Directive, Usable)> =
            found.nginx.iter().chain(found.modules).chain(&found.other_releases).filter_map(|&d| Some((d, self.usable(d)?))).collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// What the checked release is, for notes: `nginx 1.22.1 ([nginx] version)`.
    pub fn checked_against(&self) -> String {
        let t = &self.catalog.target;
        match t.source {
            VersionSource::Config => format!("nginx {} ([nginx] version)", t.version),
            VersionSource::Binary => format!("nginx {} (nginx -V)", t.version),
            VersionSource::Installed => format!("nginx {} (the nginx installed here)", t.version),
            VersionSource::Newest => format!("nginx {} (the newest conflint knows)", t.version),
        }
    }

    /// Why `u` is not plainly usable, in a few words; `None` for [`Usable::Yes`].
    pub fn note(&self, d: &Directive, u: &Usable) -> Option<String> {
        Some(match u {
            Usable::Yes => return None,
            Usable::BuiltIn => format!("{} is not loaded by load_module; assumed built in, as the tree uses its directives", d.module),
            Usable::NeedsLoad(stem) => format!("a dynamic module of this nginx: needs `load_module modules/{stem}.so;`"),
            Usable::Newer => match d.since {
                Some(v) => format!("appeared in nginx {v}; this tree is checked against {}", self.checked_against()),
                None => format!("not in {}", self.checked_against()),
            },
        })
    }
}

impl Tables {
    /// What the table says of `d`, for hover and a completion's documentation: syntax,
    /// default, contexts, module, the release it appeared in, the link to nginx.org, and
    /// whether it may stand `here` (the contexts at the cursor, when known).
    pub fn markdown(&self, d: &Directive, u: &Usable, here: &[u32]) -> String {
        let name = &d.name;
        let end = if d.arity.block { " { … }" } else { ";" };
        // Without documented syntax, the arity says whether it takes arguments.
        let args = if d.arity.take == 1 && !(d.arity.flag || d.arity.one_more || d.arity.two_more || d.arity.any) { "" } else { " …" };
        let syntax: Vec<String> = if d.syntax.is_empty() { vec![format!("{name}{args}{end}")] } else { d.syntax.iter().map(|s| format!("{name} {s}{end}")).collect() };
        let mut out = format!("**{name}** ({})\n\n```nginx\n{}\n```\n\n", d.module, syntax.join("\n"));
        let mut facts = Vec::new();
        match d.default {
            Some(v) => facts.push(format!("Default: `{name} {v};`")),
            None if !d.arity.block => facts.push("Default: none".into()),
            None => {}
        }
        facts.push(format!("Context: {}", d.context_names().join(", ")));
        if let Some(v) = d.since {
            facts.push(format!("Appeared in: nginx {v}"));
        }
        if d.table.as_str() != self.catalog.nginx.id && !nginx_tables().any(|t| t.id == d.table.as_str()) {
            facts.push(format!("Third-party module: table `{}`", d.table));
        }
        let elsewhere: Vec<u32> = here.iter().copied().filter(|&c| d.contexts & c == 0).collect();
        if !elsewhere.is_empty() {
            let names: Vec<&str> = elsewhere.iter().map(|&c| ctx::describe(c)).collect();
            facts.push(format!("**Not allowed here** (in {})", names.join(", ")));
        }
        facts.extend(self.note(d, u).map(|n| format!("**Note:** {n}")));
        for f in facts {
            out.push_str(&format!("- {f}\n"));
        }
        if let Some(link) = &d.link {
            out.push_str(&format!("\n[{name} on nginx.org]({link})\n"));
        }
        out
    }
}

/// The context bit inside the blocks `path` (outermost first), read from `top`; `None`
/// inside a block whose body is not directives (`map`, `types`, a Lua block, an unknown one).
pub fn context_in(top: u32, path: &[&Written]) -> Option<u32> {
    path.iter().try_fold(top, |c, d| {
        let b = d.block()?;
        if b.raw.is_some() || overrides::DATA_BLOCKS.contains(&d.name.value.as_str()) {
            return None;
        }
        ctx::child(c, &d.name.value)
    })
}

/// The workspace's coarse context as a context bit.
pub fn bit(c: Context) -> Option<u32> {
    Some(match c {
        Context::Main => ctx::MAIN,
        Context::Events => ctx::EVENT,
        Context::Http => ctx::HTTP,
        Context::Server => ctx::SERVER,
        Context::Location => ctx::LOCATION,
        Context::Upstream => ctx::UPSTREAM,
        Context::Stream => ctx::STREAM,
        Context::Other => return None,
    })
}

/// The contexts the top level of `id` is read in: main for a root, the context of each
/// include for an included file, the one inferred from its content for a snippet.
fn top_contexts(ws: &Workspace, id: FileId, memo: &mut HashMap<FileId, Vec<u32>>, visiting: &mut HashSet<FileId>) -> Vec<u32> {
    if let Some(known) = memo.get(&id) {
        return known.clone();
    }
    if !visiting.insert(id) {
        return Vec::new();
    }
    let file = &ws.nginx[&id];
    let mut out = Vec::new();
    if ws.nginx_roots.contains(&id) {
        out.push(ctx::MAIN);
    } else if file.included_from.is_empty() {
        out.extend(bit(crate::workspace::infer_context(&file.config)));
    } else {
        for at in &file.included_from {
            let Some(includer) = ws.nginx.get(&at.file) else { continue };
            let path = includer.config.blocks_at(at.span.start());
            for top in top_contexts(ws, at.file, memo, visiting) {
                out.extend(context_in(top, &path));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    visiting.remove(&id);
    memo.insert(id, out.clone());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::directives::Version;

    fn tables(version: &str) -> Tables {
        Tables::new(Target { version: version.parse().unwrap(), source: VersionSource::Config, build: None, modules: None }, None)
    }

    #[test]
    fn newer_directives_are_marked_and_removed_ones_are_not_offered() {
        let t = tables("1.22.1");
        let trailers = t.entries("proxy_pass_trailers");
        assert_eq!(trailers.len(), 1);
        assert_eq!(trailers[0].1, Usable::Newer);
        assert_eq!(trailers[0].0.since, Some(Version(1, 27, 2)));
        assert_eq!(t.note(trailers[0].0, &trailers[0].1).unwrap(), "appeared in nginx 1.27.2; this tree is checked against nginx 1.22.1 ([nginx] version)");
        assert_eq!(t.entries("proxy_pass")[0].1, Usable::Yes);
        // A third-party module's directive, neither loaded nor used: not offered.
        assert!(t.entries("content_by_lua_block").is_empty());
    }

    #[test]
    fn contexts_inside_blocks() {
        let c = crate::nginx::parse(b"http { server { location / { if ($x) { } limit_except GET { } } } map $a $b { } }");
        let at = |needle: &str| {
            let src = "http { server { location / { if ($x) { } limit_except GET { } } } map $a $b { } }";
            context_in(ctx::MAIN, &c.blocks_at(src.find(needle).unwrap() + needle.len()))
        };
        assert_eq!(at("if ($x) {"), Some(ctx::LOCATION_IF));
        assert_eq!(at("GET {"), Some(ctx::LIMIT_EXCEPT));
        assert_eq!(at("location / {"), Some(ctx::LOCATION));
        assert_eq!(at("$b {"), None, "a map's body is data");
        assert_eq!(context_in(ctx::SERVER, &[]), Some(ctx::SERVER));
    }
}
