//! `conflint init`: a commented `conflint.toml` for the tree at hand. What the workspace
//! reader worked out on its own (the automatic `/etc/...` mappings) is written down, so a
//! CI run and a colleague's checkout read the tree the same way; everything else is shown
//! commented out with its default, rule options included, from the rule registry.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::rules::Registry;
use crate::workspace::{self, Workspace};

/// A live-system directory and where it lives in the tree, relative to the config file.
#[derive(Debug, PartialEq)]
pub struct Mapping {
    pub system: String,
    pub local: String,
}

/// What `init` found in the tree.
#[derive(Debug, Default)]
pub struct Detected {
    pub nginx_roots: Vec<String>,
    pub fpm_roots: Vec<String>,
    pub nginx_maps: Vec<Mapping>,
    pub fpm_maps: Vec<Mapping>,
}

impl Detected {
    /// Read the tree at `dir` the way `conflint check dir` would.
    pub fn scan(dir: &Path) -> Result<Detected, workspace::Error> {
        let opts = workspace::Options { paths: vec![".".into()], cwd: dir.to_path_buf(), ..Default::default() };
        let ws = Workspace::load(&opts, &mut std::io::empty())?;
        let base = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let relative = |p: &Path| workspace::paths::display_path(p, &base);
        let shown = |file| ws.source(file).disk_path.as_deref().map(relative);
        let mut found = Detected {
            nginx_roots: ws.nginx_roots.iter().filter_map(|&f| shown(f)).collect(),
            fpm_roots: ws.fpm.iter().filter_map(|c| c.root).filter_map(shown).collect(),
            ..Default::default()
        };
        for m in ws.confinement.learned() {
            let mapping = Mapping { system: m.system.display().to_string(), local: relative(&m.local) };
            let list = if is_php_dir(&m.system) { &mut found.fpm_maps } else { &mut found.nginx_maps };
            if !list.contains(&mapping) {
                list.push(mapping);
            }
        }
        Ok(found)
    }
}

fn is_php_dir(system: &Path) -> bool {
    system.components().any(|c| c.as_os_str().to_str().is_some_and(|s| s.starts_with("php")))
}

