//! PHP-FPM configurations: which files are main files, and `include=` expanded with
//! PHP-FPM's rules (glob against the FPM prefix, missing directory fatal, empty match a
//! warning), confined to the linted tree like nginx includes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::paths::{is_glob, literal_dir, placeholder_in, ConfDir, Located};
use super::{Builder, Kind};
use crate::finding::Location;
use crate::fpm::ast::LineKind;
use crate::fpm::directives::{self, Place};
use crate::fpm::resolve::{self, Expanded, FpmFiles, Prefix, PrefixOrigin};
use crate::fpm::FpmFile;
use crate::source::{FileId, Sources};

/// Directories whose files a php-fpm.conf includes (`include = …/php-fpm.d/*.conf`): what
/// stands in them is a fragment, whatever sections it has (the official Docker image's
/// `php-fpm.d/docker.conf` has a `[global]` and a `[www]` that adds to `www.conf`'s).
const POOL_DIRS: &[&str] = &["php-fpm.d", "pool.d", "fpm.d"];

fn in_pool_dir(path: &Path) -> bool {
    path.parent().and_then(Path::file_name).is_some_and(|d| POOL_DIRS.iter().any(|p| d == *p))
}

/// PHP-FPM's prefix from the directory that holds php-fpm.conf (for fragments, the one
/// above their pool directory): `…/usr/local/etc` is a source build's with the default
/// `sysconfdir` (the official Docker image, whose php-fpm.conf says
/// `include=etc/php-fpm.d/*.conf`), and so is any `…/etc` whose file includes `etc/…`
/// relatively (then the prefix is the directory above it, inside the tree); Debian's
/// `etc/php/8.2/fpm`, Alpine's `etc/php82` and RHEL's `etc` belong to packages built with
/// `--prefix=/usr`.
fn layout_prefix(conf_dir: &Path, file: &FpmFile) -> Option<String> {
    let names: Vec<&str> = conf_dir.components().filter_map(|c| c.as_os_str().to_str()).collect();
    let n = names.len();
    if names.ends_with(&["usr", "local", "etc"]) {
        return Some("/usr/local".into());
    }
    let includes_etc = file.lines.iter().any(|l| matches!(&l.kind, LineKind::Entry(e) if e.name == "include" && e.value.text.trim_start().starts_with("etc/")));
    if names.last() == Some(&"etc") && includes_etc {
        return conf_dir.parent().map(|p| p.to_string_lossy().into_owned());
    }
    let alpine = |d: &str| d.strip_prefix("php").is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
    // `etc/php/8.2/fpm`, or a copy of `/etc/php/8.2` put elsewhere (`t/php/8.2/fpm`).
    let version = |d: &str| d.split_once('.').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit()));
    let debian = n >= 3 && names[n - 1] == "fpm" && names[n - 3] == "php" && version(names[n - 2]);
    let packaged = debian || (n >= 2 && names[n - 2] == "etc" && alpine(names[n - 1])) || names.last() == Some(&"etc");
    packaged.then(|| "/usr".into())
}

/// A file of settings with no section header at all, every one a pool directive: meant to
/// be included into a pool (`include=` inside `[www]`), not read as a php-fpm.conf.
fn headerless_pool_settings(file: &FpmFile) -> bool {
    let mut entries = file.lines.iter().filter_map(|l| match &l.kind {
        LineKind::Section(_) => Some(None),
        LineKind::Entry(e) => Some(Some(e)),
        _ => None,
    });
    let mut any = false;
    entries.all(|e| {
        any = true;
        e.is_some_and(|e| e.name != "include" && (e.array_key.is_some() || directives::index(&e.name, Place::Pool).is_some()) && directives::index(&e.name, Place::Global).is_none())
    }) && any
}

