//! Values of directives that modules parse with their own handlers, checked as those
//! handlers do (ngx_log.c, ngx_http_log_module.c, ngx_http_core_module.c, …), with their
//! messages. Only what the handler refuses for every build and host is checked: a host
//! name that does not resolve is the validator's business.

use crate::effective::nginx::Placed;
use crate::effective::values::{parse_time, TimeKind};
use crate::nginx::directives::{ctx, Version};

use super::values::atoi;

const LOG_LEVELS: &[&str] = &["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"];
const DEBUG_LEVELS: &[&str] = &["debug_core", "debug_alloc", "debug_mutex", "debug_event", "debug_http", "debug_mail", "debug_stream"];

/// What the check needs besides the directive: its context, the release, the log formats
/// defined so far.
pub struct Facts<'a> {
    pub context: u32,
    pub version: Version,
    pub log_formats: &'a [String],
}

/// The first argument of `p` its handler refuses, with the handler's message.
pub fn check(p: Placed, facts: &Facts) -> Option<(usize, String)> {
    if !matches!(p.name(), "error_log" | "access_log" | "add_header" | "add_trailer" | "fastcgi_param" | "uwsgi_param" | "scgi_param" | "expires" | "set" | "error_page" | "if" | "server" | "listen") {
        return None;
    }
    let args: Vec<&str> = p.directive.args.iter().map(|a| a.value.as_str()).collect();
    let invalid_parameter = |i: usize| Some((i, format!("invalid parameter \"{}\"", args[i])));
    match p.name() {
        "error_log" => {
            let mut levels = 0;
            for (i, a) in args.iter().enumerate().skip(1) {
                if DEBUG_LEVELS.contains(a) {
                    continue;
                }
                if !LOG_LEVELS.contains(a) {
                    return Some((i, format!("invalid log level \"{a}\"")));
                }
                levels += 1;
                if levels > 1 {
                    return Some((i, format!("duplicate log level \"{a}\"")));
                }
            }
            None
        }
        "access_log" if facts.context & (ctx::STREAM | ctx::STREAM_SERVER) == 0 => {
            if args.first() == Some(&"off") {
                return (args.len() > 1).then(|| invalid_parameter(1)).flatten();
            }
            let format = *args.get(1)?;
            if format != "combined" && !facts.log_formats.iter().any(|f| f == format) {
                return Some((1, format!("unknown log format \"{format}\"")));
            }
            let known = |a: &str| a == "gzip" || ["buffer=", "gzip=", "flush=", "if="].iter().any(|p| a.starts_with(p));
            (2..args.len()).find(|&i| !known(args[i])).and_then(invalid_parameter)
        }
        "add_header" | "add_trailer" => (args.len() == 3 && args[2] != "always").then(|| invalid_parameter(2)).flatten(),
        "fastcgi_param" | "uwsgi_param" | "scgi_param" => (args.len() == 3 && args[2] != "if_not_empty").then(|| invalid_parameter(2)).flatten(),
        "expires" => expires(&args),
        "set" => {
            let v = *args.first()?;
            (!v.starts_with('$') || v.len() < 2).then(|| (0, format!("invalid variable name \"{v}\"")))
        }
        "error_page" => error_page(&args),
        "if" if facts.context & (ctx::SERVER | ctx::LOCATION) != 0 => if_condition(&args),
        "server" if facts.context & (ctx::UPSTREAM | ctx::STREAM_UPSTREAM) != 0 => upstream_server(&args, facts.version),
        "listen" if facts.context == ctx::SERVER => listen(&args, facts.version),
        _ => None,
    }
}

/// `ngx_http_headers_expires`: `[modified] time`, `epoch`, `max`, `off`, `@time`.
fn expires(args: &[&str]) -> Option<(usize, String)> {
    let invalid = |i| Some((i, "\"expires\" directive invalid value".to_string()));
    let (i, v) = match args {
        [one] => (0, *one),
        ["modified", t] => (1, *t),
        [_, _] => return invalid(0),
        _ => return None,
    };
    if v.contains('$') || (args.len() == 1 && matches!(v, "epoch" | "max" | "off")) {
        return None;
    }
    let t = v.strip_prefix('@').or_else(|| v.strip_prefix(['+', '-'])).unwrap_or(v);
    parse_time(t, TimeKind::Sec).is_none().then(|| invalid(i)).flatten()
}

