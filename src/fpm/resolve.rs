//! Sections and `include=` resolved the way PHP-FPM resolves them.

use crate::finding::{Finding, Location};
use crate::fpm::ast::{FpmFile, Value};
use crate::source::{FileId, Sources};

/// What the workspace found for one `include=` pattern (already made absolute against
/// the FPM prefix, as PHP-FPM does; mapped into the linted tree by the workspace).
pub enum Expanded {
    /// Matching files, sorted, already read and parsed.
    Files(Vec<FileId>),
    /// The directory exists but nothing matches (PHP-FPM: WARNING, not fatal).
    NoMatch,
    /// The directory is missing or unreadable (PHP-FPM: `Unable to globalize`, fatal).
    DirMissing,
    /// Not followed: outside the linted tree (already reported by the workspace).
    NotFollowed,
}

/// The workspace side of resolution: reading files is its job, never the resolver's.
pub trait FpmFiles {
    fn sources(&self) -> &Sources;
    fn parsed(&self, id: FileId) -> &FpmFile;
    /// Expand an absolute include pattern written at `from`.
    fn expand_include(&mut self, pattern: &str, from: Location) -> Expanded;
}

/// One `name = value` (or `name[key] = value`) as PHP-FPM applies it.
#[derive(Clone, Debug)]
pub struct Setting {
    /// Lower-cased for directives (PHP-FPM compares them case-insensitively); array names
    /// are kept as written (they are compared case-sensitively).
    pub name: String,
    pub array_key: Option<String>,
    pub value: Value,
    /// The whole entry line.
    pub location: Location,
    pub name_location: Location,
    pub value_location: Location,
}

#[derive(Clone, Debug)]
pub struct Pool {
    pub name: String,
    /// The first `[name]` header that opened it.
    pub header: Location,
    /// Every setting in the order PHP-FPM reads them, re-opened sections included.
    pub settings: Vec<Setting>,
}

#[derive(Clone, Debug, Default)]
pub struct FpmConfig {
    /// The main file (php-fpm.conf or a lone pool file).
    pub root: Option<FileId>,
    /// Every file that took part, root first, in reading order.
    pub files: Vec<FileId>,
    pub global: Vec<Setting>,
    pub pools: Vec<Pool>,
    /// Structural findings: FPM001 syntax errors and FPM009 include problems.
    pub findings: Vec<Finding>,
}

/// Resolve the configuration rooted at `root`. (Stub until the resolver lands.)
pub fn resolve(root: FileId, _files: &mut dyn FpmFiles, _prefix: &str) -> FpmConfig {
    FpmConfig { root: Some(root), files: vec![root], ..Default::default() }
}
