//! conflint: lint and fix nginx and PHP-FPM configuration before the reload.
//!
//! Data flows one way: read → parse ([`nginx`], [`fpm`]) → resolve ([`workspace`]) →
//! rules ([`rules`]) → findings ([`finding`]) → [`report`].

pub mod check;
pub mod effective;
pub mod cli;
pub mod config;
pub mod diagnose;
pub mod finding;
pub mod fix;
pub mod fpm;
pub mod host;
pub mod init;
pub mod nginx;
pub mod parallel;
pub mod source;
pub mod suppress;
pub mod text;
pub mod workspace;
pub mod rules;
mod scan;
pub mod alloc;
pub mod report;
pub mod server;
