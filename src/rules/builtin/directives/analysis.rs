//! One walk over every nginx tree that does what `ngx_conf_handler` does with each
//! directive: find its declaration for the context it stands in, check the block or `;`,
//! the number of arguments, the generic slot's value and duplicates. The NGX002–NGX006
//! checks report what it found; it runs once, for whichever of them asks first.

use std::collections::{HashMap, HashSet};

use crate::effective::nginx::{NginxView, Placed, ScopeId};
use crate::finding::{Location, Severity};
use crate::nginx::directives::build::Presence;
use crate::nginx::directives::{ctx, overrides, so_stem as stem, Catalog, Directive, Lookup, Target, VersionSource};
use crate::workspace::{Context, Workspace};

use super::{custom, values, variables};

/// A problem with one directive, worded as nginx words it.
#[derive(Clone, Debug)]
pub struct Problem {
    pub code: &'static str,
    /// `None`: the rule's own severity.
    pub severity: Option<Severity>,
    pub at: Location,
    pub message: String,
    pub help: Option<String>,
    pub related: Option<(Location, String)>,
}

pub const UNKNOWN: &str = "NGX002";
pub const NOT_ALLOWED: &str = "NGX003";
pub const ARGUMENTS: &str = "NGX004";
pub const VALUE: &str = "NGX005";
pub const DUPLICATE: &str = "NGX006";
pub const VARIABLE: &str = "NGX010";
pub const NO_EVENTS: &str = "NGX011";
/// The rules that report this analysis's problems.
pub const CODES: [&str; 7] = [UNKNOWN, NOT_ALLOWED, ARGUMENTS, VALUE, DUPLICATE, VARIABLE, NO_EVENTS];

/// Contexts whose variables are http variables.
const HTTP_CONTEXTS: u32 = ctx::HTTP | ctx::SERVER | ctx::LOCATION | ctx::SERVER_IF | ctx::LOCATION_IF | ctx::LIMIT_EXCEPT | ctx::UPSTREAM;

#[derive(Default)]
pub struct Analysis {
    pub problems: Vec<Problem>,
}

/// What one tree loads, and whether that is all it can load.
struct Modules<'t> {
    target: &'t Target,
    /// With a known build: whether each of nginx's modules is in it.
    presence: HashMap<&'static str, Presence>,
    /// `.so` stems of `load_module` lines and `[nginx] modules` entries.
    loaded: HashSet<String>,
    /// Why the tree may hold directives of modules conflint cannot see, if it may.
    open: Option<String>,
}

impl Modules<'_> {
    /// Is nginx's own module of `d` in this build (unknown build: assumed so)?
    fn nginx_present(&self, d: &Directive) -> Result<(), String> {
        if self.target.build.is_none() {
            return Ok(());
        }
        match self.presence.get(d.module.as_str()).unwrap_or(&Presence::Static) {
            Presence::Static => Ok(()),
            Presence::Dynamic(stem) if self.loaded.contains(stem) => Ok(()),
            Presence::Dynamic(stem) => Err(format!("{} is a dynamic module of this nginx build and this configuration does not load it (load_module modules/{stem}.so;)", d.module)),
            Presence::Absent => Err(format!("{} is not part of this nginx build (nginx -V)", d.module)),
        }
    }

    /// Does the tree load the third-party module that declares `d`?
    fn module_loaded(&self, d: &Directive) -> bool {
        self.table_loaded(d.table.as_str(), d.module.as_str())
    }

    /// Is `module` of third-party table `table` loaded?
    fn table_loaded(&self, table: &str, module: &str) -> bool {
        crate::nginx::directives::module_loaded(&self.loaded, table, module)
    }

    /// Is nginx's own module `module` in this build (unknown build: assumed so)?
    fn module_present(&self, module: &str) -> bool {
        if self.target.build.is_none() {
            return true;
        }
        match self.presence.get(module).unwrap_or(&Presence::Static) {
            Presence::Static => true,
            Presence::Dynamic(stem) => self.loaded.contains(stem),
            Presence::Absent => false,
        }
    }
}

/// Every module name or file stem conflint has a table for (or knows to declare nothing).
fn known_stem(stem: &str) -> bool {
    overrides::DIRECTIVELESS_MODULES.contains(&stem)
        || crate::nginx::directives::tables().iter().any(|t| t.id == stem || t.directives.iter().any(|d| d.module == stem))
}

