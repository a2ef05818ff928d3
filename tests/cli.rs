//! The binary as a user runs it: exit codes, bad input, stdin, `conflint rule`.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn conflint(args: &[&str]) -> Output {
    conflint_stdin(args, b"")
}

fn conflint_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conflint"))
        .args(args)
        .current_dir(manifest())
        .env_remove("CONFLINT_OUTPUT_FORMAT")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("conflint runs");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

fn concise(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["check", "--output-format", "concise"];
    all.extend_from_slice(args);
    let o = conflint(&all);
    (code(&o), text(&o.stdout), text(&o.stderr))
}

#[test]
fn a_named_binary_file_is_an_error() {
    let (rc, out, err) = concise(&["fixtures/bad-input/binary.conf"]);
    assert_eq!(rc, 2, "{out}{err}");
    assert!(err.contains("fixtures/bad-input/binary.conf: cannot be linted: binary file"), "{err}");
}

#[test]
fn non_utf8_bytes_are_linted_and_shown_lossily() {
    let (rc, out, _) = concise(&["fixtures/bad-input/non-utf8.conf"]);
    assert_eq!(rc, 1);
    assert!(out.contains("fixtures/bad-input/non-utf8.conf:4:38: NGX001 [error] unexpected \"}\""), "{out}");
}

#[test]
fn crlf_line_endings_count_lines_like_nginx() {
    let (rc, out, _) = concise(&["fixtures/bad-input/crlf.conf"]);
    assert_eq!(rc, 1);
    assert!(out.contains("fixtures/bad-input/crlf.conf:5:5: NGX001 [error] unexpected \"}\""), "{out}");
}

#[test]
fn ten_thousand_levels_of_nesting_is_an_error_not_a_crash() {
    let (rc, out, err) = concise(&["fixtures/bad-input/deep-nesting.conf"]);
    assert_eq!(rc, 1, "{err}");
    assert!(out.contains("NGX001 [error]") && out.contains("nest"), "{out}");
}

#[test]
fn include_cycle_is_a_finding() {
    let (rc, out, _) = concise(&["fixtures/bad-input/include-cycle"]);
    assert_eq!(rc, 1);
    assert!(out.contains("NGX008 [error] include cycle: "), "{out}");
}

#[test]
fn missing_path_is_a_usage_error() {
    let (rc, out, err) = concise(&["fixtures/bad-input/no-such-file.conf"]);
    assert_eq!(rc, 2);
    assert!(out.is_empty());
    assert_eq!(err.trim(), "conflint: error: fixtures/bad-input/no-such-file.conf: No such file or directory");
}

#[test]
fn empty_files_pass() {
    let (rc, out, err) = concise(&["fixtures/bad-input/empty"]);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn unreadable_directory_is_reported_not_skipped() {
    // Permissions do not stop root, so drop to `nobody` when running as root.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("locked")).unwrap();
    std::fs::write(root.join("nginx.conf"), "events {}\nhttp {}\n").unwrap();
    std::fs::write(root.join("locked/site.conf"), "server { listen 80; }\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let is_root = running_as_root();
    let run = |arg: &str| {
        let bin = env!("CARGO_BIN_EXE_conflint");
        let mut cmd = if is_root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
            c
        } else {
            Command::new(bin)
        };
        cmd.args(["check", "--output-format", "concise", arg]).current_dir(root).env("NO_COLOR", "1").output().unwrap()
    };
    let walked = run(".");
    assert_eq!(code(&walked), 0, "{}", text(&walked.stderr));
    assert!(text(&walked.stderr).contains("not read: ") && text(&walked.stderr).contains("locked: Permission denied"), "{}", text(&walked.stderr));
    let named = run("locked");
    assert_eq!(code(&named), 2);
    assert_eq!(text(&named.stderr).trim(), "conflint: error: locked: Permission denied");
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| text(&o.stdout).trim() == "0").unwrap_or(false)
}

#[test]
fn stdin_with_a_filename() {
    let o = conflint_stdin(
        &["check", "--output-format", "concise", "--stdin-filename", "sites/shop.conf", "-"],
        b"server {\n    listen 80\n}\n",
    );
    assert_eq!(code(&o), 1);
    assert!(text(&o.stdout).contains("sites/shop.conf:3:1: NGX001"), "{}", text(&o.stdout));
}

