//! Where a path named by a config really lives, and whether we may read it.
//!
//! Configs name live-system paths (`/etc/nginx/snippets/x.conf`, absolute symlinks from
//! `sites-enabled/` into `sites-available/`). Inside a repository those live under a
//! mapped directory (`--map-root /etc/nginx=nginx`). Reading is confined to the linted
//! tree: a path that leaves it (`../../etc/shadow`, `/etc/shadow`, a symlink out) is not
//! read unless the user allows it, so a PR's config cannot make the linter print secrets.

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// Symlink hops followed before giving up (Linux's own limit is 40).
const MAX_SYMLINK_HOPS: usize = 40;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapRoot {
    /// A live-system prefix, e.g. `/etc/nginx`.
    pub system: PathBuf,
    /// The directory inside the linted tree that holds it.
    pub local: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Located {
    /// The real path of an existing file or directory inside the tree.
    Inside(PathBuf),
    /// The path (after mapping and symlinks) lies outside the linted tree; not read.
    Outside(PathBuf),
    /// Nothing exists there (after mapping). Holds the mapped path.
    Missing(PathBuf),
    /// More symlinks than the kernel follows (a loop): nginx's open() fails with ELOOP.
    /// Holds the symlink where it gave up.
    Looped(PathBuf),
}

/// What `lstat` (and `readlink` for a symlink) found at a path whose parent is resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    Dir,
    /// A regular file.
    File,
    /// A FIFO, socket or device.
    Special,
    /// A symlink and its target; `None` when it could not be read.
    Symlink(Option<PathBuf>),
    Missing,
}

impl Entry {
    fn of(kind: std::fs::FileType, path: &Path) -> Entry {
        if kind.is_symlink() {
            Entry::Symlink(std::fs::read_link(path).ok())
        } else if kind.is_dir() {
            Entry::Dir
        } else if kind.is_file() {
            Entry::File
        } else {
            Entry::Special
        }
    }
}

/// The caches below are behind locks so that rules may run on several threads; a panic
/// while one is held leaves the data as consistent as before, so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug, Default)]
pub struct Confinement {
    /// Canonical roots of the linted tree.
    pub roots: Vec<PathBuf>,
    /// Explicit `--map-root` pairs; the longest `system` prefix wins.
    pub maps: Vec<MapRoot>,
    pub allow_outside: bool,
    /// Config directories (of each root nginx.conf / php-fpm.conf) that absolute paths
    /// are matched against when no explicit map covers them.
    anchors: Vec<(PathBuf, ConfDir)>,
    /// Mappings found automatically, first one wins; shown to the user.
    learned: Mutex<Vec<MapRoot>>,
    /// The system directories among them that were mapped by a file's name alone
    /// ([`Self::discover`]), not by a config directory's known place.
    by_suffix: Mutex<Vec<PathBuf>>,
    /// Paths already located: thousands of sites include the same snippet.
    located: Mutex<std::collections::HashMap<PathBuf, Located>>,
    /// Every resolved path looked at, so each directory from `/` down is examined once per
    /// run however many files lie below it (and the walk's own findings are never redone).
    entries: Mutex<rustc_hash::FxHashMap<PathBuf, Entry>>,
    /// Several nginx trees stand side by side: the live system's nginx directory means
    /// each one's own ([`Self::map_in`]), so no mapping of it is learned or guessed.
    pub nginx_per_tree: bool,
}

impl Confinement {
    pub fn new(roots: Vec<PathBuf>, mut maps: Vec<MapRoot>, allow_outside: bool) -> Self {
        maps.sort_by_key(|m| std::cmp::Reverse(m.system.components().count()));
        let roots = roots.iter().map(|r| r.canonicalize().unwrap_or_else(|_| r.clone())).collect();
        Confinement {
            roots,
            maps,
            allow_outside,
            anchors: Vec::new(),
            learned: Default::default(),
            by_suffix: Default::default(),
            located: Default::default(),
            entries: Default::default(),
            nginx_per_tree: false,
        }
    }

