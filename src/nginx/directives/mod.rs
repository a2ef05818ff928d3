//! nginx's directives as nginx's own source declares them: names, contexts, arity, value
//! kinds, enum and bitmask values, bounds, defaults, versions and modules.
//!
//! The tables in `data/` are generated from the `ngx_command_t` arrays of pinned nginx
//! releases and third-party modules, joined with nginx.org's documentation
//! (`scripts/gen-directives.py`, pins in `data/SOURCES`). What the source does not say is
//! in [`overrides`]. A [`Catalog`] is the set of tables one configuration is checked
//! against: one nginx version, the build's modules when known, and third-party modules.

pub mod build;
pub mod overrides;

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// Contexts (the `NGX_*_CONF` bits of a command's type), one bit each.
pub mod ctx {
    pub const MAIN: u32 = 1 << 0;
    pub const EVENT: u32 = 1 << 1;
    pub const HTTP: u32 = 1 << 2;
    pub const SERVER: u32 = 1 << 3;
    pub const LOCATION: u32 = 1 << 4;
    pub const UPSTREAM: u32 = 1 << 5;
    pub const SERVER_IF: u32 = 1 << 6;
    pub const LOCATION_IF: u32 = 1 << 7;
    pub const LIMIT_EXCEPT: u32 = 1 << 8;
    pub const STREAM: u32 = 1 << 9;
    pub const STREAM_SERVER: u32 = 1 << 10;
    pub const STREAM_UPSTREAM: u32 = 1 << 11;
    pub const MAIL: u32 = 1 << 12;
    pub const MAIL_SERVER: u32 = 1 << 13;
    pub const RTMP: u32 = 1 << 14;
    pub const RTMP_SERVER: u32 = 1 << 15;
    pub const RTMP_APPLICATION: u32 = 1 << 16;
    pub const RTMP_RECORDER: u32 = 1 << 17;
    /// `NGX_ANY_CONF` (`include`): every context.
    pub const ANY: u32 = u32::MAX;

    /// Table spelling → bit; the names are those of `data/*.jsonl`.
    pub const NAMES: &[(&str, u32)] = &[
        ("main", MAIN),
        ("event", EVENT),
        ("http", HTTP),
        ("server", SERVER),
        ("location", LOCATION),
        ("upstream", UPSTREAM),
        ("server_if", SERVER_IF),
        ("location_if", LOCATION_IF),
        ("limit_except", LIMIT_EXCEPT),
        ("stream", STREAM),
        ("stream_server", STREAM_SERVER),
        ("stream_upstream", STREAM_UPSTREAM),
        ("mail", MAIL),
        ("mail_server", MAIL_SERVER),
        ("rtmp", RTMP),
        ("rtmp_server", RTMP_SERVER),
        ("rtmp_application", RTMP_APPLICATION),
        ("rtmp_recorder", RTMP_RECORDER),
    ];

    /// How people name a context (`if in location`), for messages and hover.
    pub fn describe(bit: u32) -> &'static str {
        match bit {
            MAIN => "main",
            EVENT => "events",
            HTTP => "http",
            SERVER => "server",
            LOCATION => "location",
            UPSTREAM => "upstream",
            SERVER_IF => "if in server",
            LOCATION_IF => "if in location",
            LIMIT_EXCEPT => "limit_except",
            STREAM => "stream",
            STREAM_SERVER => "server in stream",
            STREAM_UPSTREAM => "upstream in stream",
            MAIL => "mail",
            MAIL_SERVER => "server in mail",
            RTMP => "rtmp",
            RTMP_SERVER => "server in rtmp",
            RTMP_APPLICATION => "application",
            RTMP_RECORDER => "recorder",
            _ => "?",
        }
    }

    /// The context inside block `name` written in context `parent`; `None` for blocks
    /// whose content is not directives nginx dispatches (`map`, `types`, unknown blocks).
    pub fn child(parent: u32, name: &str) -> Option<u32> {
        Some(match (parent, name) {
            (MAIN, "events") => EVENT,
            (MAIN, "http") => HTTP,
            (MAIN, "stream") => STREAM,
            (MAIN, "mail") => MAIL,
            (MAIN, "rtmp") => RTMP,
            (HTTP, "server") => SERVER,
            (HTTP, "upstream") => UPSTREAM,
            (SERVER | LOCATION, "location") => LOCATION,
            (SERVER, "if") => SERVER_IF,
            (LOCATION, "if") => LOCATION_IF,
            (LOCATION, "limit_except") => LIMIT_EXCEPT,
            (STREAM, "server") => STREAM_SERVER,
            (STREAM, "upstream") => STREAM_UPSTREAM,
            (MAIL, "server") => MAIL_SERVER,
            (RTMP, "server") => RTMP_SERVER,
            (RTMP_SERVER, "application") => RTMP_APPLICATION,
            (RTMP_SERVER | RTMP_APPLICATION, "recorder") => RTMP_RECORDER,
            _ => return None,
        })
    }

    /// The bits of a generated table's context names (`any` is every context, `direct`
    /// none); evaluated at compile time, so an unknown name fails the build.
    pub const fn bits(names: &[&str]) -> u32 {
        let mut mask = 0;
        let mut i = 0;
        while i < names.len() {
            mask |= if same(names[i], "any") { ANY } else if same(names[i], "direct") { 0 } else { bit(names[i]) };
            i += 1;
        }
        mask
    }

    const fn bit(name: &str) -> u32 {
        let mut i = 0;
        while i < NAMES.len() {
            if same(NAMES[i].0, name) {
                return NAMES[i].1;
            }
            i += 1;
        }
        panic!("unknown context in a directive table")
    }

    /// `a == b`, usable in const fns.
    pub(super) const fn same(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Every context named in `mask`, in table order.
    pub fn list(mask: u32) -> impl Iterator<Item = u32> {
        NAMES.iter().map(|&(_, b)| b).filter(move |b| mask & b != 0)
    }
}

