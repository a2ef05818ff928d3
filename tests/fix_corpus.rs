//! `check --fix --unsafe-fixes` on 20 real configuration trees from `../shared/corpus` that
//! the real `nginx -t` / `php-fpm -t` accept: the fixed tree is still accepted (the product's
//! staged validator, `--validate always`), the files change exactly as the dry run's `--diff`
//! announced and nowhere else (modes and symlinks kept), and a second `--fix` changes
//! nothing.
//!
//! A tree is assembled in a temporary directory from corpus files named by their repository
//! and path (SOURCES.tsv). Sites that ship no nginx.conf are enabled in Debian's own
//! `/etc/nginx` (the nginx package's files, in the corpus as oerdnj/nginx `debian/conf/`),
//! the way they are deployed; files the repository leaves to the nginx package (mime.types,
//! fastcgi_params) come from the same place. Each tree was checked to pass nginx -t /
//! php-fpm -t through the staged validator before any fix, and each has fixes to apply.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Tree {
    name: &'static str,
    /// `(repository, path in it, path in the tree)`; an empty path or one ending in `/` takes
    /// every corpus file below it.
    files: &'static [(&'static str, &'static str, &'static str)],
    /// Enable this site (`nginx/sites-available/NAME`) in Debian's /etc/nginx at `nginx/`.
    debian_site: Option<&'static str>,
    links: &'static [(&'static str, &'static str)],
}

const CB: &str = "certbot/certbot";
const DEBIAN_PKG: &str = "oerdnj/nginx";