/// A TOML string literal, escaped as TOML needs.
fn quoted(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

fn map_table(maps: &[Mapping]) -> String {
    let pairs: Vec<String> = maps.iter().map(|m| format!("{} = {}", quoted(&m.system), quoted(&m.local))).collect();
    format!("{{ {} }}", pairs.join(", "))
}

/// The text of the new conflint.toml.
pub fn template(found: &Detected, registry: &Registry) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# conflint configuration. Every key is optional; commented lines show the defaults.");
    let _ = writeln!(w, "# `conflint rule CODE` explains a rule and its options.\n");
    let _ = writeln!(w, "[check]");
    let _ = writeln!(w, "# Rules to run: codes or prefixes (NGX1, FPM, XFP, ALL).");
    let _ = writeln!(w, "select = [\"ALL\"]");
    let _ = writeln!(w, "# ignore = [\"NGX112\"]");
    let _ = writeln!(w, "# Paths not to lint (gitignore syntax); `exclude` replaces the default list.");
    let _ = writeln!(w, "# extend-exclude = [\"legacy/\"]");
    let _ = writeln!(w, "# House rules in the same format as conflint's own rules/*.toml.");
    let _ = writeln!(w, "# rules-dir = \"conflint-rules\"\n");
    let _ = writeln!(w, "# [check.per-file-ignores]");
    let _ = writeln!(w, "# \"legacy/**\" = [\"NGX1\"]\n");

    let _ = writeln!(w, "[nginx]");
    match found.nginx_roots.as_slice() {
        [] => {
            let _ = writeln!(w, "# No nginx.conf was found in this tree.");
        }
        roots => {
            let _ = writeln!(w, "# Root configuration found: {}", roots.join(", "));
        }
    }
    let _ = writeln!(w, "# The release the server runs, for the directive tables (conflint knows {}); else `nginx -V`", crate::nginx::directives::nginx_tables().filter_map(|t| t.version).map(|v| v.to_string()).collect::<Vec<_>>().join(", "));
    let _ = writeln!(w, "# of an installed nginx (only a guess for a checkout linted elsewhere), else the newest.");
    let _ = writeln!(w, "# version = \"{}\"", crate::nginx::directives::newest());
    let _ = writeln!(w, "# Modules the server loads besides this tree's load_module lines; setting it says that is all.");
    let _ = writeln!(w, "# modules = [\"ngx_http_lua_module\"]");
    let _ = writeln!(w, "# Relative includes are read from the directory of nginx.conf unless `prefix` says otherwise.");
    let _ = writeln!(w, "# prefix = \"nginx\"");
    if found.nginx_maps.is_empty() {
        let _ = writeln!(w, "# Where the live system's absolute paths live in this tree:");
        let _ = writeln!(w, "# map-root = {{ \"/etc/nginx\" = \"nginx\" }}");
    } else {
        let _ = writeln!(w, "# Absolute paths the configuration names, found in this tree:");
        let _ = writeln!(w, "map-root = {}", map_table(&found.nginx_maps));
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "[fpm]");
    if !found.fpm_roots.is_empty() {
        let _ = writeln!(w, "# PHP-FPM configuration found: {}", found.fpm_roots.join(", "));
    }
    let _ = writeln!(w, "# `php-fpm -p`: relative include= and listen paths (Debian's build: /usr).");
    let _ = writeln!(w, "# prefix = \"/usr\"");
    if found.fpm_maps.is_empty() {
        let _ = writeln!(w, "# map-root = {{ \"/etc/php/8.2/fpm\" = \"php/8.2/fpm\" }}");
    } else {
        let _ = writeln!(w, "map-root = {}", map_table(&found.fpm_maps));
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "[host]");
    let _ = writeln!(w, "# Memory of the PHP host, for the capacity rules.");
    let _ = writeln!(w, "# memory = \"8GiB\"");
    let _ = writeln!(w, "# The user nginx runs as when nginx.conf has no `user` (socket permissions).");
    let _ = writeln!(w, "# nginx-user = \"www-data\"\n");

    let _ = writeln!(w, "# Rule options, with their defaults.");
    for rule in registry.all().iter().filter(|r| !r.options.is_empty()) {
        let _ = writeln!(w, "\n# [rules.{}]    # {}", rule.code, rule.name);
        for (name, spec) in &rule.options {
            let value = match &spec.default {
                crate::rules::options::RawValue::Integer(i) => i.to_string(),
                crate::rules::options::RawValue::Float(f) => toml_edit::Value::from(*f).to_string().trim().to_string(),
                crate::rules::options::RawValue::String(s) => quoted(s),
            };
            let _ = writeln!(w, "# {name} = {value}    # {}", spec.doc.lines().next().unwrap_or(""));
        }
    }
    out
}

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} already exists; pass --force to replace it")]
    Exists(PathBuf),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error(transparent)]
    Workspace(#[from] workspace::Error),
}

/// Write `dir/conflint.toml`, replacing an existing one only with `force`. The file is
/// written whole to a temporary name and renamed, so it is never half-written.
pub fn run(dir: &Path, force: bool, registry: &Registry) -> Result<PathBuf, InitError> {
    let path = dir.join(crate::config::FILE_NAME);
    if !force && std::fs::symlink_metadata(&path).is_ok() {
        return Err(InitError::Exists(path));
    }
    let text = template(&Detected::scan(dir)?, registry);
    // A replaced file keeps its mode; a new one is readable by all, as editors make them.
    let mode = std::fs::metadata(&path).map(|m| m.permissions()).unwrap_or_else(|_| std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let write = || -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes())?;
        tmp.as_file().set_permissions(mode.clone())?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    };
    write().map_err(|e| InitError::Write(path.clone(), e))?;
    Ok(path)
}
