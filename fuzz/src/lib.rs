//! Generated nginx + PHP-FPM trees for the fuzz targets: files named the way Debian lays
//! them out, made of directives that reach the resolver and the rules (includes, globs,
//! sockets on both sides, timeouts, pools) mixed with raw text, plus symlinks (into the
//! tree, absolute live-system paths, loops, out of the tree), directories and FIFOs.
//!
//! A tree is written under a fresh temporary directory, or rendered as an `nginx -T` dump.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use arbitrary::Arbitrary;

#[derive(Arbitrary, Debug)]
pub struct Tree {
    pub entries: Vec<Entry>,
    pub layout: Layout,
}

#[derive(Arbitrary, Debug)]
pub struct Layout {
    /// `--map-root /etc/nginx=nginx --map-root /etc/php/8.2/fpm=php/8.2/fpm`.
    pub map_roots: bool,
    /// `--prefix nginx`.
    pub prefix: bool,
    /// Lint from standard input as an `nginx -T` dump of the nginx files instead.
    pub dump: bool,
    /// Name one file (with `--in-project`) instead of the whole tree.
    pub named: Option<(Name, bool)>,
}

#[derive(Arbitrary, Debug)]
pub enum Entry {
    File(Name, Vec<Piece>),
    Raw(Name, Vec<u8>),
    Symlink(Name, Link),
    Dir(Name),
    Fifo(Name),
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    NginxConf,
    Site(u8),
    Available(u8),
    ConfD(u8),
    Snippet(u8),
    FastcgiParams,
    FpmConf,
    Pool(u8),
    Other(u8),
}

impl Name {
    /// The path below the tree root.
    pub fn rel(self) -> String {
        match self {
            Name::NginxConf => "nginx/nginx.conf".into(),
            Name::Site(n) => format!("nginx/sites-enabled/site{}", n % 4),
            Name::Available(n) => format!("nginx/sites-available/site{}", n % 4),
            Name::ConfD(n) => format!("nginx/conf.d/c{}.conf", n % 4),
            Name::Snippet(n) => format!("nginx/snippets/s{}.conf", n % 4),
            Name::FastcgiParams => "nginx/fastcgi_params".into(),
            Name::FpmConf => "php/8.2/fpm/php-fpm.conf".into(),
            Name::Pool(n) => format!("php/8.2/fpm/pool.d/p{}.conf", n % 4),
            Name::Other(n) => format!("misc/o{}.conf", n % 4),
        }
    }

    /// Where it lives on a live system.
    pub fn system(self) -> String {
        let rel = self.rel();
        if let Some(r) = rel.strip_prefix("nginx/") {
            format!("/etc/nginx/{r}")
        } else if let Some(r) = rel.strip_prefix("php/") {
            format!("/etc/php/{r}")
        } else {
            format!("/srv/{rel}")
        }
    }

    /// As an nginx include names it, relative to the conf prefix.
    fn from_prefix(self) -> String {
        let rel = self.rel();
        rel.strip_prefix("nginx/").map(str::to_string).unwrap_or_else(|| format!("../{rel}"))
    }
}

#[derive(Arbitrary, Debug)]
pub enum Link {
    /// Relative, to another name of the tree.
    To(Name),
    /// Absolute, the live-system path of a name (reaches the tree through a map-root).
    System(Name),
    ToSelf,
    /// Out of the tree: must never be read.
    Outside(OutsidePath),
    Dangling,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum OutsidePath {
    Passwd,
    Zero,
    Root,
    Parent,
}

impl OutsidePath {
    fn path(self) -> &'static str {
        match self {
            OutsidePath::Passwd => "/etc/passwd",
            OutsidePath::Zero => "/dev/zero",
            OutsidePath::Root => "/",
            OutsidePath::Parent => "../../../..",
        }
    }
}

#[derive(Arbitrary, Debug)]
pub enum IncludeArg {
    Name(Name),
    System(Name),
    Glob(GlobSel),
    Outside(OutsidePath),
    Missing,
    Text(String),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum GlobSel {
    SitesEnabled,
    ConfD,
    Snippets,
    SystemConfD,
    Pools,
    Everything,
}

impl GlobSel {
    fn nginx(self) -> &'static str {
        match self {
            GlobSel::SitesEnabled => "sites-enabled/*",
            GlobSel::ConfD => "conf.d/*.conf",
            GlobSel::Snippets => "snippets/*.conf",
            GlobSel::SystemConfD => "/etc/nginx/conf.d/*.conf",
            GlobSel::Pools => "/etc/php/8.2/fpm/pool.d/*.conf",
            GlobSel::Everything => "*",
        }
    }

