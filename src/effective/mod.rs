//! Effective configuration: what nginx and PHP-FPM will actually use, the view rules
//! evaluate.

pub mod address;
pub mod fpm;
pub mod join;
pub mod nginx;
pub mod placeholder;
pub mod values;
