//! The generic slots' value checks (`ngx_conf_set_*_slot` in src/core/ngx_conf_file.c),
//! with nginx's messages.

use crate::effective::nginx::Placed;
use crate::effective::values::{parse_offset, parse_size, parse_time, TimeKind};
use crate::nginx::directives::{Directive, Kind};

/// `ngx_atoi`: digits only, no sign, no overflow.
pub fn atoi(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// The first argument of `p` that `d`'s slot refuses, with nginx's message.
pub fn check(p: Placed, d: &Directive) -> Option<(usize, String)> {
    let name = p.name();
    let arg = |i: usize| p.arg(i).unwrap_or("");
    let invalid = || Some((0, format!("\"{name}\" directive invalid value")));
    match d.kind {
        Kind::Flag => {
            let v = arg(0);
            (!v.eq_ignore_ascii_case("on") && !v.eq_ignore_ascii_case("off")).then(|| (0, format!("invalid value \"{v}\" in \"{name}\" directive, it must be \"on\" or \"off\"")))
        }
        Kind::Num => match atoi(arg(0)) {
            None => Some((0, format!("\"{name}\" directive invalid number"))),
            Some(n) => d.bounds.filter(|&(lo, hi)| n < lo || n > hi).map(|(lo, hi)| (0, format!("value must be between {lo} and {hi}"))),
        },
        Kind::Size => parse_size(arg(0)).is_none().then(invalid).flatten(),
        Kind::Off => parse_offset(arg(0)).is_none().then(invalid).flatten(),
        Kind::Msec => parse_time(arg(0), TimeKind::Msec).is_none().then(invalid).flatten(),
        Kind::Sec => parse_time(arg(0), TimeKind::Sec).is_none().then(invalid).flatten(),
        Kind::Bufs => {
            let ok = atoi(arg(0)).is_some_and(|n| n > 0) && parse_size(arg(1)).is_some_and(|s| s > 0);
            (!ok).then(invalid).flatten()
        }
        Kind::Enum => {
            let v = arg(0);
            (!d.values.iter().any(|x| x.eq_ignore_ascii_case(v))).then(|| (0, format!("invalid value \"{v}\"")))
        }
        Kind::Bitmask => p.directive.args.iter().enumerate().find(|(_, a)| !d.values.iter().any(|x| x.eq_ignore_ascii_case(&a.value))).map(|(i, a)| (i, format!("invalid value \"{}\"", a.value))),
        Kind::Access => p.directive.args.iter().enumerate().find(|(_, a)| !access_ok(&a.value)).map(|(i, a)| (i, format!("invalid value \"{}\"", a.value))),
        _ => None,
    }
}

/// `ngx_conf_set_access_slot`: `user:rw`, `group:r`, `all:rw`.
fn access_ok(v: &str) -> bool {
    let rest = ["user:", "group:", "all:"].iter().find_map(|p| v.strip_prefix(p));
    matches!(rest, Some("rw" | "r"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_takes_digits_only() {
        assert_eq!(atoi("42"), Some(42));
        assert_eq!(atoi("-1"), None);
        assert_eq!(atoi("4k"), None);
        assert_eq!(atoi(""), None);
        assert!(access_ok("user:rw") && access_ok("all:r") && !access_ok("bad:rw") && !access_ok("user:w"));
    }
}
