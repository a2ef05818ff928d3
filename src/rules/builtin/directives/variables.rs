//! Which variables a directive uses and defines, for NGX010 (`unknown "x" variable`,
//! reported by nginx once the whole configuration is read, so order does not matter).

use crate::effective::nginx::Placed;
use crate::nginx::directives::Kind;

/// Names of the variables `arg` refers to (`$host`, `${host}`); numbered captures excluded.
pub fn names(arg: &str) -> impl Iterator<Item = &str> {
    let b = arg.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if b[i] != b'$' {
                i += 1;
                continue;
            }
            i += 1;
            let braced = b.get(i) == Some(&b'{');
            if braced {
                i += 1;
            }
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let name = &arg[start..i];
            if braced && b.get(i) == Some(&b'}') {
                i += 1;
            }
            if !name.is_empty() && !name.bytes().all(|c| c.is_ascii_digit()) {
                return Some(name);
            }
        }
        None
    })
}

/// The arguments of `p` nginx compiles as scripts or complex values (where a `$` is a
/// variable, not part of a regex), as a bit set of argument indexes (every directive of a
/// tree is asked: no allocation).
pub fn used_in(p: Placed, kind: Kind) -> u64 {
    let n = p.directive.args.len().min(63);
    let all = (1u64 << n) - 1;
    match p.name() {
        "set" | "rewrite" | "add_header" | "add_trailer" | "proxy_set_header" | "fastcgi_param" | "uwsgi_param" | "scgi_param" | "grpc_set_header" | "proxy_redirect" => 0b10,
        "return" | "try_files" | "index" | "proxy_no_cache" | "proxy_cache_bypass" | "fastcgi_no_cache" | "fastcgi_cache_bypass" => all,
        "log_format" => all & !1,
        "error_page" => if n == 0 { 0 } else { 1 << (n - 1) },
        "proxy_pass" | "fastcgi_pass" | "uwsgi_pass" | "scgi_pass" | "grpc_pass" | "root" | "alias" | "limit_req_zone" | "limit_conn_zone" | "map" | "split_clients" | "proxy_cache_key" | "fastcgi_cache_key" => 1,
        "geo" if n == 2 => 1,
        "access_log" => (0..n).filter(|&i| i == 0 || p.arg(i).is_some_and(|a| a.starts_with("if="))).fold(0, |m, i| m | 1 << i),
        "if" => {
            // The operand and a compared value; a regex after ~ is not scripted.
            match p.directive.args.iter().position(|a| matches!(a.value.as_str(), "~" | "~*" | "!~" | "!~*")) {
                Some(r) => all & ((1u64 << (r + 1)) - 1),
                None => all,
            }
        }
        _ if matches!(kind, Kind::Complex | Kind::ComplexSize) => 1,
        _ => 0,
    }
}

/// The variable `p` defines, if any (`set $x`, `map $a $x`, `geo $x`, …).
pub fn defined_by<'w>(p: Placed<'w>) -> Option<&'w str> {
    let arg = match p.name() {
        "set" | "perl_set" | "js_set" | "js_var" | "set_by_lua" | "set_by_lua_block" | "set_by_lua_file" | "auth_request_set" => p.arg(0),
        "map" | "split_clients" => p.arg(1),
        "geo" => p.directive.args.last().map(|a| a.value.as_str()),
        // geoip2 and similar data blocks: `$name …` lines.
        n if n.starts_with('$') => Some(n),
        _ => None,
    }?;
    arg.strip_prefix('$')
}

/// Named captures of regexes in `arg`: `(?<name>…)`, `(?P<name>…)`, `(?'name'…)`.
pub fn captures(arg: &str) -> impl Iterator<Item = &str> {
    ["(?<", "(?P<", "(?'"].into_iter().flat_map(move |open| {
        arg.match_indices(open).filter_map(move |(i, _)| {
            let rest = &arg[i + open.len()..];
            let end = rest.find(['>', '\''])?;
            let name = &rest[..end];
            (!name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')).then_some(name)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_and_captures() {
        assert_eq!(names("$scheme://${host}x$1/$request_uri").collect::<Vec<_>>(), ["scheme", "host", "request_uri"]);
        assert_eq!(names("^/(.*)$").count(), 0);
        assert_eq!(captures("~^(?<sub>[^.]+)\\.(?P<dom>.+)$").collect::<Vec<_>>(), ["sub", "dom"]);
    }
}
