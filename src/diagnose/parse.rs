//! Log lines to events: nginx's error_log (every level), PHP-FPM's error_log and its
//! slowlog, as nginx 1.18–1.27 and PHP-FPM 7.4–8.3 write them.
//!
//! nginx: `2025/01/20 10:00:00 [error] 1234#1234: *5 MESSAGE, client: C, server: S,
//! request: "R", upstream: "U", host: "H"` (`src/core/ngx_log.c`, fields from
//! `ngx_http_log_error_handler`; lines are cut at 2048 bytes, so trailing fields may be
//! missing). PHP-FPM: `[20-Jan-2025 10:00:00] WARNING: [pool www] MESSAGE`
//! (`sapi/fpm/fpm/zlog.c`; `.123456` after the seconds and `pid N, func(), line N: `
//! before the message at `log_level = debug`). Slowlog: `[20-Jan-2025 10:00:00]  [pool
//! www] pid 1234`, then `script_filename = …` and one line per stack frame.

use super::event::{Event, Kind, Origin, Phase, Request};
use super::time::{fpm_stamp, iso_prefix, nginx_stamp, Zone};

/// What one line is.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Event(Event<'a>),
    /// The first line of a slowlog entry.
    SlowHeader { time: Option<i64>, pool: &'a str, line: &'a str },
    /// `script_filename = /var/www/x.php` of a slowlog entry.
    SlowScript(&'a str),
    /// A stack frame of a slowlog entry: `[0x…] usleep() /var/www/x.php:3`.
    SlowFrame(&'a str),
    /// A line of a log that is about nothing diagnose looks at (with its time, which
    /// tells how far back a log reaches).
    Other(Option<i64>),
    /// Neither nginx's nor PHP-FPM's format (binary garbage, another program, a cut line).
    Unparsed,
}

/// Parse one line (without its newline).
pub fn line(text: &str, zone: Zone) -> Line<'_> {
    let text = text.strip_suffix('\r').unwrap_or(text);
    let b = text.as_bytes();
    // A collector's zoned stamp in front wins over the program's naive one.
    let (collector_time, mut rest) = match iso_prefix(b) {
        Some((t, n)) => (Some(t), &text[n..]),
        None => (None, text),
    };
    // `journalctl -o short-iso`: `host program[pid]: ` between the stamp and the line.
    if collector_time.is_some() && nginx_stamp(rest.as_bytes()).is_none() && !rest.starts_with('[') {
        if let Some((_, after_host)) = rest.split_once(' ') {
            if let Some((program, line)) = after_host.split_once(": ") {
                if !program.contains(' ') {
                    rest = line;
                }
            }
        }
    }
    let rb = rest.as_bytes();
    if let Some(civil) = nginx_stamp(rb) {
        let time = collector_time.or_else(|| zone.resolve(&civil));
        return nginx_line(text, &rest[19..], time);
    }
    if rb.first() == Some(&b'[') {
        if let Some(civil) = fpm_stamp(&rb[1..]) {
            let time = collector_time.or_else(|| zone.resolve(&civil));
            let mut after = &rest[21..];
            if let Some(frac) = after.strip_prefix('.') {
                after = frac.trim_start_matches(|c: char| c.is_ascii_digit());
            }
            let Some(after) = after.strip_prefix("] ") else { return Line::Unparsed };
            return fpm_line(text, after, time);
        }
        if rest.starts_with("[0x") {
            return Line::SlowFrame(rest);
        }
    }
    if let Some(script) = rest.strip_prefix("script_filename = ") {
        return Line::SlowScript(script);
    }
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        return Line::Other(None);
    }
    Line::Unparsed
}

/// `[level] pid#tid: *conn message, client: …` after the stamp.
fn nginx_line<'a>(whole: &'a str, after_stamp: &'a str, time: Option<i64>) -> Line<'a> {
    let Some(rest) = after_stamp.strip_prefix(" [") else { return Line::Unparsed };
    let Some(close) = rest.find("] ") else { return Line::Unparsed };
    let level = &rest[..close];
    let mut msg = &rest[close + 2..];
    // `1234#1234: ` (pid#tid), then `*5 ` (connection) when there is one.
    if let Some(colon) = msg.find(": ") {
        if msg[..colon].bytes().all(|b| b.is_ascii_digit() || b == b'#') {
            msg = &msg[colon + 2..];
        }
    }
    if let Some(conn) = msg.strip_prefix('*') {
        if let Some(sp) = conn.find(' ') {
            if conn[..sp].bytes().all(|b| b.is_ascii_digit()) {
                msg = &conn[sp + 1..];
            }
        }
    }
    let (message, fields) = split_context(msg);
    let Some(kind) = nginx_kind(message) else { return Line::Other(time) };
    let mut e = Event::new(Origin::Nginx, kind, whole);
    e.time = time;
    e.level = level;
    e.zone = zone_name(message);
    if let Some(f) = fields {
        let f = context_fields(f);
        e.client = f.client;
        e.server = f.server;
        e.request = f.request.and_then(Request::parse);
        e.upstream = f.upstream;
        e.host = f.host;
    }
    Line::Event(e)
}