pub fn analyse<'w>(ws: &'w Workspace, view: &NginxView<'w>, target: &Target) -> Analysis {
    let catalog = Catalog::new(target.clone());
    let mut out = Analysis::default();
    for &top in &view.tops {
        let mut modules = modules_of(ws, view, top, &catalog);
        let mut walk = Walk { view, catalog: &catalog, modules: &mut modules, out: &mut out.problems, unloaded: Vec::new(), unproved: Vec::new(), log_formats: Vec::new(), block: None, uses: Vec::new(), defined: HashSet::new(), files: HashSet::new(), assumed: HashMap::new() };
        let root = ws.nginx_roots.contains(&view.scope(top).origin);
        let top_ctx = match view.scope(top).context {
            Context::Main => Some(ctx::MAIN),
            Context::Events => Some(ctx::EVENT),
            Context::Http => Some(ctx::HTTP),
            Context::Server => Some(ctx::SERVER),
            Context::Location => Some(ctx::LOCATION),
            Context::Upstream => Some(ctx::UPSTREAM),
            Context::Stream => Some(ctx::STREAM),
            Context::Other => None,
        };
        let start = walk.out.len();
        // A root file without http or events at its top may be a site named nginx.conf
        // (a container image's conf.d/nginx.conf): its context is a guess then too.
        let has_top = |n: &str| view.first_here(top, n).is_some();
        let certain = root && (has_top("http") || has_top("events"));
        let main_only = ["http", "worker_processes", "user", "pid", "load_module", "stream", "mail", "worker_rlimit_nofile"].into_iter().find_map(|n| view.first_here(top, n));
        if let (true, Some(at), false) = (root, main_only, has_top("events")) {
            // Only a file nginx loads as its main configuration needs events: one named
            // nginx.conf, or one with directives only a main configuration holds. A file
            // with just `http { }` may as well be included at the top of one.
            let origin = view.scope(top).origin;
            let named_main = ws.source(origin).display.rsplit('/').next() == Some("nginx.conf");
            let main_signs = ["worker_processes", "user", "pid", "load_module", "worker_rlimit_nofile"].iter().any(|n| has_top(n));
            let (severity, help) = if named_main || main_signs {
                (None, "nginx needs an `events { }` block at the top level, even an empty one".to_string())
            } else {
                (Some(Severity::Info), "assumed to be loaded as nginx's main configuration (nginx -c); nginx needs an `events { }` block there, even an empty one — if it is included from a main configuration, that one needs it".to_string())
            };
            walk.out.push(Problem { code: NO_EVENTS, severity, at: at.location(), message: "no \"events\" section in configuration".into(), help: Some(help), related: None });
        }
        walk.scope(top, top_ctx, !certain);
        walk.variables();
        // Directives of known third-party modules the tree does not load: without a known
        // build they were probably compiled in (OpenResty), so the set is open and the
        // tree's unknown names are only warnings.
        for (_, (at, more)) in std::mem::take(&mut walk.assumed) {
            if more > 0 {
                if let Some(h) = walk.out[at].help.as_mut() {
                    h.push_str(&format!(" ({more} more uses of its directives in this configuration are not listed)"));
                }
            }
        }
        let unloaded = std::mem::take(&mut walk.unloaded);
        if !unloaded.is_empty() && target.build.is_none() && target.modules.is_none() && walk.modules.open.is_none() {
            walk.modules.open = Some(format!("it uses {} without loading its module, so its nginx may have modules built in", unloaded[0]));
        }
        if let (Some(name), None) = (walk.unproved.first(), &walk.modules.open) {
            walk.modules.open = Some(format!("it uses \"{name}\", which no module conflint knows declares, so its nginx has other modules built in or is a fork (Tengine, OpenResty)"));
        }
        let open = walk.modules.open.clone();
        let incomplete = if !root {
            Some("no nginx.conf of the linted tree includes this file, so what it includes from is not known".to_string())
        } else if top_ctx != Some(ctx::MAIN) {
            Some("this file is read inside a main configuration the linted tree does not have".to_string())
        } else {
            let files = &walk.files;
            let unread = ws.unread_globs.iter().any(|(f, _)| files.contains(f)) || ws.findings.iter().any(|f| matches!(f.code.as_str(), "CFL002" | "NGX007") && files.contains(&f.location.file));
            unread.then(|| "some of its includes are not in the linted tree".to_string())
        };
        for p in &mut out.problems[start..] {
            settle(p, open.as_deref(), incomplete.as_deref());
        }
    }
    out
}