/// How many arguments a directive takes (`NGX_CONF_NOARGS` … `NGX_CONF_TAKE7`, `FLAG`,
/// `1MORE`, `2MORE`, `ANY`) and whether it opens a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Arity {
    /// Bit n: exactly n arguments (0..=7).
    pub take: u8,
    pub flag: bool,
    pub one_more: bool,
    pub two_more: bool,
    pub any: bool,
    pub block: bool,
}

/// nginx's limit on arguments of a TAKEn directive (`NGX_CONF_MAX_ARGS`).
const MAX_ARGS: usize = 8;

impl Arity {
    /// `ngx_conf_handler`'s argument check, for `n` arguments after the name.
    pub fn accepts(&self, n: usize) -> bool {
        if self.any {
            true
        } else if self.flag {
            n == 1
        } else if self.one_more {
            n >= 1
        } else if self.two_more {
            n >= 2
        } else if n >= MAX_ARGS {
            false
        } else {
            self.take & (1 << n) != 0
        }
    }

    /// The `args` words of a generated table (`block`, `flag`, `any`, `1+`, `2+`, `0`…`7`);
    /// evaluated at compile time, so an unknown word fails the build.
    pub const fn of(words: &[&str]) -> Arity {
        let mut a = Arity { take: 0, flag: false, one_more: false, two_more: false, any: false, block: false };
        let mut i = 0;
        while i < words.len() {
            let w = words[i];
            if ctx::same(w, "block") {
                a.block = true;
            } else if ctx::same(w, "flag") {
                a.flag = true;
            } else if ctx::same(w, "any") {
                a.any = true;
            } else if ctx::same(w, "1+") {
                a.one_more = true;
            } else if ctx::same(w, "2+") {
                a.two_more = true;
            } else if w.len() == 1 && w.as_bytes()[0] >= b'0' && w.as_bytes()[0] <= b'7' {
                a.take |= 1 << (w.as_bytes()[0] - b'0');
            } else {
                panic!("unknown arity in a directive table");
            }
            i += 1;
        }
        a
    }
}

/// The value kind, from the set handler (`ngx_conf_set_*_slot`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Flag,
    Str,
    StrArray,
    Keyval,
    Num,
    Size,
    Off,
    Msec,
    Sec,
    Bufs,
    Enum,
    Bitmask,
    Path,
    Access,
    Include,
    /// A value that may hold variables (`ngx_http_set_complex_value_slot`).
    Complex,
    ComplexSize,
    /// A module's own handler: parsed by its code, not by a generic slot.
    Custom,
}

impl Kind {
    /// Slots that refuse a second occurrence in one block: `"x" directive is duplicate`.
    pub fn refuses_duplicates(self) -> bool {
        matches!(self, Kind::Flag | Kind::Str | Kind::Num | Kind::Size | Kind::Off | Kind::Msec | Kind::Sec | Kind::Bufs | Kind::Enum | Kind::Path | Kind::Access | Kind::Complex | Kind::ComplexSize)
    }
}

