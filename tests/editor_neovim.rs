//! A real editor: headless Neovim, configured with each set-up of docs/editors.md that its
//! version runs (the version range on the block's first line, `-- Neovim 0.8 to 0.11`),
//! drives `conflint server` as a user would (tests/editors/neovim.lua): diagnostics for an
//! nginx site, its quick fix taken from the code action menu and applied to the buffer,
//! the diagnostics cleared by the live re-lint, a PHP-FPM pool in the same project served
//! by the same server, and no server left running once Neovim quits.
//!
//! Needs `nvim` on PATH (or CONFLINT_NVIM=/path/to/nvim, to try another version). Without
//! it the test skips, saying so, or fails when CONFLINT_REQUIRE_EDITOR=1 (CI installs
//! Debian's neovim). Every wait is bounded: a server that never answers fails the test.

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
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/editors.md")).unwrap();
    let parse = |v: &str| -> Version {
        let (major, minor) = v.split_once('.').unwrap_or_else(|| panic!("`{v}` is not a version such as 0.8"));
        (major.parse().unwrap(), minor.parse().unwrap())
    };
    let mut found = Vec::new();
    for block in doc.split("```lua\n").skip(1) {
        let code = block.split("\n```").next().unwrap();
        let Some(label) = code.lines().next().and_then(|l| l.strip_prefix("-- Neovim ")) else { continue };
        let (from, to) = match label.split_once(" to ") {
            Some((from, to)) => (parse(from), Some(parse(to))),
            None => (parse(label.strip_suffix(" and later").unwrap_or_else(|| panic!("`{label}`: write `A.B and later` or `A.B to C.D`"))), None),
        };
        found.push((label.to_string(), from, to, format!("{code}\n")));
    }
    assert!(found.len() >= 3, "docs/editors.md has fewer Neovim set-ups than expected: {found:?}");
    found
}

#[test]
fn neovim_shows_the_diagnostics_applies_a_quick_fix_and_serves_php_fpm_files() {
    let Some((nvim, version)) = nvim() else { return };
    let runnable: Vec<_> = setups().into_iter().filter(|(_, from, to, _)| version >= *from && to.is_none_or(|to| version <= to)).collect();
    assert!(!runnable.is_empty(), "no set-up of docs/editors.md is for Neovim {version:?}");
    for (label, _, _, setup) in runnable {
        let result = drive(&nvim, &setup);
        let lines: Vec<&str> = result.lines().collect();
        let expect_start = [
            "site filetype nginx",
            "site diagnostics NGX101 XFP002",
        ];
        assert_eq!(&lines[..2.min(lines.len())], &expect_start[..], "Neovim {version:?}, set-up `{label}`:\n{result}");
        let offered = lines[2];
        assert!(offered.starts_with("offered NGX101 (") && offered.contains(" | conflint: fix all safe problems"), "{label}: {offered}");
        assert_eq!(
            &lines[3..],
            [
                "fixed line         fastcgi_read_timeout 300s;",
                "site diagnostics after the fix: ",
                "pool filetype dosini",
                "pool diagnostics FPM103",
                "conflint clients 1",
                "done",
            ],
            "Neovim {version:?}, set-up `{label}`:\n{result}"
        );
    }
}

/// One Neovim run with `setup` as its configuration, in a fresh project; the lines of the
/// drive script's $RESULT.
fn drive(nvim: &Path, setup: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (project, site, pool) = (root.join("repo"), root.join("repo/nginx/sites-enabled/shop.conf"), root.join("repo/php/pool.d/www.conf"));
    for (path, text) in [(&site, SITE), (&pool, POOL), (&project.join("conflint.toml"), "")] {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    // The set-up runs `conflint` from PATH: a wrapper that records the server's pid.
    let (bin, pids) = (root.join("bin"), root.join("server-pids"));
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = format!("#!/bin/sh\necho $$ >> '{}'\nexec '{}' \"$@\"\n", pids.display(), env!("CARGO_BIN_EXE_conflint"));
    std::fs::write(bin.join("conflint"), wrapper).unwrap();
    std::fs::set_permissions(bin.join("conflint"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(root.join("setup.lua"), setup).unwrap();
    let (result, log) = (root.join("result"), root.join("nvim-output"));
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap();

    let log_file = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(nvim)
        .args(["--headless", "--clean", "-n", "-i", "NONE", "-c"])
        .arg(format!("luafile {}", root.join("setup.lua").display()))
        .arg("-c")
        .arg(format!("luafile {}", Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/editors/neovim.lua").display()))
        .current_dir(&project)
        .env("PATH", path)
        .env("HOME", &root)
        .env("XDG_CONFIG_HOME", root.join("config"))
        .env("XDG_DATA_HOME", root.join("data"))
        .env("XDG_STATE_HOME", root.join("state"))
        .env("XDG_CACHE_HOME", root.join("cache"))
        .env("SITE", &site)
        .env("POOL", &pool)
        .env("RESULT", &result)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .process_group(0)
        .spawn()
        .expect("nvim starts");
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
    // Neovim starts its servers detached (a session of their own): stop them by pid.
    let servers: Vec<i32> = std::fs::read_to_string(&pids).unwrap_or_default().lines().filter_map(|l| l.parse().ok()).collect();
    let outlived = wait_gone(&servers, Duration::from_secs(10));
    for pid in &outlived {
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    let output = || format!("{}\n(nvim's output: {})", std::fs::read_to_string(&result).unwrap_or_default(), std::fs::read_to_string(&log).unwrap_or_default());
    let Some(status) = status else {
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        let _ = child.wait();
        panic!("Neovim did not finish within {DEADLINE:?}: {}", output());
    };
    assert!(status.success(), "nvim exited with {status}: {}", output());
    assert_eq!(servers.len(), 1, "one server for the project: {}", output());
    assert!(outlived.is_empty(), "conflint server {outlived:?} still running 10 s after Neovim quit");
    std::fs::read_to_string(&result).unwrap_or_else(|_| panic!("the drive script wrote nothing: {}", output()))
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
