//! Hostile trees as a user meets them: FIFOs and devices where configs should be, files too
//! big to read, symlink loops, binary files named on the command line, output injection
//! through file names and config text. Every run must end, and say what it did not read.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Run conflint in `dir`, killed after 20 s: a hang is a test failure, not a stuck suite.
fn run_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conflint"))
        .args(args)
        .current_dir(dir)
        .env_remove("CONFLINT_OUTPUT_FORMAT")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("conflint runs");
    {
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(stdin);
    }
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("conflint {args:?} hung (killed after 20 s); stderr so far:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success());
}

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

const PHP_SITE: &str = "events {}\nhttp {\n    server {\n        listen 80;\n        location / { fastcgi_pass unix:/run/php/app.sock; }\n    }\n}\n";

#[test]
fn a_fifo_is_never_opened_for_reading_and_is_named_in_a_note() {
    for include in ["include f.conf;", "include conf.d/*.conf;"] {
        let dir = tree(&[("nginx.conf", &format!("events {{}}\nhttp {{\n    {include}\n}}\n"))]);
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        mkfifo(&dir.path().join("f.conf"));
        mkfifo(&dir.path().join("conf.d/f.conf"));
        let o = run_in(dir.path(), &["check", "--output-format", "concise", "."], b"");
        let err = text(&o.stderr);
        assert!(err.contains("f.conf: not read: a FIFO, not a regular file"), "{include}:\n{err}{}", text(&o.stdout));
        // Once per file, however often it is reached (walked, then included).
        let mut lines: Vec<&str> = err.lines().collect();
        let all = lines.len();
        lines.sort();
        lines.dedup();
        assert_eq!(lines.len(), all, "{err}");
    }
    // PHP-FPM's `include=` glob.
    let dir = tree(&[("php-fpm.conf", "[global]\ninclude = pool.d/*.conf\n")]);
    std::fs::create_dir(dir.path().join("pool.d")).unwrap();
    mkfifo(&dir.path().join("pool.d/www.conf"));
    let prefix = dir.path().to_str().unwrap();
    let o = run_in(dir.path(), &["check", "--output-format", "concise", "--fpm-prefix", prefix, "."], b"");
    assert!(text(&o.stderr).contains("pool.d/www.conf: not read: a FIFO, not a regular file"), "{}", text(&o.stderr));
    // Named on the command line: the user asked for that file, so it is an error.
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("named.conf"));
    let o = run_in(dir.path(), &["check", "named.conf"], b"");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("named.conf: not read: a FIFO, not a regular file"), "{}", text(&o.stderr));
}

#[test]
fn devices_reached_with_allow_outside_are_refused_not_read_without_end() {
    let dir = tree(&[("nginx.conf", "events {}\nhttp {\n    include zero.conf;\n    include random.conf;\n}\n")]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.conf")).unwrap();
    std::os::unix::fs::symlink("/dev/urandom", dir.path().join("random.conf")).unwrap();
    let o = run_in(dir.path(), &["check", "--output-format", "concise", "--allow-outside", "."], b"");
    let err = text(&o.stderr);
    assert!(err.contains("/dev/zero: not read: a character device, not a regular file"), "{err}");
    assert!(err.contains("/dev/urandom: not read: a character device, not a regular file"), "{err}");
}

#[test]
fn a_file_over_the_size_cap_is_reported_not_read() {
    // The default cap, 64 MiB: a sparse file of 65 MiB costs no disk and no time.
    let dir = tree(&[("nginx.conf", "events {}\nhttp {\n    include big.conf;\n}\n")]);
    std::fs::File::create(dir.path().join("big.conf")).unwrap().set_len(65 << 20).unwrap();
    let o = run_in(dir.path(), &["check", "--output-format", "concise", "."], b"");
    let err = text(&o.stderr);
    assert!(err.contains("big.conf: not read: 65 MiB is over the 64 MiB limit ([check] max-file-size)"), "{err}");
    // Configurable; a named file over it is an error.
    let dir = tree(&[("conflint.toml", "[check]\nmax-file-size = \"1KiB\"\n"), ("site.conf", &PHP_SITE.repeat(40))]);
    let o = run_in(dir.path(), &["check", "site.conf"], b"");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("site.conf: not read: 4.6 KiB is over the 1 KiB limit ([check] max-file-size)"), "{}", text(&o.stderr));
    // Standard input too.
    let o = run_in(dir.path(), &["check", "--stdin-filename", "x.conf", "-"], PHP_SITE.repeat(40).as_bytes());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("over the 1 KiB limit"), "{}", text(&o.stderr));
    let dir = tree(&[("conflint.toml", "[check]\nmax-file-size = \"lots\"\n")]);
    let o = run_in(dir.path(), &["check", "."], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("conflint.toml:2: check.max-file-size: `lots` is not a size"), "{}", text(&o.stderr));
    // Offsets into a file are 32-bit: a cap they cannot address is refused up front.
    let dir = tree(&[("conflint.toml", "[check]\nmax-file-size = \"4GiB\"\n")]);
    let o = run_in(dir.path(), &["check", "."], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("check.max-file-size: `4GiB` is over the largest file conflint reads"), "{}", text(&o.stderr));
}

