//! nginx `include` resolution with nginx's own rules, and the context of every file.
//!
//! Relative include paths are relative to the conf prefix (the directory of the root
//! nginx.conf, or `--prefix`), not to the including file. A path with `*?[` is a glob:
//! no match is silently nothing, matches are read in sorted order. A plain path that does
//! not exist stops nginx (NGX007). A file that includes itself through any chain is
//! NGX008.

use std::path::{Path, PathBuf};

use super::paths::{is_glob, literal_dir, placeholder_in, ConfDir, Located};
use super::{Builder, Kind};
use crate::finding::{Finding, Location, Severity};
use crate::nginx::ast::{Config, Item, Word};
use crate::source::{FileId, Span};

/// Where a block's directives are evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    Main,
    Events,
    Http,
    Server,
    Location,
    Upstream,
    Stream,
    /// `map`, `types`, `geo`, `*_by_lua_block` and other blocks that hold data, not directives.
    Other,
}

impl std::str::FromStr for Context {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "main" => Ok(Context::Main),
            "http" => Ok(Context::Http),
            "server" => Ok(Context::Server),
            "location" => Ok(Context::Location),
            _ => Err(format!("unknown context `{s}` (expected main, http, server or location)")),
        }
    }
}

impl Context {
    /// The context inside a block directive `name` that stands in `self`.
    pub fn child(self, name: &str) -> Context {
        match (self, name) {
            (Context::Main, "http") => Context::Http,
            (Context::Main, "events") => Context::Events,
            (Context::Main, "stream") => Context::Stream,
            (Context::Http, "server") => Context::Server,
            (Context::Http, "upstream") | (Context::Stream, "upstream") => Context::Upstream,
            (Context::Stream, "server") => Context::Server,
            (Context::Server | Context::Location, "location" | "if" | "limit_except") => Context::Location,
            _ => Context::Other,
        }
    }
}

pub struct NginxFile {
    pub file: FileId,
    pub config: Config,
    /// The context its top-level directives are evaluated in (first includer wins).
    pub context: Option<Context>,
    /// Every `include` directive that pulls this file in.
    pub included_from: Vec<Location>,
}

pub(crate) fn report_syntax_errors(findings: &mut Vec<Finding>, file: FileId, config: &Config) {
    for e in &config.errors {
        findings.push(Finding::new("NGX001", Severity::Error, Location { file, span: e.span }, e.message.clone()));
    }
}

/// The context a file no root includes is linted in, from what stands at its top level.
pub fn infer_context(config: &Config) -> Context {
    let names: Vec<&str> = config
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Directive(d) => Some(d.name.value.as_str()),
            _ => None,
        })
        .collect();
    let has = |n: &[&str]| names.iter().any(|x| n.contains(x));
    if has(&["http", "events", "worker_processes", "user", "pid", "load_module", "stream"]) {
        Context::Main
    } else if has(&["server", "upstream", "map", "limit_req_zone", "limit_conn_zone", "log_format", "geo"]) {
        Context::Http
    } else if has(&["location", "listen", "server_name"]) {
        Context::Server
    } else if has(&["fastcgi_pass", "proxy_pass", "try_files", "fastcgi_param", "fastcgi_split_path_info", "alias"]) {
        Context::Location
    } else {
        Context::Http
    }
}

/// The conf prefix relative includes resolve against, and whether it is certain (a root
/// nginx.conf or `--prefix`) or guessed for a snippet nothing includes.
#[derive(Clone, Copy)]
struct Prefix<'p> {
    dir: Option<&'p Path>,
    known: bool,
    /// The directory that stands for the live system's `/etc/nginx` in this tree, when
    /// several trees stand side by side (each nginx.conf is its own `/etc/nginx`).
    home: Option<&'p Path>,
}

/// Files the distributions' nginx packages install beside nginx.conf: a repository that
/// only carries its own files still gets them on the server.
const PACKAGED: &[&str] = &[
    "mime.types", "fastcgi_params", "fastcgi.conf", "proxy_params", "scgi_params", "uwsgi_params", "koi-utf", "koi-win", "win-utf",
    "snippets/fastcgi-php.conf", "snippets/snakeoil.conf",
];

