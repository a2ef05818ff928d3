//! The nginx build: its version and configure arguments from `nginx -V`, and which of
//! nginx's own modules it has (built in, dynamic, or not at all).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{overrides, Version};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Build {
    pub version: Version,
    /// `configure arguments:` split at spaces (the `--with-cc-opt='…'` values are kept
    /// whole enough for the `--with`/`--without` words to be read).
    pub arguments: Vec<String>,
}

/// Whether a module of nginx's own source is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    Static,
    /// Built as a dynamic module: present once `load_module` loads this file stem.
    Dynamic(String),
    Absent,
}

/// `nginx -V` output (stderr), e.g. `nginx version: nginx/1.22.1` … `configure arguments: …`.
pub fn parse_v(output: &str) -> Option<Build> {
    let version = output.lines().find_map(|l| l.split_once("nginx version: ")).map(|(_, v)| v)?;
    let version = version.split('/').nth(1)?.split_whitespace().next()?.parse().ok()?;
    let arguments = output.lines().find_map(|l| l.strip_prefix("configure arguments:")).map(|a| a.split_whitespace().map(str::to_string).collect()).unwrap_or_default();
    Some(Build { version, arguments })
}

/// What `bin -V` says: read from the binary when it holds the two lines whole, else by
/// running it.
pub fn probe(bin: &Path) -> Option<Build> {
    read_v(bin).or_else(|| run_v(bin))
}

/// The lines `nginx -V` prints that conflint reads, found in the binary instead of by
/// running it (a process start that cost more than linting a small file): nginx writes
/// them as single string literals, `"nginx version: " NGINX_VER_BUILD NGX_LINEFEED` and
/// `"configure arguments:" NGX_CONFIGURE NGX_LINEFEED`, which the compiler keeps whole and
/// NUL-terminated. `None` unless both are there exactly so.
pub fn read_v(bin: &Path) -> Option<Build> {
    use std::os::unix::fs::FileExt;
    const CHUNK: u64 = 256 * 1024;
    // A line cut by a chunk boundary is found again in the bytes kept from the last chunk.
    const KEEP: usize = 16 * 1024;
    const MARKERS: [&[u8]; 2] = [b"nginx version: ", b"configure arguments:"];
    let file = std::fs::File::open(bin).ok()?;
    // String literals live in .rodata, a tenth of the binary; the whole file otherwise.
    let (mut at, end) = match rodata(&file) {
        Some((offset, size)) => (offset, offset + size),
        None => (0, file.metadata().ok()?.len()),
    };
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK as usize + KEEP);
    let mut lines: [Option<String>; 2] = [None, None];
    while at < end {
        let start = buf.len();
        let n = CHUNK.min(end - at);
        buf.resize(start + n as usize, 0);
        file.read_exact_at(&mut buf[start..], at).ok()?;
        at += n;
        for (marker, line) in MARKERS.iter().zip(lines.iter_mut()) {
            if line.is_none() {
                *line = memchr::memmem::find_iter(&buf, marker).find_map(|at| {
                    let len = memchr::memchr(b'\n', &buf[at..])?;
                    (buf.get(at + len + 1) == Some(&0)).then(|| String::from_utf8_lossy(&buf[at..at + len]).into_owned())
                });
            }
        }
        if let [Some(version), Some(arguments)] = &lines {
            return parse_v(&format!("{version}\n{arguments}\n"));
        }
        let keep_from = buf.len().saturating_sub(KEEP);
        buf.drain(..keep_from);
    }
    None
}

/// File offset and size of the `.rodata` section of a 64-bit little-endian ELF file.
fn rodata(file: &std::fs::File) -> Option<(u64, u64)> {
    use std::os::unix::fs::FileExt;
    let mut header = [0u8; 64];
    file.read_exact_at(&mut header, 0).ok()?;
    if &header[..6] != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as u64;
    let u64_at = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
    let (table, entry, count, names) = (u64_at(&header, 0x28), u16_at(&header, 0x3a), u16_at(&header, 0x3c), u16_at(&header, 0x3e));
    if entry < 0x40 || count == 0 || names >= count {
        return None;
    }
    let mut sections = vec![0u8; (entry * count) as usize];
    file.read_exact_at(&mut sections, table).ok()?;
    let section = |i: u64| &sections[(i * entry) as usize..][..0x40];
    // Each header: name offset (u32) at 0, file offset at 0x18, size at 0x20.
    let strtab = section(names);
    let mut strings = vec![0u8; u64_at(strtab, 0x20).min(1 << 20) as usize];
    file.read_exact_at(&mut strings, u64_at(strtab, 0x18)).ok()?;
    (0..count).map(section).find_map(|s| {
        let name = u32::from_le_bytes(s[..4].try_into().unwrap()) as usize;
        strings.get(name..)?.starts_with(b".rodata\0").then(|| (u64_at(s, 0x18), u64_at(s, 0x20)))
    })
}

