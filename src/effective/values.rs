//! nginx's typed values, parsed exactly as `ngx_parse_time`, `ngx_parse_size`,
//! `ngx_parse_offset` and the limit_req rate parser do.

use std::fmt;

/// A duration in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    pub fn secs(s: u64) -> Self {
        Millis(s * 1000)
    }
}

impl fmt::Display for Millis {
    /// nginx spelling as people write timeouts: `300s`, `90m`, `1h`, `1500ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms % 1000 != 0 {
            return write!(f, "{ms}ms");
        }
        let s = ms / 1000;
        match s {
            0 => write!(f, "0s"),
            _ if s % 86400 == 0 => write!(f, "{}d", s / 86400),
            _ if s % 3600 == 0 => write!(f, "{}h", s / 3600),
            _ if s % 60 == 0 && s >= 3600 => write!(f, "{}m", s / 60),
            _ => write!(f, "{s}s"),
        }
    }
}

/// Which of nginx's two time parsers a directive uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeKind {
    /// `ngx_conf_set_msec_slot` (`*_timeout`): `ms` allowed, `y` and `M` rejected.
    Msec,
    /// `ngx_conf_set_sec_slot` and `fail_timeout=`: `ms` rejected.
    Sec,
}

/// `ngx_parse_time`: units in strictly decreasing order, each at most once; a bare
/// number is seconds; components may be separated by spaces.
pub fn parse_time(text: &str, kind: TimeKind) -> Option<Millis> {
    // Order of nginx's steps; `ms` is only reachable on the msec path.
    const UNITS: [(&str, u64); 8] = [
        ("y", 365 * 86_400_000),
        ("M", 30 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut step = if kind == TimeKind::Msec { 2 } else { 0 };
    let (mut total, mut value, mut digits, mut i) = (0u64, 0u64, false, 0);
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() {
            value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            digits = true;
            i += 1;
            continue;
        }
        if c == b' ' {
            if digits {
                return None;
            }
            i += 1;
            continue;
        }
        let unit = if c == b'm' && bytes.get(i + 1) == Some(&b's') { "ms" } else { std::str::from_utf8(&bytes[i..=i]).ok()? };
        let pos = UNITS.iter().position(|(u, _)| *u == unit)?;
        if pos < step || !digits || (unit == "ms" && kind == TimeKind::Sec) {
            return None;
        }
        step = pos + 1;
        total = total.checked_add(value.checked_mul(UNITS[pos].1)?)?;
        value = 0;
        digits = false;
        i += unit.len();
    }
    if digits {
        total = total.checked_add(value.checked_mul(1000)?)?;
    }
    Some(Millis(total))
}

/// `ngx_parse_size`: a number with an optional `k`/`K` or `m`/`M` (no `g`).
pub fn parse_size(text: &str) -> Option<u64> {
    parse_scaled(text, &[('k', 1 << 10), ('m', 1 << 20)])
}

/// `ngx_parse_offset`: like a size, but `g`/`G` is allowed too.
pub fn parse_offset(text: &str) -> Option<u64> {
    parse_scaled(text, &[('k', 1 << 10), ('m', 1 << 20), ('g', 1 << 30)])
}

fn parse_scaled(text: &str, units: &[(char, u64)]) -> Option<u64> {
    let last = text.chars().last()?;
    let (digits, scale) = match units.iter().find(|(u, _)| last.eq_ignore_ascii_case(u)) {
        Some((_, s)) => (&text[..text.len() - 1], *s),
        None => (text, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

/// A `limit_req_zone` rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u64,
    pub per_minute: bool,
}

impl Rate {
    /// Requests per second, rounded up (what a burst has to cover in one second).
    pub fn per_second_ceil(self) -> u64 {
        if self.per_minute { self.count.div_ceil(60) } else { self.count }
    }
}

/// `rate=10r/s`, `rate=30r/m`, bare `rate=10` (= r/s).
pub fn parse_rate(text: &str) -> Option<Rate> {
    let (digits, per_minute) = if let Some(d) = text.strip_suffix("r/s") {
        (d, false)
    } else if let Some(d) = text.strip_suffix("r/m") {
        (d, true)
    } else {
        (text, false)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let count = digits.parse().ok().filter(|&n: &u64| n > 0)?;
    Some(Rate { count, per_minute })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_follow_ngx_parse_time() {
        let ms = |s| parse_time(s, TimeKind::Msec);
        assert_eq!(ms("90"), Some(Millis::secs(90)));
        assert_eq!(ms("500ms"), Some(Millis(500)));
        assert_eq!(ms("1h30m"), Some(Millis::secs(5400)));
        assert_eq!(ms("1h 30m"), Some(Millis::secs(5400)));
        assert_eq!(ms("1m30"), Some(Millis::secs(90)));
        assert_eq!(ms("30m1h"), None, "units must decrease");
        assert_eq!(ms("1y"), None, "msec directives reject y");
        assert_eq!(ms("1M"), None, "msec directives reject M");
        assert_eq!(ms("5x"), None);
        assert_eq!(ms(""), None);
        assert_eq!(parse_time("1y", TimeKind::Sec), Some(Millis::secs(365 * 86400)));
        assert_eq!(parse_time("500ms", TimeKind::Sec), None, "fail_timeout rejects ms");
        assert_eq!(parse_time("10s", TimeKind::Sec), Some(Millis::secs(10)));
    }

    #[test]
    fn times_print_in_nginx_units() {
        assert_eq!(Millis::secs(300).to_string(), "300s");
        assert_eq!(Millis::secs(5400).to_string(), "90m");
        assert_eq!(Millis::secs(90).to_string(), "90s");
        assert_eq!(Millis(1500).to_string(), "1500ms");
        assert_eq!(Millis::secs(7200).to_string(), "2h");
    }

    #[test]
    fn sizes_and_offsets() {
        assert_eq!(parse_size("4k"), Some(4096));
        assert_eq!(parse_size("10M"), Some(10 << 20));
        assert_eq!(parse_size("1g"), None);
        assert_eq!(parse_offset("1g"), Some(1 << 30));
        assert_eq!(parse_size("k"), None);
        assert_eq!(parse_size("12"), Some(12));
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("10r/s"), Some(Rate { count: 10, per_minute: false }));
        assert_eq!(parse_rate("30r/m").unwrap().per_second_ceil(), 1);
        assert_eq!(parse_rate("10"), Some(Rate { count: 10, per_minute: false }));
        assert_eq!(parse_rate("10r/h"), None);
        assert_eq!(parse_rate("0r/s"), None);
    }
}