/// Problems whose severity depends on whether the module set is known are made with
/// `Pending`; they are settled once the whole tree was walked.
fn settle(p: &mut Problem, open: Option<&str>, incomplete: Option<&str>) {
    let Some(help) = p.help.as_mut() else { return };
    let Some(rest) = help.strip_prefix(PENDING) else { return };
    let (kind, rest) = rest.split_once('\u{1}').unwrap_or(("", rest));
    let (kind, rest) = (kind.to_string(), rest.to_string());
    *help = rest;
    let kind = kind.as_str();
    // A name the configuration defines (a log format, a variable) may be in what it does not show.
    let open = if matches!(kind, "format" | "variable") { open.or(incomplete) } else { open };
    match (kind, open) {
        ("parameter", Some(why)) => {
            p.severity = Some(Severity::Info);
            help.push_str(&format!("; not an error because this may not be stock nginx ({why})"));
        }
        ("unproved", None) => {
            p.severity = Some(Severity::Info);
            help.push_str("; assumed to come from a module built into this nginx (list its modules in [nginx] modules of conflint.toml to have it checked)");
        }
        (_, None) => {}
        ("typo", Some(why)) => {
            p.severity = Some(Severity::Warning);
            help.push_str(&format!("; not an error because conflint cannot see every module of this configuration ({why})"));
        }
        (_, Some(why)) => {
            p.severity = Some(Severity::Info);
            help.push_str(&format!("; assumed to be defined by a module conflint cannot see ({why})"));
        }
    }
}

/// Marks a help text whose problem is an error only in a tree whose modules are all known.
const PENDING: &str = "\u{0}";