/// A release number such as 1.22.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u16, pub u16, pub u16);

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.trim().split('.').map(|p| p.parse::<u16>());
        let bad = || format!("`{s}` is not an nginx version such as 1.22.1");
        let major = parts.next().and_then(Result::ok).ok_or_else(bad)?;
        let minor = parts.next().and_then(Result::ok).ok_or_else(bad)?;
        let patch = match parts.next() {
            None => 0,
            Some(p) => p.map_err(|_| bad())?,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Version(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// A word of the generated tables: a place in one text of them all (build.rs), so the
/// tables hold no pointers. Each `&'static str` in them was a relocation the loader wrote
/// at every start: 12,900 of them, 450 KB of the binary dirtied before `main`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Str {
    at: u32,
    len: u32,
}

static TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/directive_tables/text.txt"));

impl Str {
    const fn new(at: u32, len: u32) -> Str {
        Str { at, len }
    }

    pub fn as_str(self) -> &'static str {
        &TEXT[self.at as usize..(self.at + self.len) as usize]
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A list of words of the generated tables: a range of one array of them all.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Strs {
    at: u32,
    len: u32,
}

static LISTS: &[Str] = &include!(concat!(env!("OUT_DIR"), "/directive_tables/lists.rs"));

impl Strs {
    const fn new(at: u32, len: u32) -> Strs {
        Strs { at, len }
    }

    /// The words, as `&'static str`.
    pub fn iter(self) -> impl DoubleEndedIterator<Item = &'static str> + ExactSizeIterator + Clone {
        self.words().iter().map(|w| w.as_str())
    }

    fn words(self) -> &'static [Str] {
        &LISTS[self.at as usize..(self.at + self.len) as usize]
    }

    /// Is `word` one of them?
    pub fn contains(self, word: &str) -> bool {
        self.iter().any(|w| w == word)
    }
}

impl std::ops::Deref for Strs {
    type Target = [Str];
    fn deref(&self) -> &'static [Str] {
        self.words()
    }
}

impl fmt::Debug for Strs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One `ngx_command_t` entry (a name may have several: `server` in http, upstream, stream…).
#[derive(Debug)]
pub struct Directive {
    pub name: Str,
    /// The nginx module that declares it (`ngx_http_proxy_module`).
    pub module: Str,
    /// Context bits ([`ctx`]).
    pub contexts: u32,
    pub arity: Arity,
    pub kind: Kind,
    /// The set handler, when it is the module's own (`Kind::Custom`).
    pub handler: Option<Str>,
    /// Accepted words of an enum or bitmask.
    pub values: Strs,
    /// `ngx_conf_num_bounds_t`.
    pub bounds: Option<(i64, i64)>,
    /// A post handler that checks the value further (`ngx_http_core_lowat_check`).
    pub post: Option<Str>,
    /// From the documentation: the default as written there, syntax lines, version, page.
    pub default: Option<Str>,
    pub syntax: Strs,
    pub since: Option<Version>,
    pub link: Option<Str>,
    /// Preprocessor conditions it is declared under (`if (NGX_HTTP_SSL)`).
    pub conditions: Strs,
    /// The table it comes from.
    pub table: Str,
}

impl Directive {
    /// Context names for messages and hover: `http, server, location`.
    pub fn context_names(&self) -> Vec<&'static str> {
        if self.contexts == ctx::ANY {
            return vec!["any"];
        }
        ctx::list(self.contexts).map(ctx::describe).collect()
    }
}

/// A built-in variable (`ngx_http_variable_t` arrays): `$host`, or a prefix such as
/// `http_` for `$http_user_agent`.
#[derive(Debug)]
pub struct Variable {
    pub name: Str,
    /// `http` or `stream`.
    pub subsystem: Str,
    pub module: Str,
    /// A prefix (`NGX_HTTP_VAR_PREFIX`): `$<name><anything>`.
    pub prefix: bool,
}

/// One generated table: a nginx release or a third-party module's repository.
#[derive(Debug)]
pub struct Table {
    /// File stem in `data/` (`nginx-1.22.1`, `lua`).
    pub id: &'static str,
    /// For nginx's own tables, the release.
    pub version: Option<Version>,
    /// The pinned source it was generated from (from its header).
    pub origin: &'static str,
    pub directives: &'static [Directive],
    pub variables: &'static [Variable],
    /// nginx's `--with-*`/`--without-*` configure options (nginx tables only).
    pub configure_options: &'static [&'static str],
    /// Name → indexes into `directives`, built on first lookup.
    by_name: OnceLock<HashMap<&'static str, Vec<usize>>>,
}

