//! The hooks of `.pre-commit-hooks.yaml`, run by the real pre-commit (from PyPI) on
//! throw-away git repositories of configs, the way a user's `.pre-commit-config.yaml` runs
//! them: pre-commit clones the hook repository, builds it with `cargo install --path .`
//! (`language: rust`) and passes the changed files.
//!
//! The hook repository is a commit of this working tree as it is, uncommitted changes
//! included, made in `target/precommit/hook` with fixed dates: the same sources give the
//! same commit, so pre-commit's cache (`PRE_COMMIT_HOME=target/precommit/home`) skips the
//! build until the sources change. The build itself goes to its own target directory
//! (sharing `target/` would make `cargo test` rebuild conflint after every hook build) at
//! opt-level 0: these tests check the hook's plumbing, not the optimiser, and the build is
//! three times faster. It runs offline: `cargo test` has just fetched every crate.
//!
//! pre-commit is `$CONFLINT_PRE_COMMIT`, else `target/precommit-venv/bin/pre-commit`
//! (`.ci/run` installs it there), else on PATH. Without it the tests skip with a message,
//! unless `CONFLINT_REQUIRE_VALIDATORS=1` (CI), where that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the hook repository, pre-commit's cache and the hook's build live.
fn work_dir() -> PathBuf {
    manifest().join("target/precommit")
}

struct Hooks {
    pre_commit: PathBuf,
    config: PathBuf,
    hook_repo: PathBuf,
    rev: String,
}

/// pre-commit, the hook repository and the installed hook, set up once for all tests.
fn hooks() -> Option<&'static Hooks> {
    static HOOKS: OnceLock<Option<Hooks>> = OnceLock::new();
    HOOKS.get_or_init(set_up).as_ref()
}

fn set_up() -> Option<Hooks> {
    let Some(pre_commit) = find_pre_commit() else {
        assert!(
            std::env::var("CONFLINT_REQUIRE_VALIDATORS").as_deref() != Ok("1"),
            "pre-commit is required (CONFLINT_REQUIRE_VALIDATORS=1): .ci/run installs it in target/precommit-venv"
        );
        eprintln!(
            "SKIPPED: pre-commit not found ($CONFLINT_PRE_COMMIT, target/precommit-venv/bin/pre-commit or PATH); \
             python3 -m venv target/precommit-venv && target/precommit-venv/bin/pip install pre-commit==4.7.0"
        );
        return None;
    };
    std::fs::create_dir_all(work_dir()).unwrap();
    let hook_repo = work_dir().join("hook");
    let rev = snapshot_working_tree(&hook_repo);
    let config = work_dir().join("pre-commit-config.yaml");
    let yaml = format!(
        "repos:\n- repo: {}\n  rev: {rev}\n  hooks:\n  - id: conflint\n  - id: conflint-fix\n",
        hook_repo.display()
    );
    std::fs::write(&config, yaml).unwrap();
    let hooks = Hooks { pre_commit, config, hook_repo, rev };
    // Build the hook once, before the tests race for pre-commit's store lock; `gc` first
    // drops the builds of earlier snapshots.
    let repo = Repo::new(&[("README.md", "configs\n")]);
    let (rc, out) = repo.pre_commit(&hooks, &["gc"]);
    assert_eq!(rc, 0, "{out}");
    let started = Instant::now();
    let (rc, out) = repo.pre_commit(&hooks, &["install-hooks"]);
    assert_eq!(rc, 0, "pre-commit could not build the hook:\n{out}");
    eprintln!("pre-commit installed the hooks (rev {}) in {:.1?}", &hooks.rev[..12], started.elapsed());
    Some(hooks)
}

