//! Running a validator in a private mount and network namespace, so that what it writes
//! (pid file, logs, temp directories and their chown, unix sockets) and what it binds
//! never reaches the live system, and the staged copy is seen at the live paths.
//!
//! Inside the namespace every existing mount is first made read-only (a second line of
//! defence for writes nobody thought of); directories the validator must write to get a
//! copy-on-write overlay whose upper layer is a tmpfs, so existing content stays visible
//! and nothing is written through. Mounts made there are private to the namespace.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use super::process::{self, RunError};

/// The validator's own output streams (a container's `error_log /dev/stderr;`): writing
/// them reaches the captured output, not the live system, so nothing is overlaid for them.
/// Any other path under /dev or /proc is not confined and makes the namespace unusable.
const STDIO: &[&str] = &["/dev/stdout", "/dev/stderr", "/dev/null", "/proc/self/fd/1", "/proc/self/fd/2"];

/// Printed just before the validator is started: without it the namespace never came up.
const READY: &str = "conflint-sandbox-ready";

#[derive(Default)]
pub struct Sandbox {
    /// Paths the validator writes (files, or `dir/x` for a directory it creates).
    pub writes: Vec<PathBuf>,
    /// Staged directories to mount over live-system ones `(staged, system)`.
    pub binds: Vec<(PathBuf, PathBuf)>,
    /// Stand-in files `(prepared, system path)`: mounted over an existing file, or copied
    /// into a writable overlay where it is absent.
    pub files: Vec<(PathBuf, PathBuf)>,
    /// A hosts file to use instead of `/etc/hosts`.
    pub hosts: Option<PathBuf>,
}

pub fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// How a sandboxed run ended.
pub enum Run {
    /// The validator's own result.
    Ran(Output),
    /// Killed after the time limit.
    TimedOut,
    /// Why the namespace could not be set up (the caller falls back).
    NoNamespace(String),
}

