//! A throw-away copy of the config directories with the fixes applied, for the real
//! validators to read instead of the user's files.
//!
//! Each staged unit is one directory of the linted tree that stands for one live-system
//! directory (`nginx/` for `/etc/nginx`). Symlinks are copied as symlinks, never followed,
//! so staging reads nothing outside the tree; absolute targets that point into the tree are
//! re-pointed at the stage so the validator never reads the unfixed originals.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::workspace::paths::display_path;

/// A directory of the tree and the live-system directory it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub system: PathBuf,
    /// The real (canonical) directory in the linted tree.
    pub local: PathBuf,
}

#[derive(Debug)]
pub struct StagedUnit {
    pub unit: Unit,
    pub staged: PathBuf,
}

pub struct Stage {
    dir: tempfile::TempDir,
    pub units: Vec<StagedUnit>,
}

impl Stage {
    /// Copy every unit into a fresh temporary directory, writing `fixed` contents (by real
    /// path) instead of the disk's.
    pub fn new(units: &[Unit], fixed: &HashMap<PathBuf, Vec<u8>>) -> io::Result<Stage> {
        let dir = tempfile::Builder::new().prefix("conflint-stage-").tempdir()?;
        let mut staged = Vec::new();
        for (i, unit) in units.iter().enumerate() {
            let to = dir.path().join(format!("unit{i}"));
            copy_tree(&unit.local, &to, fixed)?;
            staged.push(StagedUnit { unit: unit.clone(), staged: to });
        }
        let stage = Stage { dir, units: staged };
        for u in &stage.units {
            stage.repoint_links(&u.staged, false)?;
        }
        Ok(stage)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The staged copy of a live-system path, when a unit covers it.
    pub fn staged_of_system(&self, system: &Path) -> Option<PathBuf> {
        self.units.iter().find_map(|u| system.strip_prefix(&u.unit.system).ok().map(|rest| u.staged.join(rest)))
    }

    /// The staged copy of a path of the linted tree, when a unit covers it.
    pub fn staged_of_local(&self, local: &Path) -> Option<PathBuf> {
        self.units.iter().find_map(|u| local.strip_prefix(&u.unit.local).ok().map(|rest| u.staged.join(rest)))
    }

    /// The file of the linted tree that a path a validator printed stands for (a staged or
    /// a live-system path), through the tree's symlinks; `None` outside the units.
    pub fn local_of(&self, printed: &Path) -> Option<PathBuf> {
        let into_tree = |p: &Path| {
            self.units.iter().find_map(|u| {
                let rest = p.strip_prefix(&u.staged).or_else(|_| p.strip_prefix(&u.unit.system)).or_else(|_| p.strip_prefix(&u.unit.local)).ok()?;
                Some(u.unit.local.join(rest))
            })
        };
        let mut local = into_tree(printed)?;
        for _ in 0..40 {
            let Ok(target) = std::fs::read_link(&local) else { break };
            let target = local.parent().unwrap_or(Path::new("/")).join(target);
            local = into_tree(&crate::workspace::paths::lexical_normalize(&target))?;
        }
        Some(local.canonicalize().unwrap_or(local))
    }

    /// Without a mount namespace the live-system directories are not replaced by the
    /// stage, so absolute symlinks into them must point into the stage as well.
    pub fn repoint_system_links(&self) -> io::Result<()> {
        for u in &self.units {
            self.repoint_links(&u.staged, true)?;
        }
        Ok(())
    }

    fn repoint_links(&self, dir: &Path, system_too: bool) -> io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let meta = std::fs::symlink_metadata(&path)?;
            if meta.is_dir() {
                self.repoint_links(&path, system_too)?;
                continue;
            }
            if !meta.file_type().is_symlink() {
                continue;
            }
            let target = std::fs::read_link(&path)?;
            if !target.is_absolute() {
                continue;
            }
            let new = self.staged_of_local(&target).or_else(|| system_too.then(|| self.staged_of_system(&target)).flatten());
            if let Some(new) = new {
                std::fs::remove_file(&path)?;
                symlink(new, &path)?;
            }
        }
        Ok(())
    }

    /// A validator's message with staged and live-system paths replaced by the paths the
    /// user knows (`/etc/nginx/sites-enabled/a.conf:3` → `nginx/sites-enabled/a.conf:3`).
    pub fn map_output(&self, text: &str, cwd: &Path) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for u in &self.units {
            let shown = display_path(&u.unit.local, cwd);
            pairs.push((u.staged.to_string_lossy().into_owned(), shown.clone()));
            pairs.push((u.unit.system.to_string_lossy().into_owned(), shown));
        }
        pairs.push((self.path().to_string_lossy().into_owned(), "<stage>".into()));
        // Longest first, so a unit inside another (or the stage root) never wins early.
        pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        'scan: while !rest.is_empty() {
            for (from, to) in &pairs {
                if let Some(after) = rest.strip_prefix(from.as_str()) {
                    // Only whole path components: `/etc/nginx-old` is not `/etc/nginx`.
                    if after.is_empty() || !after.starts_with(|c: char| c.is_alphanumeric() || "-_.".contains(c)) {
                        out.push_str(to);
                        rest = after;
                        continue 'scan;
                    }
                }
            }
            let c = rest.chars().next().expect("not empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }
}

