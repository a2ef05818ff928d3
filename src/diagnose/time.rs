//! Log timestamps. nginx and PHP-FPM write the local wall-clock time without a zone
//! (`2025/01/20 10:00:00`, `[20-Jan-2025 10:00:00]`); a collector may put a zoned ISO 8601
//! stamp in front (`docker logs -t`; `journalctl -o short-iso`, whose `host program[pid]: `
//! the parser skips). Everything becomes Unix
//! seconds, naive times read in the zone the services ran in (`--timezone`).

use std::cell::RefCell;
use std::collections::HashMap;

/// How to read a timestamp that carries no zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// This machine's zone (`TZ`, else /etc/localtime), daylight saving included.
    Local,
    /// A fixed offset east of UTC, in seconds (`UTC` is 0).
    Fixed(i32),
}

impl std::str::FromStr for Zone {
    type Err = String;
    fn from_str(s: &str) -> Result<Zone, String> {
        match s {
            "local" => Ok(Zone::Local),
            "UTC" | "utc" | "Z" | "GMT" => Ok(Zone::Fixed(0)),
            _ => parse_offset(s).map(Zone::Fixed).ok_or_else(|| format!("`{s}` is not a zone: use local, UTC or an offset such as +02:00")),
        }
    }
}

/// `+02:00`, `-0530`, `+02`.
fn parse_offset(s: &str) -> Option<i32> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

/// A calendar time without a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl Civil {
    fn valid(&self) -> bool {
        (1..=12).contains(&self.month) && (1..=31).contains(&self.day) && self.hour < 24 && self.minute < 60 && self.second < 61
    }

    /// Seconds since the epoch if this were UTC.
    pub fn as_utc(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86400 + i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second)
    }
}

/// Howard Hinnant's days_from_civil.
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((y + i64::from(m <= 2)) as i32, m, d)
}

thread_local! {
    /// UTC offset of each local hour already asked for: a log has millions of lines but
    /// few distinct hours, and `mktime` reads the zone rules each time.
    static OFFSETS: RefCell<HashMap<(i32, u8, u8, u8), i64>> = RefCell::new(HashMap::new());
}

impl Zone {
    /// Unix seconds of a naive time read in this zone.
    pub fn resolve(self, c: &Civil) -> Option<i64> {
        if !c.valid() {
            return None;
        }
        let naive = c.as_utc();
        match self {
            Zone::Fixed(off) => Some(naive - i64::from(off)),
            Zone::Local => {
                let key = (c.year, c.month, c.day, c.hour);
                let offset = OFFSETS.with(|m| {
                    if let Some(o) = m.borrow().get(&key) {
                        return Some(*o);
                    }
                    let o = local_offset_at(c)?;
                    let mut m = m.borrow_mut();
                    if m.len() > 100_000 {
                        m.clear();
                    }
                    m.insert(key, o);
                    Some(o)
                })?;
                Some(naive - offset)
            }
        }
    }

    /// The offset in force at `t`, for showing times as the log wrote them.
    pub fn offset_at(self, t: i64) -> i64 {
        match self {
            Zone::Fixed(off) => i64::from(off),
            Zone::Local => {
                let mut tm: libc::tm = unsafe { std::mem::zeroed() };
                let tt = t as libc::time_t;
                // SAFETY: both pointers are to live locals; localtime_r is the re-entrant form.
                let ok = unsafe { !libc::localtime_r(&tt, &mut tm).is_null() };
                if ok { tm.tm_gmtoff } else { 0 }
            }
        }
    }
}

/// `mktime` for the top of the hour of `c` (the minute and second do not change offsets).
fn local_offset_at(c: &Civil) -> Option<i64> {
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = c.year - 1900;
    tm.tm_mon = i32::from(c.month) - 1;
    tm.tm_mday = i32::from(c.day);
    tm.tm_hour = i32::from(c.hour);
    tm.tm_isdst = -1;
    // SAFETY: `tm` is a fully initialised local.
    let t = unsafe { libc::mktime(&mut tm) };
    if t == -1 {
        return None;
    }
    let top = Civil { minute: 0, second: 0, ..*c };
    Some(top.as_utc() - t as i64)
}

/// Two ASCII digits.
fn d2(b: &[u8]) -> Option<u8> {
    match b {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

fn d4(b: &[u8]) -> Option<i32> {
    if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
        Some(b.iter().fold(0i32, |acc, &x| acc * 10 + i32::from(x - b'0')))
    } else {
        None
    }
}

/// `HH:MM:SS`.
fn hms(b: &[u8]) -> Option<(u8, u8, u8)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((d2(&b[0..2])?, d2(&b[3..5])?, d2(&b[6..8])?))
}

/// nginx: `2025/01/20 10:00:00` (19 bytes) at the start of `b`.
pub fn nginx_stamp(b: &[u8]) -> Option<Civil> {
    if b.len() < 19 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' {
        return None;
    }
    let (hour, minute, second) = hms(&b[11..19])?;
    let c = Civil { year: d4(&b[0..4])?, month: d2(&b[5..7])?, day: d2(&b[8..10])?, hour, minute, second };
    c.valid().then_some(c)
}