/// `ngx_http_core_error_page`: codes 300–599, an optional `=[code]`, then the URI.
fn error_page(args: &[&str]) -> Option<(usize, String)> {
    let last = args.len().checked_sub(1)?;
    for (i, a) in args.iter().enumerate().take(last) {
        if let Some(code) = a.strip_prefix('=') {
            if !code.is_empty() && atoi(code).is_none() {
                return Some((i, format!("invalid value \"{a}\"")));
            }
            continue;
        }
        if a.contains('$') {
            continue;
        }
        match atoi(a) {
            None => return Some((i, format!("invalid value \"{a}\""))),
            Some(n) if !(300..=599).contains(&n) => return Some((i, format!("value \"{a}\" must be between 300 and 599"))),
            Some(_) => {}
        }
    }
    None
}

/// `server` in `upstream`: the address, then its parameters.
fn upstream_server(args: &[&str], version: Version) -> Option<(usize, String)> {
    let resolve_era = version >= Version(1, 27, 3);
    for (i, a) in args.iter().enumerate().skip(1) {
        let (key, value) = a.split_once('=').map_or((*a, None), |(k, v)| (k, Some(v)));
        let ok = match (key, value) {
            ("weight" | "max_fails" | "max_conns", Some(v)) => atoi(v).is_some_and(|n| key != "weight" || n > 0),
            ("fail_timeout", Some(v)) => parse_time(v, TimeKind::Sec).is_some(),
            ("backup" | "down", None) => true,
            ("resolve", None) | ("service", Some(_)) => resolve_era,
            _ => false,
        };
        if !ok {
            return Some((i, format!("invalid parameter \"{a}\"")));
        }
    }
    None
}

