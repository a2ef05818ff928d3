//! Sections and `include=` resolved the way PHP-FPM resolves them.

use std::borrow::Cow;
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::finding::{Finding, Location, Severity};
use crate::fpm::ast::{Entry, FpmFile, LineKind, Value};
use crate::fpm::directives;
use crate::source::{FileId, Sources, Span};
use crate::text::Text;

/// PHP-FPM's prefix (`-p`) for one configuration: relative `include=` patterns are
/// made absolute against it.
#[derive(Clone, Debug)]
pub struct Prefix {
    pub dir: String,
    pub origin: PrefixOrigin,
}

/// How conflint knows a configuration's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrefixOrigin {
    /// `--fpm-prefix` or `[fpm] prefix`.
    Given,
    /// From where the tree places php-fpm.conf (`usr/local/etc/php-fpm.conf`: the official
    /// Docker image's `/usr/local`).
    Layout,
    /// Neither: Debian's build (`/usr`) is assumed.
    Assumed,
}

impl Prefix {
    /// What PHP-FPM's prefix is taken to be when nothing says: Debian's build's.
    pub const ASSUMED: &'static str = "/usr";

    pub fn given(dir: &str) -> Prefix {
        Prefix { dir: dir.to_string(), origin: PrefixOrigin::Given }
    }
}

impl Default for Prefix {
    fn default() -> Self {
        Prefix { dir: Prefix::ASSUMED.into(), origin: PrefixOrigin::Assumed }
    }
}

/// What the workspace found for one `include=` pattern (already made absolute against
/// the FPM prefix, as PHP-FPM does; mapped into the linted tree by the workspace).
pub enum Expanded {
    /// Matching files, sorted, already read and parsed.
    Files(Vec<FileId>),
    /// The directory exists but nothing matches (PHP-FPM: WARNING, not fatal).
    NoMatch,
    /// The directory is missing or unreadable (PHP-FPM: `Unable to globalize`, fatal);
    /// not `certain` when the tree reached it through a guessed path mapping.
    DirMissing { certain: bool },
    /// Not followed: outside the linted tree, or absent from it where the live system may
    /// well have it (already reported by the workspace).
    NotFollowed,
    /// Not followed: the pattern holds a template placeholder (`@php_fpm_sysconfdir@`),
    /// so what it names is only known once rendered (reported by the workspace).
    Template,
}

/// The workspace side of resolution: reading files is its job, never the resolver's.
pub trait FpmFiles {
    fn sources(&self) -> &Sources;
    /// Shared, so the resolver can read a file while the workspace adds included ones.
    fn parsed(&self, id: FileId) -> std::sync::Arc<FpmFile>;
    /// Expand an absolute include pattern written at `from`.
    fn expand_include(&mut self, pattern: &str, from: Location) -> Expanded;
}

/// One `name = value` (or `name[key] = value`) as PHP-FPM applies it.
#[derive(Clone, Debug)]
pub struct Setting {
    /// Lower-cased for directives (PHP-FPM compares them case-insensitively); array names
    /// are kept as written (they are compared case-sensitively). Known names borrow the
    /// directive table's spelling: a big configuration has hundreds of thousands of them.
    pub name: Cow<'static, str>,
    pub array_key: Option<Text>,
    pub value: Value,
    /// The table entry of a scalar directive PHP-FPM knows in this section.
    pub directive: Option<&'static directives::Directive>,
    /// The whole entry line.
    pub location: Location,
    pub name_span: Span,
}

#[derive(Clone, Debug)]
pub struct Pool {
    pub name: String,
    /// The first `[name]` header that opened it.
    pub header: Location,
    /// Every setting in the order PHP-FPM reads them, re-opened sections included.
    pub settings: Vec<Setting>,
    /// For each setting, its position in the directive table (`UNKNOWN` for arrays and
    /// unknown names): rules ask every pool for a few keys, and scanning this small array
    /// is much cheaper than walking the settings themselves.
    keys: Vec<u16>,
}

impl Pool {
    pub const UNKNOWN: u16 = u16::MAX;

    fn new(name: String, header: Location) -> Self {
        Pool { name, header, settings: Vec::new(), keys: Vec::new() }
    }

