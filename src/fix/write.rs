//! Writing fixed files: all or nothing, atomic per file, faithful to mode, owner and
//! symlinks.
//!
//! Every new file is first written and fsynced to a temporary file beside its target;
//! only when all of them are ready are they renamed over their targets. If a rename fails
//! half way, the files already replaced are put back. A symlink is never replaced: its
//! target is written.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The filesystem operations the writer needs, so a failure can be simulated in tests.
pub trait Fs {
    fn write_temp(&self, target: &Path, bytes: &[u8]) -> std::io::Result<PathBuf>;
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()>;
    fn remove(&self, path: &Path);
}

/// The real filesystem.
pub struct RealFs;

impl Fs for RealFs {
    fn write_temp(&self, target: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = dir.join(format!(".{name}.conflint-{}.tmp", std::process::id()));
        let meta = std::fs::metadata(target)?;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        let result = (|| {
            f.write_all(bytes)?;
            // Same mode and owner as the file it replaces.
            std::fs::set_permissions(&temp, meta.permissions())?;
            {
                use std::os::unix::fs::MetadataExt;
                let _ = std::os::unix::fs::chown(&temp, Some(meta.uid()), Some(meta.gid()));
            }
            f.sync_all()
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        Ok(temp)
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)?;
        if let Some(dir) = to.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    fn remove(&self, path: &Path) {
        let _ = std::fs::remove_file(path);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}; no file was changed")]
pub struct WriteError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Replace each `(path, original, fixed)`; `path` may be a symlink (its target is
/// written). On error every file is left as it was.
pub fn write_all(fs: &dyn Fs, files: &[(PathBuf, Vec<u8>, Vec<u8>)]) -> Result<(), WriteError> {
    let targets: Vec<PathBuf> = files.iter().map(|(p, _, _)| p.canonicalize().unwrap_or_else(|_| p.clone())).collect();
    let mut temps = Vec::new();
    for (target, (_, _, fixed)) in targets.iter().zip(files) {
        match fs.write_temp(target, fixed) {
            Ok(t) => temps.push(t),
            Err(source) => {
                temps.iter().for_each(|t| fs.remove(t));
                return Err(WriteError { path: target.display().to_string(), source });
            }
        }
    }
    for (i, (temp, target)) in temps.iter().zip(&targets).enumerate() {
        if let Err(source) = fs.rename(temp, target) {
            // Put back what was already replaced, drop the temps not yet used.
            for (j, done) in targets[..i].iter().enumerate() {
                if let Ok(t) = fs.write_temp(done, &files[j].1) {
                    let _ = fs.rename(&t, done);
                }
            }
            temps[i..].iter().for_each(|t| fs.remove(t));
            return Err(WriteError { path: target.display().to_string(), source });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::os::unix::fs::{symlink, PermissionsExt};

    /// Fails the `n`-th temporary write (`rename: false`) or rename.
    struct Failing {
        n: usize,
        rename: bool,
        seen: Cell<usize>,
    }

    impl Failing {
        fn nth(&self, rename: bool) -> std::io::Result<()> {
            if rename == self.rename {
                self.seen.set(self.seen.get() + 1);
                if self.seen.get() == self.n {
                    return Err(std::io::Error::other("disk on fire"));
                }
            }
            Ok(())
        }
    }

    impl Fs for Failing {
        fn write_temp(&self, target: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
            self.nth(false)?;
            RealFs.write_temp(target, bytes)
        }
        fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
            self.nth(true)?;
            RealFs.rename(from, to)
        }
        fn remove(&self, path: &Path) {
            RealFs.remove(path)
        }
    }

    #[test]
    fn a_failure_on_the_second_of_three_files_leaves_all_three_unchanged() {
        // Writing the second file's new contents fails, or replacing it does.
        for rename in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let files: Vec<(PathBuf, Vec<u8>, Vec<u8>)> = (0..3)
                .map(|i| {
                    let p = dir.path().join(format!("f{i}.conf"));
                    std::fs::write(&p, format!("old {i}\n")).unwrap();
                    (p, format!("old {i}\n").into_bytes(), format!("new {i}\n").into_bytes())
                })
                .collect();
            let err = write_all(&Failing { n: 2, rename, seen: Cell::new(0) }, &files).unwrap_err();
            assert!(err.to_string().contains("f1.conf"), "{err}");
            for (i, (p, _, _)) in files.iter().enumerate() {
                assert_eq!(std::fs::read_to_string(p).unwrap(), format!("old {i}\n"), "rename fails: {rename}");
            }
            let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().contains("conflint")).collect();
            assert!(leftovers.is_empty(), "{leftovers:?}");
        }
    }

    #[test]
    fn keeps_symlinks_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.conf");
        std::fs::write(&real, "old\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o440)).unwrap();
        let link = dir.path().join("link.conf");
        symlink("real.conf", &link).unwrap();
        write_all(&RealFs, &[(link.clone(), b"old\n".to_vec(), b"new\n".to_vec())]).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new\n");
        assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o440);
    }
}