impl Builder<'_> {
    pub(crate) fn resolve_fpm(&mut self) {
        let mut files: Vec<FileId> = self.ws.fpm_files.keys().copied().collect();
        files.sort();
        let (mains, pools): (Vec<FileId>, Vec<FileId>) = files.into_iter().partition(|id| self.is_fpm_main(*id));
        for &main in &mains {
            if let Some(dir) = self.path_of(main).parent().map(Path::to_path_buf) {
                self.confinement.add_anchor(dir, ConfDir::Fpm);
            }
        }
        let mut reached = HashSet::new();
        for id in mains {
            if reached.contains(&id) {
                continue;
            }
            let prefix = self.fpm_prefix_for(self.path_of(id).parent().unwrap_or(Path::new("/")).to_path_buf(), id);
            let mut config = resolve::resolve(id, &mut FpmView { b: self }, &prefix, false);
            config.complete &= self.path_of(id).file_name().is_some_and(|n| n == "php-fpm.conf");
            self.add_fpm(config, &mut reached);
        }
        // Pool fragments no main file includes: those of one directory matching `*.conf`
        // are read together, in order, as the usual `include = pool.d/*.conf` would.
        let mut groups: Vec<(PathBuf, Vec<FileId>)> = Vec::new();
        for id in pools.into_iter().filter(|id| !reached.contains(id)) {
            let path = self.path_of(id).to_path_buf();
            let key = if path.extension().is_some_and(|e| e == "conf") { path.parent().map(Path::to_path_buf).unwrap_or_default() } else { path.clone() };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, ids)) => ids.push(id),
                None => groups.push((key, vec![id])),
            }
        }
        for (_, mut ids) in groups {
            ids.sort_by_key(|id| self.path_of(*id).to_path_buf());
            for &id in &ids {
                if headerless_pool_settings(&self.ws.fpm_files[&id]) {
                    let path = self.display_for(self.path_of(id));
                    self.ws.notes.push(super::Note {
                        path,
                        message: "settings without a section header: assumed to be included into a pool section (`include=` inside a pool); they are not checked against a pool".into(),
                    });
                }
            }
            let first = self.path_of(ids[0]).to_path_buf();
            let dir = first.parent().unwrap_or(Path::new("/"));
            let conf_dir = if in_pool_dir(&first) { dir.parent().unwrap_or(dir) } else { dir }.to_path_buf();
            let prefix = self.fpm_prefix_for(conf_dir, ids[0]);
            let config = resolve::resolve_together(&ids, &mut FpmView { b: self }, &prefix, true);
            self.add_fpm(config, &mut reached);
        }
    }

    /// The prefix for the configuration read from `file` in `conf_dir`: the user's, else
    /// the layout's, else Debian's build's.
    fn fpm_prefix_for(&self, conf_dir: PathBuf, file: FileId) -> Prefix {
        if let Some(given) = &self.opts.fpm_prefix {
            return Prefix::given(&given.to_string_lossy());
        }
        match layout_prefix(&conf_dir, &self.ws.fpm_files[&file]) {
            Some(dir) => Prefix { dir, origin: PrefixOrigin::Layout },
            None => Prefix::default(),
        }
    }

    fn add_fpm(&mut self, config: crate::fpm::resolve::FpmConfig, reached: &mut HashSet<FileId>) {
        reached.extend(config.files.iter().copied());
        self.ws.findings.extend(config.findings.iter().cloned());
        self.ws.fpm.push(config);
    }

    /// php-fpm.conf, or any file with a `[global]` section or an `include=` — unless it
    /// stands in a pool directory or is a headerless list of pool settings (fragments).
    fn is_fpm_main(&self, id: FileId) -> bool {
        let file = &self.ws.fpm_files[&id];
        if in_pool_dir(self.path_of(id)) || headerless_pool_settings(file) {
            return false;
        }
        if self.ws.sources.get(id).display.rsplit('/').next() == Some("php-fpm.conf") {
            return true;
        }
        file.lines.iter().any(|l| match &l.kind {
            LineKind::Section(s) => s.name.eq_ignore_ascii_case("global"),
            LineKind::Entry(e) => e.name == "include",
            _ => false,
        })
    }

    fn expand_fpm(&mut self, pattern: &Path, from: Location) -> Expanded {
        if let Some(placeholder) = pattern.to_str().and_then(placeholder_in) {
            self.ws.findings.push(
                crate::finding::Finding::new(
                    "CFL002",
                    crate::finding::Severity::Info,
                    from,
                    format!("the include holds the template placeholder `{placeholder}`: the files it names are only known once the template is rendered; not read"),
                )
                .with_help("lint the rendered configuration to check what it brings"),
            );
            return Expanded::Template;
        }
        let mapped = self.confinement.map(pattern);
        let dir = if is_glob(&mapped) { literal_dir(&mapped) } else { mapped.parent().map(Path::to_path_buf).unwrap_or_default() };
        match self.confinement.locate(&dir) {
            Located::Inside(d) if self.confinement.is_dir(&d) => {}
            Located::Outside(p) => {
                self.report_outside(from, &p);
                return Expanded::NotFollowed;
            }
            // Mapped by a guess, the live system may still have it.
            _ => return Expanded::DirMissing { certain: !self.confinement.mapped_by_guess(pattern) },
        }
        let Some(matches) = self.confinement.glob(&mapped) else { return Expanded::NoMatch };
        let mut ids = Vec::new();
        for m in matches {
            match self.confinement.locate(&m) {
                Located::Inside(real) if self.confinement.is_dir(&real) => {}
                Located::Inside(real) => match self.by_path.get(&real) {
                    Some((id, Kind::Fpm)) => ids.push(*id),
                    _ => match self.read_located(&real) {
                        Ok(bytes) => {
                            let display = self.display_for(&real);
                            self.by_path.remove(&real);
                            ids.push(self.register(real, display, bytes, Kind::Fpm, true));
                        }
                        Err(e) => self.note_once(super::Note {
                            path: self.display_for(&real),
                            message: match e {
                                super::read::ReadError::Io(e) => format!("not read: {}", super::walk::io_reason(&e)),
                                refused => refused.reason(),
                            },
                        }),
                    },
                },
                Located::Outside(p) => self.report_outside(from, &p),
                Located::Missing(_) => {}
                Located::Looped(p) => self.note_once(super::Note {
                    path: self.display_for(&p),
                    message: "not read: too many levels of symbolic links".into(),
                }),
            }
        }
        if ids.is_empty() {
            Expanded::NoMatch
        } else {
            Expanded::Files(ids)
        }
    }
}

