//! PHP-FPM pools as PHP-FPM applies them: the last value of a scalar wins, the first
//! value of an array key wins, unset keys take PHP-FPM's defaults.

use crate::fpm::directives::{self, Place};
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
    pub fn get(&self, name: &str) -> Option<&'w Setting> {
        match directives::index(name, Place::Pool) {
            Some(key) => self.pool.keys().iter().rposition(|&k| k == key).map(|i| &self.pool.settings[i]),
            None => self.pool.settings.iter().rev().find(|s| s.array_key.is_none() && s.name.eq_ignore_ascii_case(name)),
        }
    }

    /// Every definition of scalar `name`, in file order.
    pub fn all_of(&self, name: &str) -> Vec<&'w Setting> {
        match directives::index(name, Place::Pool) {
            Some(key) => self.pool.keys().iter().zip(&self.pool.settings).filter(|&(&k, _)| k == key).map(|(_, s)| s).collect(),
            None => self.pool.settings.iter().filter(|s| s.array_key.is_none() && s.name.eq_ignore_ascii_case(name)).collect(),
        }
    }

    /// The setting PHP-FPM applies for `array[key]`: the first one.
    pub fn array(&self, array: &str, key: &str) -> Option<&'w Setting> {
        self.pool.settings.iter().find(|s| s.name == array && s.array_key.as_deref() == Some(key))
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).map(|s| atoi(&s.value.text))
    }

    /// A time setting in seconds, read the way PHP-FPM reads it (`fpm_conf_set_time`).
    pub fn seconds(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|s| fpm_time(&s.value.text))
    }

    pub fn name(&self) -> &'w str {
        &self.pool.name
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