    /// What the directory walk already saw: real paths and what they are.
    pub(crate) fn seed(&self, seen: Vec<(PathBuf, Entry)>) {
        lock(&self.entries).extend(seen);
    }

    /// What is at `path` (not following a final symlink), from the cache when it has been
    /// looked at.
    pub(crate) fn entry(&self, path: &Path) -> Entry {
        if let Some(e) = lock(&self.entries).get(path) {
            return e.clone();
        }
        let e = match std::fs::symlink_metadata(path) {
            Ok(meta) => Entry::of(meta.file_type(), path),
            Err(_) => Entry::Missing,
        };
        lock(&self.entries).insert(path.to_path_buf(), e.clone());
        e
    }

    /// The paths a glob pattern matches, sorted by their bytes as nginx sorts them.
    ///
    /// The usual pattern (`/etc/nginx/sites-enabled/*`, a wildcard in the last name only)
    /// is one directory listing, matched as the `glob` crate matches and remembering what
    /// each entry is; any other shape goes to the crate. `None`: not a valid pattern.
    pub fn glob(&self, pattern: &Path) -> Option<Vec<PathBuf>> {
        let mut matches = match self.glob_last_name(pattern) {
            Some(found) => found?,
            None => glob::glob(&pattern.to_string_lossy()).ok()?.filter_map(Result::ok).collect(),
        };
        matches.sort_by(|a, b| a.as_os_str().as_encoded_bytes().cmp(b.as_os_str().as_encoded_bytes()));
        Some(matches)
    }

    /// The fast path of [`Self::glob`]; `None` when the pattern is not of its shape.
    fn glob_last_name(&self, pattern: &Path) -> Option<Option<Vec<PathBuf>>> {
        let text = pattern.to_str()?;
        let (dir, last) = text.rsplit_once('/')?;
        // The crate's own rules for `.`/`..`, `**`, empty names and relative scopes stay with it.
        let plain_dir = dir.starts_with('/') && dir[1..].split('/').all(|c| !c.is_empty() && c != "." && c != ".." && !is_glob(Path::new(c)));
        if !plain_dir || last.is_empty() || last.starts_with('.') || last.contains("**") {
            return None;
        }
        let Ok(matcher) = glob::Pattern::new(last) else { return Some(None) };
        let Ok(listing) = std::fs::read_dir(dir) else { return Some(Some(Vec::new())) };
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for entry in listing.flatten() {
            let name = entry.file_name();
            if !name.to_str().is_some_and(|n| matcher.matches_with(n, glob::MatchOptions::new())) {
                continue;
            }
            let path = entry.path();
            if let Ok(kind) = entry.file_type() {
                seen.push((path.clone(), Entry::of(kind, &path)));
            }
            out.push(path);
        }
        // Entries below a directory that is itself reached through a symlink are not real paths.
        if self.entry_chain_is_real(Path::new(dir)) {
            self.seed(seen);
        }
        Some(Some(out))
    }

    /// Is `dir` its own real path (no symlink on the way)? Only then may what lies below
    /// it be remembered under its name.
    fn entry_chain_is_real(&self, dir: &Path) -> bool {
        dir.ancestors().filter(|a| a.parent().is_some()).all(|a| matches!(self.entry(a), Entry::Dir))
    }

    /// Is the real path of a [`Located::Inside`] a directory?
    pub fn is_dir(&self, real: &Path) -> bool {
        self.entry(real) == Entry::Dir
    }

    /// Is the real path of a [`Located::Inside`] a regular file?
    pub fn is_file(&self, real: &Path) -> bool {
        self.entry(real) == Entry::File
    }

    /// A config directory of the tree that live-system paths may map onto. Only one inside
    /// the tree's roots: a file named from outside it (`--stdin-filename /etc/shadow`) must
    /// not make `/etc` the tree's `/etc/nginx`.
    pub fn add_anchor(&mut self, dir: PathBuf, kind: ConfDir) {
        let real = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if !self.roots.iter().any(|r| real.starts_with(r)) {
            return;
        }
        if !self.anchors.iter().any(|(d, _)| *d == dir) {
            self.anchors.push((dir, kind));
        }
    }