#[test]
fn a_named_binary_config_is_an_error_not_a_pass() {
    let dir = tree(&[("nginx.conf", "events {}\0\nhttp { }\n")]);
    let o = run_in(dir.path(), &["check", "nginx.conf"], b"");
    assert_eq!(o.status.code(), Some(2), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(!text(&o.stdout).contains("All checks passed"), "{}", text(&o.stdout));
    assert!(text(&o.stderr).contains("nginx.conf: cannot be linted: binary file"), "{}", text(&o.stderr));
}

#[test]
fn a_symlink_loop_is_reported_as_nginx_words_it() {
    let dir = tree(&[("nginx.conf", "events {}\nhttp {\n    include a.conf;\n}\n")]);
    std::os::unix::fs::symlink("b.conf", dir.path().join("a.conf")).unwrap();
    std::os::unix::fs::symlink("a.conf", dir.path().join("b.conf")).unwrap();
    let o = run_in(dir.path(), &["check", "--output-format", "concise", "."], b"");
    let out = text(&o.stdout);
    assert!(out.contains("NGX007 [error] open() \"a.conf\" failed (40: Too many levels of symbolic links)"), "{out}");
}

#[test]
fn a_stdin_filename_outside_the_tree_maps_nothing_onto_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let input = b"events {}\nhttp {\n    include /etc/nginx/mime.types;\n    include ../x/site.conf;\n}\n";
    let o = run_in(dir.path(), &["check", "--output-format", "concise", "--stdin-filename", "/etc/shadow", "-"], input);
    let err = text(&o.stderr);
    assert!(!err.contains("mapped to"), "{err}");
    let out = text(&o.stdout);
    assert!(out.contains("/etc/nginx/mime.types is not in the linted tree") || out.contains("/etc/nginx/mime.types is outside the linted tree"), "{out}{err}");
}

/// Bytes that steer a terminal or start a workflow command: none may reach stdout or
/// stderr raw, in any format.
fn assert_inert(what: &str, s: &str) {
    for bad in ['\x1b', '\x07', '\r', '\u{202e}', '\u{9b}'] {
        assert!(!s.contains(bad), "{what} carries {bad:?}:\n{s}");
    }
    assert!(!s.lines().any(|l| l.starts_with("::") && !(l.starts_with("::error file=") || l.starts_with("::warning file=") || l.starts_with("::notice file="))), "{what} starts a workflow command:\n{s}");
}

