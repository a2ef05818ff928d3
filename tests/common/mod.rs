//! Helpers shared by the integration tests; each test binary uses some of them.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use conflint::finding::Location;
use conflint::fpm::ast::FpmFile;
use conflint::fpm::resolve::{resolve, Expanded, FpmConfig, FpmFiles};
use conflint::source::{FileId, SourceFile, Sources};

/// One PHP-FPM file on its own: includes are not followed.
struct OneFile {
    sources: Sources,
    parsed: Arc<FpmFile>,
}

impl FpmFiles for OneFile {
    fn sources(&self) -> &Sources {
        &self.sources
    }
    fn parsed(&self, _: FileId) -> Arc<FpmFile> {
        self.parsed.clone()
    }
    fn expand_include(&mut self, _: &str, _: Location) -> Expanded {
        Expanded::NotFollowed
    }
}

/// Parse and resolve `bytes` as a main PHP-FPM file named `name`, with Debian's prefix.
pub fn resolve_alone(name: &str, bytes: &[u8]) -> FpmConfig {
    let mut sources = Sources::default();
    let root = sources.add(SourceFile::new(name, None, bytes.to_vec()));
    let mut one = OneFile { sources, parsed: Arc::new(conflint::fpm::parse(bytes)) };
    resolve(root, &mut one, "/usr", false)
}

/// Whether nginx and php-fpm8.2 are installed. When they are not, a test that needs them
/// skips (saying so), or fails when CONFLINT_REQUIRE_VALIDATORS=1 (CI).
pub fn validators_installed() -> bool {
    let missing: Vec<&str> = ["nginx", "php-fpm8.2"].into_iter().filter(|b| !std::path::Path::new("/usr/sbin").join(b).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    require_or_skip("CONFLINT_REQUIRE_VALIDATORS", &format!("{missing:?} not installed"));
    false
}

/// `../shared/corpus`, beside the checkout. Without it a test skips, saying so where
/// `cargo test` shows it, or fails when CONFLINT_REQUIRE_CORPUS=1 (CI).
pub fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.join("SOURCES.tsv").is_file() {
        return Some(dir);
    }
    require_or_skip("CONFLINT_REQUIRE_CORPUS", &format!("the corpus is not at {}", dir.display()));
    None
}

/// A test cannot run here because `why`: a failure when `require`=1, else a skip.
pub fn require_or_skip(require: &str, why: &str) {
    assert!(std::env::var(require).as_deref() != Ok("1"), "{why}, and {require}=1 makes that a failure");
    skipped(&format!("{why}; set {require}=1 to make this a failure"));
}

/// Say that a test skipped where `cargo test` shows it, on a line of its own beside the
/// test's `ok`: the harness captures print! and eprint! (shown only for failures or with
/// --nocapture), not writes to the standard error handle itself.
pub fn skipped(why: &str) {
    // One write, so that the harness's own lines do not land inside it.
    let line = format!("\nSKIPPED {}: {why}\n", std::thread::current().name().unwrap_or("a test"));
    let _ = std::io::stderr().write_all(line.as_bytes());
}