    /// Does `path` reach the tree only through an automatic (guessed) mapping?
    pub fn mapped_by_guess(&self, path: &Path) -> bool {
        !self.maps.iter().any(|m| path.starts_with(&m.system)) && lock(&self.learned).iter().any(|m| path.starts_with(&m.system))
    }

    /// Does `path` reach the tree through a mapping guessed from a file's name alone
    /// (`/config/nginx/x.conf` mapped where some `x.conf` was found)?
    pub fn guessed_by_suffix(&self, path: &Path) -> bool {
        !self.maps.iter().any(|m| path.starts_with(&m.system)) && lock(&self.by_suffix).iter().any(|s| path.starts_with(s))
    }

    pub fn learned(&self) -> Vec<MapRoot> {
        lock(&self.learned).clone()
    }

    pub fn is_inside(&self, real: &Path) -> bool {
        self.allow_outside || self.roots.iter().any(|r| real.starts_with(r))
    }

    /// Apply the longest matching map-root to an absolute path; failing that, a mapping
    /// learned or discovered from the config directories (`/etc/nginx/snippets/a.conf`
    /// with `<repo>/nginx/snippets/a.conf` present maps `/etc/nginx` → `<repo>/nginx`).
    pub fn map(&self, path: &Path) -> PathBuf {
        for m in self.maps.iter().chain(lock(&self.learned).iter()) {
            if let Ok(rest) = path.strip_prefix(&m.system) {
                return m.local.join(rest);
            }
        }
        if !path.is_absolute() || self.roots.iter().any(|r| path.starts_with(r)) || (self.nginx_per_tree && self.in_unmapped_nginx_dir(path)) {
            return path.to_path_buf();
        }
        self.conventional(path).or_else(|| self.discover(path)).unwrap_or_else(|| path.to_path_buf())
    }

    /// The live system's well-known config directories map onto the one linted directory
    /// of the same kind: `/etc/nginx` → the directory of the tree's nginx.conf,
    /// `/etc/php/8.2/fpm` → the directory of its php-fpm.conf (the one under `8.2/fpm`
    /// when several PHP versions sit side by side). Tried before [`Self::discover`], whose
    /// suffix match would map 8.2's `pool.d/` onto 8.1's.
    fn conventional(&self, path: &Path) -> Option<PathBuf> {
        let (system, kind) = conventional_dir(path)?;
        let same_kind: Vec<&PathBuf> = self.anchors.iter().filter(|(_, k)| *k == kind).map(|(d, _)| d).collect();
        let tail: Vec<_> = system.components().rev().take(2).collect();
        let by_tail: Vec<&&PathBuf> =
            same_kind.iter().filter(|d| d.components().rev().take(2).collect::<Vec<_>>() == tail).collect();
        let local = match (by_tail.as_slice(), same_kind.as_slice()) {
            ([one], _) => (**one).clone(),
            (_, [one]) => (*one).clone(),
            _ => return None,
        };
        let rest = path.strip_prefix(&system).ok()?;
        lock(&self.learned).push(MapRoot { system, local: local.clone() });
        Some(local.join(rest))
    }

    /// The live-system path for a path inside the tree, when a map-root covers it: what
    /// nginx would print on the server.
    pub fn unmap(&self, local: &Path) -> PathBuf {
        for m in self.maps.iter().chain(lock(&self.learned).iter()) {
            if let Ok(rest) = local.strip_prefix(&m.local) {
                return m.system.join(rest);
            }
        }
        local.to_path_buf()
    }

    /// Where the tree mirrors the file system (`<R>/usr/local/etc/php-fpm.conf`,
    /// `<R>/etc/nginx/nginx.conf`): the `<R>` of each config directory that sits at its
    /// live-system place.
    fn mirror_roots(&self) -> Vec<PathBuf> {
        self.anchors
            .iter()
            .filter_map(|(dir, _)| {
                let system = Path::new("/").join(mirrored_tail(dir)?);
                let depth = system.components().count() - 1;
                let mut root = dir.clone();
                for _ in 0..depth {
                    root.pop();
                }
                Some(root)
            })
            .collect()
    }