/// Run `cmd` in the sandbox, killed after `limit`.
pub fn run(sb: &Sandbox, scratch: &Path, cmd: &[OsString], limit: Duration) -> Run {
    let script = match script(sb, scratch) {
        Ok(s) => s,
        Err(why) => return Run::NoNamespace(why),
    };
    let mut c = Command::new("unshare");
    if !running_as_root() {
        // Root inside, the user's subordinate ids mapped too, so `chown(…, www-data)` of a
        // temp directory works (needs newuidmap and /etc/subuid).
        c.args(["--map-root-user", "--map-auto"]);
    }
    c.args(["--mount", "--net", "--fork", "--", "sh", "-c", &script, "sh"]).args(cmd);
    // The staged php.ini and conf.d/, not ones the caller's environment names.
    for v in super::fpm::INI_ENV {
        c.env_remove(v);
    }
    let mut out = match process::output(&mut c, limit) {
        Ok(out) => out,
        Err(RunError::TimedOut) => return Run::TimedOut,
        Err(RunError::Spawn(e)) => return Run::NoNamespace(format!("cannot run unshare: {e}")),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let Some(at) = stdout.find(&format!("{READY}\n")) else {
        let why = String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("").trim().to_string();
        return Run::NoNamespace(if why.is_empty() { format!("unshare exited with {}", out.status) } else { why });
    };
    // The validator's own output only.
    out.stdout = stdout.as_bytes()[at + READY.len() + 1..].to_vec();
    Run::Ran(out)
}

fn script(sb: &Sandbox, scratch: &Path) -> Result<String, String> {
    let q = |p: &Path| quote(&p.to_string_lossy());
    let mut s = String::from("set -e\n");
    s += &format!("mount -t tmpfs conflint {}\n", q(scratch));
    for (point, options) in mounts() {
        if ["/proc", "/sys", "/dev"].iter().any(|p| point.starts_with(p)) {
            continue;
        }
        s += &format!("mount -o {} {} 2>/dev/null || true\n", quote(&format!("remount,bind,{options}")), q(&point));
    }
    let bound: Vec<&Path> = sb.binds.iter().map(|(_, system)| system.as_path()).collect();
    let exists = |p: &Path| match sb.binds.iter().find_map(|(staged, system)| p.strip_prefix(system).ok().map(|r| staged.join(r))) {
        Some(staged) => std::fs::symlink_metadata(staged).is_ok(),
        None => std::fs::symlink_metadata(p).is_ok(),
    };
    // Directories to make writable: where files are written, where stand-ins are created,
    // and where a bind target is missing (it must be created).
    let mut dirs: Vec<PathBuf> = sb.writes.iter().filter(|w| !STDIO.contains(&w.to_string_lossy().as_ref())).filter_map(|w| w.parent().map(Path::to_path_buf)).collect();
    dirs.extend(sb.files.iter().filter(|(_, t)| !exists(t)).filter_map(|(_, t)| t.parent().map(Path::to_path_buf)));
    // (On the host: a bind target always "exists" in its own staged copy.)
    dirs.extend(sb.binds.iter().filter(|(_, t)| std::fs::symlink_metadata(t).is_err()).filter_map(|(_, t)| t.parent().map(Path::to_path_buf)));
    let mut points: Vec<PathBuf> = Vec::new();
    for d in dirs {
        let mut a = d.as_path();
        while !exists(a) {
            a = a.parent().unwrap_or(Path::new("/"));
        }
        if a == Path::new("/") {
            return Err(format!("cannot confine writes to {} (no directory below / to overlay)", d.display()));
        }
        if a.to_string_lossy().contains([',', ':', '\\']) {
            return Err(format!("cannot overlay {} (its name has `,`, `:` or `\\`)", a.display()));
        }
        points.push(a.to_path_buf());
    }
    // Only the outermost of nested directories: an overlay hides mounts below its lower dir.
    points.sort();
    points.dedup();
    let outer: Vec<PathBuf> = points.iter().filter(|p| !points.iter().any(|o| o != *p && p.starts_with(o))).cloned().collect();
    let inside_bind = |p: &Path| bound.iter().any(|b| p.starts_with(b));
    let root = running_as_root();
    let overlay = |s: &mut String, n: usize, dir: &Path| {
        // In a user namespace files of unmapped owners (host root's logs) cannot be copied
        // up; an empty tmpfs over a directory nginx only writes to does as well.
        if !root && sb.writes.iter().any(|w| w.parent() == Some(dir)) {
            *s += &format!("mount -t tmpfs conflint {}\n", q(dir));
            return;
        }
        let (u, w) = (scratch.join(format!("o{n}/u")), scratch.join(format!("o{n}/w")));
        *s += &format!("mkdir -p {} {}\n", q(&u), q(&w));
        let opts = format!("lowerdir={},upperdir={},workdir={}", dir.display(), u.display(), w.display());
        *s += &format!("mount -t overlay conflint -o {} {}\n", quote(&opts), q(dir));
    };
    // A directory holding the scratch space (the stage lives in /tmp, a config writes
    // /tmp/nginx/nginx.pid) is overlaid last: once it is, the scratch tmpfs and the stage
    // are hidden under it. Nothing else may be mounted below it, or that would be hidden too.
    let holds_scratch = |d: &Path| scratch.starts_with(d);
    let targets = sb.binds.iter().map(|(_, t)| t).chain(sb.files.iter().map(|(_, t)| t));
    if let Some(t) = targets.into_iter().find(|t| outer.iter().any(|d| holds_scratch(d) && t.starts_with(d))) {
        return Err(format!("cannot both overlay the directory of the stage and mount {} below it", t.display()));
    }
    // Overlays outside the staged directories first (they would hide binds made before
    // them), then the binds, then overlays inside staged directories.
    for (n, dir) in outer.iter().enumerate().filter(|(_, d)| !inside_bind(d) && !holds_scratch(d)) {
        overlay(&mut s, n, dir);
    }
    for (staged, system) in &sb.binds {
        s += &format!("mkdir -p {}\nmount --bind {} {}\n", q(system), q(staged), q(system));
    }
    for (n, dir) in outer.iter().enumerate().filter(|(_, d)| inside_bind(d) && !holds_scratch(d)) {
        overlay(&mut s, n, dir);
    }
    for (prepared, target) in &sb.files {
        if exists(target) {
            s += &format!("mount --bind {} {}\n", q(prepared), q(target));
        } else {
            s += &format!("mkdir -p {}\ncp {} {}\n", q(target.parent().unwrap_or(Path::new("/"))), q(prepared), q(target));
        }
    }
    if let Some(h) = &sb.hosts {
        s += &format!("mount --bind {} /etc/hosts\n", q(h));
    }
    for (n, dir) in outer.iter().enumerate().filter(|(_, d)| holds_scratch(d)) {
        overlay(&mut s, n, dir);
    }
    // The directories a package creates for its logs (RHEL's /var/log/php-fpm) exist on
    // the server: in the overlays, so they do for the validator too.
    for dir in sb.writes.iter().filter(|w| !STDIO.contains(&w.to_string_lossy().as_ref())).filter_map(|w| w.parent()).filter(|d| !exists(d)) {
        s += &format!("mkdir -p {}\n", q(dir));
    }
    s += "ip link set lo up 2>/dev/null || true\n";
    s += &format!("echo {READY}\nexec \"$@\"\n");
    Ok(s)
}

/// Mount points and their per-mount options, read-only variant (`rw` → `ro`).
fn mounts() -> Vec<(PathBuf, String)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let point = unescape(f.get(4)?);
            let opts: Vec<&str> = f.get(5)?.split(',').map(|o| if o == "rw" { "ro" } else { o }).collect();
            Some((PathBuf::from(point), opts.join(",")))
        })
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = (0..3).filter_map(|_| chars.next()).collect();
            if let Ok(n) = u8::from_str_radix(&digits, 8) {
                out.push(n as char);
                continue;
            }
            out.push(c);
            out.push_str(&digits);
        } else {
            out.push(c);
        }
    }
    out
}

