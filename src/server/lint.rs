//! One lint of a workspace root, the editor's unsaved buffers laid over the disk: what
//! `conflint check ROOT` would find, as LSP diagnostics per file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lsp_types::{Diagnostic, Uri};

use super::convert::Encoding;
use super::diagnostics::{self, Context};
use super::tables::Tables;
use crate::check::Settings;
use crate::config::Config;
use crate::nginx::directives::build::{self, Build};
use crate::rules::Registry;

pub struct Outcome {
    /// Diagnostics of the files inside the root that have findings, by real path.
    pub diagnostics: HashMap<PathBuf, Vec<Diagnostic>>,
    /// Every linted file inside the root: only these may have diagnostics published.
    pub linted: HashSet<PathBuf>,
    /// The rules in effect, for hover.
    pub registry: Registry,
    /// The directive tables and where each file is read, for completion and hover.
    pub tables: Tables,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// conflint.toml (or its `rules-dir`) is unusable: the user has to fix it.
    Config(String),
    /// The root cannot be read, or a rule failed.
    Lint(String),
    /// A bug in conflint.
    Panic(String),
}

/// Is `path` outside every workspace folder the client opened? Such a file is linted alone,
/// from its buffer, as `--stdin-filename` is: nothing outside the folders is read.
pub fn outside(path: &Path, folders: &[PathBuf]) -> bool {
    !folders.is_empty() && !folders.iter().any(|f| path.starts_with(f))
}

/// The root a file is linted in: the innermost workspace folder holding it; outside them,
/// the file alone (its own path); without folders, the directory of the nearest
/// conflint.toml above it, else its own directory.
pub fn root_for(path: &Path, folders: &[PathBuf]) -> PathBuf {
    if let Some(folder) = folders.iter().filter(|f| path.starts_with(f)).max_by_key(|f| f.as_os_str().len()) {
        return folder.clone();
    }
    if outside(path, folders) {
        return path.to_path_buf();
    }
    // From the directory: a buffer not saved yet has no file to start from.
    let dir = path.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    crate::config::discover(&dir).and_then(|c| c.parent().map(Path::to_path_buf)).unwrap_or(dir)
}

/// Lint `root` (a real path) with `overlay` (real path → buffer text). A panic inside
/// becomes [`Failure::Panic`]: one bad config must not end the editor's session.
pub fn lint(
    root: &Path,
    overlay: HashMap<PathBuf, Vec<u8>>,
    encoding: Encoding,
    uri_of: &dyn Fn(&Path) -> Option<Uri>,
) -> Result<Outcome, Failure> {
    super::catch_panic(|| run(root, overlay, encoding, uri_of)).unwrap_or_else(|what| Err(Failure::Panic(what)))
}

fn run(
    root: &Path,
    overlay: HashMap<PathBuf, Vec<u8>>,
    encoding: Encoding,
    uri_of: &dyn Fn(&Path) -> Option<Uri>,
) -> Result<Outcome, Failure> {
    let settings = settings(root, overlay).map_err(Failure::Config)?;
    let linted = crate::check::lint(&settings, &mut std::io::empty()).map_err(|e| Failure::Lint(e.to_string()))?;
    let ws = &linted.workspace;
    let inside = |id| ws.source(id).disk_path.as_ref().filter(|p| p.starts_with(root));
    let uri = |id| ws.source(id).disk_path.as_deref().and_then(uri_of);
    let cx = Context { ws, registry: &settings.registry, encoding, uri: &uri };
    let mut diagnostics: HashMap<PathBuf, Vec<Diagnostic>> = HashMap::new();
    for f in &linted.findings {
        if let Some(path) = inside(f.location.file) {
            diagnostics.entry(path.clone()).or_default().push(diagnostics::diagnostic(&cx, f));
        }
    }
    let files = ws.sources.iter().filter_map(|(id, _)| inside(id).cloned()).collect();
    let tables = Tables::new(settings.config.host.nginx.clone(), Some(ws));
    Ok(Outcome { diagnostics, linted: files, registry: settings.registry, tables })
}

/// Lint the buffer of `path`, a file outside the workspace folders, alone: with the
/// built-in rules and no conflint.toml, its includes not followed (they lie outside the
/// tree), nothing read from the disk. `None` (the buffer was closed): no findings.
pub fn lint_alone(path: &Path, text: Option<&str>, encoding: Encoding, uri_of: &dyn Fn(&Path) -> Option<Uri>) -> Result<Outcome, Failure> {
    super::catch_panic(|| run_alone(path, text, encoding, uri_of)).unwrap_or_else(|what| Err(Failure::Panic(what)))
}