    fn reserve(&mut self, additional: usize) {
        self.settings.reserve_exact(additional);
        self.keys.reserve_exact(additional);
    }

    fn push(&mut self, setting: Setting, key: Option<u16>) {
        self.keys.push(key.unwrap_or(Self::UNKNOWN));
        self.settings.push(setting);
    }

    /// The directive-table position of each setting, parallel to `settings`.
    pub fn keys(&self) -> &[u16] {
        &self.keys
    }
}

#[derive(Clone, Debug, Default)]
pub struct FpmConfig {
    /// The main file (php-fpm.conf or a lone pool file).
    pub root: Option<FileId>,
    /// Every file that took part, root first, in reading order.
    pub files: Vec<FileId>,
    pub global: Vec<Setting>,
    pub pools: Vec<Pool>,
    /// Read from pool fragments only (no main file in the tree): its `[global]` is unknown.
    pub fragment: bool,
    /// Everything PHP-FPM would read for it is in the tree: the root is a main file and
    /// every `include=` was followed. Set by the workspace, which knows the files' names.
    pub complete: bool,
    /// The prefix (`-p`) its relative `include=` were resolved against.
    pub prefix: Prefix,
    /// Settings of a pool fragment read on its own (no `php-fpm.conf` in the tree includes
    /// it) that stand before any section: their section is decided by the includer.
    pub unplaced: Vec<Setting>,
    /// Structural findings: FPM001 syntax errors and FPM009 include problems.
    pub findings: Vec<Finding>,
}

/// PHP-FPM stops nesting includes deeper than this.
const MAX_INCLUDE_DEPTH: usize = 5;

enum Section {
    Global,
    Pool(usize),
    /// The start of a fragment read on its own: the includer's section is unknown.
    Unknown,
}

struct Resolver<'f> {
    files: &'f mut dyn FpmFiles,
    /// Every file read, for building the pools' settings after reading.
    read_files: FxHashMap<FileId, Arc<FpmFile>>,
    /// Pool entries in reading order: (pool, file, line). Their settings are built once
    /// reading is done, pool by pool on every core.
    pool_entries: Vec<(u32, FileId, u32)>,
    /// `include=` patterns that matched nothing: harmless unless no pool is left.
    empty_includes: Vec<(Location, String)>,
    /// Pool index by lower-cased name (sections re-open case-insensitively).
    pool_index: std::collections::HashMap<String, usize>,
    prefix: Prefix,
    /// An `include=` that was not followed (outside the tree, or a directory the tree
    /// lacks where the live system may have it).
    unfollowed: bool,
    config: FpmConfig,
    section: Section,
}

/// Resolve the configuration rooted at `root` the way PHP-FPM reads it: lines before any
/// section and `[global]` are global, other sections open or re-open a pool (names
/// compared case-insensitively), `include=` globs are made absolute against `prefix` and
/// read in place, and reading goes on in whatever section the included file ended in.
///
/// `fragment` is a file read on its own that a main file would include (a `pool.d/` file):
/// its lines before any section belong to whatever section includes it.
pub fn resolve(root: FileId, files: &mut dyn FpmFiles, prefix: &Prefix, fragment: bool) -> FpmConfig {
    resolve_together(&[root], files, prefix, fragment)
}

/// Read several files one after the other as one configuration — pool fragments of one
/// directory that no main file in the tree includes, as `include = dir/*.conf` would.
pub fn resolve_together(roots: &[FileId], files: &mut dyn FpmFiles, prefix: &Prefix, fragment: bool) -> FpmConfig {
    let section = if fragment { Section::Unknown } else { Section::Global };
    let mut r = Resolver {
        files,
        read_files: FxHashMap::default(),
        pool_entries: Vec::new(),
        empty_includes: Vec::new(),
        pool_index: Default::default(),
        prefix: Prefix { dir: prefix.dir.trim_end_matches('/').to_string(), origin: prefix.origin },
        unfollowed: false,
        config: FpmConfig { root: roots.first().copied(), fragment, prefix: prefix.clone(), ..Default::default() },
        section,
    };
    for &root in roots {
        r.read(root, 0);
    }
    r.build_pools();
    r.config.complete = !fragment && !r.unfollowed;
    let no_pools = r.config.pools.is_empty() && !fragment;
    for (at, pattern) in std::mem::take(&mut r.empty_includes) {
        let (severity, consequence) =
            if no_pools { (Severity::Error, "and no pool is defined: PHP-FPM refuses to start (No pool defined)") } else { (Severity::Info, "(PHP-FPM only warns)") };
        r.config.findings.push(Finding::new("FPM009", severity, at, format!("nothing matches the include pattern '{pattern}' {consequence}")));
    }
    r.config
}

