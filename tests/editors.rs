//! Real editors drive `conflint server` as a user would, each configured with the set-up
//! docs/editors.md gives for it, copied from the document as it stands: headless Neovim
//! (tests/editors/neovim.lua, with every set-up its version runs: the version range on the
//! block's first line, `-- Neovim 0.8 to 0.11`) and batch Emacs with eglot
//! (tests/editors/eglot.el). Each opens an nginx site of a Debian-layout project, waits for
//! its diagnostics, takes the NGX101 quick fix from the code action menu, checks the edited
//! buffer and that the live re-lint clears the diagnostics, (Neovim) asks for the
//! completion of half a directive name and hovers a directive, opens the project's PHP-FPM
//! pool (the same server serves it), and quits; no server may outlive the editor.
//!
//! Neovim: `nvim` on PATH (or CONFLINT_NVIM=/path/to/nvim, to try another version); without
//! it the test skips, saying so, or fails when CONFLINT_REQUIRE_EDITOR=1 (CI installs
//! Debian's neovim). Emacs: run when `emacs` and eglot are installed, else skipped (CI does
//! not install them). Every wait is bounded: a server that never answers fails the test.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// For one Neovim run (startup, lint, fix, quit); the script's own waits are shorter.
const DEADLINE: Duration = Duration::from_secs(90);

const SITE: &str = "server {
    listen 80;
    root /srv/shop;
    location ~ \\.php$ {
        include fastcgi.conf;
        fastcgi_read_timeout 30s;
        fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    }
}
";

/// No pm.max_requests: FPM103.
const POOL: &str = "[www]
user = www-data
group = www-data
listen = /run/php/php8.2-fpm.sock
listen.owner = www-data
listen.group = www-data
pm = dynamic
pm.max_children = 20
pm.start_servers = 4
pm.min_spare_servers = 2
pm.max_spare_servers = 6
request_terminate_timeout = 300s
";

type Version = (u32, u32);

/// The `nvim` to drive and its version.
fn nvim() -> Option<(PathBuf, Version)> {
    let found = match std::env::var_os("CONFLINT_NVIM") {
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).map(|d| d.join("nvim")).find(|p| p.is_file()),
    };
    let Some(nvim) = found else {
        common::require_or_skip("CONFLINT_REQUIRE_EDITOR", "nvim is not installed (apt-get install neovim)");
        return None;
    };
    let out = Command::new(&nvim).arg("--version").stdin(Stdio::null()).output().expect("nvim --version runs");
    let first = String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string();
    let version = first.strip_prefix("NVIM v").and_then(|v| {
        let mut parts = v.split(|c: char| !c.is_ascii_digit()).map(|n| n.parse::<u32>().ok());
        Some((parts.next()??, parts.next()??))
    });
    Some((nvim.clone(), version.unwrap_or_else(|| panic!("{}: not Neovim's version line: {first}", nvim.display()))))
}

/// The Lua set-ups of docs/editors.md, each with the versions its first line names.
fn setups() -> Vec<(String, Version, Option<Version>, String)> {
    let parse = |v: &str| -> Version {
        let (major, minor) = v.split_once('.').unwrap_or_else(|| panic!("`{v}` is not a version such as 0.8"));
        (major.parse().unwrap(), minor.parse().unwrap())
    };
    let found: Vec<_> = doc_blocks("lua", "-- Neovim ")
        .into_iter()
        .map(|(label, code)| {
            let (from, to) = match label.split_once(" to ") {
                Some((from, to)) => (parse(from), Some(parse(to))),
                None => (parse(label.strip_suffix(" and later").unwrap_or_else(|| panic!("`{label}`: write `A.B and later` or `A.B to C.D`"))), None),
            };
            (label, from, to, code)
        })
        .collect();
    assert!(found.len() >= 3, "docs/editors.md has fewer Neovim set-ups than expected: {found:?}");
    found
}

