//! nginx `include` resolution with nginx's own rules, and the context of every file.
//!
//! Relative include paths are relative to the conf prefix (the directory of the root
//! nginx.conf, or `--prefix`), not to the including file. A path with `*?[` is a glob:
//! no match is silently nothing, matches are read in sorted order. A plain path that does
//! not exist stops nginx (NGX007). A file that includes itself through any chain is
//! NGX008.

use std::path::{Path, PathBuf};

use super::paths::{is_glob, literal_dir, ConfDir, Located};
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
}

/// Files the distributions' nginx packages install beside nginx.conf: a repository that
/// only carries its own files still gets them on the server.
const PACKAGED: &[&str] = &[
    "mime.types", "fastcgi_params", "fastcgi.conf", "proxy_params", "scgi_params", "uwsgi_params", "koi-utf", "koi-win", "win-utf",
    "snippets/fastcgi-php.conf", "snippets/snakeoil.conf",
];

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
        for &root in &roots {
            if let Some(dir) = self.conf_prefix_of(root) {
                self.confinement.add_anchor(dir, ConfDir::Nginx);
            }
        }
        self.learn_maps(&files);
        for &root in &roots {
            let prefix = self.opts.prefix.clone().or_else(|| self.conf_prefix_of(root));
            self.ws.nginx_roots.push(root);
            self.visit(root, Context::Main, Prefix { dir: prefix.as_deref(), known: true }, &mut vec![root]);
        }
        let single_prefix = match roots.as_slice() {
            [only] => self.conf_prefix_of(*only),
            _ => None,
        };
        for id in files {
            if self.ws.nginx.get(&id).is_some_and(|f| f.context.is_some()) {
                continue;
            }
            let ctx = self.opts.context.unwrap_or_else(|| infer_context(&self.ws.nginx[&id].config));
            let known = self.opts.prefix.clone().or_else(|| single_prefix.clone());
            let prefix = known.clone().or_else(|| self.guess_prefix(id));
            self.ws.nginx_snippets.push(id);
            self.visit(id, ctx, Prefix { dir: prefix.as_deref(), known: known.is_some() }, &mut vec![id]);
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
                        self.confinement.map(Path::new(&arg.value));
                    }
                }
            });
        }
    }

    /// A file that holds the main context: named nginx.conf, or with `http`/`events` at
    /// its top level.
    fn is_root(&self, id: FileId) -> bool {
        let name_is_main = self.ws.sources.get(id).display.rsplit('/').next() == Some("nginx.conf");
        let config = &self.ws.nginx[&id].config;
        name_is_main
            || config.items.iter().any(|i| matches!(i, Item::Directive(d) if matches!(d.name.value.as_str(), "http" | "events")))
    }

    fn conf_prefix_of(&self, id: FileId) -> Option<PathBuf> {
        self.path_of(id).parent().map(Path::to_path_buf)
    }

    /// For a snippet with no root: the nearest ancestor directory in which its first
    /// relative include exists (`sites-available/x` including `snippets/php.conf` → the
    /// directory holding `snippets/`), else its own directory.
    fn guess_prefix(&self, id: FileId) -> Option<PathBuf> {
        let own = self.path_of(id).to_path_buf();
        let rel: Vec<String> = self.ws.nginx[&id]
            .config
            .walk()
            .into_iter()
            .filter(|(_, d)| d.name.value == "include" && d.args.len() == 1 && !d.args[0].value.starts_with('/'))
            .map(|(_, d)| d.args[0].value.clone())
            .collect();
        let dirs: Vec<&Path> = own.ancestors().skip(1).collect();
        for inc in &rel {
            for dir in &dirs {
                let p = dir.join(inc);
                let hit = if is_glob(Path::new(inc)) { dir.join(literal_dir(Path::new(inc))).is_dir() } else { p.exists() };
                if hit {
                    return Some(dir.to_path_buf());
                }
            }
        }
        own.parent().map(Path::to_path_buf)
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
        let pattern = Path::new(&arg.value);
        let full = match prefix.dir {
            Some(p) if pattern.is_relative() => p.join(pattern),
            _ => pattern.to_path_buf(),
        };
        let arg_at = Location { file, span: arg.span };
        // The same pattern is often included from every site: expanded once.
        let full = full.into_os_string();
        let expansion = match self.expanded.get(&full) {
            Some(known) => std::rc::Rc::clone(known),
            None => {
                let path = Path::new(&full);
                let known = std::rc::Rc::new((self.shown_include(path), self.expand(path)));
                self.expanded.insert(full, std::rc::Rc::clone(&known));
                known
            }
        };
        let (shown, targets) = &*expansion;
        let mut reached = Vec::new();
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
                            Ok(id) => id,
                            Err(reason) => {
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
                    format!("open() \"{}\" failed ({reason}): nginx will refuse to start", path.display()),
                )),
                Target::Outside(path) => self.report_outside(arg_at, path),
                Target::NoDirectory => {
                    self.ws.unread_globs.insert((file, include.span.start));
                }
            }
        }
        self.ws.includes.insert((file, include.span.start), reached);
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

    /// The files an include pattern names, in nginx's order.
    fn expand(&mut self, full: &Path) -> Vec<Target> {
        if let Some(virtual_files) = &self.virtual_files {
            return expand_virtual(virtual_files, full);
        }
        let mapped = self.confinement.map(full);
        if !is_glob(&mapped) {
            return vec![match self.confinement.locate(&mapped) {
                Located::Inside(p) if p.is_dir() => Target::Unreadable(full.to_path_buf(), "21: Is a directory".into()),
                Located::Inside(p) => Target::File(p),
                Located::Outside(p) => Target::Outside(p),
                Located::Missing(p) => Target::Missing(p),
            }];
        }
        match self.confinement.locate(&literal_dir(&mapped)) {
            Located::Inside(_) => {}
            Located::Outside(p) => return vec![Target::Outside(p)],
            Located::Missing(_) => return vec![Target::NoDirectory],
        }
        let Ok(paths) = glob::glob(&mapped.to_string_lossy()) else { return Vec::new() };
        let mut matches: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
        matches.sort_by(|a, b| a.as_os_str().as_encoded_bytes().cmp(b.as_os_str().as_encoded_bytes()));
        matches
            .into_iter()
            .filter_map(|m| match self.confinement.locate(&m) {
                Located::Inside(p) if p.is_dir() => None,
                Located::Inside(p) => Some(Target::File(p)),
                Located::Outside(p) => Some(Target::Outside(p)),
                Located::Missing(_) => None,
            })
            .collect()
    }

    fn read_included(&mut self, real: &Path) -> Result<FileId, String> {
        let bytes = self.opts.read(real).map_err(|e| {
            let errno = e.raw_os_error().map(|n| format!("{n}: ")).unwrap_or_default();
            format!("{errno}{}", super::walk::io_reason(&e))
        })?;
        let display = self.display_for(real);
        Ok(self.register(real.to_path_buf(), display, bytes, Kind::Nginx, true))
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