    fn fpm(self) -> &'static str {
        match self {
            GlobSel::Pools | GlobSel::SitesEnabled => "/etc/php/8.2/fpm/pool.d/*.conf",
            GlobSel::ConfD => "pool.d/*.conf",
            GlobSel::Snippets => "/etc/php/8.2/fpm/*",
            GlobSel::SystemConfD => "/etc/nginx/conf.d/*.conf",
            GlobSel::Everything => "*",
        }
    }
}

/// A socket both sides can name.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Socket {
    Unix(u8),
    Tcp(u8),
    Upstream,
}

impl Socket {
    fn nginx(self) -> String {
        match self {
            Socket::Unix(n) => format!("unix:/run/php/php8.2-fpm-{}.sock", n % 3),
            Socket::Tcp(n) => format!("127.0.0.1:{}", 9000 + u16::from(n % 3)),
            Socket::Upstream => "php".into(),
        }
    }

    fn fpm(self) -> String {
        match self {
            Socket::Unix(n) => format!("/run/php/php8.2-fpm-{}.sock", n % 3),
            Socket::Tcp(n) => format!("127.0.0.1:{}", 9000 + u16::from(n % 3)),
            Socket::Upstream => "9000".into(),
        }
    }
}

#[derive(Arbitrary, Debug)]
pub enum Piece {
    Include(IncludeArg),
    Block(BlockKind, Vec<Piece>),
    FastcgiPass(Socket),
    Timeout(TimeoutSel, u16, Unit),
    FastcgiParam(bool),
    Listen(u16, bool),
    ServerName(u8),
    Root(bool),
    TryFiles(bool),
    LimitReq(bool, u8),
    Upstream(Socket),
    Directive(String, Vec<String>),
    Text(String),
    // PHP-FPM side.
    Section(u8),
    FpmListen(Socket),
    FpmListenOwner(u8),
    Pm(PmSel, u16),
    FpmInclude(FpmIncludeArg),
    FpmEntry(String, String),
}

