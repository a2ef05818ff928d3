//! The staged php.ini and conf.d/*.ini that `php-fpm -t` reads at startup: a PR's php.ini
//! could make it load code (`extension=/tmp/x.so`, `opcache.preload`) or read files from
//! outside the tree (a conf.d link into a directory the tree does not have). Such lines
//! and links are left out of the staged copy, and said so; the PHP-FPM configuration
//! under test does not depend on them.

use std::io;
use std::path::{Path, PathBuf};

use crate::fix::stage::{Stage, Unit};
use crate::workspace::paths::{display_path, lexical_normalize};

#[derive(Debug, Default)]
pub struct Ini {
    /// What was left out, for the user.
    pub notes: Vec<String>,
    /// Directories opcache creates its lock file in (`opcache.lockfile_path`, /tmp).
    pub lock_dirs: Vec<PathBuf>,
}

/// Settings that run code or load files while PHP starts.
const PRELOADS: &[&str] = &["opcache.preload", "ffi.preload"];

/// Leave out of the staged `conf_dir` (the staged copy of `unit`) what would make php-fpm
/// load code from outside `extension_dir`, or read a file outside the stage.
pub fn neutralize(stage: &Stage, conf_dir: &Path, unit: &Unit, extension_dir: &Path, allow_outside: bool, cwd: &Path) -> io::Result<Ini> {
    let mut ini = Ini { lock_dirs: vec![PathBuf::from("/tmp")], ..Default::default() };
    let mut files = Vec::new();
    if conf_dir.join("php.ini").exists() {
        files.push(conf_dir.join("php.ini"));
    }
    let scan = conf_dir.join("conf.d");
    if let Ok(entries) = std::fs::read_dir(&scan) {
        let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "ini")).collect();
        names.sort();
        files.extend(names);
    }
    let shown = |staged: &Path| match stage.units.iter().find_map(|u| staged.strip_prefix(&u.staged).ok().map(|r| u.unit.local.join(r))) {
        Some(local) => display_path(&local, cwd),
        None => staged.display().to_string(),
    };
    let mut unread: Vec<(String, PathBuf)> = Vec::new();
    for file in files {
        let Some(real) = resolve(stage, &file, unit, allow_outside)? else {
            unread.push((shown(&file), std::fs::read_link(&file).unwrap_or_default()));
            std::fs::remove_file(&file)?;
            continue;
        };
        let text = std::fs::read(&real)?;
        let (new, left_out) = clean(&text, extension_dir, &mut ini.lock_dirs);
        for (line, entry, why) in left_out {
            ini.notes.push(format!("{}:{line}: `{entry}` left out: {why}", shown(&real)));
        }
        if new != text {
            std::fs::write(&real, new)?;
        }
    }
    if let Some((first, target)) = unread.first() {
        let names: Vec<&str> = unread.iter().take(3).map(|(n, _)| n.as_str()).collect();
        let more = if unread.len() > 3 { format!(" and {} more", unread.len() - 3) } else { String::new() };
        let whole = if unread.len() == 1 { first.clone() } else { format!("{}{more}", names.join(", ")) };
        ini.notes.push(format!("not read: {whole}: links to files outside the linted tree ({}), so php-fpm -t runs without them", target.parent().unwrap_or(target).display()));
    }
    ini.lock_dirs.sort();
    ini.lock_dirs.dedup();
    Ok(ini)
}