#[test]
fn default_command_is_check_and_exit_codes_follow_fail_on() {
    let o = conflint(&["--output-format", "concise", "fixtures/CFL002/fail-include-outside"]);
    assert_eq!(code(&o), 0, "info findings do not fail by default: {}", text(&o.stdout));
    assert!(text(&o.stdout).contains("CFL002 [info]"));
    let o = conflint(&["--output-format", "concise", "--fail-on", "info", "fixtures/CFL002/fail-include-outside"]);
    assert_eq!(code(&o), 1);
    let o = conflint(&["--output-format", "concise", "--exit-zero", "fixtures/bad-input/include-cycle"]);
    assert_eq!(code(&o), 0);
}

#[test]
fn select_and_ignore_filter_by_prefix() {
    let (rc, out, _) = concise(&["--ignore", "NGX0", "fixtures/bad-input/include-cycle"]);
    assert_eq!((rc, out.contains("NGX008")), (0, false), "{out}");
    let (rc, _, err) = concise(&["--select", "NGX9", "fixtures/bad-input"]);
    assert_eq!(rc, 2);
    assert!(err.contains("unknown rule code or prefix `NGX9`"), "{err}");
}

#[test]
fn json_output_is_machine_readable() {
    let o = conflint(&["check", "--output-format", "json", "fixtures/bad-input/crlf.conf"]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let f = &v.as_array().unwrap()[0];
    assert_eq!(f["code"], "NGX001");
    assert_eq!(f["name"], "syntax-error");
    assert_eq!(f["path"], "fixtures/bad-input/crlf.conf");
    assert_eq!(f["span"]["start"]["line"], 5);
    assert_eq!(f["url"], "docs/rules/NGX001.md");
}

#[test]
fn rule_command_prints_the_generated_page() {
    let o = conflint(&["rule", "ngx007"]);
    assert_eq!(code(&o), 0);
    let page = std::fs::read_to_string(manifest().join("docs/rules/NGX007.md")).unwrap();
    assert_eq!(text(&o.stdout), page);
    let o = conflint(&["rule", "NGX999"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("unknown rule `NGX999`"));
}

#[test]
fn house_rules_from_a_rules_directory() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("house-rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("ACME001.toml"),
        r#"code = "ACME001"
name = "php-timeout-explicit"
severity = "warning"
family = "ACME house rules"
summary = "PHP locations must say how long they wait."
fix = "none"

[check]
where = "location"
having = "fastcgi_pass"
value = "fastcgi_read_timeout"
when = "unset"
message = "{scope} does not set {directive}; our standard is 120s"

[docs]
what = "PHP locations without their own timeout."
why = "We tune timeouts per application."
log = "upstream timed out"
status = "504"
example = "location ~ \\.php$ { fastcgi_pass php; }"
fix = "Set it."
"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("site.conf"), "server {\n    location ~ \\.php$ {\n        fastcgi_pass 127.0.0.1:9000;\n    }\n    location /ok.php {\n        fastcgi_read_timeout 120s;\n        fastcgi_pass 127.0.0.1:9000;\n    }\n}\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_conflint"))
        .args(["check", "--output-format", "concise", "--rules-dir", "house-rules", "site.conf"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).lines().next().unwrap(),
        "site.conf:3:9: ACME001 [warning] location ~ \\.php$ does not set fastcgi_read_timeout; our standard is 120s"
    );
    assert!(!text(&o.stdout).contains("site.conf:7"), "{}", text(&o.stdout));

    // A malformed rule file names the file, the line and the key.
    std::fs::write(rules.join("ACME002.toml"), "code = \"ACME002\"\nname = \"x\"\nseverity = \"loud\"\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(["check", "--rules-dir", "house-rules", "site.conf"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(err.contains("house-rules/ACME002.toml") && err.contains("line 3") && err.contains("severity"), "{err}");

    // A rule naming a check that does not exist is refused, not silently run as nothing.
    std::fs::write(
        rules.join("ACME002.toml"),
        "code = \"ACME002\"\nname = \"x\"\nseverity = \"info\"\nfamily = \"ACME\"\nsummary = \"x\"\nfix = \"none\"\n\n[check]\nbuiltin = \"no_such_check\"\n\n[docs]\nwhat = \"x\"\nwhy = \"x\"\nlog = \"x\"\nstatus = \"x\"\nexample = \"x\"\nfix = \"x\"\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(["check", "--rules-dir", "house-rules", "site.conf"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(err.contains("house-rules/ACME002.toml") && err.contains("line 8") && err.contains("`check.builtin = \"no_such_check\"` names no built-in check"), "{err}");
}

#[test]
fn config_file_errors_name_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conflint.toml"), "[check]\nselect = [\"ALL\"]\n\n[rules.NGX101]\nmni = \"60s\"\n").unwrap();
    std::fs::write(dir.path().join("site.conf"), "server { listen 80; }\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(["check", "site.conf"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(err.contains("conflint.toml:5: rule NGX101 has no option `mni` (options: fix-value, min)"), "{err}");
}

#[test]
fn config_file_options_and_ignores_apply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("legacy")).unwrap();
    let site = "server {\n    location ~ \\.php$ {\n        fastcgi_read_timeout 90s;\n        fastcgi_pass 127.0.0.1:9000;\n    }\n}\n";
    std::fs::write(dir.path().join("site.conf"), site).unwrap();
    std::fs::write(dir.path().join("legacy/old.conf"), site).unwrap();
    std::fs::write(dir.path().join("conflint.toml"), "[rules.NGX101]\nmin = \"120s\"\n[check.per-file-ignores]\n\"legacy/**\" = [\"NGX1\"]\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(["check", "--output-format", "concise", "."]).current_dir(dir.path()).output().unwrap();
    let out = text(&o.stdout);
    assert!(out.contains("site.conf:3:30: NGX101 [warning] fastcgi_read_timeout is 90s"), "{out}");
    assert!(!out.contains("legacy/old.conf"), "{out}");
}

/// A pull request's config must not drive the reviewer's terminal: escape sequences in a
/// file reach the output as visible symbols, in the excerpt and in messages.
#[test]
fn terminal_escapes_in_a_config_are_shown_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "events {}\nhttp {\n    server {\n        location / {\n            fastcgi_pass 127.0.0.1:9000;\n            fastcgi_read_timeout \"5s\x1b]0;pwned\x07\x1b[2J\";\n            include \"\u{202e}x.conf\x1b]2;t\x07\";\n        }\n    }\n}\n";
    std::fs::write(dir.path().join("nginx.conf"), evil).unwrap();
    let path = dir.path().to_str().unwrap();
    for format in ["full", "concise"] {
        let o = conflint(&["check", "--output-format", format, path]);
        let out = text(&o.stdout);
        assert!(!out.contains('\x1b') && !out.contains('\x07') && !out.contains('\u{202e}'), "{format}:\n{out}");
        assert!(out.contains("NGX007"), "{format}: the include finding quotes the name:\n{out}");
        assert!(out.contains('\u{241b}'), "{format}: ESC is shown as ␛:\n{out}");
    }
}

/// `check` of `fixtures/bad-input/crlf.conf` (an NGX001 finding) in the full format, with
/// stdout a pipe and only the colour variables of `env` set.
fn coloured(args: &[&str], env: &[(&str, &str)]) -> bool {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conflint"));
    cmd.args(["check", "--output-format", "full"]).args(args).arg("fixtures/bad-input/crlf.conf").current_dir(manifest());
    for var in ["NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "CLICOLOR", "CONFLINT_OUTPUT_FORMAT"] {
        cmd.env_remove(var);
    }
    let o = cmd.envs(env.iter().copied()).output().unwrap();
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("NGX001"), "{}", text(&o.stdout));
    o.stdout.contains(&0x1b)
}

#[test]
fn colour_follows_the_flag_then_no_color_then_force_color() {
    // A pipe is not a terminal: no colours unless asked for.
    assert!(!coloured(&[], &[]));
    assert!(coloured(&["--color", "always"], &[]));
    assert!(coloured(&["--color=always"], &[("NO_COLOR", "1")]), "the command line decides over the environment");
    assert!(!coloured(&["--color", "never"], &[("FORCE_COLOR", "1")]));
    assert!(!coloured(&["--no-color"], &[("FORCE_COLOR", "1")]), "--no-color is --color never");
    // The later of --color and --no-color wins.
    assert!(coloured(&["--no-color", "--color", "always"], &[]));
    assert!(!coloured(&["--color", "always", "--no-color"], &[]));
    // CI logs: FORCE_COLOR (any value but empty, 0 or false) and CLICOLOR_FORCE (not 0).
    assert!(coloured(&[], &[("FORCE_COLOR", "1")]));
    assert!(coloured(&[], &[("FORCE_COLOR", "3")]));
    assert!(!coloured(&[], &[("FORCE_COLOR", "0")]));
    assert!(!coloured(&[], &[("FORCE_COLOR", "")]));
    assert!(coloured(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured(&[], &[("CLICOLOR_FORCE", "0")]));
    // NO_COLOR wins over both; an empty NO_COLOR is no request.
    assert!(!coloured(&[], &[("NO_COLOR", "1"), ("FORCE_COLOR", "1")]));
    assert!(!coloured(&[], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]));
    assert!(coloured(&[], &[("NO_COLOR", ""), ("FORCE_COLOR", "1")]));
    let o = conflint(&["check", "--color", "sometimes", "fixtures/bad-input/crlf.conf"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("[possible values: auto, always, never]"), "{}", text(&o.stderr));
}

#[test]
fn a_report_file_is_coloured_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.txt");
    let out = out.to_str().unwrap();
    for (flag, expect) in [("auto", false), ("always", true)] {
        let o = Command::new(env!("CARGO_BIN_EXE_conflint"))
            .args(["check", "--output-format", "full", "--color", flag, "-o", out, "fixtures/bad-input/crlf.conf"])
            .current_dir(manifest())
            .env_remove("NO_COLOR")
            .env("FORCE_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(code(&o), 1);
        assert_eq!(std::fs::read(out).unwrap().contains(&0x1b), expect, "--color {flag}");
    }
}

#[test]
fn nothing_to_lint_is_a_warning_not_all_checks_passed() {
    let dir = tempfile::tempdir().unwrap();
    let (empty, docs) = (dir.path().join("empty"), dir.path().join("docs"));
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("README.md"), "# nginx notes\n").unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).current_dir(dir.path()).env("NO_COLOR", "1").output().unwrap();
        (code(&o), text(&o.stdout), text(&o.stderr))
    };
    for args in [&["check", "empty"][..], &["check", "docs", "empty"], &["empty"]] {
        let (rc, out, err) = run(args);
        assert_eq!(rc, 0, "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}: no \"All checks passed!\"");
        let names = args.iter().filter(|a| **a != "check").copied().collect::<Vec<_>>().join(", ");
        assert_eq!(err, format!("conflint: warning: no nginx or PHP-FPM file found in {names}; nothing was linted\n"), "{args:?}");
    }
    let (rc, out, err) = run(&["check", "--output-format", "json", "empty"]);
    assert_eq!((rc, out.as_str()), (0, "[]\n"), "machine-readable output stays valid");
    assert!(err.contains("nothing was linted"), "{err}");
    let (rc, _, err) = run(&["check", "--quiet", "empty"]);
    assert_eq!((rc, err.as_str()), (0, ""));

    // Asked to, it fails: even quiet, even with --exit-zero.
    for args in [&["check", "--error-on-empty", "docs"][..], &["check", "--error-on-empty", "-q", "--exit-zero", "docs"], &["check", "--error-on-empty", "--diff", "docs"]] {
        let (rc, out, err) = run(args);
        assert_eq!(rc, 2, "{args:?}");
        assert_eq!(out, "");
        assert_eq!(err, "conflint: error: no nginx or PHP-FPM file found in docs; nothing was linted (--error-on-empty)\n", "{args:?}");
    }
    let o = conflint_stdin(&["check", "--stdin-filename", "README.md", "-"], b"# notes\n");
    assert_eq!(code(&o), 0);
    assert!(text(&o.stderr).contains("conflint: warning: no nginx or PHP-FPM file found in standard input; nothing was linted"), "{}", text(&o.stderr));
    // A tree with a config passes with the flag.
    std::fs::write(empty.join("nginx.conf"), "events {}\nhttp {}\n").unwrap();
    let (rc, out, err) = run(&["check", "--error-on-empty", "empty"]);
    assert_eq!((rc, out.as_str(), err.as_str()), (0, "All checks passed!\n", ""));
}