fn modules_of<'w, 't>(ws: &'w Workspace, view: &NginxView<'w>, top: ScopeId, catalog: &'t Catalog) -> Modules<'t> {
    let target = &catalog.target;
    let root = ws.nginx_roots.contains(&view.scope(top).origin);
    let mut loaded: HashSet<String> = target.modules.iter().flatten().map(|m| stem(m)).collect();
    let mut open = None;
    for p in view.here(top, "load_module") {
        if let Some(arg) = p.arg(0) {
            let s = stem(arg);
            if !known_stem(&s) && open.is_none() {
                open = Some(format!("load_module {arg} is a module conflint has no table for"));
            }
            loaded.insert(s);
        }
    }
    if target.modules.is_none() && open.is_none() {
        if !root {
            open = Some("no nginx.conf of the linted tree includes this file; set [nginx] modules in conflint.toml to check it as a whole".into());
        } else if target.build.as_ref().is_some_and(|b| b.adds_static_modules()) {
            open = Some("this nginx was built with --add-module".into());
        } else if let Some(inc) = view.includes_in(ws, top).into_iter().find(|i| ws.unread_globs.contains(&(i.directive.file, i.directive.directive.span.start())) || (i.targets.is_empty() && !i.is_glob())) {
            open = Some(format!("include {} at the top level reads files that are not in the linted tree", inc.directive.arg(0).unwrap_or("")));
        }
    }
    if target.modules.is_some() {
        open = None;
    }
    let mut presence = HashMap::new();
    if let Some(build) = &target.build {
        let modules = catalog.nginx.directives.iter().map(|d| d.module.as_str()).chain(catalog.nginx.variables.iter().map(|v| v.module.as_str()));
        for m in modules {
            presence.entry(m).or_insert_with(|| build.presence(m, catalog.nginx.configure_options));
        }
    }
    Modules { target, presence, loaded, open }
}

struct Walk<'a, 'w, 'm> {
    view: &'a NginxView<'w>,
    catalog: &'a Catalog,
    modules: &'a mut Modules<'m>,
    out: &'a mut Vec<Problem>,
    /// Third-party directives used without their module loaded (for the module set).
    unloaded: Vec<String>,
    /// Names no table declares, used where the build is not known (`vod`, `xquic_log`).
    unproved: Vec<String>,
    /// `log_format` names defined so far, in document order (`access_log` needs them first).
    log_formats: Vec<String>,
    /// The block directive of the scope being walked.
    block: Option<Placed<'w>>,
    /// Every file the tree's directives come from.
    files: HashSet<crate::source::FileId>,
    /// Third-party modules assumed built in (info): the index of their first problem, and
    /// how many more uses there are (one note per module, not one per directive).
    assumed: HashMap<&'static str, (usize, usize)>,
    /// Variables used in http contexts (where, name), and those the tree defines.
    uses: Vec<(Location, &'w str)>,
    defined: HashSet<&'w str>,
}

impl<'w> Walk<'_, 'w, '_> {
    /// Check the directives of scope `id`, which nginx reads in context `context`
    /// (`None`: a block conflint does not know, whose content is not checked).
    /// `guessed`: the context of a snippet's top level, inferred from its content.
    fn scope(&mut self, id: ScopeId, context: Option<u32>, guessed: bool) {
        let scope = self.view.scope(id);
        let outer = std::mem::replace(&mut self.block, scope.block);
        let mut children = scope.children.iter().copied();
        let mut seen: HashMap<std::borrow::Cow<str>, Placed> = HashMap::new();
        let mut last_file = None;
        for &p in &scope.directives {
            if last_file.replace(p.file) != Some(p.file) {
                self.files.insert(p.file);
            }
            self.definitions(p);
            let block = p.directive.block();
            let child = block.filter(|b| b.raw.is_none()).and_then(|_| children.next());
            let Some(c) = context else {
                if let Some(child) = child {
                    self.scope(child, None, false);
                }
                continue;
            };
            let matched = self.directive(p, c, guessed);
            if let Some(d) = matched.filter(|_| c & HTTP_CONTEXTS != 0) {
                let used = variables::used_in(p, d.kind);
                for (i, arg) in p.directive.args.iter().enumerate().take(63) {
                    if used & (1 << i) == 0 || !arg.value.contains('$') {
                        continue;
                    }
                    for name in variables::names(&arg.value) {
                        self.uses.push((Location { file: p.file, span: arg.span }, name));
                    }
                }
            }
            if p.name() == "log_format" {
                self.log_formats.extend(p.arg(0).map(str::to_string));
            }
            if let Some(d) = matched {
                self.duplicate(p, d, &mut seen);
            }
            if let (Some(child), Some(_), "map") = (child, matched, p.name()) {
                self.map_body(child);
            }
            if let Some(child) = child {
                let inner = match matched {
                    Some(_) if overrides::DATA_BLOCKS.contains(&p.name()) => None,
                    Some(_) => ctx::child(c, p.name()),
                    None => None,
                };
                self.scope(child, inner, false);
            }
        }
        self.block = outer;
    }

    /// `ngx_http_map` (and the stream one): `key value;` lines, one `default`, keys once.
    fn map_body(&mut self, id: ScopeId) {
        let mut keys: HashMap<String, Placed> = HashMap::new();
        let hostnames = self.view.scope(id).directives.iter().any(|p| p.name() == "hostnames");
        for &p in &self.view.scope(id).directives {
            let key = p.name();
            let n = p.directive.args.len();
            let ok = match key {
                "hostnames" | "volatile" => n == 0 || n == 1,
                "include" => true,
                _ => n == 1,
            };
            if !ok || p.directive.block().is_some() {
                self.push(ARGUMENTS, p.location(), "invalid number of the map parameters".into(), Some("each line of a map is `key value;`".into()));
                continue;
            }
            if matches!(key, "hostnames" | "volatile" | "include") && n != 1 || key.starts_with('~') || key == "include" {
                continue;
            }
            // Exact keys compare case-insensitively; `\` escapes a leading special word.
            let mut k = key.strip_prefix('\\').unwrap_or(key).to_ascii_lowercase();
            if hostnames {
                k = k.trim_start_matches('.').to_string();
            }
            match keys.get(&k) {
                Some(first) => {
                    let message = if key == "default" { "duplicate default map parameter".to_string() } else { format!("conflicting parameter \"{k}\"") };
                    self.out.push(Problem { code: DUPLICATE, severity: None, at: p.location(), message, help: Some("a map takes each key once".into()), related: Some((first.location(), "first given here".into())) });
                }
                None => {
                    keys.insert(k, p);
                }
            }
        }
    }

    /// Variables `p` defines, and the named captures of its regexes.
    fn definitions(&mut self, p: Placed<'w>) {
        if let Some(v) = variables::defined_by(p) {
            self.defined.insert(v);
        }
        for a in std::iter::once(&p.directive.name).chain(&p.directive.args) {
            if a.value.contains("(?") {
                self.defined.extend(variables::captures(&a.value));
            }
        }
    }

    /// Is `$name` built in: nginx's (its module in this build) or a loaded module's?
    fn builtin(&self, name: &str) -> bool {
        let matches = |v: &crate::nginx::directives::Variable| v.subsystem.as_str() == "http" && (v.name.as_str() == name || (v.prefix && name.starts_with(v.name.as_str())));
        let nginx = self.catalog.nginx.variables.iter().filter(|v| matches(v)).any(|v| self.modules.module_present(v.module.as_str()));
        let hand_kept = || {
            overrides::MODULE_VARIABLES.iter().any(|(table, prefix)| {
                name.starts_with(prefix) && crate::nginx::directives::module_tables().find(|t| t.id == *table).is_some_and(|t| t.directives.iter().any(|d| self.modules.table_loaded(t.id, d.module.as_str())))
            })
        };
        nginx || crate::nginx::directives::module_tables().any(|t| t.variables.iter().any(|v| matches(v) && self.modules.table_loaded(t.id, v.module.as_str()))) || hand_kept()
    }

    /// `unknown "x" variable` for every use the tree neither builds in nor defines.
    fn variables(&mut self) {
        let uses = std::mem::take(&mut self.uses);
        let mut reported = HashSet::new();
        // The same few variables are used everywhere ($host, $uri): each is looked up once.
        let mut known: HashMap<&str, bool> = HashMap::new();
        for (at, name) in uses {
            if self.defined.contains(name) || *known.entry(name).or_insert_with(|| self.builtin(name)) || !reported.insert((at, name)) {
                continue;
            }
            let help = format!("{PENDING}variable\u{1}no module of this nginx ({}) defines ${name}, and no set, map, geo, split_clients or regex capture of the configuration does", self.catalog.nginx.id);
            self.out.push(Problem { code: VARIABLE, severity: None, at, message: format!("unknown \"{name}\" variable"), help: Some(help), related: None });
        }
    }

    fn push(&mut self, code: &'static str, at: Location, message: String, help: Option<String>) {
        self.out.push(Problem { code, severity: None, at, message, help, related: None });
    }

    /// Find the declaration `ngx_conf_handler` would use for `p` in `context`, reporting
    /// what it would refuse; `None` when nginx stops at this directive.
    fn directive(&mut self, p: Placed<'w>, context: u32, guessed: bool) -> Option<&'static Directive> {
        let name = p.name();
        let found = self.catalog.lookup(name);
        let target = &self.catalog.target;
        let usable = |d: &&'static Directive, modules: &Modules| -> bool {
            if found.nginx.iter().any(|n| std::ptr::eq(*n, *d)) {
                !d.since.is_some_and(|v| v > target.version && target.version_known()) && modules.nginx_present(d).is_ok()
            } else {
                modules.module_loaded(d)
            }
        };
        let mut present = found.nginx.iter().chain(found.modules).filter(|d| usable(d, self.modules));
        let Some(&first_present) = present.clone().next() else {
            let mut missing = Vec::new();
            for d in found.nginx {
                // An older release than the table's: the documentation's appeared-in decides.
                if let Some(since) = d.since.filter(|&v| v > target.version && target.version_known()) {
                    missing.push(format!("it appeared in nginx {since}; this configuration is checked against nginx {}", target.version));
                } else if let Err(why) = self.modules.nginx_present(d) {
                    missing.push(why);
                }
            }
            let unloaded: Vec<&'static Directive> = found.modules.to_vec();
            self.unknown(p, &found, missing, &unloaded);
            return None;
        };
        let Some(&d) = present.find(|d| d.contexts & context != 0) else {
            let present: Vec<&'static Directive> = found.nginx.iter().chain(found.modules).filter(|d| usable(d, self.modules)).copied().collect();
            if guessed {
                // The snippet's context was guessed: any context the directive allows
                // may be the one it is included in.
                return Some(first_present).filter(|d| self.shape(p, d, d.contexts));
            }
            let allowed: Vec<&str> = {
                let mut v: Vec<&str> = present.iter().flat_map(|d| d.context_names()).collect();
                v.dedup();
                v
            };
            self.push(NOT_ALLOWED, p.location(), format!("\"{name}\" directive is not allowed here"), Some(format!("{name} is allowed in: {}", allowed.join(", "))));
            return None;
        };
        self.shape(p, d, context).then_some(d)
    }

    /// Block or `;`, number of arguments, then the slot's value.
    fn shape(&mut self, p: Placed<'w>, d: &'static Directive, context: u32) -> bool {
        let name = p.name();
        let is_block = p.directive.block().is_some();
        let syntax = || (!d.syntax.is_empty()).then(|| format!("syntax: {name} {}", d.syntax.iter().collect::<Vec<_>>().join(&format!(" | {name} "))));
        if d.arity.block && !is_block {
            self.push(ARGUMENTS, p.location(), format!("directive \"{name}\" has no opening \"{{\""), syntax());
            return false;
        }
        if !d.arity.block && is_block {
            self.push(ARGUMENTS, p.location(), format!("directive \"{name}\" is not terminated by \";\""), syntax());
            return false;
        }
        if !d.arity.accepts(p.directive.args.len()) {
            self.push(ARGUMENTS, p.location(), format!("invalid number of arguments in \"{name}\" directive"), syntax());
            return false;
        }
        if name == "proxy_pass" && context & (ctx::LOCATION | ctx::LOCATION_IF | ctx::LIMIT_EXCEPT) != 0 && p.arg(0).is_some_and(custom::has_uri) {
            let in_regex_or_named = self.block.is_some_and(|b| matches!(b.arg(0), Some("~" | "~*")) || b.arg(0).is_some_and(|a| a.starts_with('@')));
            if context != ctx::LOCATION || in_regex_or_named {
                let message = "\"proxy_pass\" cannot have URI part in location given by regular expression, or inside named location, or inside \"if\" statement, or inside \"limit_except\" block";
                self.push(NOT_ALLOWED, p.arg_location(0), message.into(), Some("remove the path after the address (the request URI is passed as is), or rewrite it with `rewrite … break;`".into()));
                return false;
            }
        }
        let target = &self.catalog.target;
        let facts = custom::Facts { context, version: target.version, log_formats: &self.log_formats };
        if let Some((i, message)) = values::check(p, d) {
            self.push(VALUE, p.arg_location(i), message, syntax());
            return false;
        }
        if let Some((i, message)) = custom::check(p, &facts) {
            let newest = crate::nginx::directives::newest();
            let later = (target.version < newest && custom::check(p, &custom::Facts { version: newest, ..facts }).is_none()).then_some(newest);
            let (help, severity) = if message.starts_with("unknown log format") {
                (Some(format!("{PENDING}format\u{1}log_format must define it before this access_log (\"combined\" is predefined)")), None)
            } else if let (Some(v), false) = (later, target.version_known()) {
                (Some(format!("nginx {v} accepts it; this configuration is checked against nginx {}, a guess (set [nginx] version in conflint.toml)", target.version)), Some(Severity::Info))
            } else if message.starts_with("invalid parameter") {
                (Some(format!("{PENDING}parameter\u{1}{}", syntax().unwrap_or_default())), None)
            } else {
                (syntax(), None)
            };
            self.out.push(Problem { code: VALUE, severity, at: p.arg_location(i), message, help, related: None });
            return false;
        }
        true
    }

    fn duplicate(&mut self, p: Placed<'w>, d: &Directive, seen: &mut HashMap<std::borrow::Cow<'w, str>, Placed<'w>>) {
        let name = p.name();
        // limit_req and limit_conn take each zone once per block.
        let zone_key = matches!(name, "limit_req" | "limit_conn").then(|| {
            let zone = p.directive.args.iter().find_map(|a| a.value.strip_prefix("zone=")).or(p.arg(0)).unwrap_or("");
            format!("{name} {zone}")
        });
        let refuses = d.kind.refuses_duplicates() || overrides::CUSTOM_DUPLICATES.contains(&name) || zone_key.is_some();
        if !refuses {
            return;
        }
        // root and alias share one setting.
        let key = zone_key.map_or_else(|| std::borrow::Cow::Borrowed(overrides::EXCLUSIVE.iter().find(|(a, b)| *a == name || *b == name).map_or(name, |(a, _)| *a)), std::borrow::Cow::Owned);
        match seen.get(key.as_ref()) {
            Some(first) => {
                let message = if first.name() == name {
                    format!("\"{name}\" directive is duplicate")
                } else {
                    format!("\"{name}\" directive is duplicate, \"{}\" directive was specified earlier", first.name())
                };
                self.out.push(Problem { code: DUPLICATE, severity: None, at: p.location(), message, help: Some("nginx takes each of these once per block; keep one".into()), related: Some((first.location(), "first set here".into())) });
            }
            None => {
                seen.insert(key, p);
            }
        }
    }

    fn unknown(&mut self, p: Placed<'w>, found: &Lookup, missing: Vec<String>, unloaded: &[&'static Directive]) {
        let name = p.name();
        if crate::workspace::paths::placeholder_in(name).is_some_and(|t| t.len() > 1 && !t.starts_with('$')) {
            let help = "a template placeholder, not judged: lint the configuration the template renders".to_string();
            self.out.push(Problem { code: UNKNOWN, severity: Some(Severity::Info), at: p.location(), message: format!("\"{name}\" is a template placeholder"), help: Some(help), related: None });
            return;
        }
        let message = format!("unknown directive \"{name}\"");
        let target = &self.catalog.target;
        let checked_against = match target.source {
            VersionSource::Config => format!("nginx {} ([nginx] version)", target.version),
            VersionSource::Binary => format!("nginx {} (nginx -V)", target.version),
            VersionSource::Installed => format!("nginx {} (the nginx installed here, whose configuration this is not; set [nginx] version in conflint.toml)", target.version),
            VersionSource::Newest => format!("nginx {} (the newest conflint knows; set [nginx] version in conflint.toml)", target.version),
        };
        let (help, severity) = if !missing.is_empty() {
            (format!("{PENDING}module\u{1}{}", missing[0]), None)
        } else if let Some(d) = unloaded.first() {
            if target.build.is_none() && target.modules.is_none() {
                if let Some((_, more)) = self.assumed.get_mut(d.module.as_str()) {
                    *more += 1;
                    return;
                }
                self.assumed.insert(d.module.as_str(), (self.out.len(), 0));
            }
            self.unloaded.push(format!("{name} ({})", d.module));
            let how = if target.build.is_some() || target.modules.is_some() {
                format!("{name} is a directive of {} ({}), which this configuration does not load: add load_module modules/{}.so; (or list it in [nginx] modules)", d.module, d.table, d.module)
            } else {
                format!("{name} is a directive of {} ({}); no load_module loads it, so it is assumed to be built into this nginx (say so with [nginx] modules in conflint.toml)", d.module, d.table)
            };
            let severity = (target.build.is_none() && target.modules.is_none()).then_some(Severity::Info);
            (format!("{PENDING}module\u{1}{how}"), severity)
        } else if let Some(other) = found.other_releases.first() {
            let when = match (other.since, other.table) {
                (Some(v), _) if v > target.version => format!("it appeared in nginx {v}"),
                (_, t) => format!("it is in {t} but not in {}", self.catalog.nginx.id),
            };
            let severity = (!target.version_known()).then_some(Severity::Info);
            (format!("{when}; this configuration is checked against {checked_against}"), severity)
        } else {
            let similar = self.catalog.similar(name);
            // A name close to no directive is a third-party module's far more often than a
            // slip; without the build it cannot be proved unknown.
            let unproved = similar.is_empty() && target.build.is_none() && target.modules.is_none();
            let text = match similar.as_slice() {
                [] => format!("not a directive of {checked_against} or of the modules conflint knows"),
                s => format!("did you mean {}?", s.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" or ")),
            };
            let kind = if unproved { "unproved" } else if similar.is_empty() { "name" } else { "typo" };
            if unproved {
                self.unproved.push(name.to_string());
            }
            (format!("{PENDING}{kind}\u{1}{text}"), None)
        };
        self.out.push(Problem { code: UNKNOWN, severity, at: p.location(), message, help: Some(help), related: None });
    }
}
