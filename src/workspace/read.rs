//! Reading one config file: only regular files, and none over the size cap. A FIFO would
//! block the run forever in `open()`, a device (`/dev/zero` behind a symlink) would be read
//! without end, and a huge file would exhaust memory; each is refused with a reason instead.

use std::fs::FileType;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// `[check] max-file-size` when conflint.toml does not say: far above any real config.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;

#[derive(Debug)]
pub enum ReadError {
    /// The system refused: nginx would fail the same way (`open() ... failed`).
    Io(std::io::Error),
    /// conflint chose not to read it (not a regular file, over the cap).
    Refused(String),
}

impl ReadError {
    /// For a note or an error: `not read: a FIFO, not a regular file`.
    pub fn reason(&self) -> String {
        match self {
            ReadError::Io(e) => super::walk::io_reason(e),
            ReadError::Refused(why) => format!("not read: {why}"),
        }
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// The bytes of the regular file at `path` (symlinks followed), at most `cap` of them.
pub fn regular_file(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    // Refused before opening where possible: opening some devices has side effects.
    let meta = std::fs::metadata(path)?;
    check(meta.file_type(), meta.len(), cap)?;
    known_regular_file(path, cap)
}

/// [`regular_file`] for a path the directory listing or an `lstat` already showed to be a
/// regular file: not asked again before opening.
pub fn known_regular_file(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    // Non-blocking, so a file swapped for a FIFO after the check still cannot block open().
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)?;
    let meta = file.metadata()?;
    check(meta.file_type(), meta.len(), cap)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The size `fstat` gave, as nginx reads it: one read(2), no second one to find the end.
    // A file that claims to be empty (procfs) is read to its end, still only up to the cap.
    let limit = if meta.len() > 0 { meta.len() } else { cap.saturating_add(1) };
    file.take(limit).read_to_end(&mut bytes)?;
    within_cap(bytes.len() as u64, cap)?;
    Ok(bytes)
}

/// Standard input, at most `cap` bytes.
pub fn stdin(input: &mut dyn Read, cap: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    input.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    within_cap(bytes.len() as u64, cap)?;
    Ok(bytes)
}

fn check(kind: FileType, len: u64, cap: u64) -> Result<(), ReadError> {
    if !kind.is_file() {
        return Err(ReadError::Refused(format!("{}, not a regular file", describe(kind))));
    }
    within_cap(len, cap)
}

fn within_cap(len: u64, cap: u64) -> Result<(), ReadError> {
    if len > cap {
        return Err(ReadError::Refused(format!("{} is over the {} limit ([check] max-file-size)", size(len), size(cap))));
    }
    Ok(())
}

fn describe(kind: FileType) -> &'static str {
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// `65 MiB`, `4.6 KiB`, `12 bytes`.
pub fn size(n: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        let whole = 1u64 << shift;
        if n >= whole {
            return if n % whole == 0 { format!("{} {unit}", n >> shift) } else { format!("{:.1} {unit}", n as f64 / whole as f64) };
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(4680), "4.6 KiB");
        assert_eq!(size(1024), "1 KiB");
        assert_eq!(size(12), "12 bytes");
    }

    #[test]
    fn reads_whole_files_and_what_procfs_calls_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.conf");
        let text = "server {\n    listen 80;\n}\n".repeat(500);
        std::fs::write(&path, &text).unwrap();
        assert_eq!(known_regular_file(&path, DEFAULT_MAX_FILE_SIZE).unwrap(), text.as_bytes());
        assert!(matches!(known_regular_file(&path, 100), Err(ReadError::Refused(_))));
        std::fs::write(&path, "").unwrap();
        assert!(known_regular_file(&path, 100).unwrap().is_empty());
        // A regular file of size 0 by fstat, with content.
        let status = known_regular_file(Path::new("/proc/self/status"), DEFAULT_MAX_FILE_SIZE).unwrap();
        assert!(status.starts_with(b"Name:"), "{}", String::from_utf8_lossy(&status));
    }
}