    fn discover(&self, path: &Path) -> Option<PathBuf> {
        let anchors: Vec<&PathBuf> = self.anchors.iter().map(|(d, _)| d).collect();
        let mirrors = self.mirror_roots();
        let parts: Vec<_> = path.components().collect();
        // The system prefix keeps at least two names (`/etc/nginx`, never `/etc`), and the
        // suffix must name something that exists below the anchor: a file, or for a glob a
        // literal directory strictly below it.
        for split in 3..parts.len() {
            let suffix: PathBuf = parts[split..].iter().collect();
            for anchor in &anchors {
                let candidate = anchor.join(&suffix);
                let found = if is_glob(&suffix) {
                    let literal = literal_dir(&suffix);
                    !literal.as_os_str().is_empty() && anchor.join(literal).is_dir()
                } else {
                    std::fs::symlink_metadata(&candidate).is_ok()
                };
                let system: PathBuf = parts[..split].iter().collect();
                // A tree that has its own copy of that directory (`/usr/local` beside its
                // `usr/local/etc/`) means it there, not at another directory's place.
                let mirrored = || mirrors.iter().any(|r| r.join(system.strip_prefix("/").unwrap_or(&system)).is_dir());
                if found && !mirrored() {
                    lock(&self.by_suffix).push(system.clone());
                    lock(&self.learned).push(MapRoot { system, local: (*anchor).clone() });
                    return Some(candidate);
                }
            }
        }
        None
    }

    /// Is `path` under a live-system nginx directory (`/etc/nginx`) that no `--map-root`
    /// covers? Such a path means the directory of whichever nginx.conf is read.
    pub fn in_unmapped_nginx_dir(&self, path: &Path) -> bool {
        !self.maps.iter().any(|m| path.starts_with(&m.system)) && matches!(conventional_dir(path), Some((_, ConfDir::Nginx)))
    }

    /// [`Self::map`], except that with a `home` (the directory of the nginx.conf being
    /// read, when several trees stand side by side) the live system's nginx directory is
    /// that tree's own, never one learned from another tree.
    ///
    /// As [`Self::discover`] does for one tree, a path whose place under `home` does not
    /// exist may name a file the repository keeps higher up (`/etc/nginx/conf.d/x.inc`
    /// installed from the repository's `nginx/x.inc`); nothing is learned from it.
    pub fn map_in(&self, home: Option<&Path>, path: &Path) -> PathBuf {
        if let Some(home) = home.filter(|_| self.in_unmapped_nginx_dir(path)) {
            if let Some(rest) = conventional_dir(path).and_then(|(system, _)| path.strip_prefix(system).ok().map(Path::to_path_buf)) {
                let parts: Vec<_> = rest.components().collect();
                let found = (0..parts.len()).map(|skip| parts[skip..].iter().collect::<PathBuf>()).find(|suffix| {
                    if is_glob(suffix) {
                        let literal = literal_dir(suffix);
                        !literal.as_os_str().is_empty() && home.join(literal).is_dir()
                    } else {
                        std::fs::symlink_metadata(home.join(suffix)).is_ok()
                    }
                });
                return home.join(found.unwrap_or(rest));
            }
        }
        self.map(path)
    }

    /// Resolve `path` (absolute) the way the live system would, with map-roots applied to
    /// the path and to every absolute symlink target on the way.
    pub fn locate(&self, path: &Path) -> Located {
        if let Some(hit) = lock(&self.located).get(path) {
            return hit.clone();
        }
        let found = self.locate_uncached(None, path);
        lock(&self.located).insert(path.to_path_buf(), found.clone());
        found
    }

    /// [`Self::locate`] within the tree whose nginx directory is `home` (see
    /// [`Self::map_in`]); not cached, as the same path means different files in two trees.
    pub fn locate_in(&self, home: Option<&Path>, path: &Path) -> Located {
        match home {
            None => self.locate(path),
            Some(_) => self.locate_uncached(home, path),
        }
    }