const MONTHS: [&[u8; 3]; 12] = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// PHP-FPM: `20-Jan-2025 10:00:00` (20 bytes) at the start of `b`; a `.123456` after it
/// (log_level = debug) is left to the caller.
pub fn fpm_stamp(b: &[u8]) -> Option<Civil> {
    if b.len() < 20 || b[2] != b'-' || b[6] != b'-' || b[11] != b' ' {
        return None;
    }
    let month = MONTHS.iter().position(|m| m[..] == b[3..6])? as u8 + 1;
    let (hour, minute, second) = hms(&b[12..20])?;
    let c = Civil { year: d4(&b[7..11])?, month, day: d2(&b[0..2])?, hour, minute, second };
    c.valid().then_some(c)
}

/// A collector's ISO 8601 prefix with its zone: `2025-01-20T10:00:00.123Z`,
/// `2025-01-20T10:00:00+0100`. Returns the Unix time and the length consumed (including
/// the following space).
pub fn iso_prefix(b: &[u8]) -> Option<(i64, usize)> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let (hour, minute, second) = hms(&b[11..19])?;
    let c = Civil { year: d4(&b[0..4])?, month: d2(&b[5..7])?, day: d2(&b[8..10])?, hour, minute, second };
    if !c.valid() {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i)? {
        b'Z' => {
            i += 1;
            0
        }
        b'+' | b'-' => {
            let end = b[i..].iter().position(|&x| x == b' ').map_or(b.len(), |p| i + p);
            let off = parse_offset(std::str::from_utf8(&b[i..end]).ok()?)?;
            i = end;
            off
        }
        _ => return None,
    };
    if b.get(i) != Some(&b' ') {
        return None;
    }
    Some((c.as_utc() - i64::from(offset), i + 1))
}

/// `--since`: a duration before now (`90s`, `30m`, `2h`, `1d`, `1w`) or a time
/// (`2025-01-20 10:00[:00]`, `2025-01-20T10:00:00Z`) read in `zone`.
pub fn parse_since(s: &str, now: i64, zone: Zone) -> Result<i64, String> {
    let bad = || format!("`{s}` is not a duration (30m, 2h, 1d) or a time (2025-01-20 10:00)");
    let t = s.trim();
    if let Some((utc, _)) = iso_prefix(format!("{t} ").as_bytes()) {
        return Ok(utc);
    }
    if let Some(unit) = t.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let n: i64 = t[..t.len() - 1].parse().map_err(|_| bad())?;
        let scale = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 7 * 86400,
            _ => return Err(bad()),
        };
        return Ok(now - n.checked_mul(scale).ok_or_else(bad)?);
    }
    let b = t.as_bytes();
    let mut with_seconds = t.replace('T', " ");
    if with_seconds.len() == 16 {
        with_seconds.push_str(":00");
    }
    if b.len() >= 10 && b[4] == b'-' {
        let nginx_like = with_seconds.replacen('-', "/", 2);
        if let Some(c) = nginx_stamp(nginx_like.as_bytes()) {
            return zone.resolve(&c).ok_or_else(bad);
        }
    }
    Err(bad())
}

/// `2025-01-20T09:00:00Z`.
pub fn rfc3339_utc(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86400));
    let s = t.rem_euclid(86400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// `2025-01-20 10:00:00` in `zone`, as the logs write it.
pub fn wall(t: i64, zone: Zone) -> String {
    let l = t + zone.offset_at(t);
    let (y, m, d) = civil_from_days(l.div_euclid(86400));
    let s = l.rem_euclid(86400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        let c = nginx_stamp(b"2025/01/20 10:00:05 [error]").unwrap();
        assert_eq!(Zone::Fixed(0).resolve(&c), Some(1737367205));
        assert_eq!(Zone::Fixed(3600).resolve(&c), Some(1737367205 - 3600));
        let f = fpm_stamp(b"20-Jan-2025 10:00:05] WARNING").unwrap();
        assert_eq!(f, c);
        assert_eq!(nginx_stamp(b"2025/13/20 10:00:05"), None);
        assert_eq!(fpm_stamp(b"20-Foo-2025 10:00:05"), None);
        assert_eq!(iso_prefix(b"2025-01-20T10:00:05.123456789Z 2025/01/20"), Some((1737367205, 31)));
        assert_eq!(iso_prefix(b"2025-01-20T11:00:05+01:00 x").map(|x| x.0), Some(1737367205));
        assert_eq!(iso_prefix(b"2025-01-20T11:00:05+0100 x").map(|x| x.0), Some(1737367205));
    }

    #[test]
    fn round_trip() {
        assert_eq!(rfc3339_utc(1737367205), "2025-01-20T10:00:05Z");
        assert_eq!(wall(1737367205, Zone::Fixed(7200)), "2025-01-20 12:00:05");
        for days in [-800_000i64, -1, 0, 1, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn since() {
        let now = 1737367205;
        assert_eq!(parse_since("2h", now, Zone::Local), Ok(now - 7200));
        assert_eq!(parse_since("2025-01-20 10:00", now, Zone::Fixed(0)), Ok(1737367200));
        assert_eq!(parse_since("2025-01-20T10:00:00Z", now, Zone::Local), Ok(1737367200));
        assert!(parse_since("soon", now, Zone::Local).is_err());
        assert_eq!("+02:00".parse::<Zone>(), Ok(Zone::Fixed(7200)));
        assert_eq!("-0530".parse::<Zone>(), Ok(Zone::Fixed(-19800)));
        assert!("Mars".parse::<Zone>().is_err());
    }
}