/// `listen` in an http `server`: the port (`ngx_parse_url`), then parameters by name.
fn listen(args: &[&str], version: Version) -> Option<(usize, String)> {
    let address = *args.first()?;
    if !address.starts_with("unix:") && !address.contains('$') {
        let port = match address.rsplit_once(']') {
            Some((_, rest)) => rest.strip_prefix(':'),
            None => match address.rsplit_once(':') {
                Some((_, p)) => Some(p),
                None => address.bytes().all(|b| b.is_ascii_digit()).then_some(address),
            },
        };
        if let Some(port) = port {
            if atoi(port).is_none_or(|n| !(1..=65535).contains(&n)) {
                return Some((0, format!("invalid port in \"{address}\" of the \"listen\" directive")));
            }
        }
    }
    const FLAGS: &[&str] = &["default_server", "default", "ssl", "http2", "proxy_protocol", "deferred", "bind", "reuseport"];
    const VALUED: &[&str] = &["setfib", "fastopen", "backlog", "rcvbuf", "sndbuf", "accept_filter", "ipv6only", "so_keepalive"];
    for (i, a) in args.iter().enumerate().skip(1) {
        let known = match a.split_once('=') {
            Some((k, _)) => VALUED.contains(&k),
            None => FLAGS.contains(a) || (*a == "quic" && version >= Version(1, 25, 0)) || (*a == "multipath" && version >= Version(1, 29, 0)),
        };
        if !known {
            return Some((i, format!("invalid parameter \"{a}\"")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlers_refuse_what_nginx_refuses() {
        let v = Version(1, 22, 1);
        assert_eq!(listen(&["99999"], v).map(|e| e.1), Some("invalid port in \"99999\" of the \"listen\" directive".into()));
        assert_eq!(listen(&["[::]:80", "ipv6only=on", "default_server"], v), None);
        assert_eq!(listen(&["8080", "bogus"], v).map(|e| e.0), Some(1));
        assert_eq!(listen(&["127.0.0.1:8080", "quic"], v).map(|e| e.0), Some(1));
        assert_eq!(listen(&["unix:/run/x.sock"], v), None);
        assert_eq!(error_page(&["404", "=200", "/x"]), None);
        assert_eq!(error_page(&["99", "/x"]).map(|e| e.1), Some("value \"99\" must be between 300 and 599".into()));
        assert_eq!(expires(&["1h"]), None);
        assert_eq!(expires(&["modified", "+24h"]), None);
        assert!(expires(&["off", "off"]).is_some() && expires(&["soon"]).is_some());
        assert_eq!(upstream_server(&["127.0.0.1:9000", "weight=2", "max_fails=3", "fail_timeout=30s", "backup"], v), None);
        assert!(upstream_server(&["a", "resolve"], v).is_some() && upstream_server(&["a", "resolve"], Version(1, 27, 3)).is_none());
    }
}

/// `ngx_http_rewrite_if_condition`: `($var)`, `($var op value)`, `(-f path)` and the like,
/// with the parentheses glued to the first and last words as nginx's tokenizer leaves them.
pub fn if_condition(args: &[&str]) -> Option<(usize, String)> {
    let invalid = |i: usize, v: &str| Some((i, format!("invalid condition \"{v}\"")));
    let mut value: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let first = value.first()?.clone();
    if !first.starts_with('(') {
        return invalid(0, &first);
    }
    let mut cur = 0;
    if first.len() == 1 {
        cur = 1;
    } else {
        value[0] = first[1..].to_string();
    }
    let mut last = value.len() - 1;
    if !value[last].ends_with(')') {
        return invalid(last, &value[last].clone());
    }
    if value[last].len() == 1 {
        last = last.checked_sub(1)?;
    } else {
        let v = &value[last];
        value[last] = v[..v.len() - 1].to_string();
    }
    let p = value.get(cur).cloned().unwrap_or_default();
    if p.len() > 1 && p.starts_with('$') {
        if cur != last && cur + 2 != last {
            return invalid(cur, &p);
        }
        if cur == last {
            return None;
        }
        let op = &value[cur + 1];
        return (!matches!(op.as_str(), "=" | "!=" | "~" | "~*" | "!~" | "!~*")).then(|| (cur + 1, format!("unexpected \"{op}\" in condition")));
    }
    let is_test = (p.len() == 2 && p.starts_with('-')) || (p.len() == 3 && p.starts_with("!-"));
    if is_test {
        if cur + 1 != last {
            return invalid(cur, &p);
        }
        let flag = p.trim_start_matches('!');
        return (!matches!(flag, "-f" | "-d" | "-e" | "-x")).then(|| (cur, format!("invalid condition \"{p}\"")));
    }
    invalid(cur, &p)
}

/// `proxy_pass` with a URI part (`http://backend/x`), which nginx refuses in regex and
/// named locations, `if` and `limit_except`.
pub fn has_uri(url: &str) -> bool {
    if url.contains('$') {
        return false;
    }
    let Some((_, rest)) = url.split_once("://") else { return false };
    if let Some(sock) = rest.strip_prefix("unix:") {
        // unix:/path:/uri — the URI follows the socket path's colon.
        return sock.split_once(':').is_some_and(|(_, uri)| !uri.is_empty());
    }
    rest.contains('/')
}

#[cfg(test)]
mod condition_tests {
    use super::*;

    #[test]
    fn if_conditions_as_nginx_reads_them() {
        assert_eq!(if_condition(&["($host)"]), None);
        assert_eq!(if_condition(&["($request_method", "=", "POST)"]), None);
        assert_eq!(if_condition(&["(", "-f", "$request_filename", ")"]), None);
        assert_eq!(if_condition(&["(!-e", "$request_filename)"]), None);
        assert_eq!(if_condition(&["($a", "=", ")"]).map(|e| e.1), Some("invalid condition \"$a\"".into()));
        assert_eq!(if_condition(&["$host"]).map(|e| e.1), Some("invalid condition \"$host\"".into()));
        assert_eq!(if_condition(&["($host", "bogus", "x)"]).map(|e| e.1), Some("unexpected \"bogus\" in condition".into()));
        assert!(has_uri("http://127.0.0.1:9001/x") && has_uri("http://backend/") && !has_uri("http://backend") && !has_uri("http://$host/x"));
        assert!(!has_uri("http://unix:/run/app.sock") && has_uri("http://unix:/run/app.sock:/api"));
    }
}
