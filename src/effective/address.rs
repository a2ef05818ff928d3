//! Socket addresses as PHP-FPM binds them (`listen`) and as nginx connects to them
//! (`fastcgi_pass`), normalised so the two sides can be compared.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Component, Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// `listen = 9000`: every address (`::` dual-stack, or `0.0.0.0`).
    Any,
    Ip(IpAddr),
    /// A name that needs resolving (`localhost`, `php`).
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Addr {
    Unix(PathBuf),
    Tcp { host: Host, port: u32 },
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Addr::Unix(p) => write!(f, "unix:{}", p.display()),
            Addr::Tcp { host: Host::Any, port } => write!(f, "*:{port}"),
            Addr::Tcp { host: Host::Ip(IpAddr::V6(ip)), port } => write!(f, "[{ip}]:{port}"),
            Addr::Tcp { host: Host::Ip(ip), port } => write!(f, "{ip}:{port}"),
            Addr::Tcp { host: Host::Name(n), port } => write!(f, "{n}:{port}"),
        }
    }
}

/// PHP-FPM's `listen` (`fpm_sockets_domain_from_address`): a `:` or all digits is TCP,
/// anything else a unix socket; relative socket paths are under the pool/FPM prefix.
pub fn fpm_listen(value: &str, prefix: &Path) -> Option<Addr> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Addr::Tcp { host: Host::Any, port: v.parse().ok()? });
    }
    if v.contains(':') {
        return tcp(v);
    }
    let path = Path::new(v);
    Some(Addr::Unix(normalize(if path.is_absolute() { path.to_path_buf() } else { prefix.join(path) })))
}

/// nginx's `fastcgi_pass` / upstream `server` target: `unix:/path`, `host:port`,
/// `[v6]:port`. `None` for variables and bare names (upstream names or no port).
pub fn nginx_target(value: &str) -> Option<Addr> {
    if value.contains('$') {
        return None;
    }
    if let Some(path) = value.strip_prefix("unix:") {
        return Some(Addr::Unix(normalize(PathBuf::from(path))));
    }
    let v = value.strip_prefix("http://").unwrap_or(value);
    let v = v.split('/').next().unwrap_or(v);
    if !v.contains(':') {
        return None;
    }
    tcp(v)
}

fn tcp(v: &str) -> Option<Addr> {
    let (host, port) = if let Some(rest) = v.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        (Host::Ip(IpAddr::V6(h.parse::<Ipv6Addr>().ok()?)), p)
    } else {
        let (h, p) = v.rsplit_once(':')?;
        // PHP-FPM hands anything that is not an IP literal to getaddrinfo, `*` included
        // (it binds the first address that returns, like for any name).
        let host = match h.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(h.to_ascii_lowercase()),
        };
        (host, p)
    };
    // PHP-FPM reads the port with atoi: `9000x` is 9000.
    let digits: String = port.chars().take_while(char::is_ascii_digit).collect();
    Some(Addr::Tcp { host, port: digits.parse().ok()? })
}

/// What two addresses must share to possibly meet: the socket path, or the TCP port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeetingKey<'a> {
    Unix(&'a Path),
    Port(u32),
}

impl std::hash::Hash for MeetingKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            // `Path` hashes itself component-aware, byte by byte. The last segment agrees
            // with its component-wise equality (`.` and `..` hash alike, and socket paths
            // are normalised anyway) and is far cheaper to hash.
            MeetingKey::Unix(path) => {
                let bytes = path.as_os_str().as_encoded_bytes();
                let trimmed = &bytes[..bytes.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1)];
                let last = trimmed.rsplit(|&b| b == b'/').next().unwrap_or_default();
                if last != b"." && last != b".." {
                    last.hash(state);
                }
            }
            MeetingKey::Port(port) => port.hash(state),
        }
    }
}

pub fn meeting_key(a: &Addr) -> MeetingKey<'_> {
    match a {
        Addr::Unix(p) => MeetingKey::Unix(p),
        Addr::Tcp { port, .. } => MeetingKey::Port(*port),
    }
}