/// The setting an entry makes in `place`; inside a pool `$pool` in a string value is
/// replaced by the pool's name.
fn make_setting(file: FileId, line: Span, entry: &Entry, place: directives::Place, pool: Option<&str>) -> (Setting, Option<u16>) {
    let is_array = entry.array_key.is_some();
    let key = if is_array { None } else { directives::index(&entry.name, place) };
    let name: Cow<'static, str> = match (is_array, key) {
        (true, _) => match directives::ARRAYS.iter().find(|a| **a == entry.name) {
            Some(known) => Cow::Borrowed(known),
            None => Cow::Owned(entry.name.to_string()),
        },
        (false, Some(i)) => Cow::Borrowed(directives::DIRECTIVES[usize::from(i)].name),
        (false, None) => Cow::Owned(entry.name.to_ascii_lowercase()),
    };
    let mut setting = Setting {
        name,
        array_key: entry.array_key.as_ref().map(|key| key.0.clone()),
        location: Location { file, span: line },
        name_span: entry.name_span,
        value: entry.value.clone(),
        directive: key.map(|i| &directives::DIRECTIVES[usize::from(i)]),
    };
    if let Some(pool) = pool.filter(|_| setting.expands() && mentions_pool(&setting.value.text)) {
        setting.value.text = setting.value.text.replace("$pool", pool).into();
    }
    (setting, key)
}

/// `$pool` in a value. Asked of every setting: most values have no `$` at all, and looking
/// for one byte is much cheaper than setting up a substring search.
fn mentions_pool(value: &str) -> bool {
    value.contains('$') && value.contains("$pool")
}

impl Setting {
    pub fn name_location(&self) -> Location {
        Location { file: self.location.file, span: self.name_span }
    }

    /// The value as written (its quotes included).
    pub fn value_location(&self) -> Location {
        Location { file: self.location.file, span: self.value.span }
    }

    /// PHP-FPM replaces `$pool` in this setting's value: string directives and the
    /// `env`/`php_value`/`php_admin_value` arrays.
    fn expands(&self) -> bool {
        match &self.array_key {
            Some(_) => matches!(&*self.name, "env" | "php_value" | "php_admin_value"),
            None => self.directive.is_some_and(|d| d.kind == directives::Kind::Str),
        }
    }
}