fn find_pre_commit() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CONFLINT_PRE_COMMIT").map(PathBuf::from),
        Some(manifest().join("target/precommit-venv/bin/pre-commit")),
        Some(PathBuf::from("pre-commit")),
    ];
    candidates.into_iter().flatten().find(|p| Command::new(p).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// A command isolated from the user's git configuration and from any repository the
/// tests themselves run in (a git hook exports GIT_DIR).
fn command(program: &Path) -> Command {
    let mut c = Command::new(program);
    c.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("GIT_AUTHOR_NAME", "conflint tests")
        .env("GIT_AUTHOR_EMAIL", "tests@conflint.invalid")
        .env("GIT_COMMITTER_NAME", "conflint tests")
        .env("GIT_COMMITTER_EMAIL", "tests@conflint.invalid")
        .env("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2000-01-01T00:00:00Z")
        .env_remove("CONFLINT_OUTPUT_FORMAT")
        .env("NO_COLOR", "1");
    c
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = command(Path::new("git")).args(args).current_dir(dir).output().expect("git runs");
    assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Commit the working tree (what `.gitignore` does not ignore) into `repo`, leaving the
/// checkout's own repository alone. Returns the commit, which depends on the content only.
fn snapshot_working_tree(repo: &Path) -> String {
    if !repo.join(".git").exists() {
        std::fs::create_dir_all(repo).unwrap();
        git(repo, &["init", "-q"]);
    }
    let git_dir = format!("--git-dir={}", repo.join(".git").display());
    let work_tree = format!("--work-tree={}", manifest().display());
    let at = |args: &[&str]| git(&manifest(), &[&[git_dir.as_str(), work_tree.as_str()], args].concat());
    at(&["add", "-A"]);
    let tree = at(&["write-tree"]);
    let rev = at(&["commit-tree", &tree, "-m", "conflint working tree"]);
    at(&["update-ref", "HEAD", &rev]);
    rev
}

/// A git repository of configs, committed, the current directory of pre-commit.
struct Repo(tempfile::TempDir);

impl Repo {
    fn new(files: &[(&str, &str)]) -> Repo {
        let repo = Repo(tempfile::tempdir().unwrap());
        git(repo.path(), &["init", "-q"]);
        for (path, text) in files {
            repo.write(path, text);
        }
        git(repo.path(), &["commit", "-q", "-m", "configs"]);
        repo
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Write and stage a file (`--all-files` is every file git tracks).
    fn write(&self, path: &str, text: &str) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
        git(self.path(), &["add", path]);
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.path().join(path)).unwrap()
    }

    /// `pre-commit ARGS` with the test config; exit code and everything it printed.
    fn pre_commit(&self, hooks: &Hooks, args: &[&str]) -> (i32, String) {
        let mut c = command(&hooks.pre_commit);
        c.args(args);
        if matches!(args.first(), Some(&"run" | &"install-hooks")) {
            c.arg("--config").arg(&hooks.config);
        }
        if args.first() == Some(&"run") || args.first() == Some(&"try-repo") {
            c.arg("--color=never");
        }
        let o = c
            .current_dir(self.path())
            .env("PRE_COMMIT_HOME", work_dir().join("home"))
            .env("CARGO_TARGET_DIR", work_dir().join("cargo-target"))
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
            .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
            .output()
            .expect("pre-commit runs");
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        (o.status.code().unwrap_or(-1), all)
    }

    /// conflint itself (the binary under test) in this repository.
    fn conflint(&self, args: &[&str]) -> (i32, String) {
        let o = command(Path::new(env!("CARGO_BIN_EXE_conflint"))).args(args).current_dir(self.path()).output().unwrap();
        (o.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
    }
}

const NGINX_CONF: &str = "user www-data;
worker_processes 1;
worker_rlimit_nofile 4096;
events {
    worker_connections 2048;
}
http {
    fastcgi_read_timeout 300s;
    include sites-enabled/*.conf;
}
";

const FASTCGI_CONF: &str = "fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
fastcgi_param QUERY_STRING $query_string;
fastcgi_param REQUEST_METHOD $request_method;
fastcgi_param CONTENT_TYPE $content_type;
fastcgi_param CONTENT_LENGTH $content_length;
";

/// A PHP site passing to `socket`; `extra` goes into the PHP location.
fn site(name: &str, socket: &str, extra: &str) -> String {
    format!(
        "server {{\n    listen 80;\n    server_name {name}.example.com;\n    root /srv/{name};\n    location ~ \\.php$ {{\n        include fastcgi.conf;\n{extra}        fastcgi_pass unix:{socket};\n    }}\n}}\n"
    )
}

const POOL: &str = "[shop]
user = www-data
group = www-data
listen = /run/php/shop.sock
listen.owner = www-data
listen.group = www-data
pm = dynamic
pm.max_children = 20
pm.start_servers = 4
pm.min_spare_servers = 2
pm.max_spare_servers = 6
pm.max_requests = 500
request_terminate_timeout = 300s
";

/// A clean nginx + PHP-FPM repository (conflint finds nothing in it), with `changes`
/// written over it.
fn configs(changes: &[(&str, &str)]) -> Repo {
    let shop = site("shop", "/run/php/shop.sock", "");
    let mut files: Vec<(&str, &str)> = vec![
        ("nginx/nginx.conf", NGINX_CONF),
        ("nginx/fastcgi.conf", FASTCGI_CONF),
        ("nginx/sites-enabled/shop.conf", &shop),
        ("php/pool.d/shop.conf", POOL),
        ("nginx/README.md", "# Our nginx\n"),
    ];
    for (path, text) in changes {
        files.retain(|(p, _)| p != path);
        files.push((path, text));
    }
    Repo::new(&files)
}

#[test]
fn the_clean_repository_is_clean() {
    // The other tests' findings come from their changes, not from this base.
    let repo = configs(&[]);
    let (rc, out) = repo.conflint(&["check", "--output-format", "concise", "."]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("All checks passed!"), "{out}");
}

#[test]
fn a_broken_file_fails_the_hook_with_its_place_and_code() {
    let Some(hooks) = hooks() else { return };
    let repo = configs(&[("nginx/sites-enabled/broken.conf", "server {\n    listen 80\n}\n")]);
    let (rc, out) = repo.pre_commit(hooks, &["run", "conflint", "--files", "nginx/sites-enabled/broken.conf"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("conflint") && out.contains("Failed"), "{out}");
    assert!(out.contains("NGX001"), "{out}");
    assert!(out.contains("nginx/sites-enabled/broken.conf:3:1"), "{out}");
}

#[test]
fn a_clean_change_passes() {
    let Some(hooks) = hooks() else { return };
    let repo = configs(&[]);
    let (rc, out) = repo.pre_commit(hooks, &["run", "conflint", "--files", "nginx/sites-enabled/shop.conf", "php/pool.d/shop.conf"]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("Passed"), "{out}");
}

#[test]
fn files_the_filter_passes_that_are_not_configs_are_skipped_silently() {
    let Some(hooks) = hooks() else { return };
    let repo = configs(&[
        ("nginx/Dockerfile", "FROM nginx:1.27\nCOPY . /etc/nginx/\n"),
        ("nginx/ssl/shop.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
    ]);
    let files = ["nginx/README.md", "nginx/Dockerfile", "nginx/ssl/shop.pem"];
    let (rc, out) = repo.pre_commit(hooks, &[&["run", "conflint", "--verbose", "--files"], &files[..]].concat());
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("Passed"), "the hook ran on them: {out}");
    assert!(!out.contains("skipped") && !out.contains("NGX001"), "{out}");
    // Named by hand they are worth a note.
    let (rc, out) = repo.conflint(&["check", "nginx/Dockerfile"]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("nginx/Dockerfile: skipped: not a configuration file (by its name)"), "{out}");
}

#[test]
fn the_filter_takes_nginx_and_php_fpm_names_only() {
    let Some(hooks) = hooks() else { return };
    let broken = "server {\n    listen 80\n}\n";
    // Read as a PHP-FPM pool if it were passed: `[program:x]` looks like a pool section.
    let supervisor = "[program:worker]\ncommand = php artisan queue:work\nuser = www-data\n";
    let repo = configs(&[("deploy/nginx-prod.conf", broken), ("deploy/supervisord.conf", supervisor)]);
    let (rc, out) = repo.pre_commit(hooks, &["run", "conflint", "--files", "deploy/supervisord.conf"]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("(no files to check)Skipped"), "{out}");
    let (rc, out) = repo.pre_commit(hooks, &["run", "conflint", "--files", "deploy/nginx-prod.conf"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("deploy/nginx-prod.conf:3:1") && out.contains("NGX001"), "{out}");
}

#[test]
fn a_changed_site_is_linted_with_its_includer_and_the_pools() {
    let Some(hooks) = hooks() else { return };
    let low = NGINX_CONF.replace("fastcgi_read_timeout 300s;", "fastcgi_read_timeout 30s;").replace("worker_rlimit_nofile 4096;\n", "");
    let blog = site("blog", "/run/php/blog.sock", "");
    let repo = configs(&[("nginx/nginx.conf", &low), ("nginx/sites-enabled/blog.conf", &blog)]);
    // On its own the site looks fine: the timeout and the pools are elsewhere.
    let (rc, out) = repo.conflint(&["check", "--output-format", "concise", "nginx/sites-enabled/blog.conf"]);
    assert_eq!(rc, 0, "{out}");

    let (rc, out) = repo.pre_commit(hooks, &["run", "conflint", "--files", "nginx/sites-enabled/blog.conf"]);
    assert_eq!(rc, 1, "{out}");
    // The 30s written in nginx.conf's http{}, inherited by this site's PHP location.
    assert!(out.contains("NGX101") && out.contains("nginx/nginx.conf:7:") && out.contains("nginx/sites-enabled/blog.conf:7:"), "{out}");
    // No pool in php/ listens on the site's socket.
    assert!(out.contains("XFP001") && out.contains("unix:/run/php/blog.sock"), "{out}");
    // nginx.conf's own findings that are not about this site are not this commit's.
    assert!(!out.contains("NGX401"), "{out}");
    let (_, all) = repo.conflint(&["check", "--output-format", "concise", "."]);
    assert!(all.contains("nginx/nginx.conf:4:24: NGX401"), "{all}");
}

#[test]
fn the_fix_hook_rewrites_the_changed_file_only() {
    let Some(hooks) = hooks() else { return };
    // The site has a suppression that suppresses nothing (CFL001, safe fix: remove it);
    // nginx.conf has a fixable finding of its own (NGX401) but is not part of the commit.
    let stale = "        # conflint: ignore[NGX204] left from an old zone\n";
    let api = site("api", "/run/php/shop.sock", stale);
    let no_rlimit = NGINX_CONF.replace("worker_rlimit_nofile 4096;\n", "");
    let repo = configs(&[("nginx/sites-enabled/api.conf", &api), ("nginx/nginx.conf", &no_rlimit)]);
    let (rc, out) = repo.pre_commit(hooks, &["run", "conflint-fix", "--files", "nginx/sites-enabled/api.conf"]);
    assert_eq!(rc, 1, "a hook that changes files fails the commit: {out}");
    assert!(out.contains("files were modified by this hook"), "{out}");
    assert_eq!(repo.read("nginx/sites-enabled/api.conf"), api.replace(stale, ""));
    assert_eq!(repo.read("nginx/nginx.conf"), no_rlimit);
    // Staged again, the commit goes through.
    let (rc, out) = repo.pre_commit(hooks, &["run", "conflint", "--files", "nginx/sites-enabled/api.conf"]);
    assert_eq!(rc, 0, "{out}");
}

#[test]
fn all_files_honours_the_config_excludes() {
    let Some(hooks) = hooks() else { return };
    let broken = "server {\n    listen 80\n}\n";
    let repo = configs(&[("nginx/legacy/old.conf", broken), ("conflint.toml", "[check]\nextend-exclude = [\"nginx/legacy/\"]\n")]);
    // pre-commit names nginx/legacy/old.conf; --force-exclude skips it.
    let (rc, out) = repo.pre_commit(hooks, &["run", "conflint", "--all-files"]);
    assert_eq!(rc, 0, "{out}");
    repo.write("conflint.toml", "[check]\n");
    let (rc, out) = repo.pre_commit(hooks, &["run", "conflint", "--all-files"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("nginx/legacy/old.conf:3:1") && out.contains("NGX001"), "{out}");
}

#[test]
fn try_repo_runs_the_hook_from_a_repository_path() {
    // What a user does before adding the hook; pre-commit builds it in a throw-away store.
    let Some(hooks) = hooks() else { return };
    let repo = configs(&[("nginx/sites-enabled/broken.conf", "server {\n    listen 80\n}\n")]);
    let hook_repo = hooks.hook_repo.to_string_lossy();
    let started = Instant::now();
    let (rc, out) = repo.pre_commit(hooks, &["try-repo", &hook_repo, "conflint", "--ref", &hooks.rev, "--files", "nginx/sites-enabled/broken.conf"]);
    eprintln!("pre-commit try-repo (a fresh build) took {:.1?}", started.elapsed());
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("nginx/sites-enabled/broken.conf:3:1") && out.contains("NGX001"), "{out}");
}

// What the hooks rely on, checked on the binary directly (these never skip).

#[test]
fn in_project_reports_only_the_named_files_and_fixes_only_them() {
    let low = NGINX_CONF.replace("fastcgi_read_timeout 300s;", "fastcgi_read_timeout 30s;").replace("worker_rlimit_nofile 4096;\n", "");
    let api = site("api", "/run/php/shop.sock", "        fastcgi_read_timeout 60s;\n");
    let repo = configs(&[("nginx/nginx.conf", &low), ("nginx/sites-enabled/api.conf", &api)]);
    let (rc, out) = repo.conflint(&["check", "--output-format", "concise", "--in-project", "nginx/sites-enabled/api.conf"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("nginx/sites-enabled/api.conf:7:30: XFP002 [warning] nginx waits 60s"), "{out}");
    // Written in nginx.conf, inherited by shop.conf only: not this file's business.
    assert!(!out.contains("NGX101") && !out.contains("NGX401"), "{out}");
    let (rc, diff) = repo.conflint(&["check", "--in-project", "--unsafe-fixes", "--diff", "nginx/sites-enabled/api.conf"]);
    assert_eq!(rc, 1, "{diff}");
    let changed: Vec<&str> = diff.lines().filter(|l| l.starts_with("+++ ")).collect();
    assert_eq!(changed, vec!["+++ b/nginx/sites-enabled/api.conf"], "{diff}");
    // A finding reported through a named file but written elsewhere keeps no fix.
    let (_, out) = repo.conflint(&["check", "--output-format", "concise", "--in-project", "nginx/sites-enabled/shop.conf"]);
    assert!(out.contains("nginx/nginx.conf:7:26: NGX101 [warning] fastcgi_read_timeout is 30s"), "{out}");
    let (_, out) = repo.conflint(&["check", "--in-project", "-"]);
    assert!(out.contains("--in-project takes the paths of files"), "{out}");
}

#[test]
fn in_project_outside_a_repository_starts_at_the_directory_of_nginx_conf() {
    let dir = tempfile::tempdir().unwrap();
    let low = NGINX_CONF.replace("fastcgi_read_timeout 300s;", "fastcgi_read_timeout 30s;");
    std::fs::create_dir_all(dir.path().join("etc/nginx/sites-enabled")).unwrap();
    std::fs::write(dir.path().join("etc/nginx/nginx.conf"), low).unwrap();
    std::fs::write(dir.path().join("etc/nginx/fastcgi.conf"), FASTCGI_CONF).unwrap();
    std::fs::write(dir.path().join("etc/nginx/sites-enabled/shop.conf"), site("shop", "/run/php/shop.sock", "")).unwrap();
    let o = command(Path::new(env!("CARGO_BIN_EXE_conflint")))
        .args(["check", "--output-format", "concise", "--in-project", "sites-enabled/shop.conf"])
        .current_dir(dir.path().join("etc/nginx"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("nginx.conf:8:26: NGX101"), "{out}");
}

#[test]
fn excludes_skip_walked_paths_and_named_ones_only_when_forced() {
    let broken = "server {\n    listen 80\n}\n";
    let repo = configs(&[
        ("nginx/legacy/old.conf", broken),
        ("app/vendor/acme/nginx.conf", broken),
        ("conflint.toml", "[check]\nextend-exclude = [\"/nginx/legacy/\"]\n"),
    ]);
    let (rc, out) = repo.conflint(&["check", "--output-format", "concise", "."]);
    assert_eq!(rc, 0, "vendor/ is excluded by default, legacy/ by the config: {out}");
    // Named on the command line: linted (ruff's rule), unless --force-exclude.
    let (rc, out) = repo.conflint(&["check", "--output-format", "concise", "nginx/legacy/old.conf"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("nginx/legacy/old.conf:3:1: NGX001"), "{out}");
    let (rc, out) = repo.conflint(&["check", "--output-format", "concise", "--force-exclude", "nginx/legacy/old.conf", "app/vendor/acme/nginx.conf"]);
    assert_eq!((rc, out.contains("NGX001")), (0, false), "{out}");
    // `exclude` replaces the defaults.
    repo.write("conflint.toml", "[check]\nexclude = [\"/nginx/legacy/\"]\n");
    let (rc, out) = repo.conflint(&["check", "--output-format", "concise", "."]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("app/vendor/acme/nginx.conf:3:1: NGX001") && !out.contains("legacy"), "{out}");
}

#[test]
fn an_excluded_file_that_is_included_gives_context_but_no_findings() {
    let with_legacy = NGINX_CONF.replace("    include sites-enabled/*.conf;", "    include sites-enabled/*.conf;\n    include legacy/old.conf;");
    let legacy = site("old", "/run/php/gone.sock", "");
    let repo = configs(&[("nginx/nginx.conf", &with_legacy), ("nginx/legacy/old.conf", &legacy)]);
    let (rc, out) = repo.conflint(&["check", "--output-format", "concise", "."]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("nginx/legacy/old.conf:7:22: XFP001"), "{out}");
    repo.write("conflint.toml", "[check]\nextend-exclude = [\"legacy/\"]\n");
    let (rc, out) = repo.conflint(&["check", "--output-format", "concise", "."]);
    assert_eq!(rc, 0, "{out}");
    // Still read for the include (else NGX007 in nginx.conf), only its findings are hidden.
    let (_, out) = repo.conflint(&["check", "--output-format", "concise", "--select", "NGX007", "."]);
    assert!(!out.contains("NGX007"), "{out}");
}
