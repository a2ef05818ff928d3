//! How PHP-FPM reads numbers and times from its INI values (`atoi`, `fpm_conf_set_time`).

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
