//! The linted tree: which files there are, what they are, and how they include each other.
//!
//! read → classify → parse → resolve includes (nginx's and PHP-FPM's own path rules,
//! confined to the linted tree) → a [`Workspace`] the rules evaluate. Rules never read
//! files; everything they need is here.

mod classify;
mod dump;
pub mod exclude;
mod fpm_tree;
mod nginx_tree;
pub mod paths;
pub mod read;
mod walk;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use classify::Kind;
pub use exclude::Excludes;
pub use classify::classify;
pub use nginx_tree::{infer_context, Context, NginxFile};
use paths::{Confinement, MapRoot};

use crate::finding::Finding;
use crate::fpm::resolve::FpmConfig;
use crate::fpm::FpmFile;
use crate::source::{FileId, LineTable, SourceFile, Sources};

#[derive(Clone, Debug)]
pub struct Options {
    /// As given on the command line; `-` is standard input.
    pub paths: Vec<String>,
    pub stdin_filename: Option<String>,
    /// Context of a snippet no linted file includes (default: inferred from its content).
    pub context: Option<Context>,
    /// nginx conf prefix for relative includes (default: the root nginx.conf's directory).
    pub prefix: Option<PathBuf>,
    /// Explicit `--map-root SYSTEM=LOCAL` pairs.
    pub map_roots: Vec<(PathBuf, PathBuf)>,
    /// PHP-FPM prefix for relative `include=` (`php-fpm -p`). When not given, inferred
    /// from where the tree places php-fpm.conf, else Debian's build's `/usr`.
    pub fpm_prefix: Option<PathBuf>,
    pub allow_outside: bool,
    /// `[check] exclude`: never walked, findings in them not shown.
    pub excludes: Excludes,
    /// Excludes apply to named paths too (they are skipped silently).
    pub force_exclude: bool,
    /// The named files are a selection from their project (pre-commit's changed files):
    /// the whole project is read for context (includers, PHP-FPM pools), only the named
    /// files' findings are shown, and a named file that is not a config is skipped silently.
    pub in_project: bool,
    pub cwd: PathBuf,
    /// File contents to use instead of the disk's, by real path: the fixer re-lints its
    /// edited files without writing them.
    pub overlay: HashMap<PathBuf, Vec<u8>>,
    /// Files (and standard input) larger than this are reported, not read.
    pub max_file_size: u64,
}

impl Options {
    /// Read a file by its real path, through the overlay: a regular file within the size
    /// cap, never a FIFO or a device.
    pub fn read(&self, real: &Path) -> Result<Vec<u8>, read::ReadError> {
        match self.overlay.get(real) {
            Some(bytes) => Ok(bytes.clone()),
            None => read::regular_file(real, self.max_file_size),
        }
    }