/// Run `bin -V` (nothing of the configuration is passed; stopped after two seconds).
fn run_v(bin: &Path) -> Option<Build> {
    let mut child = Command::new(bin).arg("-V").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < Duration::from_secs(2) => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    parse_v(&format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout)))
}

/// `nginx` on PATH, else in the sbin directories where distributions put it.
pub fn on_path() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(std::path::PathBuf::from))
        .map(|d| d.join("nginx"))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

impl Build {
    /// Is one of `linted` (or a directory holding it) this nginx's own configuration
    /// directory (`--conf-path`'s, else `--prefix`/conf)?
    pub fn serves(&self, linted: &[std::path::PathBuf]) -> bool {
        let arg = |name: &str| self.arguments.iter().find_map(|a| a.strip_prefix(&format!("--{name}=")));
        let conf = match arg("conf-path") {
            Some(p) => Path::new(p).parent().map(Path::to_path_buf),
            None => Some(Path::new(arg("prefix").unwrap_or("/usr/local/nginx")).join("conf")),
        };
        let Some(conf) = conf.and_then(|c| c.canonicalize().ok()) else { return false };
        linted.iter().filter_map(|p| p.canonicalize().ok()).any(|p| p.starts_with(&conf) || conf.starts_with(&p))
    }

    fn has(&self, arg: &str) -> bool {
        self.arguments.iter().any(|a| a == arg)
    }

    /// Third-party modules compiled in (`--add-module`): their directives are unknowable.
    pub fn adds_static_modules(&self) -> bool {
        self.arguments.iter().any(|a| a.starts_with("--add-module"))
    }