/// The message and the `client: …` context after it. The message itself may hold
/// anything an upstream wrote (FastCGI stderr), so the context is the first `, client: `
/// that is followed by an address and `, server: ` (or the end of a cut line).
fn split_context(msg: &str) -> (&str, Option<&str>) {
    let mut from = 0;
    while let Some(i) = msg[from..].find(", client: ") {
        let at = from + i;
        let rest = &msg[at + 10..];
        let addr_end = rest.find(", ").unwrap_or(rest.len());
        let addr = &rest[..addr_end];
        if !addr.contains(' ') && (rest[addr_end..].starts_with(", server: ") || addr_end == rest.len()) {
            return (&msg[..at], Some(rest));
        }
        from = at + 10;
    }
    (msg, None)
}

#[derive(Default)]
struct Fields<'a> {
    client: Option<&'a str>,
    server: Option<&'a str>,
    request: Option<&'a str>,
    upstream: Option<&'a str>,
    host: Option<&'a str>,
}

/// The fields nginx appends, in its order; quoted values may hold quotes themselves, so
/// each ends where the next known field starts.
fn context_fields(rest: &str) -> Fields<'_> {
    // `, name: "` starts a field; `", name: "` ends the one before it.
    const STARTS: [&str; 5] = [", request: \"", ", subrequest: \"", ", upstream: \"", ", host: \"", ", referrer: \""];
    const ENDS: [&str; 5] = ["\", request: \"", "\", subrequest: \"", "\", upstream: \"", "\", host: \"", "\", referrer: \""];
    let mut f = Fields::default();
    let client_end = rest.find(", server: ").unwrap_or(rest.len());
    f.client = Some(&rest[..client_end]);
    let mut rest = &rest[client_end..];
    if let Some(after) = rest.strip_prefix(", server: ") {
        let end = STARTS.iter().filter_map(|p| after.find(p)).min().unwrap_or(after.len());
        f.server = Some(&after[..end]);
        rest = &after[end..];
    }
    for i in 0..STARTS.len() {
        let Some(after) = rest.strip_prefix(STARTS[i]) else { continue };
        // The request line is the client's: a quote-and-field inside it must not end it
        // early, so it runs to nginx's own `upstream` field when there is one.
        let own_upstream = if i == 0 { after.rfind(ENDS[2]) } else { None };
        let end = own_upstream.or_else(|| ENDS[i + 1..].iter().filter_map(|p| after.find(p)).min());
        let (value, next) = match end {
            Some(e) => (&after[..e], &after[e + 1..]),
            None => (after.strip_suffix('"').unwrap_or(after), ""),
        };
        match i {
            0 => f.request = Some(value),
            2 => f.upstream = Some(value),
            3 => f.host = Some(value),
            _ => {}
        }
        rest = next;
    }
    f
}

/// `by zone "rl"` / `in limit_req zone "rl"`.
fn zone_name(message: &str) -> Option<&str> {
    let i = message.find("zone \"")?;
    let rest = &message[i + 6..];
    rest.find('"').map(|e| &rest[..e])
}

/// The errno of `… failed (N: text)`.
fn errno(message: &str) -> Option<u16> {
    let i = message.find(" failed (")?;
    let rest = &message[i + 9..];
    let end = rest.find(':')?;
    rest[..end].parse().ok()
}