    /// [`Self::read`] for a real path known to be a regular file (walked, or located).
    pub fn read_known_file(&self, real: &Path) -> Result<Vec<u8>, read::ReadError> {
        match self.overlay.get(real) {
            Some(bytes) => Ok(bytes.clone()),
            None => read::known_regular_file(real, self.max_file_size),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            paths: vec![".".into()],
            stdin_filename: None,
            context: None,
            prefix: None,
            map_roots: Vec::new(),
            fpm_prefix: None,
            allow_outside: false,
            excludes: Excludes::default(),
            force_exclude: false,
            in_project: false,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            overlay: HashMap::new(),
            max_file_size: read::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// A problem with the command line itself (exit 2), as opposed to a finding.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {reason}")]
    Unreadable { path: String, reason: String },
}

/// Something the user should know that is not a finding about the config: a named file
/// that was skipped, a directory that could not be read, an automatic path mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub path: String,
    pub message: String,
}

pub struct Workspace {
    pub sources: Sources,
    /// nginx files by file id, each parsed once however often it is included.
    pub nginx: HashMap<FileId, NginxFile>,
    /// Files evaluated in the main context (nginx.conf and the like), in walk order.
    pub nginx_roots: Vec<FileId>,
    /// The directories of those roots when several trees stand side by side (see
    /// [`Workspace::same_tree`]); empty otherwise.
    pub nginx_trees: Vec<PathBuf>,
    /// Files no root includes, linted in their inferred (or `--context`) context.
    pub nginx_snippets: Vec<FileId>,
    /// `include` directive (file, byte offset of the directive) → the files it pulls in.
    pub includes: rustc_hash::FxHashMap<(FileId, usize), Vec<FileId>>,
    /// The `include` directives (as in `includes`) that name something conflint did not
    /// read: outside the tree, missing, unreadable. Rules that need the whole
    /// configuration stop there; a glob that matches nothing is not among them (nginx
    /// loads nothing there, so nothing is unknown).
    pub unread_includes: rustc_hash::FxHashSet<(FileId, usize)>,
    /// Glob includes (file, byte offset of the directive) whose directory is not in the
    /// linted tree: what they pull in on the server is unknown.
    pub unread_globs: rustc_hash::FxHashSet<(FileId, usize)>,
    pub fpm_files: HashMap<FileId, std::sync::Arc<FpmFile>>,
    pub fpm: Vec<FpmConfig>,
    /// Structural findings: NGX001, NGX007, NGX008, FPM001, FPM009, CFL002.
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
    /// PHP-FPM's prefix (`-p`): relative `include=` and unix `listen` paths are under it.
    pub fpm_prefix: PathBuf,
    /// The linted tree's bounds and its live-system mappings (explicit and learned), kept
    /// so validation stages exactly what linting read.
    pub confinement: Confinement,
    /// Files read for context only: excluded, or not named with `--in-project`. Their
    /// findings are not shown and their fixes not applied.
    pub unreported: HashSet<FileId>,
    /// `--in-project`: a finding written in a context file is shown when it names a named
    /// file among its related places (the change brought it about).
    pub report_related: bool,
}

/// The trees of an earlier load of the same files (the fixer's previous pass), by real
/// path: a file read again with the same bytes, as the same kind, takes its tree and line
/// table from here instead of being parsed again. (Its kind is still worked out afresh: a
/// walked file that is no config but is included as one is parsed, yet still skipped
/// with a note by the walk.)
#[derive(Default)]
pub struct Reuse {
    files: HashMap<PathBuf, (Vec<u8>, LineTable, Parsed)>,
}

impl Reuse {
    /// The tree and line table of the file at `path`, parsed before as `kind` from these
    /// very bytes.
    fn take(&mut self, path: &Path, kind: Kind, bytes: &[u8]) -> Option<(Parsed, LineTable)> {
        let (text, _, parsed) = self.files.get(path)?;
        if text != bytes || !matches!((parsed, kind), (Parsed::Nginx(_), Kind::Nginx) | (Parsed::Fpm(_), Kind::Fpm)) {
            return None;
        }
        self.files.remove(path).map(|(_, lines, parsed)| (parsed, lines))
    }
}

impl Workspace {
    pub fn load(opts: &Options, stdin: &mut dyn std::io::Read) -> Result<Workspace, Error> {
        Self::load_reusing(opts, stdin, Reuse::default())
    }

    /// Give up this workspace's files and trees, for [`Self::load_reusing`].
    pub fn into_reuse(mut self) -> Reuse {
        let files = self
            .sources
            .into_files()
            .filter_map(|(id, source)| {
                let (path, text, lines) = source.into_parts();
                let parsed = match (self.nginx.remove(&id), self.fpm_files.remove(&id)) {
                    (Some(n), _) => Parsed::Nginx(n.config),
                    (None, Some(f)) => Parsed::Fpm(f),
                    (None, None) => return None,
                };
                Some((path?, (text, lines, parsed)))
            })
            .collect();
        Reuse { files }
    }