    fn locate_uncached(&self, home: Option<&Path>, path: &Path) -> Located {
        let mapped = self.map_in(home, &lexical_normalize(path));
        let mut todo: Vec<PathBuf> =
            mapped.components().rev().map(|c| PathBuf::from(c.as_os_str())).collect();
        let mut current = PathBuf::new();
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            if part.as_os_str() == "/" {
                current = PathBuf::from("/");
                continue;
            }
            if part.as_os_str() == ".." {
                current.pop();
                continue;
            }
            if part.as_os_str() == "." {
                continue;
            }
            let next = current.join(&part);
            match self.entry(&next) {
                Entry::Symlink(target) => {
                    hops += 1;
                    let Some(target) = target else {
                        return Located::Missing(next);
                    };
                    if hops > MAX_SYMLINK_HOPS {
                        return Located::Looped(next);
                    }
                    let target = if target.is_absolute() {
                        self.map_in(home, &lexical_normalize(&target))
                    } else {
                        current.join(target)
                    };
                    // Re-walk the target from the root, then what was left of the path.
                    current = PathBuf::new();
                    for c in target.components().rev() {
                        todo.push(PathBuf::from(c.as_os_str()));
                    }
                }
                Entry::Dir | Entry::File | Entry::Special => current = next,
                Entry::Missing => {
                    let mut rest = next;
                    while let Some(p) = todo.pop() {
                        rest.push(p);
                    }
                    return if self.is_inside(&rest) || !self.outside_by_prefix(&rest) {
                        Located::Missing(rest)
                    } else {
                        Located::Outside(rest)
                    };
                }
            }
        }
        if self.is_inside(&current) {
            Located::Inside(current)
        } else {
            Located::Outside(current)
        }
    }

    /// A missing path is only "outside" when its existing ancestors already are.
    fn outside_by_prefix(&self, missing: &Path) -> bool {
        let mut p = missing;
        while let Some(parent) = p.parent() {
            if let Ok(real) = parent.canonicalize() {
                return !self.is_inside(&real);
            }
            p = parent;
        }
        true
    }
}

/// The trailing components of `dir` that name a well-known config directory at its
/// live-system place (`…/usr/local/etc`, `…/etc/nginx`, `…/etc/php/8.2/fpm`), if any.
fn mirrored_tail(dir: &Path) -> Option<PathBuf> {
    let names: Vec<&str> = dir.components().filter_map(|c| c.as_os_str().to_str()).collect();
    (1..=names.len().min(4)).rev().map(|n| names[names.len() - n..].iter().collect::<PathBuf>()).find(|tail| {
        let system = Path::new("/").join(tail);
        // Probed with a file each kind of directory holds.
        ["nginx.conf", "php-fpm.conf"].iter().any(|f| conventional_dir(&system.join(f)).is_some_and(|(s, _)| s == system))
    })
}

/// Which program a config directory belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfDir {
    Nginx,
    Fpm,
}

/// The well-known config directory `path` lies in, if any.
fn conventional_dir(path: &Path) -> Option<(PathBuf, ConfDir)> {
    let s = path.to_str()?;
    for dir in ["/etc/nginx", "/usr/local/etc/nginx", "/usr/local/nginx/conf", "/opt/homebrew/etc/nginx"] {
        if s.starts_with(&format!("{dir}/")) {
            return Some((PathBuf::from(dir), ConfDir::Nginx));
        }
    }
    if let Some(rest) = s.strip_prefix("/etc/php/") {
        let (version, after) = rest.split_once('/')?;
        if after.starts_with("fpm/") {
            return Some((PathBuf::from(format!("/etc/php/{version}/fpm")), ConfDir::Fpm));
        }
    }
    // Alpine's packages: `/etc/php82/php-fpm.conf` includes `/etc/php82/php-fpm.d/*.conf`.
    if let Some(rest) = s.strip_prefix("/etc/php") {
        let (version, _) = rest.split_once('/')?;
        if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) {
            return Some((PathBuf::from(format!("/etc/php{version}")), ConfDir::Fpm));
        }
    }
    for dir in ["/usr/local/etc", "/etc"] {
        if s.starts_with(&format!("{dir}/php-fpm.d/")) || s == format!("{dir}/php-fpm.conf") {
            return Some((PathBuf::from(dir), ConfDir::Fpm));
        }
    }
    None
}