/// What an nginx message (without stamp and context) is about.
pub fn nginx_kind(m: &str) -> Option<Kind> {
    if m.contains("(24: Too many open files)") {
        return Some(Kind::TooManyOpenFiles);
    }
    if m.starts_with("upstream timed out") {
        return Some(Kind::UpstreamTimedOut { phase: Phase::of(m) });
    }
    if m.starts_with("connect() ") {
        return errno(m).map(|errno| Kind::ConnectFailed { errno });
    }
    if (m.starts_with("recv() ") || m.starts_with("readv() ") || m.starts_with("writev() ") || m.starts_with("send() ") || m.starts_with("sendfile() "))
        && (m.contains("(104: ") || m.contains("(32: "))
        && m.contains("upstream")
    {
        return Some(Kind::ConnectionReset);
    }
    let kind = if m.starts_with("upstream prematurely closed") {
        Kind::PrematureClose
    } else if m.starts_with("upstream sent too big header") {
        Kind::TooBigHeader
    } else if m.starts_with("upstream sent invalid") || m.starts_with("upstream sent unsupported FastCGI protocol version") || m.starts_with("upstream sent unexpected FastCGI record") {
        Kind::InvalidHeader
    } else if m.starts_with("no live upstreams") {
        Kind::NoLiveUpstreams
    } else if m.starts_with("upstream server temporarily disabled") {
        Kind::ServerDisabled
    } else if m.starts_with("no resolver defined to resolve") {
        Kind::NoResolver
    } else if m.contains(" could not be resolved (") {
        Kind::NotResolved
    } else if m.starts_with("limiting requests") {
        Kind::LimitReq
    } else if m.starts_with("delaying request") {
        Kind::LimitReqDelay
    } else if m.starts_with("limiting connections") {
        Kind::LimitConn
    } else if m.starts_with("could not allocate node in limit_req zone") {
        Kind::LimitZoneFull
    } else if m.ends_with("worker_connections are not enough") || m.contains(" worker_connections are not enough") {
        Kind::WorkerConnections
    } else if m.starts_with("FastCGI sent in stderr: ") {
        if m.contains("Primary script unknown") {
            Kind::PrimaryScriptUnknown
        } else if m.contains("PHP Fatal error") {
            Kind::PhpFatal
        } else {
            return None;
        }
    } else {
        return None;
    };
    Some(kind)
}

const FPM_LEVELS: [&str; 5] = ["DEBUG", "NOTICE", "WARNING", "ERROR", "ALERT"];

/// After `[stamp] `: `LEVEL: message`, or a slowlog header ` [pool www] pid 1234`.
fn fpm_line<'a>(whole: &'a str, after: &'a str, time: Option<i64>) -> Line<'a> {
    if let Some(pool) = after.strip_prefix(" [pool ") {
        let Some(end) = pool.find(']') else { return Line::Unparsed };
        return Line::SlowHeader { time, pool: &pool[..end], line: whole };
    }
    let Some(colon) = after.find(": ") else { return Line::Unparsed };
    let level = &after[..colon];
    if !FPM_LEVELS.contains(&level) {
        return Line::Unparsed;
    }
    let mut msg = &after[colon + 2..];
    // log_level = debug: `pid 123, fpm_func(), line 12: ` before the message.
    if msg.starts_with("pid ") || msg.contains("(), line ") {
        if let Some(i) = msg.find("(), line ") {
            if let Some(c) = msg[i..].find(": ") {
                msg = &msg[i + c + 2..];
            }
        }
    }
    let Some(kind) = fpm_kind(level, msg) else { return Line::Other(time) };
    let mut e = Event::new(Origin::PhpFpm, kind, whole);
    e.time = time;
    e.level = level;
    e.pool = pool_name(msg);
    if kind == Kind::ExecutionTimedOut || kind == Kind::SlowRequest {
        if let Some(s) = msg.find("script '") {
            let rest = &msg[s + 8..];
            e.script = rest.find("' (request: \"").map(|end| &rest[..end]);
        }
        if let Some(r) = msg.find("(request: \"") {
            let rest = &msg[r + 11..];
            e.request = rest.find("\") ").and_then(|end| Request::parse(&rest[..end]));
        }
    }
    Line::Event(e)
}

fn pool_name(msg: &str) -> Option<&str> {
    let i = msg.find("[pool ")?;
    let rest = &msg[i + 6..];
    rest.find(']').map(|e| &rest[..e])
}