    /// [`Self::load`], taking the trees of files whose bytes have not changed from `reuse`.
    pub fn load_reusing(opts: &Options, stdin: &mut dyn std::io::Read, reuse: Reuse) -> Result<Workspace, Error> {
        let candidates = walk::collect(opts, stdin)?;
        let roots = walk::confinement_roots(opts);
        let maps = opts
            .map_roots
            .iter()
            .map(|(system, local)| MapRoot {
                system: system.clone(),
                local: local.canonicalize().unwrap_or_else(|_| opts.cwd.join(local)),
            })
            .collect();
        let confinement = Confinement::new(roots, maps, opts.allow_outside);
        confinement.seed(candidates.seen);
        let mut b = Builder {
            opts,
            confinement,
            ws: Workspace {
                sources: Sources::default(),
                nginx: HashMap::new(),
                nginx_roots: Vec::new(),
                nginx_trees: Vec::new(),
                nginx_snippets: Vec::new(),
                includes: Default::default(),
                unread_includes: Default::default(),
                unread_globs: Default::default(),
                fpm_files: HashMap::new(),
                fpm: Vec::new(),
                findings: Vec::new(),
                notes: candidates.notes,
                fpm_prefix: opts.fpm_prefix.clone().unwrap_or_else(|| PathBuf::from(crate::fpm::resolve::Prefix::ASSUMED)),
                confinement: Confinement::default(),
                unreported: HashSet::new(),
                report_related: opts.in_project,
            },
            by_path: HashMap::new(),
            selected: HashSet::new(),
            paths: Vec::new(),
            virtual_files: None,
            expanded: Default::default(),
            reuse,
        };
        b.add_candidates(candidates.files);
        b.resolve_nginx();
        b.resolve_fpm();
        b.mark_unreported();
        let mut ws = b.ws;
        ws.confinement = b.confinement;
        Ok(ws)
    }

    pub fn source(&self, id: FileId) -> &SourceFile {
        self.sources.get(id)
    }

    /// Can the nginx tree read from `nginx_file` (its root or snippet) and the PHP-FPM
    /// configuration read from `fpm_file` belong to one server? With several nginx trees
    /// side by side (a repository of demos), a pool belongs to the nginx.conf that shares
    /// the deepest directory with it, and joins only that tree; files no tree claims
    /// more than the others join any.
    pub fn same_tree(&self, nginx_file: FileId, fpm_file: FileId) -> bool {
        if self.nginx_trees.len() < 2 {
            return true;
        }
        match (self.tree_owning(nginx_file), self.tree_owning(fpm_file)) {
            (Some(a), Some(b)) => a == b,
            (None, Some(_)) => false,
            _ => true,
        }
    }

    /// The directory of the nginx.conf whose tree `file` belongs to (see [`Self::same_tree`]):
    /// the one sharing more of `file`'s path than it shares with any other tree.
    fn tree_owning(&self, file: FileId) -> Option<&Path> {
        let path = self.sources.get(file).disk_path.as_deref()?;
        let common = |a: &Path, b: &Path| a.components().zip(b.components()).take_while(|(x, y)| x == y).count();
        let best = self.nginx_trees.iter().max_by_key(|d| common(d, path))?;
        let depth = common(best, path);
        self.nginx_trees.iter().filter(|o| *o != best).all(|o| common(best, o) < depth && common(o, path) < depth).then_some(best.as_path())
    }