/// The staged file `path` (a file, or a link) stands for, replacing a link to a file
/// outside the stage by a copy of it when reading outside is allowed; `None` when it
/// leads outside.
fn resolve(stage: &Stage, path: &Path, unit: &Unit, allow_outside: bool) -> io::Result<Option<PathBuf>> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        let Ok(target) = std::fs::read_link(&current) else { return Ok(Some(current)) };
        // Where the link points on the live system, where the stage is mounted.
        let system_dir = stage.units.iter().find_map(|u| current.parent()?.strip_prefix(&u.staged).ok().map(|r| u.unit.system.join(r))).unwrap_or_else(|| unit.system.clone());
        let system = lexical_normalize(&system_dir.join(&target));
        let in_stage = stage.units.iter().any(|u| system.starts_with(&u.staged)).then(|| system.clone());
        match in_stage.or_else(|| stage.staged_of_system(&system)).or_else(|| stage.staged_of_local(&system)) {
            Some(staged) => current = staged,
            None if allow_outside && system.is_file() => {
                let bytes = std::fs::read(&system)?;
                std::fs::remove_file(path)?;
                std::fs::write(path, bytes)?;
                return Ok(Some(path.to_path_buf()));
            }
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// `text` with the lines that load code from outside `extension_dir` commented out, and
/// each of them as `(line, entry, why)`; opcache lock directories are added to `locks`.
fn clean(text: &[u8], extension_dir: &Path, locks: &mut Vec<PathBuf>) -> (Vec<u8>, Vec<(usize, String, String)>) {
    let mut out = Vec::with_capacity(text.len());
    let mut left_out = Vec::new();
    for (n, line) in text.split_inclusive(|&b| b == b'\n').enumerate() {
        let s = String::from_utf8_lossy(line);
        let why = entry(&s).and_then(|(key, value)| {
            let key = key.to_ascii_lowercase();
            let path = Path::new(&value);
            let outside = |p: &Path| !p.is_absolute() || value.contains("..") || !lexical_normalize(p).starts_with(extension_dir);
            match key.as_str() {
                _ if value.contains('$') => Some(format!("its value is read from the environment ({value})")),
                "extension" | "zend_extension" if value.contains('/') && outside(path) => Some(format!("it loads code from outside {}", extension_dir.display())),
                "extension_dir" if lexical_normalize(path) != extension_dir => Some(format!("it loads extensions from outside {}", extension_dir.display())),
                k if PRELOADS.contains(&k) && !value.is_empty() => Some("it runs code while php-fpm starts".to_string()),
                "opcache.lockfile_path" => {
                    locks.extend(path.is_absolute().then(|| lexical_normalize(path)));
                    None
                }
                _ => None,
            }
        });
        match why {
            Some(why) => {
                left_out.push((n + 1, s.trim().to_string(), why));
                out.push(b';');
                out.extend_from_slice(line);
            }
            None => out.extend_from_slice(line),
        }
    }
    (out, left_out)
}

/// `key = value` of one ini line (quotes removed, comment cut), unless it is a comment or
/// a section.
fn entry(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with(';') || line.starts_with('#') || line.starts_with('[') {
        return None;
    }
    let (key, value) = line.split_once('=')?;
    let value = value.trim();
    let value = match value.chars().next() {
        Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
        _ => value.split(';').next().unwrap_or("").trim(),
    };
    Some((key.trim().to_string(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_from_outside_the_extension_dir_is_left_out() {
        let text = b"; priority=10\nzend_extension=opcache.so\nextension = \"/usr/lib/php/20220829/pdo.so\"\nextension=/tmp/evil.so\nextension=../../tmp/evil.so\nextension_dir = /tmp\nopcache.preload = /var/www/preload.php ; warm up\nopcache.lockfile_path=/var/tmp\nextension=${EVIL}\nopcache.jit=off\n";
        let mut locks = Vec::new();
        let (new, left) = clean(text, Path::new("/usr/lib/php/20220829"), &mut locks);
        let lines: Vec<usize> = left.iter().map(|l| l.0).collect();
        assert_eq!(lines, [4, 5, 6, 7, 9], "{left:?}");
        assert_eq!(left[0].1, "extension=/tmp/evil.so");
        assert_eq!(left[0].2, "it loads code from outside /usr/lib/php/20220829");
        assert_eq!(left[3].2, "it runs code while php-fpm starts");
        assert_eq!(locks, [PathBuf::from("/var/tmp")]);
        let new = String::from_utf8(new).unwrap();
        assert!(new.contains("\n;extension=/tmp/evil.so\n") && new.contains("\nzend_extension=opcache.so\n") && new.ends_with("opcache.jit=off\n"), "{new}");
    }
}
