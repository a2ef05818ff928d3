//! Which logs to read, and reading them line by line in flat memory: plain files, gzip
//! (rotated `error.log.2.gz`, recognised by its magic bytes), standard input.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::effective::nginx::NginxView;
use crate::workspace::Workspace;

/// Who wrote a log, as far as the configuration tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Writer {
    Nginx,
    PhpFpm,
    Slowlog,
    /// Given with `--log`: each line says which format it is in.
    Given,
}

#[derive(Clone, Debug)]
pub struct LogSpec {
    /// Real path, or `-` for standard input.
    pub path: PathBuf,
    pub writer: Writer,
    /// The PHP-FPM configuration (index into `Workspace::fpm`) that names this log.
    pub fpm_config: Option<usize>,
    /// Where the configuration names it (`nginx.conf:3`), for the report.
    pub named_at: Option<String>,
}

/// nginx's `--prefix` in Debian's build: relative `error_log` paths are below it.
pub const NGINX_PREFIX: &str = "/usr/share/nginx";
/// Debian's compiled-in `--error-log-path`, used when no `error_log` is in the main context.
pub const NGINX_DEFAULT_ERROR_LOG: &str = "/var/log/nginx/error.log";
/// PHP-FPM's default `error_log` for Debian's build (`localstatedir` = /var).
pub const FPM_DEFAULT_ERROR_LOG: &str = "/var/log/php-fpm.log";

/// The error logs the configuration names, with notes on those that are not files.
pub fn from_config(ws: &Workspace, view: &NginxView) -> (Vec<LogSpec>, Vec<String>) {
    let mut logs: Vec<LogSpec> = Vec::new();
    let mut notes = Vec::new();
    let at = |loc: crate::finding::Location| {
        let src = ws.source(loc.file);
        format!("{}:{}", src.display, src.position(loc.span.start()).line)
    };
    let push = |logs: &mut Vec<LogSpec>, spec: LogSpec| {
        if !logs.iter().any(|l| l.path == spec.path) {
            logs.push(spec);
        }
    };
    for (_, p) in view.named("error_log") {
        let Some(target) = p.arg(0) else { continue };
        if target == "stderr" || target.starts_with("syslog:") || target.starts_with("memory:") || target == "/dev/null" {
            notes.push(format!("{}: error_log {target} is not a file: give its lines with --log - (for example `journalctl -o short-iso -u nginx | conflint diagnose --log -`)", at(p.location())));
            continue;
        }
        let path = if Path::new(target).is_absolute() { PathBuf::from(target) } else { Path::new(NGINX_PREFIX).join(target) };
        push(&mut logs, LogSpec { path, writer: Writer::Nginx, fpm_config: None, named_at: Some(at(p.location())) });
    }
    let main_sets_it = view.tops.iter().any(|&t| view.scope(t).context == Context::Main && view.first_here(t, "error_log").is_some());
    if !ws.nginx_roots.is_empty() && !main_sets_it {
        push(&mut logs, LogSpec { path: NGINX_DEFAULT_ERROR_LOG.into(), writer: Writer::Nginx, fpm_config: None, named_at: None });
    }
    for (i, config) in ws.fpm.iter().enumerate() {
        if config.fragment {
            continue;
        }
        let prefix = &ws.fpm_prefix;
        match config.global.iter().rev().find(|s| s.name == "error_log") {
            Some(s) if &*s.value.text == "syslog" => notes.push(format!("{}: PHP-FPM logs to syslog: give its lines with --log -", at(s.location))),
            Some(s) => {
                let text: &str = &s.value.text;
                let path = if Path::new(text).is_absolute() { PathBuf::from(text) } else { prefix.join(text) };
                push(&mut logs, LogSpec { path, writer: Writer::PhpFpm, fpm_config: Some(i), named_at: Some(at(s.location)) });
            }
            None => push(&mut logs, LogSpec { path: FPM_DEFAULT_ERROR_LOG.into(), writer: Writer::PhpFpm, fpm_config: Some(i), named_at: None }),
        }
        for pool in &config.pools {
            let view = crate::effective::fpm::PoolView { config, pool };
            let slow = view.seconds(crate::pool_key!("request_slowlog_timeout")).unwrap_or(0);
            let Some(s) = view.get(crate::pool_key!("slowlog")).filter(|_| slow > 0) else { continue };
            let text = s.value.text.replace("$pool", &pool.name);
            let path = if Path::new(&text).is_absolute() { PathBuf::from(&text) } else { prefix.join(&text) };
            push(&mut logs, LogSpec { path, writer: Writer::Slowlog, fpm_config: Some(i), named_at: Some(at(s.location)) });
        }
    }
    (logs, notes)
}

use crate::workspace::Context;