/// The outcome every editor's drive script must report, after the line of its menu.
const AFTER_THE_MENU: [&str; 3] = ["fixed line         fastcgi_read_timeout 300s;", "site diagnostics after the fix: ", "pool diagnostics FPM103"];

fn check_menu(offered: &str, what: &str) {
    assert!(offered.starts_with("offered ") && offered.contains("NGX101 ("), "{what}: {offered}");
}

#[test]
fn neovim_shows_the_diagnostics_applies_a_quick_fix_and_serves_php_fpm_files() {
    let Some((nvim, version)) = nvim() else { return };
    let runnable: Vec<_> = setups().into_iter().filter(|(_, from, to, _)| version >= *from && to.is_none_or(|to| version <= to)).collect();
    assert!(!runnable.is_empty(), "no set-up of docs/editors.md is for Neovim {version:?}");
    for (label, _, _, setup) in runnable {
        let p = project();
        std::fs::write(p.root.join("setup.lua"), setup).unwrap();
        let mut cmd = Command::new(&nvim);
        cmd.args(["--headless", "--clean", "-n", "-i", "NONE", "-c"]).arg(format!("luafile {}", p.root.join("setup.lua").display())).arg("-c").arg(format!("luafile {}", script("neovim.lua")));
        let result = p.run(cmd);
        let what = format!("Neovim {version:?}, set-up `{label}`:\n{result}");
        let lines: Vec<&str> = result.lines().collect();
        assert_eq!(lines.get(..2), Some(&["site filetype nginx", "site diagnostics NGX101 XFP002"][..]), "{what}");
        check_menu(lines[2], &what);
        // Both fixes here change a timeout (unsafe): offered one by one, never in fix-all.
        assert!(lines[2].contains("(unsafe fix)") && !lines[2].contains("fix all safe problems"), "{what}");
        let [fixed, cleared, pool] = AFTER_THE_MENU;
        let completion = "completion advertised true, proxy_pass true, worker_connections false";
        let hover = "hover Default: `fastcgi_read_timeout 60s;`";
        assert_eq!(lines[3..], [fixed, cleared, completion, hover, "pool filetype dosini", pool, "conflint clients 1", "done"], "{what}");
    }
}

#[test]
fn emacs_eglot_shows_the_diagnostics_applies_a_quick_fix_and_serves_php_fpm_files() {
    let has_eglot = Command::new("emacs")
        .args(["--batch", "--eval", "(progn (package-activate-all) (kill-emacs (if (require 'eglot nil t) 0 1)))"])
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null())
        .output();
    if !has_eglot.is_ok_and(|o| o.status.success()) {
        common::skipped("emacs with eglot is not installed (apt-get install emacs-nox elpa-eglot)");
        return;
    }
    let setups = doc_blocks("elisp", ";; Emacs ");
    assert_eq!(setups.len(), 1, "docs/editors.md: one Emacs set-up");
    let p = project();
    std::fs::write(p.root.join("setup.el"), &setups[0].1).unwrap();
    let mut cmd = Command::new("emacs");
    // --batch loads the site start files (Debian's packages) but no init file.
    cmd.args(["--batch", "--eval", "(package-activate-all)", "-l"]).arg(p.root.join("setup.el")).arg("-l").arg(script("eglot.el"));
    let result = p.run(cmd);
    let lines: Vec<&str> = result.lines().collect();
    assert_eq!(lines.get(..2), Some(&["site mode conf-space-mode", "site diagnostics NGX101 XFP002"][..]), "{result}");
    check_menu(lines[2], &result);
    let [fixed, cleared, pool] = AFTER_THE_MENU;
    assert_eq!(lines[3..], [fixed, cleared, "pool managed by eglot yes", pool, "conflint servers 1", "done"], "{result}");
}

/// A Debian-layout project on disk, and a `conflint` on PATH that records the pid of each
/// server it starts.
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    project: PathBuf,
    site: PathBuf,
    pool: PathBuf,
}

