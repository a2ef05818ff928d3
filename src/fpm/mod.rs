//! PHP-FPM configuration: a lossless line parser with PHP-FPM's INI semantics, and the
//! resolution of sections and `include=` into the global section and pools.

pub mod ast;
pub mod directives;
pub mod numbers;
mod parser;
pub mod resolve;

pub use ast::FpmFile;

/// Parse one PHP-FPM configuration file. Never fails: lines PHP-FPM would refuse become
/// [`ast::LineKind::Error`].
pub fn parse(src: &[u8]) -> FpmFile {
    parser::parse(src)
}
