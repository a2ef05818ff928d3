//! Two `conflint check --fix` runs on one tree must not both apply the same fixes: each
//! takes an exclusive flock(2) on every directory named on its command line (and, when it
//! writes, on the directory of each file it writes) for as long as it runs. The second
//! one waits, and says so.

use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Locks held until dropped.
#[derive(Default)]
pub struct TreeLock {
    held: Vec<(PathBuf, File)>,
}

impl TreeLock {
    /// Lock each of `dirs` (real paths; in sorted order, so that two runs cannot each hold
    /// what the other waits for), calling `waiting` before blocking on one another run
    /// holds. Directories already held are skipped.
    pub fn take(&mut self, dirs: impl IntoIterator<Item = PathBuf>, waiting: &mut dyn FnMut(&Path)) -> std::io::Result<()> {
        let dirs: BTreeSet<PathBuf> = dirs.into_iter().filter(|d| !self.held.iter().any(|(h, _)| h == d)).collect();
        for dir in dirs {
            let f = File::open(&dir)?;
            if !flock(&f, libc::LOCK_EX | libc::LOCK_NB)? {
                waiting(&dir);
                flock(&f, libc::LOCK_EX)?;
            }
            self.held.push((dir, f));
        }
        Ok(())
    }
}

/// `Ok(false)` when a non-blocking lock is held elsewhere.
fn flock(f: &File, op: libc::c_int) -> std::io::Result<bool> {
    loop {
        // SAFETY: flock on a descriptor `f` owns.
        if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        let mut first = TreeLock::default();
        first.take([d.clone()], &mut |_| panic!("nobody holds it")).unwrap();
        // Taking it again through the same lock is a no-op, not a deadlock.
        first.take([d.clone()], &mut |_| panic!("already held")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let mut second = TreeLock::default();
            second.take([d], &mut |p| tx.send(p.to_path_buf()).unwrap()).unwrap();
        });
        assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap(), dir.path());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiter.is_finished());
        drop(first);
        waiter.join().unwrap();
    }
}