/// A site enabled in Debian's /etc/nginx.
const fn site(name: &'static str, files: &'static [(&'static str, &'static str, &'static str)]) -> Tree {
    Tree { name, files, debian_site: Some(name), links: &[] }
}

const TREES: &[Tree] = &[
    // Whole trees with their own nginx.conf or php-fpm.conf.
    // WordPress with a FastCGI cache, TLS, an upstream; one site enabled as the README says.
    // Logs under /sites/: validated on the rewritten copy (no directory to overlay).
    Tree { name: "wordpress-nginx", files: &[("A5hleyRich/wordpress-nginx", "", "nginx/")], debian_site: None, links: &[("nginx/sites-enabled/single-site.com", "../sites-available/single-site.com")] },
    // osTicket (PHP, TLS, `user nginx`), Ruby behind FastCGI on a unix socket (`user http`).
    Tree { name: "osticket", files: &[(CB, "certbot-compatibility-test/nginx/nginx-roundtrip-testdata/osticket/", "nginx/"), (DEBIAN_PKG, "debian/conf/mime.types", "nginx/mime.types"), (DEBIAN_PKG, "debian/conf/fastcgi_params", "nginx/fastcgi_params")], debian_site: None, links: &[] },
    Tree { name: "simplerubyfcgi", files: &[(CB, "certbot-compatibility-test/nginx/nginx-roundtrip-testdata/simplerubyfcgi/", "nginx/"), (DEBIAN_PKG, "debian/conf/mime.types", "nginx/mime.types")], debian_site: None, links: &[] },
    // nginx and a PHP-FPM pool side by side (FPM fixes validated by php-fpm -t).
    Tree { name: "nginx-demos-phpfpm", files: &[("nginxinc/NGINX-Demos", "nginx-swarm-demo/phpfpmbase/", "nginx/"), (DEBIAN_PKG, "debian/conf/mime.types", "nginx/mime.types"), (DEBIAN_PKG, "debian/conf/fastcgi_params", "nginx/fastcgi_params")], debian_site: None, links: &[] },
    // Sentry's reverse proxy: upstreams with keepalive named after Compose services.
    Tree { name: "sentry", files: &[("getsentry/self-hosted", "nginx.conf", "nginx/nginx.conf"), (DEBIAN_PKG, "debian/conf/mime.types", "nginx/mime.types")], debian_site: None, links: &[] },
    // PHP-FPM only: Alpine's php84 layout run as `nginx`; mailcow's several pools.
    Tree { name: "kanboard-fpm", files: &[("kanboard/kanboard", "docker/etc/php84/", "php84/")], debian_site: None, links: &[] },
    Tree { name: "mailcow-fpm", files: &[("mailcow/mailcow-dockerized", "data/conf/phpfpm/", "php/")], debian_site: None, links: &[] },
    // Sites in Debian's /etc/nginx: reverse proxies (TLS, websockets, unix-socket upstream).
    site("jitsi-meet", &[("jitsi/jitsi-meet", "doc/debian/jitsi-meet/jitsi-meet.example", "nginx/sites-available/jitsi-meet")]),
    site("gitlab", &[("gitlabhq/gitlabhq", "lib/support/nginx/gitlab", "nginx/sites-available/gitlab")]),
    site("redmine", &[(CB, "certbot-compatibility-test/nginx/nginx-roundtrip-testdata/redmine/nginx.conf", "nginx/sites-available/redmine")]),
    site("upstream-ssl", &[(CB, "certbot-compatibility-test/nginx/nginx-roundtrip-testdata/upstream-issue-17/nginx.conf", "nginx/sites-available/upstream-ssl")]),
    site("iphone-proxy", &[(CB, "certbot-compatibility-test/nginx/nginx-roundtrip-testdata/iphone-website-with-nginx/nginx.conf", "nginx/sites-available/iphone-proxy")]),
    // PHP-FPM sites.
    site("grav", &[("getgrav/grav", "webserver-configs/nginx.conf", "nginx/sites-available/grav")]),
    site("nextcloud", &[("nextcloud/documentation", "admin_manual/installation/nginx-root.conf.sample", "nginx/sites-available/nextcloud")]),
    site("laravel", &[("invoiceninja/dockerfiles", "debian/nginx/laravel.conf", "nginx/sites-available/laravel")]),
    site("drupal", &[(DEBIAN_PKG, "debian/help/examples/drupal", "nginx/sites-available/drupal")]),
    site("wordpress", &[(DEBIAN_PKG, "debian/help/examples/wordpress", "nginx/sites-available/wordpress")]),
    site("pmwiki", &[(CB, "certbot-compatibility-test/nginx/nginx-roundtrip-testdata/pmwiki/nginx.conf", "nginx/sites-available/pmwiki")]),
    site("symfony-ssl", &[(CB, "certbot-compatibility-test/nginx/nginx-roundtrip-testdata/symfony/old.conf", "nginx/sites-available/symfony-ssl")]),
    site("iredmail", &[(CB, "certbot-compatibility-test/nginx/nginx-roundtrip-testdata/iredmail/nginx.conf", "nginx/sites-available/iredmail")]),
];

/// `(repository, path in it)` → the file in the corpus (its real-config parts, `nginx/` and
/// `fpm/`; the templated and test-suite parts are not configs nginx could load).
fn sources(corpus: &Path) -> HashMap<(String, String), PathBuf> {
    let tsv = std::fs::read_to_string(corpus.join("SOURCES.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let local = f.first().filter(|p| p.starts_with("nginx/") || p.starts_with("fpm/"))?;
            Some(((f.get(1)?.to_string(), f.get(2)?.to_string()), corpus.join(local)))
        })
        .collect()
}

fn assemble(tree: &Tree, sources: &HashMap<(String, String), PathBuf>, dir: &Path) {
    let mut files: Vec<(&str, &str, String)> = tree.files.iter().map(|&(r, p, t)| (r, p, t.to_string())).collect();
    let mut links: Vec<(String, String)> = tree.links.iter().map(|&(l, t)| (l.into(), t.into())).collect();
    if let Some(name) = tree.debian_site {
        files.push((DEBIAN_PKG, "debian/conf/", "nginx/".into()));
        links.push((format!("nginx/sites-enabled/{name}"), format!("../sites-available/{name}")));
    }
    for (repo, path, to) in files {
        let mut n = 0;
        for ((r, p), src) in sources {
            if r != repo {
                continue;
            }
            let dest = match path.is_empty() || path.ends_with('/') {
                // Debian's own default site would compete for default_server.
                true if repo == DEBIAN_PKG && p.ends_with("sites-available/default") => continue,
                true => match p.strip_prefix(path) {
                    Some(rest) => format!("{to}{rest}"),
                    None => continue,
                },
                false if p == path => to.clone(),
                false => continue,
            };
            let dest = dir.join(dest);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            // Corpus files are read-only: the copies are too, which --fix must keep.
            std::fs::copy(src, &dest).unwrap();
            n += 1;
        }
        assert!(n > 0, "{}: nothing in the corpus for {repo} {path}", tree.name);
    }
    for (link, target) in links {
        std::fs::create_dir_all(dir.join(&link).parent().unwrap()).unwrap();
        symlink(target, dir.join(link)).unwrap();
    }
}

fn conflint(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Every entry below `dir`: contents (or link target) and mode, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    let mut out = BTreeMap::new();
    for e in ignore::WalkBuilder::new(dir).standard_filters(false).follow_links(false).build().flatten() {
        let meta = std::fs::symlink_metadata(e.path()).unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        let content = match meta.file_type() {
            t if t.is_symlink() => format!("-> {}", std::fs::read_link(e.path()).unwrap().display()).into_bytes(),
            t if t.is_file() => std::fs::read(e.path()).unwrap(),
            _ => continue,
        };
        out.insert(rel, (content, meta.mode()));
    }
    out
}

/// Removed lines (old numbers) and added lines (new numbers), 1-based, with their text.
type LineChanges = (Vec<(usize, String)>, Vec<(usize, String)>);

/// Per file, the lines a unified diff removes and adds.
fn announced(diff: &str) -> BTreeMap<String, LineChanges> {
    let mut out: BTreeMap<String, LineChanges> = BTreeMap::new();
    let (mut file, mut old, mut new) = (String::new(), 0, 0);
    for line in diff.lines() {
        if let Some(p) = line.strip_prefix("+++ b/") {
            file = p.to_string();
        } else if line.starts_with("--- a/") || line.starts_with("diff --git") || line.starts_with('\\') {
        } else if let Some(h) = line.strip_prefix("@@ -") {
            let (o, n) = h.split_once(" +").unwrap();
            old = o.split(',').next().unwrap().parse().unwrap();
            new = n.split([',', ' ']).next().unwrap().parse().unwrap();
        } else if let Some(t) = line.strip_prefix('-') {
            out.entry(file.clone()).or_default().0.push((old, t.to_string()));
            old += 1;
        } else if let Some(t) = line.strip_prefix('+') {
            out.entry(file.clone()).or_default().1.push((new, t.to_string()));
            new += 1;
        } else {
            old += 1;
            new += 1;
        }
    }
    out
}

/// The lines that really changed between `before` and `after`.
fn actual(before: &[u8], after: &[u8]) -> LineChanges {
    let (b, a) = (String::from_utf8_lossy(before), String::from_utf8_lossy(after));
    let mut changes: LineChanges = Default::default();
    for op in similar::TextDiff::from_lines(b.as_ref(), a.as_ref()).ops() {
        for change in similar::TextDiff::from_lines(b.as_ref(), a.as_ref()).iter_changes(op) {
            let text = change.value().trim_end_matches(['\n', '\r']).to_string();
            match change.tag() {
                similar::ChangeTag::Delete => changes.0.push((change.old_index().unwrap() + 1, text)),
                similar::ChangeTag::Insert => changes.1.push((change.new_index().unwrap() + 1, text)),
                similar::ChangeTag::Equal => {}
            }
        }
    }
    changes
}

/// "Fixed N problems in M files" → N.
fn fixed_count(stderr: &str) -> usize {
    stderr.lines().find_map(|l| l.strip_prefix("Fixed ")?.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

#[test]
fn fixes_on_real_trees_stay_accepted_change_only_their_lines_and_are_idempotent() {
    let Some(corpus) = common::corpus() else { return };
    let validate = common::validators_installed();
    if !validate {
        eprintln!("NOTE: the fixed trees are not validated; diff and idempotence are still checked");
    }
    let sources = sources(&corpus);
    let mut problems = Vec::new();
    let mut total = 0;
    for tree in TREES {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(tree.name);
        assemble(tree, &sources, &dir);
        let before = snapshot(&dir);
        let (_, diff, _) = conflint(&dir, &["check", "--unsafe-fixes", "--diff", "."]);
        let mode = if validate { "always" } else { "never" };
        let (code, _, err) = conflint(&dir, &["check", "--fix", "--unsafe-fixes", "--validate", mode, "--exit-zero", "."]);
        let fixed = fixed_count(&err);
        total += fixed;
        let what = format!("{} (exit {code}):\n{err}", tree.name);
        if code != 0 || fixed == 0 {
            problems.push(format!("{what}\nexpected fixes, validated and written"));
            continue;
        }
        if validate && (!err.contains("conflint: validated ") || err.contains("NOT VALIDATED")) {
            problems.push(format!("{what}\nthe fixed tree was not validated"));
        }
        // Exactly the announced lines changed, in the files the diff names and no other.
        let after = snapshot(&dir);
        let wanted = announced(&diff);
        for (path, (old, mode)) in &before {
            let (new, new_mode) = &after[path];
            if mode != new_mode {
                problems.push(format!("{}: {path}: mode {mode:o} became {new_mode:o}", tree.name));
            }
            let changes = (old != new).then(|| actual(old, new));
            let shown = wanted.get(path);
            if changes.as_ref() != shown && !(changes.is_none() && shown.is_none()) {
                problems.push(format!("{}: {path} changed {changes:?}, the dry run announced {shown:?}", tree.name));
            }
        }
        if before.keys().ne(after.keys()) || wanted.keys().any(|p| !before.contains_key(p)) {
            problems.push(format!("{}: files appeared or vanished, or the diff names a file not in the tree", tree.name));
        }
        // A second run finds nothing more to fix.
        let (code, _, err) = conflint(&dir, &["check", "--fix", "--unsafe-fixes", "--validate", "never", "--exit-zero", "."]);
        if code != 0 || fixed_count(&err) != 0 || snapshot(&dir) != after {
            problems.push(format!("{}: a second --fix changed more (exit {code}):\n{err}", tree.name));
        }
    }
    eprintln!("{} trees, {total} fixes applied", TREES.len());
    assert_eq!(TREES.len(), 20);
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}
