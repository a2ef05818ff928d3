//! nginx configuration: lossless tokenizer and tree, following `ngx_conf_read_token`.

pub mod ast;
pub mod directives;
mod lexer;
mod parser;

pub use ast::Config;

/// Parse one nginx configuration file. Never fails: syntax errors are collected in
/// [`Config::errors`] and parsing resumes at the next `;` or `}`.
pub fn parse(src: &[u8]) -> Config {
    parser::parse(src)
}
