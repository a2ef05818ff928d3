//! PHP-FPM configurations: which files are main files, and `include=` expanded with
//! PHP-FPM's rules (glob against the FPM prefix, missing directory fatal, empty match a
//! warning), confined to the linted tree like nginx includes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::paths::{is_glob, literal_dir, ConfDir, Located};
use super::{Builder, Kind};
use crate::finding::Location;
use crate::fpm::ast::LineKind;
use crate::fpm::resolve::{self, Expanded, FpmFiles};
use crate::fpm::FpmFile;
use crate::source::{FileId, Sources};

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
        let prefix = self.opts.fpm_prefix.to_string_lossy().into_owned();
        let mut reached = HashSet::new();
        for id in mains {
            if reached.contains(&id) {
                continue;
            }
            let config = resolve::resolve(id, &mut FpmView { b: self }, &prefix, false);
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
            let config = resolve::resolve_together(&ids, &mut FpmView { b: self }, &prefix, true);
            self.add_fpm(config, &mut reached);
        }
    }

    fn add_fpm(&mut self, config: crate::fpm::resolve::FpmConfig, reached: &mut HashSet<FileId>) {
        reached.extend(config.files.iter().copied());
        self.ws.findings.extend(config.findings.iter().cloned());
        self.ws.fpm.push(config);
    }

    /// php-fpm.conf, or any file with a `[global]` section or an `include=`.
    fn is_fpm_main(&self, id: FileId) -> bool {
        if self.ws.sources.get(id).display.rsplit('/').next() == Some("php-fpm.conf") {
            return true;
        }
        self.ws.fpm_files[&id].lines.iter().any(|l| match &l.kind {
            LineKind::Section { name, .. } => name.eq_ignore_ascii_case("global"),
            LineKind::Entry(e) => e.name == "include",
            _ => false,
        })
    }

    fn expand_fpm(&mut self, pattern: &Path, from: Location) -> Expanded {
        let mapped = self.confinement.map(pattern);
        let dir = if is_glob(&mapped) { literal_dir(&mapped) } else { mapped.parent().map(Path::to_path_buf).unwrap_or_default() };
        match self.confinement.locate(&dir) {
            Located::Inside(d) if d.is_dir() => {}
            Located::Outside(p) => {
                self.report_outside(from, &p);
                return Expanded::NotFollowed;
            }
            // Mapped by a guess, the live system may still have it.
            _ => return Expanded::DirMissing { certain: !self.confinement.mapped_by_guess(pattern) },
        }
        let Ok(paths) = glob::glob(&mapped.to_string_lossy()) else { return Expanded::NoMatch };
        let mut matches: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
        matches.sort_by(|a, b| a.as_os_str().as_encoded_bytes().cmp(b.as_os_str().as_encoded_bytes()));
        let mut ids = Vec::new();
        for m in matches {
            match self.confinement.locate(&m) {
                Located::Inside(real) if real.is_dir() => {}
                Located::Inside(real) => match self.by_path.get(&real) {
                    Some((id, Kind::Fpm)) => ids.push(*id),
                    _ => match self.opts.read(&real) {
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