/// Fold `.`, `..` and `//` without touching the filesystem.
fn normalize(path: PathBuf) -> PathBuf {
    // Most socket paths are already clean; walking components is the slow part of a join
    // over thousands of pools.
    let bytes = path.as_os_str().as_encoded_bytes();
    let clean = bytes.first() == Some(&b'/') && bytes[1..].split(|&b| b == b'/').all(|seg| !matches!(seg, b"" | b"." | b".."));
    if clean {
        return path;
    }
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl Host {
    fn is_unspecified(&self) -> bool {
        match self {
            Host::Any => true,
            Host::Ip(ip) => ip.is_unspecified(),
            Host::Name(_) => false,
        }
    }
}

/// Could a client connecting to `target` reach a socket bound to `listen`? `[::]` takes
/// IPv4 too (Linux's default `bindv6only = 0`; verified with php-fpm 8.2), `0.0.0.0` only
/// IPv4, a bare port both. `localhost` stands for its loopback addresses on either side; a
/// `listen` host name other than `localhost` is resolved where PHP-FPM runs and may be
/// anything.
pub fn reaches(target: &Addr, listen: &Addr) -> bool {
    match (target, listen) {
        (Addr::Unix(a), Addr::Unix(b)) => a == b,
        (Addr::Tcp { host: th, port: tp }, Addr::Tcp { host: lh, port: lp }) => {
            if tp != lp {
                return false;
            }
            let t = addresses(th);
            match lh {
                Host::Any => true,
                Host::Ip(IpAddr::V6(ip)) if ip.is_unspecified() => true,
                // A target host name (a container's) usually resolves to IPv4.
                Host::Ip(IpAddr::V4(ip)) if ip.is_unspecified() => t.is_empty() || t.iter().any(IpAddr::is_ipv4),
                Host::Name(n) if n != "localhost" => true,
                _ => {
                    let l = addresses(lh);
                    t.iter().any(|a| l.contains(a))
                }
            }
        }
        _ => false,
    }
}

/// Is `target` on the host the tree describes, so that the tree can tell whether anything
/// listens there? Unix sockets, loopback addresses, `localhost`, and the IP addresses its
/// pools bind explicitly are; other hosts (a Compose service `php:9000`, a remote
/// address) are not in the files.
pub fn is_local<'a>(target: &Addr, mut bound: impl Iterator<Item = &'a Addr>) -> bool {
    match target {
        Addr::Unix(_) => true,
        Addr::Tcp { host: Host::Ip(ip), .. } => ip.is_loopback() || ip.is_unspecified() || bound.any(|l| matches!(l, Addr::Tcp { host: Host::Ip(b), .. } if b == ip)),
        Addr::Tcp { host: Host::Name(n), .. } => n == "localhost",
        Addr::Tcp { host: Host::Any, .. } => true,
    }
}

/// The loopback families a `listen` address accepts connections on: (IPv4, IPv6).
pub fn loopback_families(listen: &Addr) -> (bool, bool) {
    match listen {
        Addr::Tcp { host: Host::Any, .. } => (true, true),
        Addr::Tcp { host: Host::Ip(IpAddr::V6(ip)), .. } if ip.is_unspecified() => (true, true),
        Addr::Tcp { host: Host::Ip(IpAddr::V4(ip)), .. } => (ip.is_unspecified() || ip.is_loopback(), false),
        Addr::Tcp { host: Host::Ip(IpAddr::V6(ip)), .. } => (false, ip.is_loopback()),
        // `localhost` binds one of the two, depending on the host's resolver.
        _ => (false, false),
    }
}

/// Do two `listen` addresses collide when bound?
pub fn collide(a: &Addr, b: &Addr) -> bool {
    match (a, b) {
        (Addr::Unix(x), Addr::Unix(y)) => x == y,
        (Addr::Tcp { host: ha, port: pa }, Addr::Tcp { host: hb, port: pb }) => {
            pa == pb && (ha.is_unspecified() || hb.is_unspecified() || addresses(ha).iter().any(|x| addresses(hb).contains(x)))
        }
        _ => false,
    }
}