#[derive(Arbitrary, Debug)]
pub enum FpmIncludeArg {
    Glob(GlobSel),
    Name(Name),
    Text(String),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum BlockKind {
    Http,
    Events,
    Server,
    PhpLocation,
    Location,
    If,
    Map,
    Stream,
    LuaBlock,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum TimeoutSel {
    FastcgiRead,
    FastcgiConnect,
    ProxyRead,
    KeepAlive,
    ClientBody,
    RequestTerminate,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Unit {
    None,
    S,
    M,
    Ms,
    H,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum PmSel {
    MaxChildren,
    StartServers,
    MinSpare,
    MaxSpare,
    MaxRequests,
    Dynamic,
    Static,
    Ondemand,
}

/// Nesting deeper than this is cut: deep trees only slow each run down.
const MAX_DEPTH: usize = 6;

pub fn render(pieces: &[Piece], out: &mut String, depth: usize) {
    let pad = "    ".repeat(depth);
    for p in pieces {
        out.push_str(&pad);
        match p {
            Piece::Include(arg) => {
                let arg = match arg {
                    IncludeArg::Name(n) => n.from_prefix(),
                    IncludeArg::System(n) => n.system(),
                    IncludeArg::Glob(g) => g.nginx().into(),
                    IncludeArg::Outside(o) => o.path().into(),
                    IncludeArg::Missing => "missing.conf".into(),
                    IncludeArg::Text(t) => t.clone(),
                };
                let _ = writeln!(out, "include {arg};");
            }
            Piece::Block(kind, inner) => {
                let head = match kind {
                    BlockKind::Http => "http".into(),
                    BlockKind::Events => "events".into(),
                    BlockKind::Server => "server".into(),
                    BlockKind::PhpLocation => r"location ~ \.php$".into(),
                    BlockKind::Location => format!("location /p{}", inner.len() % 3),
                    BlockKind::If => "if ($request_method = POST)".into(),
                    BlockKind::Map => "map $uri $m".into(),
                    BlockKind::Stream => "stream".into(),
                    BlockKind::LuaBlock => "content_by_lua_block".into(),
                };
                let _ = writeln!(out, "{head} {{");
                if depth < MAX_DEPTH {
                    render(inner, out, depth + 1);
                }
                let _ = writeln!(out, "{pad}}}");
            }
            Piece::FastcgiPass(s) => {
                let _ = writeln!(out, "fastcgi_pass {};", s.nginx());
            }
            Piece::Timeout(which, n, unit) => {
                let unit = match unit {
                    Unit::None => "",
                    Unit::S => "s",
                    Unit::M => "m",
                    Unit::Ms => "ms",
                    Unit::H => "h",
                };
                let _ = match which {
                    TimeoutSel::FastcgiRead => writeln!(out, "fastcgi_read_timeout {n}{unit};"),
                    TimeoutSel::FastcgiConnect => writeln!(out, "fastcgi_connect_timeout {n}{unit};"),
                    TimeoutSel::ProxyRead => writeln!(out, "proxy_read_timeout {n}{unit};"),
                    TimeoutSel::KeepAlive => writeln!(out, "keepalive_timeout {n}{unit};"),
                    TimeoutSel::ClientBody => writeln!(out, "client_body_timeout {n}{unit};"),
                    TimeoutSel::RequestTerminate => writeln!(out, "request_terminate_timeout = {n}{unit}"),
                };
            }
            Piece::FastcgiParam(script) => {
                if *script {
                    out.push_str("fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n");
                } else {
                    out.push_str("fastcgi_param QUERY_STRING $query_string;\n");
                }
            }
            Piece::Listen(port, ssl) => {
                let _ = writeln!(out, "listen {}{};", port % 3 + 80, if *ssl { " ssl" } else { "" });
            }
            Piece::ServerName(n) => {
                let _ = writeln!(out, "server_name s{}.example.com;", n % 3);
            }
            Piece::Root(real) => {
                out.push_str(if *real { "root /var/www/html;\n" } else { "root $doc;\n" });
            }
            Piece::TryFiles(php) => {
                out.push_str(if *php { "try_files $uri =404;\n" } else { "try_files $uri $uri/ /index.php?$args;\n" });
            }
            Piece::LimitReq(zone, burst) => {
                if *zone {
                    out.push_str("limit_req_zone $binary_remote_addr zone=z:10m rate=10r/s;\n");
                } else {
                    let _ = writeln!(out, "limit_req zone=z burst={};", burst);
                }
            }
            Piece::Upstream(s) => {
                let _ = writeln!(out, "upstream php {{ server {}; }}", match s {
                    Socket::Upstream => "127.0.0.1:9000".to_string(),
                    other => other.nginx(),
                });
            }
            Piece::Directive(name, args) => {
                let _ = writeln!(out, "{name} {};", args.join(" "));
            }
            Piece::Text(t) => {
                out.push_str(t);
                out.push('\n');
            }
            Piece::Section(n) => {
                let _ = writeln!(out, "[{}]", ["global", "www", "app", "site"][usize::from(n % 4)]);
            }
            Piece::FpmListen(s) => {
                let _ = writeln!(out, "listen = {}", s.fpm());
            }
            Piece::FpmListenOwner(n) => {
                let _ = writeln!(out, "listen.owner = {}", ["www-data", "nginx", "nobody"][usize::from(n % 3)]);
            }
            Piece::Pm(which, n) => {
                let _ = match which {
                    PmSel::MaxChildren => writeln!(out, "pm.max_children = {n}"),
                    PmSel::StartServers => writeln!(out, "pm.start_servers = {n}"),
                    PmSel::MinSpare => writeln!(out, "pm.min_spare_servers = {n}"),
                    PmSel::MaxSpare => writeln!(out, "pm.max_spare_servers = {n}"),
                    PmSel::MaxRequests => writeln!(out, "pm.max_requests = {n}"),
                    PmSel::Dynamic => writeln!(out, "pm = dynamic"),
                    PmSel::Static => writeln!(out, "pm = static"),
                    PmSel::Ondemand => writeln!(out, "pm = ondemand"),
                };
            }
            Piece::FpmInclude(arg) => {
                let arg = match arg {
                    FpmIncludeArg::Glob(g) => g.fpm().to_string(),
                    FpmIncludeArg::Name(n) => n.system(),
                    FpmIncludeArg::Text(t) => t.clone(),
                };
                let _ = writeln!(out, "include={arg}");
            }
            Piece::FpmEntry(k, v) => {
                let _ = writeln!(out, "{k} = {v}");
            }
        }
    }
}

/// A written tree: the temporary directory is removed when this is dropped.
pub struct Written {
    pub dir: tempfile::TempDir,
    /// The canonical root: nothing outside it may be read.
    pub root: PathBuf,
    pub settings: conflint::check::Settings,
    /// Standard input for the run (a dump), if any.
    pub stdin: Vec<u8>,
}

impl Tree {
    /// Each entry's bytes, last one of a name wins.
    fn files(&self) -> Vec<(Name, Vec<u8>)> {
        let mut files: Vec<(Name, Vec<u8>)> = Vec::new();
        for e in &self.entries {
            let (name, bytes) = match e {
                Entry::File(name, pieces) => {
                    let mut s = String::new();
                    render(pieces, &mut s, 0);
                    (*name, s.into_bytes())
                }
                Entry::Raw(name, bytes) => (*name, bytes.clone()),
                _ => continue,
            };
            files.retain(|(n, _)| *n != name);
            files.push((name, bytes));
        }
        files
    }

    /// The tree as `nginx -T` prints it: each nginx file under its live-system path.
    pub fn dump(&self) -> Vec<u8> {
        let mut out = b"nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n".to_vec();
        let mut files = self.files();
        files.sort_by_key(|(n, _)| *n != Name::NginxConf);
        for (name, bytes) in files {
            if name.rel().starts_with("nginx/") {
                out.extend_from_slice(format!("# configuration file {}:\n", name.system()).as_bytes());
                out.extend_from_slice(&bytes);
                out.push(b'\n');
            }
        }
        out
    }

    /// Write the tree and the settings to lint it with: every rule selected.
    pub fn write(&self) -> std::io::Result<Written> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().canonicalize()?;
        for e in &self.entries {
            let name = match e {
                Entry::File(n, _) | Entry::Raw(n, _) | Entry::Symlink(n, _) | Entry::Dir(n) | Entry::Fifo(n) => *n,
            };
            let path = root.join(name.rel());
            if std::fs::symlink_metadata(&path).is_ok() {
                continue;
            }
            std::fs::create_dir_all(path.parent().expect("names have a directory"))?;
            match e {
                Entry::File(..) | Entry::Raw(..) => {}
                Entry::Symlink(_, link) => {
                    let target = match link {
                        Link::To(to) => relative(&path, &root.join(to.rel())),
                        Link::System(to) => PathBuf::from(to.system()),
                        Link::ToSelf => PathBuf::from(path.file_name().expect("named")),
                        Link::Outside(o) => PathBuf::from(o.path()),
                        Link::Dangling => PathBuf::from("nowhere/at/all"),
                    };
                    std::os::unix::fs::symlink(target, &path)?;
                }
                Entry::Dir(_) => std::fs::create_dir_all(&path)?,
                Entry::Fifo(_) => {
                    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL in names");
                    // SAFETY: a valid NUL-terminated path.
                    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
            }
        }
        for (name, bytes) in self.files() {
            let path = root.join(name.rel());
            if std::fs::symlink_metadata(&path).is_err() {
                std::fs::create_dir_all(path.parent().expect("names have a directory"))?;
                std::fs::write(&path, bytes)?;
            }
        }
        let mut opts = conflint::workspace::Options { paths: vec![".".into()], cwd: root.clone(), ..Default::default() };
        if self.layout.map_roots {
            opts.map_roots = vec![
                (PathBuf::from("/etc/nginx"), root.join("nginx")),
                (PathBuf::from("/etc/php/8.2/fpm"), root.join("php/8.2/fpm")),
            ];
        }
        if self.layout.prefix {
            opts.prefix = Some(root.join("nginx"));
        }
        let mut stdin = Vec::new();
        if self.layout.dump {
            opts.paths = vec!["-".into()];
            stdin = self.dump();
        } else if let Some((name, in_project)) = self.layout.named {
            if std::fs::symlink_metadata(root.join(name.rel())).is_ok() {
                opts.paths = vec![name.rel()];
                opts.in_project = in_project;
                std::fs::write(root.join("conflint.toml"), "")?;
            }
        }
        let settings = conflint::check::Settings {
            workspace: opts,
            config: Default::default(),
            selection: conflint::check::Selection { select: Some(vec!["ALL".into()]), ..Default::default() },
            registry: conflint::rules::Registry::builtin(),
        };
        Ok(Written { dir, root, settings, stdin })
    }
}

/// `to` relative to the directory of `from`.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let base = from.parent().expect("has a directory");
    let common = base.components().zip(to.components()).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in base.components().skip(common) {
        out.push("..");
    }
    for c in to.components().skip(common) {
        out.push(c);
    }
    out
}

/// Every finding's places lie inside their files, and every file read from the disk lies
/// inside the tree.
pub fn check_linted(linted: &conflint::check::Linted, root: &Path) {
    let ws = &linted.workspace;
    for (_, src) in ws.sources.iter() {
        if let Some(p) = &src.disk_path {
            assert!(p.starts_with(root), "read a file outside the tree: {}", p.display());
        }
    }
    let in_file = |l: &conflint::finding::Location| {
        let len = ws.source(l.file).text.len();
        assert!(l.span.start <= l.span.end && l.span.end <= len, "span {:?} outside its file of {len} bytes", l.span);
    };
    for f in &linted.findings {
        in_file(&f.location);
        f.related.iter().for_each(|r| in_file(&r.location));
        if let Some(fix) = &f.fix {
            fix.edits.iter().for_each(|e| in_file(&e.location));
        }
    }
}