/// What a PHP-FPM message (after `LEVEL: `) is about.
pub fn fpm_kind(level: &str, m: &str) -> Option<Kind> {
    let kind = if m.contains("server reached pm.max_children setting") || m.contains("server reached max_children setting") {
        Kind::MaxChildren
    } else if m.contains("] seems busy") {
        Kind::SeemsBusy
    } else if m.contains("The maximum number of processes has been reached") {
        Kind::ProcessMax
    } else if let Some(i) = m.find(" exited on signal ") {
        let rest = &m[i + 18..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Kind::ChildSignal { signal: digits.parse().ok()? }
    } else if let Some(i) = m.find(" exited with code ") {
        let rest = &m[i + 18..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if digits == "0" {
            return None;
        }
        Kind::ChildExitCode
    } else if m.contains(" execution timed out (") {
        Kind::ExecutionTimedOut
    } else if m.contains(" executing too slow (") {
        Kind::SlowRequest
    } else if m.contains("failed processes threshold") {
        Kind::FailedThreshold
    } else if m.starts_with("Connection disallowed: IP address") {
        Kind::ConnectionDisallowed
    } else if m.contains("FPM initialization failed")
        || m.contains("unable to bind listening socket")
        || m.contains("unable to set listen address")
        || m.starts_with("Unable to globalize")
        || level == "ALERT"
        || (level == "ERROR" && m.starts_with('[') && m.contains(".conf:"))
    {
        Kind::FpmStartFailed
    } else {
        return None;
    };
    Some(kind)
}

/// The kind of a log line quoted in a rule's documentation, with or without its stamp,
/// level and context: the other half of the join from events to rules.
pub fn quoted_kind(text: &str) -> Option<Kind> {
    let t = text.trim().trim_start_matches("nginx: ");
    if let Line::Event(e) = line(t, Zone::Fixed(0)) {
        return Some(e.kind);
    }
    // `[error] 4242#4242: *17 limiting requests, …` without a stamp.
    let fake = format!("2000/01/01 00:00:00 {}", if t.starts_with('[') { t.to_string() } else { format!("[error] {t}") });
    if let Line::Event(e) = line(&fake, Zone::Fixed(0)) {
        return Some(e.kind);
    }
    let (level, msg) = match t.split_once(": ") {
        Some((l, m)) if FPM_LEVELS.contains(&l) => (l, m),
        _ => ("WARNING", t),
    };
    fpm_kind(level, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(text: &str) -> Event<'_> {
        match line(text, Zone::Fixed(0)) {
            Line::Event(e) => e,
            other => panic!("not an event: {other:?}"),
        }
    }

    #[test]
    fn nginx_connect_refused_with_context() {
        let e = event(r#"2025/01/20 10:00:05 [error] 812#812: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: shop.example.com, request: "GET /index.php?a=1 HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "shop.example.com:8080""#);
        assert_eq!(e.kind, Kind::ConnectFailed { errno: 111 });
        assert_eq!(e.level, "error");
        assert_eq!(e.time, Some(1737367205));
        assert_eq!(e.client, Some("127.0.0.1"));
        assert_eq!(e.server, Some("shop.example.com"));
        assert_eq!(e.request, Some(Request { method: "GET", target: "/index.php?a=1" }));
        assert_eq!(e.upstream, Some("fastcgi://127.0.0.1:9000"));
        assert_eq!(e.host, Some("shop.example.com:8080"));
    }

    #[test]
    fn nginx_empty_server_and_quotes_in_request() {
        let e = event(r#"2025/01/20 10:00:05 [crit] 812#812: *7 connect() to unix:/run/php/php8.1-fpm.sock failed (2: No such file or directory) while connecting to upstream, client: 10.0.0.1, server: , request: "GET /a", upstream: "b HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.1-fpm.sock:", host: "x""#);
        assert_eq!(e.kind, Kind::ConnectFailed { errno: 2 });
        assert_eq!(e.server, Some(""));
        assert_eq!(e.request.unwrap().target, "/a\",");
        assert_eq!(e.upstream, Some("fastcgi://unix:/run/php/php8.1-fpm.sock:"));
    }

    #[test]
    fn nginx_cut_line_keeps_what_is_there() {
        let e = event(r#"2025/01/20 10:00:05 [error] 1#1: *1 upstream sent too big header while reading response header from upstream, client: 1.2.3.4, server: a, request: "GET /very/long"#);
        assert_eq!(e.kind, Kind::TooBigHeader);
        assert_eq!(e.request.unwrap().target, "/very/long");
        assert_eq!(e.upstream, None);
    }

    #[test]
    fn nginx_kinds() {
        let k = |m: &str| nginx_kind(m);
        assert_eq!(k("upstream timed out (110: Connection timed out) while reading response header from upstream"), Some(Kind::UpstreamTimedOut { phase: Phase::ReadingHeader }));
        assert_eq!(k("upstream timed out (110: Operation timed out) while connecting to upstream"), Some(Kind::UpstreamTimedOut { phase: Phase::Connecting }));
        assert_eq!(k("recv() failed (104: Connection reset by peer) while reading response header from upstream"), Some(Kind::ConnectionReset));
        assert_eq!(k("limiting requests, excess: 1.000 by zone \"rl\""), Some(Kind::LimitReq));
        assert_eq!(k("limiting requests, dry run, excess: 1.000 by zone \"rl\""), Some(Kind::LimitReq));
        assert_eq!(k("socket() failed (24: Too many open files) while connecting to upstream"), Some(Kind::TooManyOpenFiles));
        assert_eq!(k("1024 worker_connections are not enough"), Some(Kind::WorkerConnections));
        assert_eq!(k("client closed keepalive connection"), None);
        assert_eq!(k("FastCGI sent in stderr: \"PHP message: PHP Warning:  x\""), None);
    }

    #[test]
    fn fpm_lines() {
        let e = event("[20-Jan-2025 10:00:05] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it");
        assert_eq!((e.kind, e.pool, e.time), (Kind::MaxChildren, Some("www"), Some(1737367205)));
        let e = event("[20-Jan-2025 10:00:05.123456] WARNING: pid 4242, fpm_pctl_perform_idle_server_maintenance(), line 397: [pool www] server reached max_children setting (1), consider raising it");
        assert_eq!((e.kind, e.pool), (Kind::MaxChildren, Some("www")));
        let e = event("[20-Jan-2025 10:00:05] WARNING: [pool shop] child 4581, script '/var/www/t.php' (request: \"GET /t.php?s=5\") execution timed out (2.162428 sec), terminating");
        assert_eq!((e.kind, e.pool, e.script), (Kind::ExecutionTimedOut, Some("shop"), Some("/var/www/t.php")));
        assert_eq!(e.request, Some(Request { method: "GET", target: "/t.php?s=5" }));
        let e = event("[20-Jan-2025 10:00:05] WARNING: [pool www] child 4581 exited on signal 9 (SIGKILL) after 35.123456 seconds from start");
        assert_eq!(e.kind, Kind::ChildSignal { signal: 9 });
        assert_eq!(line("[20-Jan-2025 10:00:05] NOTICE: [pool www] child 4581 exited with code 0 after 1.0 seconds from start", Zone::Fixed(0)), Line::Other(Some(1737367205)));
        assert_eq!(line("[20-Jan-2025 10:00:05] NOTICE: fpm is running, pid 42", Zone::Fixed(0)), Line::Other(Some(1737367205)));
    }

    #[test]
    fn slowlog_lines() {
        assert!(matches!(line("[20-Jan-2025 10:00:05]  [pool www] pid 1234", Zone::Fixed(0)), Line::SlowHeader { pool: "www", .. }));
        assert_eq!(line("script_filename = /var/www/t.php", Zone::Fixed(0)), Line::SlowScript("/var/www/t.php"));
        assert_eq!(line("[0x00007f0e4a613f00] usleep() /var/www/t.php:1", Zone::Fixed(0)), Line::SlowFrame("[0x00007f0e4a613f00] usleep() /var/www/t.php:1"));
    }

    #[test]
    fn garbage_and_collector_stamps() {
        assert_eq!(line("\u{0}\u{1}binary", Zone::Fixed(0)), Line::Unparsed);
        assert_eq!(line("2025/01/20 10:0", Zone::Fixed(0)), Line::Unparsed);
        let e = event("2025-01-20T09:00:05.5Z 2025/01/20 10:00:05 [error] 1#1: *1 no live upstreams while connecting to upstream, client: 1.2.3.4, server: a");
        assert_eq!((e.kind, e.time), (Kind::NoLiveUpstreams, Some(1737363605)));
        let e = event("2025-01-20T10:00:05+0100 web1 php-fpm8.2[812]: [20-Jan-2025 10:00:05] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it");
        assert_eq!((e.kind, e.pool, e.time), (Kind::MaxChildren, Some("www"), Some(1737363605)));
    }

    #[test]
    fn rule_quotes() {
        assert_eq!(quoted_kind("connect() to unix:/run/php/php8.1-fpm.sock failed (2: No such file or directory) while connecting to upstream"), Some(Kind::ConnectFailed { errno: 2 }));
        assert_eq!(quoted_kind("[error] 4242#4242: *17 limiting requests, excess: 1.000 by zone \"rl\", client: 127.0.0.1, server: , request: \"GET / HTTP/1.1\""), Some(Kind::LimitReq));
        assert_eq!(quoted_kind("WARNING: [pool www] server reached pm.max_children setting (5), consider raising it"), Some(Kind::MaxChildren));
        assert_eq!(quoted_kind("ERROR: [/etc/php/8.2/fpm/pool.d/www.conf:11] unknown entry 'pm.max_childs'"), Some(Kind::FpmStartFailed));
        assert_eq!(quoted_kind("(none: conflint's own finding)"), None);
    }
}