fn addresses(h: &Host) -> Vec<IpAddr> {
    match h {
        Host::Any => vec![IpAddr::V6(Ipv6Addr::UNSPECIFIED), IpAddr::V4(Ipv4Addr::UNSPECIFIED)],
        Host::Ip(ip) => vec![*ip],
        Host::Name(n) if n == "localhost" => vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)],
        Host::Name(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fpm_listen_forms() {
        let p = Path::new("/usr");
        assert_eq!(fpm_listen("9000", p), Some(Addr::Tcp { host: Host::Any, port: 9000 }));
        assert_eq!(fpm_listen("/run/php//a.sock", p), Some(Addr::Unix("/run/php/a.sock".into())));
        assert_eq!(fpm_listen("php.sock", p), Some(Addr::Unix("/usr/php.sock".into())));
        assert_eq!(fpm_listen("[::1]:9000", p), Some(Addr::Tcp { host: Host::Ip("::1".parse().unwrap()), port: 9000 }));
        assert_eq!(fpm_listen("localhost:9000", p), Some(Addr::Tcp { host: Host::Name("localhost".into()), port: 9000 }));
        assert_eq!(fpm_listen("*:9000", p), Some(Addr::Tcp { host: Host::Name("*".into()), port: 9000 }), "getaddrinfo(\"*\")");
    }

    #[test]
    fn nginx_reaches_fpm() {
        let p = Path::new("/usr");
        let l = |s| fpm_listen(s, p).unwrap();
        let t = |s| nginx_target(s).unwrap();
        assert!(reaches(&t("127.0.0.1:9000"), &l("9000")), "9000 listens on every address");
        assert!(!reaches(&t("127.0.0.1:9000"), &l("[::1]:9000")));
        assert!(reaches(&t("unix:/run/php/php8.2-fpm.sock"), &l("/run/php/php8.2-fpm.sock")));
        assert!(!reaches(&t("unix:/run/php/php8.1-fpm.sock"), &l("/run/php/php8.2-fpm.sock")));
        assert!(reaches(&t("localhost:9000"), &l("127.0.0.1:9000")));
        assert!(reaches(&t("127.0.0.1:9000"), &l("[::]:9000")), "[::] is dual-stack on Linux");
        assert!(reaches(&t("[::1]:9000"), &l("[::]:9000")));
        assert!(reaches(&t("127.0.0.1:9000"), &l("0.0.0.0:9000")));
        assert!(!reaches(&t("[::1]:9000"), &l("0.0.0.0:9000")), "0.0.0.0 is IPv4 only");
        assert!(reaches(&t("[::1]:9000"), &l("9000")), "a bare port is both families");
        assert!(reaches(&t("127.0.0.1:9000"), &l("php:9000")), "a listen host name resolves where PHP-FPM runs");
        assert_eq!(nginx_target("php_backend"), None);
        assert_eq!(nginx_target("$backend"), None);
    }

    #[test]
    fn only_the_trees_own_host_can_be_judged() {
        let p = Path::new("/usr");
        let bound = [fpm_listen("10.0.0.5:9000", p).unwrap()];
        let local = |s| is_local(&nginx_target(s).unwrap(), bound.iter());
        assert!(local("unix:/run/php/fpm.sock"));
        assert!(local("127.0.0.1:9000"));
        assert!(local("[::1]:9000"));
        assert!(local("localhost:9000"));
        assert!(local("10.0.0.5:9001"), "a pool of the tree binds that address");
        assert!(!local("php:9000"), "a Compose service name");
        assert!(!local("192.168.1.20:9000"), "another host");
    }

    #[test]
    fn listen_collisions() {
        let p = Path::new("/usr");
        let l = |s| fpm_listen(s, p).unwrap();
        assert!(collide(&l("9000"), &l("0.0.0.0:9000")));
        assert!(collide(&l("/run/a.sock"), &l("/run//a.sock")));
        assert!(!collide(&l("127.0.0.1:9000"), &l("127.0.0.1:9001")));
        assert!(!collide(&l("127.0.0.1:9000"), &l("[::1]:9000")));
    }
}
