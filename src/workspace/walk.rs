//! The PATH arguments turned into candidate files.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{classify, dump, paths, Candidate, Error, Note, Options};

pub(crate) struct Collected {
    pub files: Vec<Candidate>,
    pub notes: Vec<Note>,
    /// What the walk found at each real path, so resolving includes asks the disk again
    /// only about what the walk did not see (symlinks, paths outside the walked tree).
    pub seen: Vec<(PathBuf, paths::Entry)>,
}

pub(crate) fn collect(opts: &Options, stdin: &mut dyn Read) -> Result<Collected, Error> {
    let mut out = Collected { files: Vec::new(), notes: Vec::new(), seen: Vec::new() };
    for arg in &opts.paths {
        if arg == "-" {
            read_stdin(opts, stdin, &mut out)?;
            continue;
        }
        let path = opts.cwd.join(arg);
        let meta = std::fs::metadata(&path).map_err(|e| unreadable(arg, &e))?;
        // ruff's `--force-exclude`: an excluded path named on the command line is skipped
        // without a word, as if the hook's file list had not contained it.
        if opts.force_exclude && opts.excludes.excludes(&path, meta.is_dir()) {
            continue;
        }
        if meta.is_dir() {
            walk_dir(opts, arg, &path, true, &mut out)?;
        } else {
            let real = path.canonicalize().unwrap_or(path);
            let bytes = opts.read(&real).map_err(|e| refused(arg, &e))?;
            refuse_binary(opts, arg, &real, &bytes)?;
            out.files.push(Candidate {
                path: real,
                display: clean_display(arg),
                bytes,
                named: true,
                reported: true,
                dumped: false,
                on_disk: true,
            });
        }
    }
    if opts.in_project {
        // After the named files, so they keep the names the user gave them.
        for root in project_roots(opts) {
            let shown = paths::display_path(&root, &opts.cwd);
            walk_dir(opts, &shown, &root, false, &mut out)?;
        }
    }
    Ok(out)
}

/// The directories reading is confined to: every directory argument; for a file argument
/// (or any argument with `--in-project`), the project it lives in; for stdin, the current
/// directory.
pub(crate) fn confinement_roots(opts: &Options) -> Vec<PathBuf> {
    opts.paths
        .iter()
        .map(|arg| {
            if arg == "-" {
                return opts.cwd.clone();
            }
            let p = opts.cwd.join(arg);
            if p.is_dir() && !opts.in_project {
                return p;
            }
            let dir = if p.is_dir() { p } else { p.parent().map(Path::to_path_buf).unwrap_or_else(|| opts.cwd.clone()) };
            project_root(&dir, opts.in_project).unwrap_or(dir)
        })
        .collect()
}

/// The project a path belongs to: the nearest ancestor holding `.git` or `conflint.toml`;
/// failing that, with `--in-project`, the nearest holding an `nginx.conf` (`/etc/nginx` on
/// a server), so a site is still linted with its includer.
fn project_root(start: &Path, in_project: bool) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    let marked = start.ancestors().find(|d| d.join(".git").exists() || d.join("conflint.toml").exists());
    let conf_dir = || in_project.then(|| start.ancestors().find(|d| d.join("nginx.conf").is_file())).flatten();
    marked.or_else(conf_dir).map(Path::to_path_buf)
}

/// `--in-project`: each named path's project, once, and none inside another.
fn project_roots(opts: &Options) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = confinement_roots(opts).into_iter().map(|r| r.canonicalize().unwrap_or(r)).collect();
    roots.sort();
    roots.dedup();
    let all = roots.clone();
    roots.retain(|r| !all.iter().any(|o| o != r && r.starts_with(o)));
    roots
}

/// Every file below `dir` that is not ignored (hidden, `.gitignore`, excludes). `reported`:
/// the user asked for these files' findings (false for the context read by `--in-project`).
fn walk_dir(opts: &Options, arg: &str, dir: &Path, reported: bool, out: &mut Collected) -> Result<(), Error> {
    // A directory argument we cannot list at all is a command-line error.
    std::fs::read_dir(dir).map_err(|e| unreadable(arg, &e))?;
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let excludes = opts.excludes.clone();
    let walker = ignore::WalkBuilder::new(&dir)
        .hidden(true)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |e| !excludes.excludes_entry(e.path(), e.file_type().is_some_and(|t| t.is_dir())))
        .build();
    let mut wanted = Vec::new();
    // Files are read side by side while the walk goes on: on a big tree reading is most of
    // the walk. A handful of files is read faster than threads start.
    let reader = Reader { opts, read: std::sync::Mutex::new(Vec::new()), started: std::cell::Cell::new(0) };
    rayon::in_place_scope(|scope| {
        for entry in walker {
            match entry {
                // Symlinks are resolved by the include resolver with map-roots applied; a walked
                // symlink is linted where it points only when that stays inside the tree.
                Ok(e) if e.file_type().is_some_and(|t| t.is_symlink()) => {}
                // Below the canonical `dir` through no symlink (none is followed), so already real.
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                    let path = e.into_path();
                    out.seen.push((path.clone(), paths::Entry::File));
                    // Classified as "not a config" anyway, and without a note: not worth reading
                    // (a project walk passes every PHP and JS file of the application).
                    if classify::other_by_name(&path).is_some() {
                        continue;
                    }
                    let rel = path.strip_prefix(&dir).unwrap_or(&path);
                    let display = clean_display(&Path::new(arg).join(rel).to_string_lossy());
                    wanted.push((display, path));
                    reader.found(scope, &wanted);
                }
                Ok(e) if e.file_type().is_some_and(|t| t.is_dir()) => out.seen.push((e.into_path(), paths::Entry::Dir)),
                // A FIFO or socket named like a config is worth a word: it is not read.
                Ok(e) if e.file_type().is_some() && e.path().extension().is_some_and(|x| x == "conf") => {
                    let rel = e.path().strip_prefix(&dir).unwrap_or(e.path());
                    let display = clean_display(&Path::new(arg).join(rel).to_string_lossy());
                    let why = super::read::regular_file(e.path(), opts.max_file_size).err().map_or_else(|| "not read".into(), |e| e.reason());
                    out.notes.push(Note { path: display, message: why });
                }
                Ok(_) => {}
                Err(e) => out.notes.push(Note { path: clean_display(arg), message: format!("not read: {}", walk_error(&e)) }),
            }
        }
    });
    let contents = reader.finish(&wanted);
    for ((display, real), read) in wanted.into_iter().zip(contents) {
        match read {
            Ok(bytes) => out.files.push(Candidate {
                path: real,
                display,
                bytes,
                named: false,
                reported,
                dumped: false,
                on_disk: true,
            }),
            Err(super::read::ReadError::Io(e)) => out.notes.push(Note { path: display, message: format!("not read: {}", io_reason(&e)) }),
            Err(e) => out.notes.push(Note { path: display, message: e.reason() }),
        }
    }
    Ok(())
}

