//! `[check] exclude` / `extend-exclude`: gitignore-syntax patterns relative to the
//! directory of conflint.toml. Excluded paths are never walked; an excluded file that a
//! linted file includes is still read (nginx reads it too) but its findings are not shown.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// Directories of other people's code in a PHP or JS project: composer's `vendor/` and
/// npm's `node_modules/` ship sample nginx and PHP-FPM configs that are not the project's.
pub const DEFAULT_EXCLUDE: &[&str] = &["vendor/", "node_modules/"];

#[derive(Clone, Debug)]
pub struct Excludes {
    /// Canonical directory the patterns are relative to.
    base: PathBuf,
    matcher: Gitignore,
}

impl Default for Excludes {
    fn default() -> Self {
        Excludes { base: PathBuf::new(), matcher: Gitignore::empty() }
    }
}

impl Excludes {
    /// Patterns relative to `base`. `Err((index, message))` names the first bad pattern.
    pub fn new(base: &Path, patterns: &[String]) -> Result<Excludes, (usize, String)> {
        let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
        let mut b = GitignoreBuilder::new(&base);
        for (i, p) in patterns.iter().enumerate() {
            b.add_line(None, p).map_err(|e| (i, format!("bad pattern `{p}`: {e}")))?;
        }
        let matcher = b.build().map_err(|e| (0, e.to_string()))?;
        Ok(Excludes { base, matcher })
    }

    /// Is `path` (absolute), or a directory above it, excluded? Paths outside the base
    /// directory never are.
    pub fn excludes(&self, path: &Path, is_dir: bool) -> bool {
        self.check(path, |m, rel| m.matched_path_or_any_parents(rel, is_dir).is_ignore())
    }

    /// Is this entry of a top-down walk excluded by itself? Its directories were already
    /// checked on the way down, and a directory the user named is walked even when it is
    /// excluded (unless `--force-exclude`).
    pub fn excludes_entry(&self, path: &Path, is_dir: bool) -> bool {
        self.check(path, |m, rel| m.matched(rel, is_dir).is_ignore())
    }

    fn check(&self, path: &Path, matches: impl Fn(&Gitignore, &Path) -> bool) -> bool {
        if self.matcher.is_empty() {
            return false;
        }
        // Walked paths are already canonical; resolve the directory only when needed.
        let path = super::paths::lexical_normalize(path);
        let resolved;
        let rel = match path.strip_prefix(&self.base) {
            Ok(rel) => rel,
            Err(_) => {
                resolved = comparable(&path);
                match resolved.strip_prefix(&self.base) {
                    Ok(rel) => rel,
                    Err(_) => return false,
                }
            }
        };
        !rel.as_os_str().is_empty() && matches(&self.matcher, rel)
    }
}

/// `path` with its directory resolved (`/tmp` → `/private/tmp`) but not the file itself, so
/// an excluded symlink is matched where it stands.
fn comparable(path: &Path) -> PathBuf {
    match (path.parent().and_then(|p| p.canonicalize().ok()), path.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_follow_gitignore_relative_to_the_config_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("legacy/sub")).unwrap();
        std::fs::create_dir_all(root.join("nginx/legacy")).unwrap();
        let pats: Vec<String> = ["/legacy/", "*.bak.conf", "vendor/"].iter().map(|s| s.to_string()).collect();
        let ex = Excludes::new(&root, &pats).unwrap();
        assert!(ex.excludes(&root.join("legacy/sub/a.conf"), false));
        assert!(!ex.excludes(&root.join("nginx/legacy/a.conf"), false), "anchored to the base");
        assert!(ex.excludes(&root.join("nginx/site.bak.conf"), false));
        assert!(ex.excludes(&root.join("app/vendor/pkg/nginx.conf"), false));
        assert!(!ex.excludes_entry(&root.join("app/vendor/pkg/nginx.conf"), false), "only the entry itself");
        assert!(ex.excludes_entry(&root.join("app/vendor"), true));
        assert!(!ex.excludes(&root.join("nginx/site.conf"), false));
        assert!(!ex.excludes(Path::new("/elsewhere/legacy/a.conf"), false));
        assert!(!ex.excludes(&root, true), "the base itself is never excluded");
        assert_eq!(Excludes::new(&root, &["ok".into(), "a/**{".into()]).unwrap_err().0, 1);
    }
}