#[test]
fn config_text_and_file_names_cannot_inject_into_github_output_or_notes() {
    let dir = tree(&[(
        "nginx.conf",
        "events {}\nhttp {\n    server {\n        location / {\n            fastcgi_pass 127.0.0.1:9000;\n            fastcgi_read_timeout \"5s\x1b]0;pwned\x07\u{9b}2J\";\n            include \"\u{202e}x.conf\x1b]2;t\x07\r\n::error::INJ\";\n        }\n    }\n}\n",
    )]);
    // A file whose name starts a workflow command on a line of its own.
    let evil = dir.path().join("inj\n::error::NOTE_INJ.conf");
    std::fs::write(&evil, "\0binary").unwrap();
    mkfifo(&dir.path().join("fifo\n::error::FIFO_INJ.conf"));
    for format in ["github", "full", "concise", "json", "sarif", "json-lines"] {
        let o = run_in(dir.path(), &["check", "--output-format", format, "."], b"");
        assert_inert(&format!("{format} stdout"), &text(&o.stdout));
        assert_inert(&format!("{format} stderr"), &text(&o.stderr));
        if format == "github" {
            assert!(text(&o.stdout).contains("NGX007"), "{}", text(&o.stdout));
        }
    }
    // Named on the command line: an error, whose message names the file.
    let name = evil.file_name().unwrap().to_str().unwrap();
    let o = run_in(dir.path(), &["check", name], b"");
    assert_eq!(o.status.code(), Some(2));
    assert_inert("error", &text(&o.stderr));
    assert!(text(&o.stderr).contains("NOTE_INJ"), "{}", text(&o.stderr));
}

#[test]
fn a_config_file_that_is_a_fifo_is_an_error_not_a_hang() {
    let dir = tree(&[("nginx.conf", PHP_SITE)]);
    mkfifo(&dir.path().join("conflint.toml"));
    let o = run_in(dir.path(), &["check", "--config", "conflint.toml", "."], b"");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("conflint.toml:0: not read: a FIFO, not a regular file"), "{}", text(&o.stderr));
}

/// `--diff` names the file in its header: a name cannot start a workflow command there, and
/// on a terminal the config's escape codes are shown, not obeyed.
#[test]
fn a_diff_neither_injects_through_its_header_nor_drives_a_terminal() {
    let site = "server {\n    listen 8080;\n    location ~ \\.php$ {\n        fastcgi_pass 127.0.0.1:9000;\n        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n        fastcgi_read_timeout 30s; # \x1b]0;pwned\x07\n    }\n}\n";
    let dir = tree(&[("nginx/sites/x\n::error::DIFF_INJ.conf", site)]);
    let o = run_in(dir.path(), &["check", "nginx", "--diff", "--unsafe-fixes"], b"");
    let out = text(&o.stdout);
    assert!(out.contains("DIFF_INJ") && out.contains("+        fastcgi_read_timeout 300s;"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("::")), "{out}");
    // Piped, the content is byte for byte (it must apply); on a terminal it is neutralised.
    assert!(out.contains('\x1b'));
    let script = Command::new("script")
        .args(["-qec", &format!("{} check nginx --diff --unsafe-fixes", env!("CARGO_BIN_EXE_conflint")), "/dev/null"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("script(1) runs");
    let shown = text(&script.stdout);
    assert!(shown.contains("fastcgi_read_timeout 300s;") && !shown.contains('\x1b') && shown.contains('\u{241b}'), "{shown:?}");
}

/// Found by the `fix_tree` fuzz target (fuzz/seeds/fix_tree/): in a php-fpm.conf without a
/// `[global]` header, FPM106's fix wrote `process_control_timeout` after the first line,
/// inside the pool, where it does not count: every fix pass added one more line.
#[test]
fn a_global_setting_fixed_into_a_file_without_a_global_header_stays_global() {
    let dir = tree(&[("php/8.2/fpm/php-fpm.conf", "[site]\nlisten = /run/php/site.sock\npm = static\npm.max_children = 5\npm.max_requests = 1000\n")]);
    let o = run_in(dir.path(), &["check", "--fix", "--unsafe-fixes", "--validate", "never", "."], b"");
    let fixed = std::fs::read_to_string(dir.path().join("php/8.2/fpm/php-fpm.conf")).unwrap();
    assert_eq!(fixed.matches("process_control_timeout").count(), 1, "{fixed}\n{}", text(&o.stderr));
    assert!(fixed.find("process_control_timeout").unwrap() < fixed.find("[site]").unwrap(), "{fixed}");
    let again = run_in(dir.path(), &["check", "--diff", "--unsafe-fixes", "."], b"");
    assert!(again.stdout.is_empty(), "a second pass still changes:\n{}", text(&again.stdout));
}