fn run_alone(path: &Path, text: Option<&str>, encoding: Encoding, uri_of: &dyn Fn(&Path) -> Option<Uri>) -> Result<Outcome, Failure> {
    let registry = Registry::builtin();
    let linted_files: HashSet<PathBuf> = [path.to_path_buf()].into();
    let mut config = Config::default();
    config.host.nginx.learn(&[path.to_path_buf()], local_nginx);
    let tables = Tables::new(config.host.nginx.clone(), None);
    let Some(text) = text else {
        return Ok(Outcome { diagnostics: HashMap::new(), linted: linted_files, registry, tables });
    };
    // An empty directory of its own as the tree: every include resolves outside it.
    let scratch = tempfile::tempdir().map_err(|e| Failure::Lint(format!("cannot make a scratch directory: {e}")))?;
    let mut settings = Settings::from_config(config, registry, scratch.path());
    settings.workspace.paths = vec!["-".into()];
    settings.workspace.stdin_filename = Some(path.to_string_lossy().into_owned());
    let linted = crate::check::lint(&settings, &mut text.as_bytes()).map_err(|e| Failure::Lint(e.to_string()))?;
    let ws = &linted.workspace;
    // The buffer is the one file not read from the disk.
    let is_doc = |id| ws.source(id).disk_path.is_none();
    let uri = |id| if is_doc(id) { uri_of(path) } else { None };
    let cx = Context { ws, registry: &settings.registry, encoding, uri: &uri };
    let diagnostics: Vec<Diagnostic> =
        linted.findings.iter().filter(|f| is_doc(f.location.file)).map(|f| diagnostics::diagnostic(&cx, f)).collect();
    let diagnostics = if diagnostics.is_empty() { HashMap::new() } else { [(path.to_path_buf(), diagnostics)].into() };
    Ok(Outcome { diagnostics, linted: linted_files, registry: settings.registry, tables })
}

/// `nginx -V` of the nginx on this machine, asked once a session.
fn local_nginx() -> Option<Build> {
    static ASKED: OnceLock<Option<Build>> = OnceLock::new();
    ASKED.get_or_init(|| build::on_path().as_deref().and_then(build::probe)).clone()
}

/// The conflint.toml that applies to `root`, the nginx version learnt as `check` learns it.
fn config(root: &Path) -> Result<Config, String> {
    let mut config = match crate::config::discover(root) {
        Some(path) => crate::config::load(&path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    config.host.nginx.learn(&[root.to_path_buf()], local_nginx);
    Ok(config)
}

/// The tables for a root no lint has succeeded in yet (its conflint.toml broken: then
/// the newest release's).
pub fn tables_without_lint(root: &Path) -> Tables {
    Tables::new(config(root).map(|c| c.host.nginx).unwrap_or_default(), None)
}

/// What `conflint check ROOT` run in ROOT would use: the conflint.toml found from there,
/// its rules directory, selection, excludes, prefixes and mappings.
fn settings(root: &Path, overlay: HashMap<PathBuf, Vec<u8>>) -> Result<Settings, String> {
    let mut config = config(root)?;
    let registry = match config.rules_dir.clone() {
        Some(dir) => Registry::builtin().with_rules_dir(&dir).map_err(|e| e.to_string())?,
        None => Registry::builtin(),
    };
    config.check_against(&registry).map_err(|e| e.to_string())?;
    let mut settings = Settings::from_config(config, registry, root);
    settings.workspace.overlay = overlay;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_the_innermost_folder_else_the_config_dir_else_the_file_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("a/b/c")).unwrap();
        std::fs::write(base.join("a/conflint.toml"), "").unwrap();
        let file = base.join("a/b/c/site.conf");
        let folders = [base.clone(), base.join("a/b")];
        assert_eq!(root_for(&file, &folders), base.join("a/b"));
        assert_eq!(root_for(&file, &[]), base.join("a"));
        let lone = base.join("x.conf");
        std::fs::write(&lone, "").unwrap();
        assert_eq!(root_for(&lone, &[]), base);
    }

    #[test]
    fn a_bad_config_is_a_config_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::write(root.join("conflint.toml"), "[check]\nbogus = 1\n").unwrap();
        let failure = lint(&root, HashMap::new(), Encoding::Utf16, &|_| None).err().unwrap();
        assert!(matches!(&failure, Failure::Config(m) if m.contains("bogus") && m.contains(":2:")), "{failure:?}");
    }
}