/// Copy `from` to `to`: directories recursively, regular files (fixed contents where
/// given) with their mode, symlinks as symlinks; sockets, fifos and devices are skipped.
fn copy_tree(from: &Path, to: &Path, fixed: &HashMap<PathBuf, Vec<u8>>) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut entries: Vec<_> = std::fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let meta = std::fs::symlink_metadata(&src)?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            symlink(std::fs::read_link(&src)?, &dst)?;
        } else if kind.is_dir() {
            copy_tree(&src, &dst, fixed)?;
        } else if kind.is_file() {
            match fixed.get(&src) {
                Some(bytes) => std::fs::write(&dst, bytes)?,
                None => {
                    std::fs::copy(&src, &dst)?;
                }
            }
            // Readable for the validator whatever the original mode (it may run as another
            // uid inside a user namespace).
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(meta.permissions().mode() | 0o644))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_with_fixes_keeps_links_and_repoints_absolute_ones() {
        let tree = tempfile::tempdir().unwrap();
        let local = tree.path().canonicalize().unwrap().join("nginx");
        std::fs::create_dir_all(local.join("sites-available")).unwrap();
        std::fs::create_dir_all(local.join("sites-enabled")).unwrap();
        std::fs::write(local.join("nginx.conf"), "old\n").unwrap();
        std::fs::write(local.join("sites-available/a"), "a\n").unwrap();
        symlink("../sites-available/a", local.join("sites-enabled/rel")).unwrap();
        symlink("/etc/nginx/sites-available/a", local.join("sites-enabled/sys")).unwrap();
        symlink(local.join("sites-available/a"), local.join("sites-enabled/abs")).unwrap();
        symlink("/etc/shadow", local.join("evil")).unwrap();
        let fixed = HashMap::from([(local.join("nginx.conf"), b"new\n".to_vec())]);
        let stage = Stage::new(&[Unit { system: "/etc/nginx".into(), local: local.clone() }], &fixed).unwrap();
        let s = &stage.units[0].staged;
        assert_eq!(std::fs::read(s.join("nginx.conf")).unwrap(), b"new\n");
        assert_eq!(std::fs::read(local.join("nginx.conf")).unwrap(), b"old\n");
        assert_eq!(std::fs::read_link(s.join("sites-enabled/rel")).unwrap(), Path::new("../sites-available/a"));
        assert_eq!(std::fs::read_link(s.join("sites-enabled/abs")).unwrap(), s.join("sites-available/a"));
        assert_eq!(std::fs::read_link(s.join("sites-enabled/sys")).unwrap(), Path::new("/etc/nginx/sites-available/a"));
        assert_eq!(std::fs::read_link(s.join("evil")).unwrap(), Path::new("/etc/shadow"));
        stage.repoint_system_links().unwrap();
        assert_eq!(std::fs::read_link(s.join("sites-enabled/sys")).unwrap(), s.join("sites-available/a"));
        assert_eq!(std::fs::read_link(s.join("evil")).unwrap(), Path::new("/etc/shadow"));
    }

    #[test]
    fn output_names_the_users_files() {
        let stage = Stage { dir: tempfile::tempdir().unwrap(), units: Vec::new() };
        let staged = stage.path().join("unit0");
        let stage = Stage { units: vec![StagedUnit { unit: Unit { system: "/etc/nginx".into(), local: "/repo/nginx".into() }, staged: staged.clone() }], ..stage };
        let msg = format!("open() \"{}/x.conf\" failed in /etc/nginx/nginx.conf:3 and /etc/nginx-old/y", staged.display());
        assert_eq!(stage.map_output(&msg, Path::new("/repo")), "open() \"nginx/x.conf\" failed in nginx/nginx.conf:3 and /etc/nginx-old/y");
    }
}