impl Table {
    fn by_name(&self) -> &HashMap<&'static str, Vec<usize>> {
        self.by_name.get_or_init(|| {
            let mut by_name: HashMap<&'static str, Vec<usize>> = HashMap::new();
            for (i, d) in self.directives.iter().enumerate() {
                by_name.entry(d.name.as_str()).or_default().push(i);
            }
            by_name
        })
    }

    /// The entries named `name`, in declaration order.
    pub fn get<'t>(&'t self, name: &str) -> impl Iterator<Item = &'t Directive> + 't {
        self.by_name().get(name).into_iter().flatten().map(move |&i| &self.directives[i])
    }

    pub fn has(&self, name: &str) -> bool {
        self.by_name().contains_key(name)
    }

    /// Distinct directive names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name().keys().copied()
    }
}

macro_rules! tables {
    ($($id:literal),* $(,)?) => {
        /// Every generated table, as build.rs writes `data/<id>.jsonl` in Rust.
        static TABLES: [Table; [$($id),*].len()] = [$(include!(concat!(env!("OUT_DIR"), "/directive_tables/", $id, ".rs"))),*];
    };
}

tables!(
    "nginx-1.22.1", "nginx-1.31.4", "lua", "headers-more", "njs", "brotli", "geoip2", "echo", "fancyindex", "dav-ext", "ndk", "auth-pam", "cache-purge", "subs-filter",
    "uploadprogress", "upstream-fair", "nchan", "rtmp",
);

/// Every table.
pub fn tables() -> &'static [Table] {
    &TABLES
}

/// nginx's own tables, oldest first.
pub fn nginx_tables() -> impl Iterator<Item = &'static Table> {
    let mut v: Vec<&Table> = tables().iter().filter(|t| t.version.is_some()).collect();
    v.sort_by_key(|t| t.version);
    v.into_iter()
}

/// Third-party modules' tables.
pub fn module_tables() -> impl Iterator<Item = &'static Table> {
    tables().iter().filter(|t| t.version.is_none())
}

/// The newest nginx release conflint has a table for.
pub fn newest() -> Version {
    nginx_tables().last().and_then(|t| t.version).expect("an nginx table")
}

/// The nginx table that describes `v`: the newest one not newer than `v`, else the oldest.
pub fn nginx_table(v: Version) -> &'static Table {
    let all: Vec<&Table> = nginx_tables().collect();
    all.iter().rev().find(|t| t.version <= Some(v)).copied().unwrap_or(all[0])
}

/// The `.so` file stem of a `load_module` path (`modules/ngx_http_geoip_module.so`).
pub fn so_stem(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.strip_suffix(".so").unwrap_or(file).to_string()
}

/// Is `module` of third-party table `table` loaded, `loaded` holding the `.so` stems of
/// `load_module` lines and the names of `[nginx] modules`?
pub fn module_loaded(loaded: &std::collections::HashSet<String>, table: &str, module: &str) -> bool {
    if loaded.contains(module) || loaded.contains(table) {
        return true;
    }
    // One file can hold several modules of a repository (njs's core and js modules).
    let subsystem = |m: &str| m.split('_').take(2).collect::<Vec<_>>().join("_");
    module_tables().find(|t| t.id == table).is_some_and(|t| t.directives.iter().any(|o| loaded.contains(o.module.as_str()) && subsystem(o.module.as_str()) == subsystem(module)))
}

/// Where the nginx version a configuration is checked against came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionSource {
    /// `[nginx] version` in conflint.toml.
    Config,
    /// `nginx -V` of the binary on this machine, whose own configuration is the linted tree.
    Binary,
    /// The nginx installed on this machine, while the linted tree is not its configuration
    /// (a repository checkout): likely, not known, to be the nginx that will load it.
    Installed,
    /// Neither: the newest release conflint knows.
    Newest,
}

/// What is known of the nginx that will load the configuration.
#[derive(Clone, Debug)]
pub struct Target {
    pub version: Version,
    pub source: VersionSource,
    /// The binary's configure arguments (`nginx -V`), when it was asked.
    pub build: Option<build::Build>,
    /// `[nginx] modules`: module names (or their `.so` file names) the server loads,
    /// besides those of `load_module` lines. `Some` closes the set: nothing else is loaded.
    pub modules: Option<Vec<String>>,
}