    /// Is the finding shown: in a reported file, or (`--in-project`) with a named file
    /// among its related places (a timeout in nginx.conf that a named site inherits)?
    pub fn reports(&self, f: &Finding) -> bool {
        let shown = |file: &FileId| !self.unreported.contains(file);
        shown(&f.location.file) || (self.report_related && f.related.iter().any(|r| shown(&r.location.file)))
    }
}

/// One file found on disk or on stdin before classification.
pub(crate) struct Candidate {
    /// Real path (disk) or the dumped/stdin name (virtual).
    pub path: PathBuf,
    pub display: String,
    pub bytes: Vec<u8>,
    /// The user named this file directly (so a skip is worth a note).
    pub named: bool,
    /// Its findings are shown: false for the rest of the project that `--in-project` reads.
    pub reported: bool,
    /// Part of an `nginx -T` dump.
    pub dumped: bool,
    pub on_disk: bool,
}

pub(crate) struct Builder<'o> {
    opts: &'o Options,
    confinement: Confinement,
    ws: Workspace,
    /// Real path → file, so a file reached twice is read and parsed once.
    by_path: HashMap<PathBuf, (FileId, Kind)>,
    /// Real paths of the files named or walked for their findings.
    selected: HashSet<PathBuf>,
    /// File → real path (or dumped name), indexed by `FileId`.
    paths: Vec<PathBuf>,
    /// `nginx -T` dump: absolute path → file; includes resolve against it, never the disk.
    virtual_files: Option<Vec<(PathBuf, FileId)>>,
    /// nginx include pattern (absolute) → how it is shown and what it expands to.
    /// Include patterns already expanded, by the pattern's bytes (cheaper to hash than a
    /// `Path`'s components): how nginx shows the path, and what it matched.
    expanded: rustc_hash::FxHashMap<std::ffi::OsString, std::rc::Rc<(PathBuf, Vec<nginx_tree::Target>)>>,
    reuse: Reuse,
}

impl Builder<'_> {
    fn add_candidates(&mut self, files: Vec<Candidate>) {
        // Classifying reads up to 64 KiB of every file: done side by side, like the parse.
        let bytes = files.iter().map(|c| c.bytes.len()).sum();
        let all: Vec<usize> = (0..files.len()).collect();
        let kinds = crate::parallel::map(&all, crate::parallel::worth_it(bytes), |i| {
            let c = &files[i];
            if c.dumped { Kind::Nginx } else { classify::classify(&c.path, &c.bytes) }
        });
        let mut kept = Vec::with_capacity(files.len());
        for (c, kind) in files.into_iter().zip(kinds) {
            if c.dumped {
                self.virtual_files.get_or_insert_with(Vec::new);
            }
            if c.reported {
                self.selected.insert(c.path.clone());
            }
            if let Kind::Other(why) = kind {
                // A file the user named, or one whose name says it is a config, is worth
                // a word; READMEs and the like in a walked tree are not. With `--in-project`
                // the names come from a hook's file filter, which cannot know.
                let config_like = c.path.extension().is_some_and(|e| e == "conf");
                let worth_a_note = if self.opts.in_project { false } else { c.named || config_like };
                if worth_a_note {
                    self.ws.notes.push(Note { path: c.display.clone(), message: format!("skipped: {why}") });
                }
                continue;
            }
            kept.push((c, kind));
        }
        let parsed = parse_all(&kept, &mut self.reuse);
        for ((c, kind), (parsed, lines)) in kept.into_iter().zip(parsed) {
            // Jinja, Liquid or Go template tags that break nginx's syntax: the file is
            // rendered into a config before nginx reads it (a `.j2` by another name).
            if matches!(&parsed, Parsed::Nginx(config) if classify::is_template(&c.bytes, !config.errors.is_empty())) && !c.dumped {
                if !self.opts.in_project {
                    self.ws.notes.push(Note { path: c.display.clone(), message: format!("skipped: {}", classify::TEMPLATE) });
                }
                continue;
            }
            let source = SourceFile::with_lines(c.display, c.on_disk.then(|| c.path.clone()), c.bytes, lines);
            let id = self.register_parsed(c.path.clone(), source, kind, parsed);
            if c.dumped {
                if let Some(v) = self.virtual_files.as_mut() {
                    v.push((c.path, id));
                }
            }
        }
    }

    /// Read a located file, not asking again what the locating found it to be.
    fn read_located(&self, real: &Path) -> Result<Vec<u8>, read::ReadError> {
        if self.confinement.is_file(real) { self.opts.read_known_file(real) } else { self.opts.read(real) }
    }

    /// Add a file's bytes to the sources and parse it as `kind`.
    fn register(&mut self, path: PathBuf, display: String, bytes: Vec<u8>, kind: Kind, on_disk: bool) -> FileId {
        if let Some((id, _)) = self.by_path.get(&path) {
            return *id;
        }
        let (parsed, lines) = self.reuse.take(&path, kind, &bytes).unwrap_or_else(|| (Parsed::of(kind, &bytes), LineTable::of(&bytes)));
        let source = SourceFile::with_lines(display, on_disk.then(|| path.clone()), bytes, lines);
        self.register_parsed(path, source, kind, parsed)
    }

    fn register_parsed(&mut self, path: PathBuf, source: SourceFile, kind: Kind, parsed: Parsed) -> FileId {
        if let Some((id, _)) = self.by_path.get(&path) {
            return *id;
        }
        let id = self.ws.sources.add(source);
        match parsed {
            Parsed::Nginx(config) => {
                nginx_tree::report_syntax_errors(&mut self.ws.findings, id, &config);
                self.ws.nginx.insert(id, NginxFile { file: id, config, context: None, included_from: Vec::new() });
            }
            Parsed::Fpm(f) => {
                self.ws.fpm_files.insert(id, f);
            }
            Parsed::Nothing => {}
        }
        self.paths.push(path.clone());
        self.by_path.insert(path, (id, kind));
        id
    }

    /// Files read for context only: not selected with `--in-project`; otherwise excluded
    /// and not named (an excluded file reached through an include).
    fn mark_unreported(&mut self) {
        for (i, path) in self.paths.iter().enumerate() {
            let shown = self.selected.contains(path) || (!self.opts.in_project && !self.opts.excludes.excludes(path, false));
            if !shown {
                self.ws.unreported.insert(FileId(i));
            }
        }
    }

    /// A file reached by several includes (or walked and included) is said not read once.
    fn note_once(&mut self, note: Note) {
        if !self.ws.notes.contains(&note) {
            self.ws.notes.push(note);
        }
    }

    /// The real path (or dumped name) a file was read from.
    fn path_of(&self, id: FileId) -> &Path {
        &self.paths[id.0]
    }

    fn display_for(&self, real: &Path) -> String {
        paths::display_path(real, &self.opts.cwd)
    }
}