/// Rotated predecessors of `path`, newest first: `error.log.1`, `error.log.2.gz`, …, and
/// logrotate's `dateext` names (`error.log-20250120.gz`).
pub fn rotated(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else { return Vec::new() };
    let mut found: Vec<(i64, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        let Some(rest) = file.strip_prefix(name) else { continue };
        let bare = rest.strip_suffix(".gz").unwrap_or(rest);
        let key = if let Some(n) = bare.strip_prefix('.') {
            n.parse::<i64>().ok()
        } else if let Some(date) = bare.strip_prefix('-') {
            // Newer dates first: a larger date is a smaller key.
            date.parse::<i64>().ok().filter(|_| date.len() >= 8).map(|d| -d)
        } else {
            None
        };
        if let Some(k) = key {
            found.push((k, dir.join(file)));
        }
    }
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// Lines longer than this are cut (nginx itself writes at most 2048 bytes a line); the
/// rest of such a line is skipped, so a file without newlines cannot grow memory.
pub const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Default, Clone, Copy)]
pub struct ReadStats {
    pub lines: u64,
    /// Lines that were not valid UTF-8 (read lossily).
    pub not_utf8: u64,
    pub cut: u64,
}

/// Why a log stopped early.
#[derive(Debug)]
pub struct Interrupted {
    pub stats: ReadStats,
    pub error: std::io::Error,
}

/// Open a log (transparently gunzipping) for [`each_line`].
pub fn open(path: &Path) -> std::io::Result<Box<dyn Read>> {
    let mut f = std::fs::File::open(path)?;
    if f.metadata()?.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let mut magic = [0u8; 2];
    let n = read_full(&mut f, &mut magic)?;
    use std::io::Seek;
    f.seek(std::io::SeekFrom::Start(0))?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, f))))
    } else {
        Ok(Box::new(f))
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Call `f` with every line (1-based number, text without the newline). Memory stays at
/// one buffer and one line whatever the file holds.
pub fn each_line(input: impl Read, mut f: impl FnMut(u64, &str)) -> Result<ReadStats, Interrupted> {
    let mut r = BufReader::with_capacity(1 << 18, input);
    let mut stats = ReadStats::default();
    let mut line: Vec<u8> = Vec::with_capacity(4096);
    let mut cut = false;
    let mut emit = |line: &mut Vec<u8>, cut: &mut bool, stats: &mut ReadStats| {
        stats.lines += 1;
        if *cut {
            stats.cut += 1;
        }
        match std::str::from_utf8(line) {
            Ok(s) => f(stats.lines, s),
            Err(_) => {
                stats.not_utf8 += 1;
                f(stats.lines, &String::from_utf8_lossy(line));
            }
        }
        line.clear();
        *cut = false;
    };
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                if !line.is_empty() {
                    emit(&mut line, &mut cut, &mut stats);
                }
                return Err(Interrupted { stats, error });
            }
        };
        if buf.is_empty() {
            if !line.is_empty() {
                emit(&mut line, &mut cut, &mut stats);
            }
            return Ok(stats);
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i, i + 1),
            None => (buf.len(), buf.len()),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        if take > room {
            cut = true;
        }
        line.extend_from_slice(&buf[..take.min(room)]);
        let newline = done > take;
        r.consume(done);
        if newline {
            emit(&mut line, &mut cut, &mut stats);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> (Vec<String>, ReadStats) {
        let mut out = Vec::new();
        let stats = each_line(input, |_, l| out.push(l.to_string())).unwrap();
        (out, stats)
    }

    #[test]
    fn lines_cut_and_lossy() {
        let (l, s) = lines(b"a\nb\r\n\xff\xfe\nlast");
        assert_eq!(l, ["a", "b\r", "\u{fffd}\u{fffd}", "last"]);
        assert_eq!((s.lines, s.not_utf8), (4, 1));
        let long = vec![b'x'; MAX_LINE * 3];
        let (l, s) = lines(&[&long[..], b"\nok\n"].concat());
        assert_eq!((l[0].len(), l[1].as_str(), s.cut), (MAX_LINE, "ok", 1));
    }

    #[test]
    fn gzip_and_rotation() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("error.log");
        std::fs::write(&p, "new\n").unwrap();
        std::fs::write(dir.path().join("error.log.1"), "older\n").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"oldest\n").unwrap();
        std::fs::write(dir.path().join("error.log.2.gz"), gz.finish().unwrap()).unwrap();
        std::fs::write(dir.path().join("error.log.bak"), "no\n").unwrap();
        let r = rotated(&p);
        assert_eq!(r, [dir.path().join("error.log.1"), dir.path().join("error.log.2.gz")]);
        let mut got = Vec::new();
        each_line(open(&r[1]).unwrap(), |_, l| got.push(l.to_string())).unwrap();
        assert_eq!(got, ["oldest"]);
    }

    #[test]
    fn truncated_gzip_keeps_the_lines_before() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..2000 {
            writeln!(gz, "line {i} with some text to compress").unwrap();
        }
        let bytes = gz.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.gz");
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let mut n = 0;
        let err = each_line(open(&p).unwrap(), |_, _| n += 1).unwrap_err();
        assert!(n > 0 && err.stats.lines == n);
    }
}