/// A walked file's bytes, or why they could not be read.
type Contents = Result<Vec<u8>, super::read::ReadError>;

/// Reads the walked files on rayon's threads as the walk finds them, once there are
/// [`Reader::SPREAD`] of them (and more than one core); fewer are read on this thread at
/// the end.
struct Reader<'o> {
    opts: &'o Options,
    read: std::sync::Mutex<Vec<(usize, Contents)>>,
    /// Files handed to the threads so far: the first this many found.
    started: std::cell::Cell<usize>,
}

impl<'o> Reader<'o> {
    const SPREAD: usize = 16;

    /// The walk found `wanted`'s last file.
    fn found<'s>(&'s self, scope: &rayon::Scope<'s>, wanted: &[(String, PathBuf)]) {
        if wanted.len() < Self::SPREAD || !crate::parallel::multicore() {
            return;
        }
        let (opts, read) = (self.opts, &self.read);
        for (i, (_, path)) in wanted.iter().enumerate().skip(self.started.get()) {
            let path = path.clone();
            scope.spawn(move |_| {
                let bytes = opts.read_known_file(&path);
                read.lock().unwrap_or_else(|e| e.into_inner()).push((i, bytes));
            });
        }
        self.started.set(wanted.len());
    }

    /// Every file's contents, in `wanted`'s order, once the scope has ended.
    fn finish(self, wanted: &[(String, PathBuf)]) -> Vec<Contents> {
        let mut read = self.read.into_inner().unwrap_or_else(|e| e.into_inner());
        read.extend(wanted.iter().enumerate().skip(self.started.get()).map(|(i, (_, path))| (i, self.opts.read_known_file(path))));
        read.sort_by_key(|(i, _)| *i);
        read.into_iter().map(|(_, r)| r).collect()
    }
}

fn read_stdin(opts: &Options, stdin: &mut dyn Read, out: &mut Collected) -> Result<(), Error> {
    let bytes = super::read::stdin(stdin, opts.max_file_size).map_err(|e| refused("-", &e))?;
    if let Some(files) = dump::split(&bytes) {
        for f in files {
            out.files.push(Candidate {
                path: PathBuf::from(&f.path),
                display: f.path,
                bytes: f.text,
                named: true,
                reported: true,
                dumped: true,
                on_disk: false,
            });
        }
        return Ok(());
    }
    let name = opts.stdin_filename.clone().unwrap_or_else(|| "-".into());
    refuse_binary(opts, &name, Path::new(&name), &bytes)?;
    out.files.push(Candidate {
        path: opts.cwd.join(&name),
        display: clean_display(&name),
        bytes,
        named: true,
        reported: true,
        dumped: false,
        on_disk: false,
    });
    Ok(())
}

fn clean_display(s: &str) -> String {
    let s = s.replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s);
    paths::lexical_normalize(Path::new(s)).to_string_lossy().into_owned()
}

/// A file the user named that is binary cannot be linted: an error, not a pass (with
/// `--in-project` a hook's file list names every changed file, so it is skipped as usual).
fn refuse_binary(opts: &Options, arg: &str, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    match classify::classify(path, bytes) {
        classify::Kind::Other(why @ "binary file") if !opts.in_project => {
            Err(Error::Unreadable { path: arg.to_string(), reason: format!("cannot be linted: {why} (NUL bytes or control characters)") })
        }
        _ => Ok(()),
    }
}

fn refused(arg: &str, e: &super::read::ReadError) -> Error {
    match e {
        super::read::ReadError::Io(io) => unreadable(arg, io),
        refused => Error::Unreadable { path: arg.to_string(), reason: refused.reason() },
    }
}

fn unreadable(arg: &str, e: &std::io::Error) -> Error {
    Error::Unreadable { path: arg.to_string(), reason: io_reason(e) }
}

pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

fn walk_error(e: &ignore::Error) -> String {
    match e.io_error() {
        Some(io) => {
            let path = match e {
                ignore::Error::WithPath { path, .. } => format!("{}: ", path.display()),
                ignore::Error::WithDepth { err, .. } => match &**err {
                    ignore::Error::WithPath { path, .. } => format!("{}: ", path.display()),
                    _ => String::new(),
                },
                _ => String::new(),
            };
            format!("{path}{}", io_reason(io))
        }
        None => e.to_string(),
    }
}