    /// Whether nginx's module `module` is in this build, given the configure options of
    /// its release (`options`: `--with-http_ssl_module`, `--without-http_gzip_module`, …).
    pub fn presence(&self, module: &str, options: &[&str]) -> Presence {
        if overrides::NOT_ON_LINUX.contains(&module) {
            return Presence::Absent;
        }
        // Mail and stream modules exist only with their subsystem, which may be dynamic.
        let gate = ["mail", "stream"].into_iter().find(|s| module.starts_with(&format!("ngx_{s}_")));
        let gate_presence = match gate {
            Some(s) if self.has(&format!("--with-{s}")) => Presence::Static,
            Some(s) if self.has(&format!("--with-{s}=dynamic")) => Presence::Dynamic(format!("ngx_{s}_module")),
            Some(_) => return Presence::Absent,
            None => Presence::Static,
        };
        if module == "ngx_thread_pool_module" {
            return if self.has("--with-threads") { Presence::Static } else { Presence::Absent };
        }
        let Some(stem) = module.strip_prefix("ngx_") else { return gate_presence };
        let filterless = stem.replace("_filter_module", "_module");
        let option = options.iter().find_map(|o| {
            let name = o.strip_prefix("--without-").or_else(|| o.strip_prefix("--with-"))?;
            (name == stem || name == filterless).then_some((o.starts_with("--without-"), name))
        });
        match option {
            None => gate_presence,
            Some((true, name)) => if self.has(&format!("--without-{name}")) { Presence::Absent } else { gate_presence },
            Some((false, name)) => {
                if self.has(&format!("--with-{name}")) {
                    gate_presence
                } else if self.has(&format!("--with-{name}=dynamic")) {
                    Presence::Dynamic(module.to_string())
                } else {
                    Presence::Absent
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "nginx version: nginx/1.22.1\nbuilt with OpenSSL 3.0.11 19 Sep 2023\nTLS SNI support enabled\nconfigure arguments: --with-cc-opt='-g -O2' --prefix=/usr/share/nginx --with-compat --with-pcre-jit --with-http_ssl_module --with-http_stub_status_module --with-http_realip_module --with-http_auth_request_module --with-http_v2_module --with-http_dav_module --with-http_slice_module --with-threads --with-http_addition_module --with-http_flv_module --with-http_gunzip_module --with-http_gzip_static_module --with-http_mp4_module --with-http_random_index_module --with-http_secure_link_module --with-http_sub_module --with-mail_ssl_module --with-stream_ssl_module --with-stream_ssl_preread_module --with-stream_realip_module --with-http_geoip_module=dynamic --with-http_image_filter_module=dynamic --with-http_perl_module=dynamic --with-http_xslt_module=dynamic --with-mail=dynamic --with-stream=dynamic --with-stream_geoip_module=dynamic\n";

    /// A file holding the two literals as a compiler leaves them, the second one across
    /// the boundary of the scan's first chunk.
    #[test]
    fn the_build_is_read_from_the_binary_where_a_chunk_cuts_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("nginx");
        let (version, arguments) = DEBIAN.split_once("built with").unwrap();
        let arguments = &arguments[arguments.find("configure arguments:").unwrap()..];
        let mut bytes = vec![0x7fu8; 256 * 1024 - 40];
        bytes.extend_from_slice(b"\0");
        bytes.extend_from_slice(arguments.as_bytes());
        bytes.extend_from_slice(b"\0\x01\x02");
        bytes.extend_from_slice(version.as_bytes());
        bytes.extend_from_slice(b"\0");
        bytes.resize(bytes.len() + 300_000, 0x90);
        std::fs::write(&bin, &bytes).unwrap();
        assert_eq!(read_v(&bin), parse_v(DEBIAN));

        // Text that only mentions the marker (no NUL after its line) is not the literal.
        std::fs::write(&bin, b"see configure arguments: --prefix=/x\nnginx version: nginx/1.2.3\n\0").unwrap();
        assert_eq!(read_v(&bin), None);
    }

    #[test]
    fn debians_build_has_what_its_configure_line_says() {
        let b = parse_v(DEBIAN).unwrap();
        assert_eq!(b.version, Version(1, 22, 1));
        let options = super::super::nginx_table(b.version).configure_options;
        assert_eq!(b.presence("ngx_http_proxy_module", options), Presence::Static);
        assert_eq!(b.presence("ngx_http_ssl_module", options), Presence::Static);
        assert_eq!(b.presence("ngx_http_sub_filter_module", options), Presence::Static);
        assert_eq!(b.presence("ngx_http_geoip_module", options), Presence::Dynamic("ngx_http_geoip_module".into()));
        assert_eq!(b.presence("ngx_http_xslt_filter_module", options), Presence::Dynamic("ngx_http_xslt_filter_module".into()));
        assert_eq!(b.presence("ngx_http_degradation_module", options), Presence::Absent);
        assert_eq!(b.presence("ngx_stream_proxy_module", options), Presence::Dynamic("ngx_stream_module".into()));
        assert_eq!(b.presence("ngx_stream_geoip_module", options), Presence::Dynamic("ngx_stream_geoip_module".into()));
        assert_eq!(b.presence("ngx_mail_proxy_module", options), Presence::Dynamic("ngx_mail_module".into()));
        assert_eq!(b.presence("ngx_kqueue_module", options), Presence::Absent);
        assert_eq!(b.presence("ngx_thread_pool_module", options), Presence::Static);
        assert!(!b.adds_static_modules());
    }

    #[test]
    fn the_build_counts_only_for_its_own_configuration_directory() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("etc/nginx");
        let checkout = dir.path().join("home/ops/infra/nginx");
        std::fs::create_dir_all(conf.join("sites-enabled")).unwrap();
        std::fs::create_dir_all(&checkout).unwrap();
        let b = Build { version: Version(1, 22, 1), arguments: vec![format!("--conf-path={}/nginx.conf", conf.display())] };
        assert!(b.serves(std::slice::from_ref(&conf)));
        assert!(b.serves(&[conf.join("sites-enabled")]), "a part of it");
        assert!(b.serves(&[dir.path().join("etc")]), "a directory holding it");
        assert!(!b.serves(&[checkout]), "a checkout elsewhere");
        assert!(!b.serves(&[dir.path().join("missing")]));
    }
}