impl Default for Target {
    fn default() -> Self {
        Target { version: newest(), source: VersionSource::Newest, build: None, modules: None }
    }
}

impl Target {
    /// Take the version of `nginx -V` (`probe`) unless conflint.toml sets the version;
    /// without an answer the newest release stays. Its build (modules, version) is the
    /// tree's only when one of `linted` is that nginx's own configuration; for a checkout
    /// linted on a laptop it is a likely guess.
    pub fn learn(&mut self, linted: &[std::path::PathBuf], probe: impl FnOnce() -> Option<build::Build>) {
        if self.source == VersionSource::Config {
            return;
        }
        if let Some(b) = probe() {
            self.version = b.version;
            if b.serves(linted) {
                self.source = VersionSource::Binary;
                self.build = Some(b);
            } else {
                self.source = VersionSource::Installed;
            }
        }
    }

    /// The version is the server's (configured or asked), not a guess.
    pub fn version_known(&self) -> bool {
        matches!(self.source, VersionSource::Config | VersionSource::Binary)
    }
}

/// A known directive name and everything that declares it.
pub struct Lookup<'c> {
    /// Entries of the chosen nginx release.
    pub nginx: &'c [&'static Directive],
    /// Entries of third-party modules (whether loaded or not).
    pub modules: &'c [&'static Directive],
    /// Entries in other nginx releases only (newer or removed).
    pub other_releases: Vec<&'static Directive>,
}

/// The tables one configuration is checked against.
pub struct Catalog {
    pub target: Target,
    pub nginx: &'static Table,
    /// Every entry, grouped by name: the release's, then the third-party ones, each in
    /// table order.
    entries: Vec<&'static Directive>,
    /// Name → its group in `entries`: the release's entries `start..mid`, the third-party
    /// ones `mid..end`. Built once (every directive of a tree is looked up), in one
    /// allocation rather than two vectors per name: a catalog is made on every run,
    /// however small the tree.
    index: rustc_hash::FxHashMap<&'static str, (u32, u32, u32)>,
}

impl Catalog {
    pub fn new(target: Target) -> Catalog {
        let nginx = nginx_table(target.version);
        let all = || nginx.directives.iter().map(|d| (d, false)).chain(module_tables().flat_map(|t| t.directives.iter()).map(|d| (d, true)));
        // Count each name's entries, then lay the groups out one after another.
        let mut index: rustc_hash::FxHashMap<&'static str, (u32, u32, u32)> = rustc_hash::FxHashMap::default();
        index.reserve(nginx.directives.len() + 512);
        let mut count = 0;
        for (d, third_party) in all() {
            let (releases, third_parties, _) = index.entry(d.name.as_str()).or_default();
            *if third_party { third_parties } else { releases } += 1;
            count += 1;
        }
        // Each group's counts become `(start, start, mid)`: the last two are where its next
        // release and third-party entry go, and once all have landed they stand at `mid`
        // and `end`.
        let mut next = 0;
        for group in index.values_mut() {
            let (n, m, _) = *group;
            *group = (next, next, next + n);
            next += n + m;
        }
        let mut entries = vec![&nginx.directives[0]; count];
        for (d, third_party) in all() {
            let (_, release, others) = index.get_mut(d.name.as_str()).expect("counted");
            let at = if third_party { others } else { release };
            entries[*at as usize] = d;
            *at += 1;
        }
        Catalog { nginx, target, entries, index }
    }

    /// Every declaration of `name`.
    pub fn lookup(&self, name: &str) -> Lookup<'_> {
        let (nginx, modules) = self.index.get(name).map_or((&[][..], &[][..]), |&(s, m, e)| (&self.entries[s as usize..m as usize], &self.entries[m as usize..e as usize]));
        let other_releases = if nginx.is_empty() { nginx_tables().filter(|t| t.id != self.nginx.id).flat_map(|t| t.get(name)).collect() } else { Vec::new() };
        Lookup { nginx, modules, other_releases }
    }

    /// Directives of the chosen release and of the modules that are valid in context bit
    /// `context` (for completion), by name.
    pub fn valid_in(&self, context: u32) -> impl Iterator<Item = &'static Directive> + '_ {
        std::iter::once(self.nginx).chain(module_tables()).flat_map(|t| t.directives.iter()).filter(move |d| d.contexts & context != 0)
    }

    /// Known names close to `name` (a typo's "did you mean"), best first.
    pub fn similar(&self, name: &str) -> Vec<&'static str> {
        let mut scored: Vec<(usize, &'static str)> = std::iter::once(self.nginx)
            .chain(module_tables())
            .flat_map(|t| t.directives.iter().map(|d| d.name.as_str()))
            .filter_map(|known| {
                let d = distance(name, known);
                (d <= (name.len() / 4).clamp(1, 3)).then_some((d, known))
            })
            .collect();
        scored.sort();
        scored.dedup_by_key(|s| s.1);
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}