/// How nginx words an open() of a symlink loop (ELOOP).
const LOOP: &str = "40: Too many levels of symbolic links";

pub(crate) enum Target {
    File(PathBuf),
    Missing(PathBuf),
    Outside(PathBuf),
    Unreadable(PathBuf, String),
    /// A glob whose directory is not in the linted tree: nginx on the server reads
    /// whatever it holds there (`modules-enabled/*.conf` left out of a repository).
    NoDirectory,
}

/// A file the nginx package installs (`fastcgi_params`), named as nginx.conf names it.
fn packaged(pattern: &Path) -> bool {
    PACKAGED.iter().any(|p| pattern.ends_with(p) && (pattern.is_relative() || pattern.starts_with("/etc/nginx")))
}

impl Builder<'_> {
    pub(crate) fn resolve_nginx(&mut self) {
        let mut files: Vec<FileId> = self.ws.nginx.keys().copied().collect();
        files.sort();
        let roots: Vec<FileId> = if self.virtual_files.is_some() {
            files.first().copied().into_iter().collect()
        } else {
            files.iter().copied().filter(|id| self.is_root(*id)).collect()
        };
        let mut root_dirs: Vec<PathBuf> = Vec::new();
        for &root in &roots {
            if let Some(dir) = self.conf_prefix_of(root) {
                self.confinement.add_anchor(dir.clone(), ConfDir::Nginx);
                if !root_dirs.contains(&dir) {
                    root_dirs.push(dir);
                }
            }
        }
        // Alternative trees in one repository (`magento1/nginx.conf`, `magento2/nginx.conf`):
        // each is the `/etc/nginx` of its own server.
        let several = root_dirs.len() > 1 && self.virtual_files.is_none();
        self.confinement.nginx_per_tree = several;
        if several {
            self.ws.nginx_trees = root_dirs.clone();
        }
        self.learn_maps(&files);
        for &root in &roots {
            let prefix = self.opts.prefix.clone().or_else(|| self.conf_prefix_of(root));
            let home = if several { self.conf_prefix_of(root) } else { None };
            self.ws.nginx_roots.push(root);
            self.visit(root, Context::Main, Prefix { dir: prefix.as_deref(), known: true, home: home.as_deref() }, &mut vec![root]);
        }
        for id in files {
            if self.ws.nginx.get(&id).is_some_and(|f| f.context.is_some()) {
                continue;
            }
            let ctx = self.opts.context.unwrap_or_else(|| infer_context(&self.ws.nginx[&id].config));
            let (known, home) = match &self.opts.prefix {
                Some(p) => (Some(p.clone()), None),
                None => self.snippet_prefix(id, &root_dirs, roots.len()),
            };
            // With one nginx.conf, a home without a known prefix is the other tree in which
            // the snippet's includes were found.
            if let (None, Some(elsewhere), [only], false) = (&known, &home, root_dirs.as_slice(), several) {
                let message = format!(
                    "not under {} (the directory of the tree's only nginx.conf), and its includes are found from {}: linted as part of another tree, its includes resolved there",
                    self.display_for(only),
                    self.display_for(elsewhere)
                );
                self.ws.notes.push(super::Note { path: self.ws.sources.get(id).display.clone(), message });
            }
            let prefix = known.clone().or_else(|| home.clone()).or_else(|| self.guess_prefix(id));
            self.ws.nginx_snippets.push(id);
            self.visit(id, ctx, Prefix { dir: prefix.as_deref(), known: known.is_some(), home: home.as_deref() }, &mut vec![id]);
        }
        if several {
            let shown: Vec<String> = root_dirs.iter().take(5).map(|d| self.display_for(d)).collect();
            let more = if root_dirs.len() > 5 { format!(" and {} more", root_dirs.len() - 5) } else { String::new() };
            self.ws.notes.push(super::Note {
                path: "/etc/nginx".into(),
                message: format!(
                    "the linted tree holds {} nginx trees, each linted on its own with /etc/nginx standing for its own directory: {}{more} (use --map-root to choose one)",
                    root_dirs.len(),
                    shown.join(", ")
                ),
            });
        }
        for m in self.confinement.learned() {
            self.ws.notes.push(super::Note {
                path: m.system.display().to_string(),
                message: format!("mapped to {} (use --map-root to choose another directory)", self.display_for(&m.local)),
            });
        }
    }

    /// Learn the automatic map-roots from every absolute include before following any,
    /// so the first include (often `/etc/nginx/modules-enabled/*.conf`, absent from a
    /// repository) is mapped the same way as the ones after it.
    fn learn_maps(&self, files: &[FileId]) {
        if self.virtual_files.is_some() {
            return;
        }
        for id in files {
            self.ws.nginx[id].config.for_each_directive(&mut |d| {
                if d.name.value == "include" {
                    if let Some(arg) = d.args.first().filter(|a| a.value.starts_with('/')) {
                        self.confinement.map(&super::paths::lexical_normalize(Path::new(&arg.value)));
                    }
                }
            });
        }
    }

    /// A file that holds the main context: with `http`/`events` at its top level, or
    /// named nginx.conf — unless what stands at its top level only belongs in `http{}`
    /// (a site's `upstream` and `server` blocks saved as nginx.conf).
    fn is_root(&self, id: FileId) -> bool {
        let name_is_main = self.ws.sources.get(id).display.rsplit('/').next() == Some("nginx.conf");
        let config = &self.ws.nginx[&id].config;
        let top = |names: &[&str]| config.items.iter().any(|i| matches!(i, Item::Directive(d) if names.contains(&d.name.value.as_str())));
        top(&["http", "events"]) || (name_is_main && (infer_context(config) == Context::Main || !top(&["server", "upstream", "location", "map", "geo"])))
    }

    fn conf_prefix_of(&self, id: FileId) -> Option<PathBuf> {
        self.path_of(id).parent().map(Path::to_path_buf)
    }

    /// The conf prefix of a snippet no nginx.conf reaches, when it is known, and the
    /// directory standing for `/etc/nginx` in its tree (also its guessed prefix): the
    /// nearest nginx.conf's directory above it; else, with one nginx.conf in the tree, that
    /// one's (a repository's `sites/` beside its `nginx/`) — unless the snippet's includes
    /// are found from a directory above it and not there: then it belongs to another tree
    /// of the repository (`magento2/` beside `magento1/nginx.conf`), linted there.
    fn snippet_prefix(&self, id: FileId, root_dirs: &[PathBuf], roots: usize) -> (Option<PathBuf>, Option<PathBuf>) {
        let own = self.path_of(id);
        if let Some(above) = root_dirs.iter().filter(|d| own.starts_with(d)).max_by_key(|d| d.components().count()) {
            // Among several nginx.conf, which one includes it is a guess (as it is for a
            // snippet of no tree): a missing include of it is not certain to stop nginx.
            return match (roots, root_dirs.len()) {
                (1, _) => (Some(above.clone()), None),
                (_, 1) => (None, None),
                _ => (None, Some(above.clone())),
            };
        }
        if roots > 1 {
            return (None, None);
        }
        let [only] = root_dirs else { return (None, None) };
        match self.found_prefix(id).filter(|_| !self.resolves_in(id, only)) {
            Some(elsewhere) => (None, Some(elsewhere)),
            None => (Some(only.clone()), None),
        }
    }

    /// The snippet's relative include patterns.
    fn relative_includes(&self, id: FileId) -> Vec<String> {
        self.ws.nginx[&id]
            .config
            .walk()
            .into_iter()
            .filter(|(_, d)| d.name.value == "include" && d.args.len() == 1 && !d.args[0].value.starts_with('/'))
            .map(|(_, d)| d.args[0].value.to_string())
            .collect()
    }

    /// Does the include pattern `inc` name something below `dir` (for a glob: its
    /// directory)?
    fn exists_under(dir: &Path, inc: &str) -> bool {
        if is_glob(Path::new(inc)) { dir.join(literal_dir(Path::new(inc))).is_dir() } else { dir.join(inc).exists() }
    }

    fn resolves_in(&self, id: FileId, dir: &Path) -> bool {
        self.relative_includes(id).iter().any(|inc| Self::exists_under(dir, inc))
    }

    /// The nearest ancestor directory of a snippet in which its first relative include
    /// exists (`sites-available/x` including `snippets/php.conf` → the directory holding
    /// `snippets/`).
    fn found_prefix(&self, id: FileId) -> Option<PathBuf> {
        let own = self.path_of(id).to_path_buf();
        let rel = self.relative_includes(id);
        let dirs: Vec<&Path> = own.ancestors().skip(1).collect();
        rel.iter().find_map(|inc| dirs.iter().find(|dir| Self::exists_under(dir, inc)).map(|d| d.to_path_buf()))
    }

    /// For a snippet with no root: [`Self::found_prefix`], else its own directory.
    fn guess_prefix(&self, id: FileId) -> Option<PathBuf> {
        self.found_prefix(id).or_else(|| self.path_of(id).parent().map(Path::to_path_buf))
    }

    /// Walk `file` in `ctx`, following its includes depth first.
    fn visit(&mut self, file: FileId, ctx: Context, prefix: Prefix, stack: &mut Vec<FileId>) {
        let entry = self.ws.nginx.get_mut(&file).expect("visited files are parsed nginx files");
        if entry.context.is_some() && stack.len() > 1 {
            return;
        }
        entry.context.get_or_insert(ctx);
        let mut includes = Vec::new();
        collect_includes(&entry.config.items, ctx, &mut includes);
        for include in includes {
            self.follow_include(file, &include, prefix, stack);
        }
    }

    fn follow_include(&mut self, file: FileId, include: &Include, prefix: Prefix, stack: &mut Vec<FileId>) {
        let Some(arg) = &include.arg else { return };
        let ctx = include.ctx;
        let at = Location { file, span: include.span };
        if let Some(placeholder) = placeholder_in(&arg.value) {
            self.ws.unread_includes.insert((file, include.span.start()));
            self.ws.includes.insert((file, include.span.start()), Vec::new());
            self.ws.findings.push(
                Finding::new("CFL002", Severity::Info, Location { file, span: arg.span }, format!("{} holds the template placeholder `{placeholder}`: the file it names is only known once the template is rendered; not read", arg.value))
                    .with_help("lint the rendered configuration to check what it brings"),
            );
            return;
        }
        let pattern = Path::new(&arg.value);
        let full = match prefix.dir {
            Some(p) if pattern.is_relative() => p.join(pattern),
            _ => pattern.to_path_buf(),
        };
        let arg_at = Location { file, span: arg.span };
        // The same pattern is often included from every site: expanded once (per tree,
        // when several trees each have their own `/etc/nginx`).
        let mut key = full.clone().into_os_string();
        if let Some(home) = prefix.home {
            key.push("\0");
            key.push(home);
        }
        let expansion = match self.expanded.get(&key) {
            Some(known) => std::rc::Rc::clone(known),
            None => {
                let shown = if prefix.home.is_some() && self.confinement.in_unmapped_nginx_dir(&full) { full.clone() } else { self.shown_include(&full) };
                let known = std::rc::Rc::new((shown, self.expand(&full, prefix.home)));
                self.expanded.insert(key, std::rc::Rc::clone(&known));
                known
            }
        };
        let (shown, targets) = &*expansion;
        let mut reached = Vec::new();
        // A glob into a directory the tree lacks includes nothing here (git keeps no empty
        // `conf.d/`); only what nginx may load there is unknown (`unread_globs`).
        if targets.iter().any(|t| !matches!(t, Target::File(_) | Target::NoDirectory)) {
            self.ws.unread_includes.insert((file, include.span.start()));
        }
        for target in targets {
            match target {
                Target::File(path) => {
                    let known = self.by_path.get(path).copied();
                    let id = match known {
                        Some((id, Kind::Nginx)) => id,
                        Some((id, _)) => {
                            self.reparse_as_nginx(id);
                            id
                        }
                        None => match self.read_included(path) {
                            Ok(Some(id)) => id,
                            Ok(None) => {
                                self.ws.unread_includes.insert((file, include.span.start()));
                                continue;
                            }
                            Err(Unread::Refused(note)) => {
                                self.ws.unread_includes.insert((file, include.span.start()));
                                self.note_once(note);
                                continue;
                            }
                            Err(Unread::Failed(reason)) => {
                                self.ws.unread_includes.insert((file, include.span.start()));
                                self.ws.findings.push(Finding::new(
                                    "NGX007",
                                    Severity::Error,
                                    arg_at,
                                    format!("open() \"{}\" failed ({reason}): nginx will refuse to start", shown.display()),
                                ));
                                continue;
                            }
                        },
                    };
                    if let Some(pos) = stack.iter().position(|f| *f == id) {
                        let chain: Vec<String> =
                            stack[pos..].iter().chain(std::iter::once(&id)).map(|f| self.ws.sources.get(*f).display.clone()).collect();
                        self.ws.findings.push(Finding::new(
                            "NGX008",
                            Severity::Error,
                            arg_at,
                            format!("include cycle: {}", chain.join(" → ")),
                        ));
                        continue;
                    }
                    reached.push(id);
                    self.ws.nginx.get_mut(&id).expect("parsed").included_from.push(at);
                    stack.push(id);
                    self.visit(id, ctx, prefix, stack);
                    stack.pop();
                }
                Target::Missing(_) if packaged(pattern) => self.note_packaged(&arg.value),
                Target::Missing(path) if !prefix.known => self.ws.findings.push(
                    Finding::new(
                        "CFL002",
                        Severity::Info,
                        arg_at,
                        format!("{} was not found where this snippet's includes were guessed to resolve ({}); not read", arg.value, self.display_for(prefix.dir.unwrap_or(Path::new(".")))),
                    )
                    .with_help(format!("no nginx.conf in the linted tree includes this file, so nginx's conf directory is unknown: pass --prefix DIR (looked for {})", self.display_for(path))),
                ),
                Target::Missing(path) if rendered_from(path).is_some() => {
                    let template = rendered_from(path).expect("checked");
                    self.ws.findings.push(
                        Finding::new(
                            "CFL002",
                            Severity::Info,
                            arg_at,
                            format!("{} is not in the linted tree, but {} is: assumed to be rendered from it when deployed; not read", shown.display(), self.display_for(&template)),
                        )
                        .with_help("lint the rendered configuration to check what it brings"),
                    );
                }
                Target::Missing(path) if pattern.is_absolute() && self.confinement.guessed_by_suffix(pattern) => self.ws.findings.push(
                    Finding::new(
                        "CFL002",
                        Severity::Info,
                        arg_at,
                        format!("{} was not found where the tree was guessed to keep it ({}); not read", arg.value, self.display_for(path)),
                    )
                    .with_help("nothing in the tree says where that directory is: map it with --map-root SYSTEM=DIR"),
                ),
                Target::Missing(path) => self.ws.findings.push(
                    Finding::new(
                        "NGX007",
                        Severity::Error,
                        arg_at,
                        format!("open() \"{}\" failed (2: No such file or directory): nginx will refuse to start", shown.display()),
                    )
                    .with_help(format!("looked for {}", self.display_for(path))),
                ),
                Target::Unreadable(path, reason) => self.ws.findings.push(Finding::new(
                    "NGX007",
                    Severity::Error,
                    arg_at,
                    format!("open() \"{}\" failed ({reason}): nginx will refuse to start", self.shown_include(path).display()),
                )),
                Target::Outside(path) => self.report_outside(arg_at, path),
                Target::NoDirectory => {
                    self.ws.unread_globs.insert((file, include.span.start()));
                }
            }
        }
        self.ws.includes.insert((file, include.span.start()), reached);
    }

    /// An include's path the way nginx would name it on the server.
    fn shown_include(&self, full: &Path) -> PathBuf {
        if self.virtual_files.is_some() {
            return full.to_path_buf();
        }
        match self.confinement.unmap(full) {
            system if system != full => system,
            // No live-system path known: show it as the user sees the tree.
            _ => PathBuf::from(self.display_for(full)),
        }
    }

    fn note_packaged(&mut self, name: &str) {
        let message = format!("{name} is not in the linted tree; assuming the nginx package provides it (its contents are unknown to the rules)");
        if !self.ws.notes.iter().any(|n| n.message == message) {
            self.ws.notes.push(super::Note { path: String::new(), message });
        }
    }

    pub(crate) fn report_outside(&mut self, at: Location, path: &Path) {
        self.ws.findings.push(
            Finding::new(
                "CFL002",
                Severity::Info,
                at,
                format!("{} is outside the linted tree and was not read", path.display()),
            )
            .with_help("lint the directory that holds it, map it with --map-root SYSTEM=DIR, or allow it with --allow-outside"),
        );
    }

    /// The files an include pattern names, in nginx's order; `home` stands for the live
    /// system's nginx directory when several trees stand side by side.
    fn expand(&mut self, full: &Path, home: Option<&Path>) -> Vec<Target> {
        if let Some(virtual_files) = &self.virtual_files {
            return expand_virtual(virtual_files, full);
        }
        let mapped = self.confinement.map_in(home, full);
        if !is_glob(&mapped) {
            return vec![match self.confinement.locate_in(home, &mapped) {
                Located::Inside(p) if self.confinement.is_dir(&p) => Target::Unreadable(full.to_path_buf(), "21: Is a directory".into()),
                Located::Inside(p) => Target::File(p),
                Located::Outside(p) => Target::Outside(p),
                Located::Missing(p) => Target::Missing(p),
                Located::Looped(_) => Target::Unreadable(full.to_path_buf(), LOOP.into()),
            }];
        }
        match self.confinement.locate_in(home, &literal_dir(&mapped)) {
            Located::Inside(_) => {}
            Located::Outside(p) => return vec![Target::Outside(p)],
            Located::Missing(_) => return vec![Target::NoDirectory],
            Located::Looped(_) => return Vec::new(),
        }
        // An invalid pattern matches nothing.
        self.confinement
            .glob(&mapped)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| match self.confinement.locate_in(home, &m) {
                Located::Inside(p) if self.confinement.is_dir(&p) => None,
                Located::Inside(p) => Some(Target::File(p)),
                Located::Outside(p) => Some(Target::Outside(p)),
                Located::Missing(_) => None,
                Located::Looped(_) => Some(Target::Unreadable(m, LOOP.into())),
            })
            .collect()
    }

    /// Read and parse a file an include names; `None` for a template whose tags break
    /// nginx's syntax (as when walked: see `add_candidates`), which is not linted.
    fn read_included(&mut self, real: &Path) -> Result<Option<FileId>, Unread> {
        let display = self.display_for(real);
        let bytes = self.read_located(real).map_err(|e| match e {
            super::read::ReadError::Io(e) => {
                let errno = e.raw_os_error().map(|n| format!("{n}: ")).unwrap_or_default();
                Unread::Failed(format!("{errno}{}", super::walk::io_reason(&e)))
            }
            refused => Unread::Refused(super::Note { path: display.clone(), message: refused.reason() }),
        })?;
        if super::classify::is_template(&bytes, !crate::nginx::parse(&bytes).errors.is_empty()) {
            let message = format!("skipped: {}", super::classify::TEMPLATE);
            if !self.ws.notes.iter().any(|n| n.path == display && n.message == message) {
                self.ws.notes.push(super::Note { path: display, message });
            }
            return Ok(None);
        }
        Ok(Some(self.register(real.to_path_buf(), display, bytes, Kind::Nginx, true)))
    }

    /// A walked file classified as something else that nginx includes is nginx after all.
    fn reparse_as_nginx(&mut self, id: FileId) {
        if self.ws.nginx.contains_key(&id) {
            return;
        }
        let config = crate::nginx::parse(&self.ws.sources.get(id).text);
        report_syntax_errors(&mut self.ws.findings, id, &config);
        self.ws.nginx.insert(id, NginxFile { file: id, config, context: None, included_from: Vec::new() });
        self.ws.fpm_files.remove(&id);
        let path = self.path_of(id).to_path_buf();
        if let Some(entry) = self.by_path.get_mut(&path) {
            entry.1 = Kind::Nginx;
        }
    }
}

