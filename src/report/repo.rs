//! File paths for the CI formats (`sarif`, `github`): GitHub places results by their path
//! below the repository root, whatever directory conflint ran in.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::source::SourceFile;
use crate::workspace::paths::lexical_normalize;

/// What repository-relative paths are relative to.
#[derive(Clone, Debug)]
pub struct RepoRoot {
    /// The work tree's top (nearest ancestor of the working directory holding `.git`), else
    /// the working directory; canonical, like the paths files are read from.
    pub dir: PathBuf,
    /// Names of files not read from disk (stdin, `nginx -T` parts) resolve against it.
    pub cwd: PathBuf,
}

impl RepoRoot {
    pub fn discover(cwd: &Path) -> RepoRoot {
        let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
        let dir = cwd.ancestors().find(|d| d.join(".git").exists()).unwrap_or(&cwd).to_path_buf();
        RepoRoot { dir, cwd }
    }
}

/// Where a linted file lies.
#[derive(Debug, PartialEq, Eq)]
pub enum Place {
    /// Below the root: the relative path.
    Inside(PathBuf),
    /// Elsewhere: the absolute path.
    Outside(PathBuf),
}

impl Place {
    /// The path GitHub should see: relative and `/`-separated inside the repository.
    pub fn shown(&self) -> String {
        let p = match self {
            Place::Inside(p) | Place::Outside(p) => p,
        };
        p.to_string_lossy().replace('\\', "/")
    }
}

/// Where `src` lies relative to `root`; without a root, its displayed path decides.
pub fn place(src: &SourceFile, root: Option<&RepoRoot>) -> Place {
    let shown = Path::new(&src.display);
    let Some(root) = root else {
        return if shown.is_absolute() { Place::Outside(shown.to_path_buf()) } else { Place::Inside(shown.to_path_buf()) };
    };
    // The real path: symlinks resolved, so every run names a file the same way.
    let abs = src.disk_path.clone().unwrap_or_else(|| lexical_normalize(&root.cwd.join(shown)));
    match abs.strip_prefix(&root.dir) {
        Ok(rel) => Place::Inside(rel.to_path_buf()),
        Err(_) => Place::Outside(abs),
    }
}

/// `path` as a URI path: each byte outside RFC 3986's unreserved characters, `/` and the
/// sub-delimiters is percent-encoded (`:` too, so a relative path never reads as a scheme).
pub fn uri_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for (i, part) in path.iter().enumerate() {
        let bytes = part.as_bytes();
        if i > 0 && !out.ends_with('/') {
            out.push('/');
        }
        if bytes == b"/" {
            out.push('/');
            continue;
        }
        for &b in bytes {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@".contains(&b) {
                out.push(b as char);
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// `file://` URI of an absolute path; a directory's ends with `/` (SARIF base URIs must).
pub fn file_uri(path: &Path, dir: bool) -> String {
    let mut uri = format!("file://{}", uri_path(path));
    if dir && !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> RepoRoot {
        RepoRoot { dir: "/repo".into(), cwd: "/repo/infra".into() }
    }

    #[test]
    fn paths_below_the_root_are_relative_to_it_wherever_conflint_ran() {
        let disk = SourceFile::new("nginx/x.conf", Some("/repo/infra/nginx/x.conf".into()), Vec::new());
        assert_eq!(place(&disk, Some(&root())), Place::Inside("infra/nginx/x.conf".into()));
        let stdin = SourceFile::new("../other/y.conf", None, Vec::new());
        assert_eq!(place(&stdin, Some(&root())), Place::Inside("other/y.conf".into()));
        let dumped = SourceFile::new("/etc/nginx/nginx.conf", None, Vec::new());
        assert_eq!(place(&dumped, Some(&root())), Place::Outside("/etc/nginx/nginx.conf".into()));
        assert_eq!(place(&disk, None), Place::Inside("nginx/x.conf".into()));
    }

    #[test]
    fn uris_escape_what_a_uri_path_cannot_hold() {
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(uri_path(Path::new("nginx/caf\u{e9} 1:2#?.conf")), "nginx/caf%C3%A9%201%3A2%23%3F.conf");
        let raw = Path::new(std::ffi::OsStr::from_bytes(b"a\xff/b%"));
        assert_eq!(uri_path(raw), "a%FF/b%25");
        assert_eq!(file_uri(Path::new("/srv/my repo"), true), "file:///srv/my%20repo/");
        assert_eq!(file_uri(Path::new("/"), true), "file:///");
    }
}