/// Levenshtein distance (with adjacent transpositions counting one), for did-you-mean.
pub fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 3 {
        return 4;
    }
    let mut prev2: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parses_and_has_the_directives_everyone_uses() {
        let t = nginx_table("1.22.1".parse().unwrap());
        assert_eq!(t.id, "nginx-1.22.1");
        let read = t.get("proxy_read_timeout").next().unwrap();
        assert_eq!((read.kind, read.arity.accepts(1), read.arity.accepts(2)), (Kind::Msec, true, false));
        assert_eq!(read.context_names(), ["http", "server", "location"]);
        assert_eq!(read.default.map(Str::as_str), Some("60s"));
        let gzip = t.get("gzip_comp_level").next().unwrap();
        assert_eq!(gzip.bounds, Some((1, 9)));
        let nu = t.get("fastcgi_next_upstream").next().unwrap();
        assert!(nu.values.contains("http_503") && !nu.values.contains("http_502"));
        // Newer than Debian's nginx: only in the mainline table.
        assert!(!t.has("client_body_early_read") || t.version >= Some(Version(1, 31, 3)));
        assert!(nginx_table(newest()).has("proxy_pass_trailers"));
        assert!(!t.has("proxy_pass_trailers"));
        for t in tables() {
            assert!(!t.directives.is_empty() || t.id == "ndk", "{} is empty", t.id);
        }
    }

    #[test]
    fn the_table_for_a_version_is_the_newest_not_newer() {
        assert_eq!(nginx_table(Version(1, 24, 0)).id, "nginx-1.22.1");
        assert_eq!(nginx_table(Version(1, 18, 0)).id, "nginx-1.22.1");
        assert_eq!(nginx_table(Version(1, 31, 4)).id, "nginx-1.31.4");
        assert_eq!(nginx_table(Version(2, 0, 0)).id, "nginx-1.31.4");
    }

    #[test]
    fn arity_follows_ngx_conf_handler() {
        let take12 = Arity { take: 0b110, ..Default::default() };
        assert!(!take12.accepts(0) && take12.accepts(1) && take12.accepts(2) && !take12.accepts(3));
        let flag = Arity { flag: true, ..Default::default() };
        assert!(flag.accepts(1) && !flag.accepts(2));
        let more = Arity { one_more: true, ..Default::default() };
        assert!(!more.accepts(0) && more.accepts(9));
    }

    #[test]
    fn completion_and_hover_facts() {
        let c = Catalog::new(Target { version: Version(1, 22, 1), source: VersionSource::Config, build: None, modules: None });
        let in_location: Vec<&str> = c.valid_in(ctx::LOCATION).map(|d| d.name.as_str()).collect();
        assert!(in_location.contains(&"proxy_pass") && in_location.contains(&"fastcgi_read_timeout"));
        assert!(!in_location.contains(&"worker_connections") && !in_location.contains(&"listen"));
        assert!(c.valid_in(ctx::EVENT).any(|d| d.name == "worker_connections"));
        let d = c.lookup("fastcgi_read_timeout").nginx[0];
        assert_eq!(d.module, "ngx_http_fastcgi_module");
        assert_eq!(d.syntax.iter().collect::<Vec<_>>(), ["time"]);
        assert_eq!(d.link.map(Str::as_str), Some("https://nginx.org/en/docs/http/ngx_http_fastcgi_module.html#fastcgi_read_timeout"));
        assert_eq!(c.lookup("proxy_pass_trailers").other_releases[0].since, Some(Version(1, 27, 2)));
    }

    #[test]
    fn did_you_mean_finds_typos() {
        let c = Catalog::new(Target::default());
        assert_eq!(c.similar("proxy_passs").first(), Some(&"proxy_pass"));
        assert_eq!(c.similar("fastcgi_read_timout").first(), Some(&"fastcgi_read_timeout"));
        assert_eq!(distance("sendfiel", "sendfile"), 1);
    }
}
