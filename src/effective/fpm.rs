//! PHP-FPM pools as PHP-FPM applies them: the last value of a scalar wins, the first
//! value of an array key wins, unset keys take PHP-FPM's defaults.

use crate::fpm::directives::{self, Place, PoolKey};
use crate::fpm::numbers::{atoi, fpm_time};
use crate::fpm::resolve::{FpmConfig, Pool, Setting};

/// One pool of one PHP-FPM configuration.
#[derive(Clone, Copy)]
pub struct PoolView<'w> {
    pub config: &'w FpmConfig,
    pub pool: &'w Pool,
}

impl<'w> PoolView<'w> {
    /// Every pool of every configuration in the tree.
    pub fn all(configs: &'w [FpmConfig]) -> Vec<PoolView<'w>> {
        configs.iter().flat_map(|config| config.pools.iter().map(move |pool| PoolView { config, pool })).collect()
    }

    /// The setting PHP-FPM uses for scalar `name` (case-insensitive): the last one.
    pub fn get<'n>(&self, name: impl Into<Scalar<'n>>) -> Option<&'w Setting> {
        match name.into().key() {
            Ok(key) => self.pool.keys().iter().rposition(|&k| k == key).map(|i| &self.pool.settings[i]),
            Err(name) => self.pool.settings.iter().rev().find(|s| s.array_key.is_none() && s.name.eq_ignore_ascii_case(name)),
        }
    }

    /// Every definition of scalar `name`, in file order.
    pub fn all_of<'n>(&self, name: impl Into<Scalar<'n>>) -> Vec<&'w Setting> {
        match name.into().key() {
            Ok(key) => self.pool.keys().iter().zip(&self.pool.settings).filter(|&(&k, _)| k == key).map(|(_, s)| s).collect(),
            Err(name) => self.pool.settings.iter().filter(|s| s.array_key.is_none() && s.name.eq_ignore_ascii_case(name)).collect(),
        }
    }

    /// The setting PHP-FPM applies for `array[key]`: the first one.
    pub fn array(&self, array: &str, key: &str) -> Option<&'w Setting> {
        self.pool.settings.iter().find(|s| s.name == array && s.array_key.as_deref() == Some(key))
    }

    pub fn int<'n>(&self, name: impl Into<Scalar<'n>>) -> Option<i64> {
        self.get(name).map(|s| atoi(&s.value.text))
    }

    /// A time setting in seconds, read the way PHP-FPM reads it (`fpm_conf_set_time`).
    pub fn seconds<'n>(&self, name: impl Into<Scalar<'n>>) -> Option<i64> {
        self.get(name).and_then(|s| fpm_time(&s.value.text))
    }

    pub fn name(&self) -> &'w str {
        &self.pool.name
    }
}

/// A scalar pool setting asked for: by a key found at compile time (`pool_key!`), or by
/// name (house rules, names PHP-FPM does not know).
#[derive(Clone, Copy)]
pub enum Scalar<'n> {
    Key(PoolKey),
    Name(&'n str),
}

impl<'n> Scalar<'n> {
    /// `name` looked up in the directive table once, for asking many pools.
    pub fn resolve(name: &'n str) -> Self {
        match directives::index(name, Place::Pool) {
            Some(key) => Scalar::Key(PoolKey(key)),
            None => Scalar::Name(name),
        }
    }

    /// The directive-table key, or the name when the table does not know it.
    fn key(self) -> Result<u16, &'n str> {
        match self {
            Scalar::Key(PoolKey(key)) => Ok(key),
            Scalar::Name(name) => directives::index(name, Place::Pool).ok_or(name),
        }
    }
}

impl From<PoolKey> for Scalar<'_> {
    fn from(key: PoolKey) -> Self {
        Scalar::Key(key)
    }
}

impl<'n> From<&'n str> for Scalar<'n> {
    fn from(name: &'n str) -> Self {
        Scalar::Name(name)
    }
}
