//! The errors in what `nginx -t` and `php-fpm -t` print, with the file and line they name,
//! so that an error can be compared before and after a fix and tied to a finding.

/// One error line: its words without time stamp, level or process id, and the path and
/// line it names, as printed.
#[derive(Debug, PartialEq, Eq)]
pub struct Raw {
    pub message: String,
    pub at: Option<(String, usize)>,
}

/// The error lines of a validator's output, in order. Warnings and notices are not errors.
pub fn errors(output: &str) -> Vec<Raw> {
    const MARKERS: &[&str] = &["[emerg] ", "[alert] ", "[crit] ", "ERROR: ", "ALERT: ", "Fatal Error "];
    let mut out = Vec::new();
    for line in output.lines() {
        let Some((at, marker)) = MARKERS.iter().filter_map(|m| line.find(m).map(|i| (i, m))).min() else { continue };
        let mut message = line[at + marker.len()..].trim();
        // nginx's log lines: `2026/12/03 12:33:50 [emerg] 26961#26961: message`.
        if let Some((pid, rest)) = message.split_once(": ") {
            if pid.split('#').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) && pid.contains('#') {
                message = rest;
            }
        }
        out.push(Raw { message: message.to_string(), at: location(message) });
    }
    out
}

/// nginx ends a message with ` in /etc/nginx/x.conf:12`; php-fpm starts it with
/// `[/etc/php/8.2/fpm/pool.d/www.conf:5] `.
fn location(message: &str) -> Option<(String, usize)> {
    let split = |s: &str| -> Option<(String, usize)> {
        let (path, line) = s.rsplit_once(':')?;
        let line = line.parse().ok()?;
        path.starts_with('/').then(|| (path.to_string(), line))
    };
    if let Some(rest) = message.strip_prefix('[') {
        if let Some((inner, _)) = rest.split_once("] ") {
            if let Some(found) = split(inner) {
                return Some(found);
            }
        }
    }
    message.rsplit_once(" in ").and_then(|(_, tail)| split(tail.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str, line: usize) -> Option<(String, usize)> {
        Some((path.into(), line))
    }

    #[test]
    fn nginx_errors_with_and_without_a_place() {
        let out = "nginx: [warn] the \"user\" directive makes sense only if the master process runs with super-user privileges, ignored in /etc/nginx/nginx.conf:1\n\
                   nginx: [emerg] unknown directive \"proxy_pas\" in /etc/nginx/sites-enabled/api.conf:20\n\
                   nginx: configuration file /etc/nginx/nginx.conf test failed\n";
        assert_eq!(errors(out), vec![Raw { message: "unknown directive \"proxy_pas\" in /etc/nginx/sites-enabled/api.conf:20".into(), at: at("/etc/nginx/sites-enabled/api.conf", 20) }]);
        let logged = "2026/12/03 12:33:50 [emerg] 26961#26961: cannot load certificate \"/etc/x.pem\": BIO_new_file() failed\n";
        assert_eq!(errors(logged), vec![Raw { message: "cannot load certificate \"/etc/x.pem\": BIO_new_file() failed".into(), at: None }]);
        assert_eq!(errors("nginx: [emerg] zero size shared memory zone \"nosuch\"\n")[0].at, None);
    }

    #[test]
    fn php_fpm_errors() {
        let out = "[03-Dec-2026 12:30:07] ERROR: [/etc/php/8.2/fpm/pool.d/www.conf:5] unknown entry 'pm.max_chidren'\n\
                   [03-Dec-2026 12:30:07] ERROR: Unable to include /etc/php/8.2/fpm/pool.d/www.conf from /etc/php/8.2/fpm/php-fpm.conf at line 143\n\
                   [03-Dec-2026 12:30:07] WARNING: Nothing matches the include pattern\n\
                   [03-Dec-2026 12:30:07] ERROR: FPM initialization failed\n";
        let e = errors(out);
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(e[0], Raw { message: "[/etc/php/8.2/fpm/pool.d/www.conf:5] unknown entry 'pm.max_chidren'".into(), at: at("/etc/php/8.2/fpm/pool.d/www.conf", 5) });
        assert_eq!(e[1].at, None);
        let lock = "Thu Dec  3 12:30:07 2026 (20357): Fatal Error Unable to create lock file: Read-only file system (30)\n";
        assert_eq!(errors(lock)[0].message, "Unable to create lock file: Read-only file system (30)");
    }
}