/// The workspace as the FPM resolver sees it.
struct FpmView<'a, 'o> {
    b: &'a mut Builder<'o>,
}

impl FpmFiles for FpmView<'_, '_> {
    fn sources(&self) -> &Sources {
        &self.b.ws.sources
    }
    fn parsed(&self, id: FileId) -> std::sync::Arc<FpmFile> {
        self.b.ws.fpm_files[&id].clone()
    }
    fn expand_include(&mut self, pattern: &str, from: Location) -> Expanded {
        self.b.expand_fpm(Path::new(pattern), from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> FpmFile {
        crate::fpm::parse(text.as_bytes())
    }

    #[test]
    fn prefix_from_where_php_fpm_conf_sits() {
        let docker = file("[global]\ninclude=etc/php-fpm.d/*.conf\n");
        let absolute = file("[global]\ninclude=/etc/php82/php-fpm.d/*.conf\n");
        assert_eq!(layout_prefix(Path::new("/repo/usr/local/etc"), &docker).as_deref(), Some("/usr/local"));
        // A source build's layout wherever the repository keeps it: the directory above etc/.
        assert_eq!(layout_prefix(Path::new("/repo/docker/php/etc"), &docker).as_deref(), Some("/repo/docker/php"));
        // Packages built with --prefix=/usr: Debian, Alpine, RHEL.
        assert_eq!(layout_prefix(Path::new("/repo/etc/php/8.2/fpm"), &absolute).as_deref(), Some("/usr"));
        assert_eq!(layout_prefix(Path::new("/repo/etc/php82"), &absolute).as_deref(), Some("/usr"));
        assert_eq!(layout_prefix(Path::new("/repo/etc"), &absolute).as_deref(), Some("/usr"));
        // Nothing says: the caller assumes Debian's and says so.
        assert_eq!(layout_prefix(Path::new("/repo/docker/php"), &docker), None);
    }

    #[test]
    fn headerless_files_of_pool_settings_are_fragments() {
        assert!(headerless_pool_settings(&file("pm.max_children = 10\n")));
        assert!(headerless_pool_settings(&file("; tuning\nphp_admin_value[memory_limit] = 256M\npm.max_requests = 500\n")));
        assert!(!headerless_pool_settings(&file("[www]\npm.max_children = 10\n")));
        // A global directive or an include makes it a main file's start.
        assert!(!headerless_pool_settings(&file("error_log = /var/log/fpm.log\n")));
        assert!(!headerless_pool_settings(&file("include = /etc/php-fpm.d/*.conf\n")));
        assert!(!headerless_pool_settings(&file("; only a comment\n")));
    }
}
