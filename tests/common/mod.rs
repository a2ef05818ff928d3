//! Helpers shared by the integration tests; each test binary uses some of them.
#![allow(dead_code)]

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
    resolve(root, &mut one, &conflint::fpm::resolve::Prefix::given("/usr"), false)
}

/// Whether nginx and php-fpm8.2 are installed. When they are not, a test that needs them
/// skips (saying so), or fails when CONFLINT_REQUIRE_VALIDATORS=1 (CI).
pub fn validators_installed() -> bool {
    let missing: Vec<&str> = ["nginx", "php-fpm8.2"].into_iter().filter(|b| !std::path::Path::new("/usr/sbin").join(b).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(std::env::var("CONFLINT_REQUIRE_VALIDATORS").as_deref() != Ok("1"), "{missing:?} required (CONFLINT_REQUIRE_VALIDATORS=1) but not installed");
    eprintln!("NOTE: {missing:?} not installed; set CONFLINT_REQUIRE_VALIDATORS=1 to make this a failure");
    false
}