fn project() -> Project {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let project = root.join("repo");
    let (site, pool) = (project.join("nginx/sites-available/shop"), project.join("php/pool.d/www.conf"));
    for (path, text) in [(&site, SITE), (&pool, POOL), (&project.join("conflint.toml"), "")] {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    // project.el (Emacs) takes the version-control root for the project.
    std::fs::create_dir_all(project.join(".git")).unwrap();
    std::fs::write(project.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = format!("#!/bin/sh\necho $$ >> '{}'\nexec '{}' \"$@\"\n", root.join("server-pids").display(), env!("CARGO_BIN_EXE_conflint"));
    std::fs::write(bin.join("conflint"), wrapper).unwrap();
    std::fs::set_permissions(bin.join("conflint"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    Project { _dir: dir, root, project, site, pool }
}

impl Project {
    /// Run the editor `cmd` in the project, with this project's `conflint` first on PATH, a
    /// private HOME, and SITE, POOL and RESULT for the drive script; the lines the script
    /// wrote to RESULT.
    fn run(&self, mut cmd: Command) -> String {
        let (result, log) = (self.root.join("result"), self.root.join("editor-output"));
        let path = std::env::join_paths(std::iter::once(self.root.join("bin")).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap();
        let log_file = std::fs::File::create(&log).unwrap();
        let mut child = cmd
            .current_dir(&self.project)
            .env("PATH", path)
            .env("HOME", &self.root)
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("XDG_STATE_HOME", self.root.join("state"))
            .env("XDG_CACHE_HOME", self.root.join("cache"))
            .env("SITE", &self.site)
            .env("POOL", &self.pool)
            .env("RESULT", &result)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .expect("the editor starts");
        let end = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() > end {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // Editors may start their servers detached (Neovim gives them a session of their
        // own): stop any that is left by its pid.
        let servers: Vec<i32> = std::fs::read_to_string(self.root.join("server-pids")).unwrap_or_default().lines().filter_map(|l| l.parse().ok()).collect();
        let outlived = wait_gone(&servers, Duration::from_secs(10));
        for pid in &outlived {
            // SAFETY: kill(2) on a pid this test's wrapper recorded; no memory is involved.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        let output = || format!("{}\n(the editor's output: {})", std::fs::read_to_string(&result).unwrap_or_default(), std::fs::read_to_string(&log).unwrap_or_default());
        let Some(status) = status else {
            // SAFETY: as above, on the editor's own process group.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("the editor did not finish within {DEADLINE:?}: {}", output());
        };
        assert!(status.success(), "the editor exited with {status}: {}", output());
        assert_eq!(servers.len(), 1, "one server for the project: {}", output());
        assert!(outlived.is_empty(), "conflint server {outlived:?} still running 10 s after the editor quit");
        std::fs::read_to_string(&result).unwrap_or_else(|_| panic!("the drive script wrote nothing: {}", output()))
    }
}

/// The set-up blocks of docs/editors.md in `lang` whose first line starts with `label`,
/// with the rest of that line.
fn doc_blocks(lang: &str, label: &str) -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/editors.md")).unwrap();
    doc.split(&format!("```{lang}\n"))
        .skip(1)
        .filter_map(|block| {
            let code = block.split("\n```").next().unwrap();
            let rest = code.lines().next()?.strip_prefix(label)?;
            Some((rest.to_string(), format!("{code}\n")))
        })
        .collect()
}

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/editors").join(name).display().to_string()
}

/// The pids of `pids` still running (neither gone nor a zombie) after up to `bound`.
fn wait_gone(pids: &[i32], bound: Duration) -> Vec<i32> {
    let end = Instant::now() + bound;
    loop {
        let running: Vec<i32> = pids
            .iter()
            .copied()
            .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z'))))
            .collect();
        if running.is_empty() || Instant::now() > end {
            return running;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