/// Single-quoted for `sh`.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlays_outermost_existing_dirs_and_binds_in_order() {
        let sb = Sandbox {
            writes: vec!["/var/log/nginx/error.log".into(), "/var/log/nginx/a/b/access.log".into(), "/run/nginx.pid".into()],
            binds: vec![("/tmp/s/unit0".into(), "/etc/nginx".into())],
            files: vec![("/tmp/s/dummy.crt".into(), "/etc/conflint-test-absent/x.pem".into())],
            hosts: None,
        };
        let s = script(&sb, Path::new("/tmp/s/scratch")).unwrap();
        assert!(s.contains("'/var/log/nginx'\n"), "{s}");
        assert!(!s.lines().any(|l| l.starts_with("mount") && l.contains("/var/log/nginx/a")), "{s}");
        // …and the directory the log goes in is made inside that overlay.
        assert!(s.contains("mkdir -p '/var/log/nginx/a/b'\n"), "{s}");
        let etc = s.find("lowerdir=/etc,").expect("overlay over /etc for the absent stand-in dir");
        let bind = s.find("mount --bind '/tmp/s/unit0' '/etc/nginx'").unwrap();
        assert!(etc < bind, "{s}");
        assert!(s.contains("cp '/tmp/s/dummy.crt' '/etc/conflint-test-absent/x.pem'"), "{s}");
        assert!(s.ends_with("exec \"$@\"\n"));
    }

    #[test]
    fn a_missing_bind_target_is_created_in_an_overlay() {
        // The staged copy exists; the live directory it is mounted at does not.
        let staged = tempfile::tempdir().unwrap();
        let sb = Sandbox { binds: vec![(staged.path().to_path_buf(), "/usr/local/conflint-test-absent/conf".into())], ..Default::default() };
        let s = script(&sb, &staged.path().join("scratch")).unwrap();
        let overlay = s.find("lowerdir=/usr/local,").expect("overlay over /usr/local");
        assert!(overlay < s.find("mkdir -p '/usr/local/conflint-test-absent/conf'").unwrap(), "{s}");
    }

    #[test]
    fn the_directory_of_the_stage_is_overlaid_last() {
        let sb = Sandbox { writes: vec!["/tmp/nginx/nginx.pid".into(), "/var/log/nginx/error.log".into()], binds: vec![("/tmp/s/unit0".into(), "/etc/nginx".into())], ..Default::default() };
        let s = script(&sb, Path::new("/tmp/s/scratch")).unwrap();
        let tmp = s.find("lowerdir=/tmp,").expect("overlay over /tmp");
        assert!(s[..tmp].contains("mount --bind '/tmp/s/unit0' '/etc/nginx'") && s[..tmp].contains("lowerdir=/var/log/nginx,"), "{s}");
        assert!(!s[tmp..].contains("mount "), "the last mount: {s}");
        let under = Sandbox { files: vec![("/tmp/s/dummy.crt".into(), "/tmp/certs/x.pem".into())], ..sb };
        assert!(script(&under, Path::new("/tmp/s/scratch")).is_err());
    }

    #[test]
    fn output_streams_need_no_overlay() {
        let sb = Sandbox { writes: vec!["/dev/stderr".into(), "/proc/self/fd/2".into()], ..Default::default() };
        let s = script(&sb, Path::new("/tmp/s/scratch")).unwrap();
        assert!(!s.contains("overlay"), "{s}");
    }

    #[test]
    fn refuses_writes_directly_under_the_root() {
        let sb = Sandbox { writes: vec!["/conflint-absent/x.pid".into()], ..Default::default() };
        assert!(script(&sb, Path::new("/tmp/s")).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a'b c"), "'a'\\''b c'");
        assert_eq!(unescape("/a\\040b"), "/a b");
    }
}