/// Suffixes of the templates a deployment renders configs from (`https.conf.template` →
/// `https.conf`, envsubst in the official nginx image; `.j2`, `.tmpl`, `.erb` …).
const TEMPLATE_SUFFIXES: &[&str] = &[".template", ".tmpl", ".tpl", ".j2", ".jinja", ".erb", ".in", ".sample", ".dist", ".example"];

/// The template a missing include is rendered from, when the tree holds one beside it.
fn rendered_from(missing: &Path) -> Option<PathBuf> {
    TEMPLATE_SUFFIXES.iter().map(|s| PathBuf::from(format!("{}{s}", missing.display()))).find(|t| t.is_file())
}

/// Why an included file was not read.
enum Unread {
    /// nginx would fail too (NGX007): the reason as nginx words it.
    Failed(String),
    /// conflint chose not to read it (a FIFO, over the size cap): a note.
    Refused(super::Note),
}

fn expand_virtual(files: &[(PathBuf, FileId)], full: &Path) -> Vec<Target> {
    if !is_glob(full) {
        return vec![match files.iter().find(|(p, _)| p == full) {
            Some((p, _)) => Target::File(p.clone()),
            None => Target::Missing(full.to_path_buf()),
        }];
    }
    let Ok(pattern) = glob::Pattern::new(&full.to_string_lossy()) else { return Vec::new() };
    let opts = glob::MatchOptions { require_literal_separator: true, ..Default::default() };
    let mut hits: Vec<PathBuf> = files.iter().filter(|(p, _)| pattern.matches_path_with(p, opts)).map(|(p, _)| p.clone()).collect();
    hits.sort();
    hits.into_iter().map(Target::File).collect()
}

