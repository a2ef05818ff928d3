//! PHP-FPM pools as PHP-FPM applies them: the last value of a scalar wins, the first
//! value of an array key wins, unset keys take PHP-FPM's defaults.

use crate::fpm::directives::{self, Place, PoolKey};
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

/// C's `atoi`: optional sign, leading digits, anything after ignored; empty is 0.
pub fn atoi(text: &str) -> i64 {
    let t = text.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).fold(0i64, |acc, b| acc.saturating_mul(10).saturating_add(i64::from(b - b'0')));
    if neg { -n } else { n }
}

/// `fpm_conf_set_time`: only the last character is a unit (`s` default, `m`, `h`, `d`);
/// the rest goes through `atoi`, so `500ms` is 500 seconds and `1.5m` is 60.
pub fn fpm_time(text: &str) -> Option<i64> {
    let last = text.chars().last()?;
    let (body, scale) = match last {
        's' => (&text[..text.len() - 1], 1),
        'm' => (&text[..text.len() - 1], 60),
        'h' => (&text[..text.len() - 1], 3600),
        'd' => (&text[..text.len() - 1], 86400),
        c if c.is_ascii_digit() => (text, 1),
        _ => return None,
    };
    Some(atoi(body).saturating_mul(scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fpm_reads_numbers_like_c() {
        assert_eq!(atoi("12"), 12);
        assert_eq!(atoi("5k"), 5);
        assert_eq!(atoi(""), 0);
        assert_eq!(atoi("-5"), -5);
        assert_eq!(fpm_time("500ms"), Some(500));
        assert_eq!(fpm_time("1.5m"), Some(60));
        assert_eq!(fpm_time("30s"), Some(30));
        assert_eq!(fpm_time("300"), Some(300));
        assert_eq!(fpm_time("30x"), None);
    }
}