/// A file's tree, by the kind it was classified as.
enum Parsed {
    Nginx(crate::nginx::ast::Config),
    Fpm(std::sync::Arc<FpmFile>),
    Nothing,
}

impl Parsed {
    fn of(kind: Kind, bytes: &[u8]) -> Parsed {
        match kind {
            Kind::Nginx => Parsed::Nginx(crate::nginx::parse(bytes)),
            Kind::Fpm => Parsed::Fpm(std::sync::Arc::new(crate::fpm::parse(bytes))),
            Kind::Other(_) => Parsed::Nothing,
        }
    }
}

/// Parse the walked files and build their line tables on every core (unless they are few
/// bytes): files are
/// independent until includes are followed. Biggest first, so one big file does not leave
/// the other threads idle.
fn parse_all(files: &[(Candidate, Kind)], reuse: &mut Reuse) -> Vec<(Parsed, LineTable)> {
    let mut done: Vec<Option<(Parsed, LineTable)>> = files.iter().map(|(c, kind)| reuse.take(&c.path, *kind, &c.bytes)).collect();
    let mut order: Vec<usize> = (0..files.len()).filter(|&i| done[i].is_none()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].0.bytes.len()));
    let bytes = order.iter().map(|&i| files[i].0.bytes.len()).sum();
    let parsed = crate::parallel::map(&order, crate::parallel::worth_it(bytes), |i| (Parsed::of(files[i].1, &files[i].0.bytes), LineTable::of(&files[i].0.bytes)));
    // `map` gives its results in index order.
    order.sort_unstable();
    for (i, p) in order.into_iter().zip(parsed) {
        done[i] = Some(p);
    }
    done.into_iter().map(|p| p.expect("parsed or reused")).collect()
}