/// An `include` directive: what following it needs.
struct Include {
    span: Span,
    /// The pattern, as written.
    arg: Option<Word>,
    /// The context it stands in.
    ctx: Context,
}

/// Every `include` directive under `items`.
fn collect_includes(items: &[Item], ctx: Context, out: &mut Vec<Include>) {
    for item in items {
        let Item::Directive(d) = item else { continue };
        if d.name.value == "include" && d.block().is_none() {
            out.push(Include { span: d.span, arg: d.args.first().cloned(), ctx });
        }
        if let Some(b) = d.block() {
            if b.raw.is_none() {
                collect_includes(&b.items, ctx.child(&d.name.value), out);
            }
        }
    }
}


#[cfg(test)]
mod tests {
    use super::super::paths::placeholder_in;

    #[test]
    fn placeholders_in_include_paths() {
        assert_eq!(placeholder_in("%%TESTDIR%%/inc.conf"), Some("%%TESTDIR%%"));
        assert_eq!(placeholder_in("@NGINX_CONF_PATH@/main.conf"), Some("@NGINX_CONF_PATH@"));
        assert_eq!(placeholder_in("/etc/nginx/${SITE}/*.conf"), Some("${SITE}"));
        assert_eq!(placeholder_in("forge-conf/{{ SITE }}/before/*"), Some("{{ SITE }}"));
        assert_eq!(placeholder_in("sites/$site.conf"), Some("$site"));
        assert_eq!(placeholder_in("/etc/nginx/snippets/fastcgi-php.conf"), None);
        assert_eq!(placeholder_in("conf.d/[a-z]*.conf"), None);
    }
}