/// A template placeholder in an include path (nginx expands no variable there):
/// `%%TESTDIR%%`, `@NGINX_CONF_PATH@`, `${CONF_DIR}`, `$conf`, `{{ dir }}`, `<CONF_DIR>`.
pub fn placeholder_in(path: &str) -> Option<&str> {
    let enclosed = |open: &str, close: &str| {
        let start = path.find(open)?;
        let end = path[start + open.len()..].find(close)? + start + open.len() + close.len();
        let inner = &path[start + open.len()..end - close.len()];
        (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b' ' | b'-'))).then(|| &path[start..end])
    };
    if let Some(p) = enclosed("%%", "%%").or_else(|| enclosed("@", "@")).or_else(|| enclosed("{{", "}}")).or_else(|| enclosed("${", "}")).or_else(|| enclosed("<", ">")) {
        return Some(p);
    }
    let dollar = path.find('$')?;
    let name_len = path[dollar + 1..].bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    (name_len > 0).then(|| &path[dollar..dollar + 1 + name_len])
}

pub fn is_glob(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// The leading components of a glob pattern that contain no glob characters, minus the
/// last one when that is the whole pattern.
pub fn literal_dir(pattern: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let parts: Vec<_> = pattern.components().collect();
    for (i, c) in parts.iter().enumerate() {
        if i + 1 == parts.len() || is_glob(Path::new(c.as_os_str())) {
            break;
        }
        out.push(c.as_os_str());
    }
    out
}

/// Remove `.` and fold `..` without touching the filesystem (for map-root matching only;
/// the walk in [`Confinement::locate`] resolves `..` after symlinks, as the kernel does).
pub fn lexical_normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` relative to the current directory when it lies below it, `/`-separated.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let shown = path.strip_prefix(cwd).unwrap_or(path);
    let s = shown.to_string_lossy().replace('\\', "/");
    if s.is_empty() { ".".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn maps_absolute_paths_and_symlinks_into_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("nginx/sites-available")).unwrap();
        std::fs::create_dir_all(root.join("nginx/sites-enabled")).unwrap();
        std::fs::write(root.join("nginx/sites-available/shop"), "server {}").unwrap();
        symlink("/etc/nginx/sites-available/shop", root.join("nginx/sites-enabled/shop")).unwrap();
        let c = Confinement::new(
            vec![root.clone()],
            vec![MapRoot { system: "/etc/nginx".into(), local: root.join("nginx") }],
            false,
        );
        let mut auto = Confinement::new(vec![root.clone()], vec![], false);
        auto.add_anchor(root.join("nginx"), ConfDir::Nginx);
        assert_eq!(
            auto.locate(Path::new("/etc/nginx/sites-enabled/shop")),
            Located::Inside(root.join("nginx/sites-available/shop"))
        );
        assert_eq!(auto.learned(), vec![MapRoot { system: "/etc/nginx".into(), local: root.join("nginx") }]);
        assert_eq!(auto.map(Path::new("/etc/nginx/conf.d/*.conf")), root.join("nginx/conf.d/*.conf"));
        assert_eq!(
            c.locate(Path::new("/etc/nginx/sites-enabled/shop")),
            Located::Inside(root.join("nginx/sites-available/shop"))
        );
        assert_eq!(
            c.locate(&root.join("nginx/sites-enabled/shop")),
            Located::Inside(root.join("nginx/sites-available/shop"))
        );
        assert!(matches!(c.locate(Path::new("/etc/nginx/nope.conf")), Located::Missing(_)));
    }

    #[test]
    fn a_tree_mirroring_the_file_system_keeps_its_own_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("usr/local/etc/php-fpm.d")).unwrap();
        let mut c = Confinement::new(vec![root.clone()], vec![], false);
        c.add_anchor(root.join("usr/local/etc"), ConfDir::Fpm);
        assert_eq!(c.map(Path::new("/usr/local/etc/php-fpm.d/*.conf")), root.join("usr/local/etc/php-fpm.d/*.conf"));
        // `/usr/local/php-fpm.d` is not the tree's `usr/local/etc/php-fpm.d` by suffix.
        assert_eq!(c.map(Path::new("/usr/local/php-fpm.d/*.conf")), PathBuf::from("/usr/local/php-fpm.d/*.conf"));
    }

    #[test]
    fn each_tree_has_its_own_etc_nginx() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for tree in ["a", "b"] {
            std::fs::create_dir_all(root.join(tree).join("snippets")).unwrap();
        }
        std::fs::write(root.join("b/extra.inc"), "").unwrap();
        let mut c = Confinement::new(vec![root.clone()], vec![], false);
        c.add_anchor(root.join("a"), ConfDir::Nginx);
        c.add_anchor(root.join("b"), ConfDir::Nginx);
        c.nginx_per_tree = true;
        let (a, b) = (root.join("a"), root.join("b"));
        assert_eq!(c.map_in(Some(&a), Path::new("/etc/nginx/snippets/x.conf")), a.join("snippets/x.conf"));
        assert_eq!(c.map_in(Some(&b), Path::new("/etc/nginx/snippets/x.conf")), b.join("snippets/x.conf"));
        // Installed elsewhere from the tree's own directory (hestiacp's conf.d/cloudflare.inc).
        assert_eq!(c.map_in(Some(&b), Path::new("/etc/nginx/conf.d/extra.inc")), b.join("extra.inc"));
        // Without a tree, /etc/nginx is nobody's: not mapped, nothing learned.
        assert_eq!(c.map(Path::new("/etc/nginx/snippets/x.conf")), PathBuf::from("/etc/nginx/snippets/x.conf"));
        assert!(c.learned().is_empty());
    }

    #[test]
    fn a_listed_directory_matches_what_the_glob_crate_matches() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for f in ["a.conf", ".hidden.conf", "b.txt", "c[1].conf", "\u{e9}.conf"] {
            std::fs::write(root.join(f), "").unwrap();
        }
        std::fs::create_dir(root.join("d.conf")).unwrap();
        symlink("a.conf", root.join("l.conf")).unwrap();
        symlink("nowhere", root.join("x.conf")).unwrap();
        let c = Confinement::new(vec![root.clone()], vec![], false);
        for pattern in ["*.conf", "*", "[ab].conf", "?.conf", "c[[]1].conf", "[!a]*", "*.none"] {
            let full = root.join(pattern);
            let mut crate_says: Vec<PathBuf> = glob::glob(full.to_str().unwrap()).unwrap().map(Result::unwrap).collect();
            crate_says.sort();
            assert_eq!(c.glob(&full), Some(crate_says), "{pattern}");
        }
        assert_eq!(c.glob(&root.join("missing/*.conf")), Some(vec![]));
        assert_eq!(c.glob(&root.join("[z.conf")), None);
        // What the listing saw is what locating finds: the symlink is followed.
        assert_eq!(c.locate(&root.join("l.conf")), Located::Inside(root.join("a.conf")));
        assert!(c.is_dir(&root.join("d.conf")) && c.is_file(&root.join("a.conf")));
    }

    #[test]
    fn refuses_paths_and_symlinks_leaving_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("tree")).unwrap();
        symlink("/etc/passwd", root.join("tree/evil")).unwrap();
        let c = Confinement::new(vec![root.join("tree")], vec![], false);
        assert_eq!(c.locate(&root.join("tree/evil")), Located::Outside("/etc/passwd".into()));
        assert_eq!(c.locate(Path::new("/etc/passwd")), Located::Outside("/etc/passwd".into()));
        assert!(matches!(c.locate(&root.join("tree/../outside.conf")), Located::Outside(_)));
        let open = Confinement::new(vec![root.join("tree")], vec![], true);
        assert_eq!(open.locate(&root.join("tree/evil")), Located::Inside("/etc/passwd".into()));
    }
}