#[test]
fn top_level_help_says_a_path_is_enough() {
    for args in [&["--help"][..], &["help"]] {
        let o = conflint(args);
        assert_eq!(code(&o), 0);
        let help = text(&o.stdout);
        assert!(help.contains("Usage: conflint [OPTIONS] [PATHS]...    (the same as `conflint check`)\n       conflint <COMMAND>\n"), "{help}");
        assert!(help.contains("completions"), "{help}");
        assert!(!help.contains("manpages"), "the packagers' command stays hidden: {help}");
    }
}

#[test]
fn shell_completions_come_from_the_command_line_definition() {
    for (shell, marker) in [("bash", "complete -F _conflint"), ("zsh", "#compdef conflint"), ("fish", "complete -c conflint")] {
        let o = conflint(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}: {}", text(&o.stderr));
        let script = text(&o.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("output-format") && script.contains("json-lines"), "{shell}: the options of check and their values");
    }
    let o = conflint(&["completions", "tcsh"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn man_pages_for_the_command_and_each_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let o = conflint(&["manpages", dir.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let main = std::fs::read_to_string(dir.path().join("conflint.1")).unwrap();
    assert!(main.contains(".TH conflint 1"), "{main}");
    assert!(main.contains("conflint\\-check(1)"), "the page points to the subcommands' pages: {main}");
    let check = std::fs::read_to_string(dir.path().join("conflint-check.1")).unwrap();
    assert!(check.contains("\\-\\-error\\-on\\-empty"), "{check}");
}