impl Resolver<'_> {
    fn section_name(&self) -> String {
        match self.section {
            Section::Global => "[global]".into(),
            Section::Pool(i) => format!("pool [{}]", self.config.pools[i].name),
            Section::Unknown => "the includer's section".into(),
        }
    }

    fn read(&mut self, file: FileId, depth: usize) {
        // A file read again (included twice) applies its settings again, but its syntax
        // errors are reported once.
        let first_time = !self.config.files.contains(&file);
        if first_time {
            self.config.files.push(file);
        }
        let parsed = self.files.parsed(file);
        self.read_files.entry(file).or_insert_with(|| Arc::clone(&parsed));
        let lines = &parsed.lines;
        self.pool_entries.reserve(lines.len());
        // After an include that ended in another section, the next entry of this file
        // silently lands there.
        let mut leaked: Option<(Location, String, String)> = None;
        for (n, line) in lines.iter().enumerate() {
            let loc = Location { file, span: line.span };
            match &line.kind {
                LineKind::Blank => {}
                LineKind::Error(_) if !first_time => {}
                LineKind::Error(e) => {
                    let mut f = Finding::new("FPM001", Severity::Error, Location { file, span: e.span }, e.message.clone())
                        .with_help(crate::fpm::parser::help_for(&e.message));
                    // A `#` comment becomes a `;` comment: the one syntax error with an obvious intent.
                    let text = self.files.sources().get(file).slice(line.span);
                    if let Some(hash) = text.iter().position(|b| !b.is_ascii_whitespace()).filter(|&i| text[i] == b'#') {
                        let at = line.span.start() + hash;
                        f = f.with_fix(crate::finding::Fix {
                            applicability: crate::finding::Applicability::Safe,
                            message: "make it a `;` comment".into(),
                            edits: vec![crate::finding::Edit { location: Location { file, span: Span::new(at, at + 1) }, content: ";".into() }],
                        });
                    }
                    self.config.findings.push(f);
                }
                LineKind::Section(header) => {
                    leaked = None;
                    let name = &header.name;
                    self.section = if name.eq_ignore_ascii_case("global") {
                        Section::Global
                    } else {
                        let pools = &mut self.config.pools;
                        let i = *self.pool_index.entry(name.to_ascii_lowercase()).or_insert_with(|| {
                            pools.push(Pool::new(name.to_string(), loc));
                            pools.len() - 1
                        });
                        Section::Pool(i)
                    };
                }
                LineKind::Entry(entry) => {
                    if entry.name == "include" && entry.array_key.is_none() {
                        let before = self.section_name();
                        self.include(file, loc, &entry.value, depth);
                        let after = self.section_name();
                        if after != before && leaked.is_none() {
                            leaked = Some((loc, after, before));
                        }
                        continue;
                    }
                    if let Some((include_at, landed, written)) = &leaked {
                        self.config.findings.push(
                            Finding::new("FPM009", Severity::Warning, loc, format!("`{}` lands in {landed}, not in {written} where it stands: PHP-FPM keeps reading in the section the included file ended in", entry.name))
                                .with_related(*include_at, "the include")
                                .with_help("move it above the `include=` line, or open its section again with a header"),
                        );
                    }
                    match self.section {
                        Section::Pool(i) => self.pool_entries.push((i as u32, file, n as u32)),
                        _ => self.setting(file, line.span, entry),
                    }
                }
            }
        }
    }

    /// A setting of `[global]` or of a fragment's unknown section (pool entries are built
    /// by `build_pools`).
    fn setting(&mut self, file: FileId, line: Span, entry: &Entry) {
        let global = matches!(self.section, Section::Global);
        let place = if global { directives::Place::Global } else { directives::Place::Pool };
        let (setting, _) = make_setting(file, line, entry, place, None);
        if global && setting.expands() && mentions_pool(&entry.value.text) {
            self.config.findings.push(
                Finding::new("FPM001", Severity::Error, setting.value_location(), format!("unable to parse value for entry '{}': Can't use '$pool' when the pool is not defined", entry.name))
                    .with_help("`$pool` stands for the pool name and only works inside a pool section"),
            );
        }
        if global {
            self.config.global.push(setting);
        } else {
            self.config.unplaced.push(setting);
        }
    }

    /// The settings of every pool, from the entries read into it: pools are independent,
    /// so they are built side by side. Each pool's vectors are sized once — growing those
    /// of thousands of pools a push at a time is most of the cost.
    fn build_pools(&mut self) {
        let pools = &mut self.config.pools;
        let mut counts = vec![0usize; pools.len()];
        for &(pool, ..) in &self.pool_entries {
            counts[pool as usize] += 1;
        }
        // The entries grouped by pool, reading order kept within each.
        let mut starts = Vec::with_capacity(pools.len() + 1);
        starts.push(0);
        for c in &counts {
            starts.push(starts.last().copied().unwrap_or(0) + c);
        }
        let mut next = starts.clone();
        let mut grouped = vec![(FileId(0), 0u32); self.pool_entries.len()];
        for &(pool, file, line) in &self.pool_entries {
            grouped[next[pool as usize]] = (file, line);
            next[pool as usize] += 1;
        }
        let files = &self.read_files;
        let fill = |(i, pool): (usize, &mut Pool)| {
            let entries = &grouped[starts[i]..starts[i + 1]];
            pool.reserve(entries.len());
            for &(file, n) in entries {
                let line = &files[&file].lines[n as usize];
                let LineKind::Entry(entry) = &line.kind else { continue };
                let (setting, key) = make_setting(file, line.span, entry, directives::Place::Pool, Some(&pool.name));
                pool.push(setting, key);
            }
        };
        // Only more than one chunk of pools is worth starting rayon's threads for.
        if pools.len() > 256 {
            pools.par_iter_mut().enumerate().with_min_len(256).for_each(fill);
        } else {
            pools.iter_mut().enumerate().for_each(fill);
        }
        self.pool_entries = Vec::new();
    }

    fn include(&mut self, file: FileId, at: Location, value: &Value, depth: usize) {
        let pattern = value.text.trim();
        let relative = !pattern.starts_with('/');
        let full = if relative { format!("{}/{pattern}", self.prefix.dir) } else { pattern.to_string() };
        if depth + 1 >= MAX_INCLUDE_DEPTH {
            if relative {
                self.relative_include(at, pattern, &full);
            }
            if !self.config.findings.iter().any(|f| f.code == "FPM009" && f.message.starts_with("failed to include more than")) {
                self.config.findings.push(Finding::new("FPM009", Severity::Error, at, "failed to include more than 5 files recursively: PHP-FPM refuses to start"));
            }
            return;
        }
        let expanded = self.files.expand_include(&full, at);
        // Where the tree's layout says which prefix it runs with and the include finds its
        // directory there, it means what its writer (often PHP's own php-fpm.conf) meant.
        let found = matches!(expanded, Expanded::Files(_) | Expanded::NoMatch | Expanded::Template);
        if relative && !(found && self.prefix.origin == PrefixOrigin::Layout) && !matches!(expanded, Expanded::Template) {
            self.relative_include(at, pattern, &full);
        }
        match expanded {
            Expanded::Files(ids) => {
                for id in ids {
                    self.read(id, depth + 1);
                }
            }
            Expanded::DirMissing { certain } => {
                self.unfollowed |= !certain;
                let line = self.files.sources().get(file).position(at.span.start()).line;
                let shown = self.files.sources().get(file).display.clone();
                let globalize = format!("Unable to globalize '{full}' (ret=2) from {shown} at line {line}");
                self.config.findings.push(if certain {
                    Finding::new("FPM009", Severity::Error, at, format!("{globalize}: the directory does not exist and PHP-FPM refuses to start"))
                } else {
                    Finding::new("FPM009", Severity::Warning, at, format!("the include directory is not in the linted tree; if the server lacks it too, PHP-FPM refuses to start ({globalize})"))
                        .with_help("lint the tree that holds it, or map it with --map-root SYSTEM=DIR")
                });
            }
            Expanded::NoMatch => self.empty_includes.push((at, full)),
            Expanded::NotFollowed | Expanded::Template => self.unfollowed = true,
        }
    }

    /// FPM009 for a relative `include=`, naming the prefix it was resolved against and how
    /// that prefix is known.
    fn relative_include(&mut self, at: Location, pattern: &str, full: &str) {
        let prefix = &self.prefix.dir;
        let finding = match self.prefix.origin {
            PrefixOrigin::Given => Finding::new("FPM009", Severity::Warning, at, format!("relative include `{pattern}` resolves against PHP-FPM's prefix, not this file: it means '{full}'"))
                .with_help("write the include with an absolute path"),
            PrefixOrigin::Layout => Finding::new(
                "FPM009",
                Severity::Warning,
                at,
                format!("relative include `{pattern}` resolves against PHP-FPM's prefix ({prefix} for a php-fpm.conf placed here), not this file: it means '{full}'"),
            )
            .with_help("write the include with an absolute path"),
            PrefixOrigin::Assumed => Finding::new(
                "FPM009",
                Severity::Warning,
                at,
                format!("relative include `{pattern}` resolves against PHP-FPM's prefix, not this file: with the prefix assumed here ({prefix}, Debian's build) it means '{full}'"),
            )
            .with_help("write the include with an absolute path, or pass --fpm-prefix with the prefix the server runs with (the official Docker image's is /usr/local)"),
        };
        self.config.findings.push(finding);
    }
}
