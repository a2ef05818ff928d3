//! Section and include resolution against an in-memory file tree.

use std::collections::{BTreeMap, BTreeSet};

use conflint::finding::{Finding, Location, Severity};
use conflint::fpm::ast::FpmFile;
use conflint::fpm::parse;
use conflint::fpm::resolve::{resolve, Expanded, FpmConfig, FpmFiles, Prefix, Setting};
use conflint::source::{FileId, SourceFile, Sources};

/// Files by absolute path, directories that exist, and a record of every expanded pattern.
#[derive(Default)]
struct Tree {
    sources: Sources,
    parsed: Vec<std::sync::Arc<FpmFile>>,
    paths: BTreeMap<String, FileId>,
    dirs: BTreeSet<String>,
    patterns: Vec<String>,
}

impl Tree {
    fn file(&mut self, path: &str, text: &str) -> FileId {
        let id = self.sources.add(SourceFile::new(path, None, text.as_bytes().to_vec()));
        self.parsed.push(std::sync::Arc::new(parse(text.as_bytes())));
        self.paths.insert(path.to_string(), id);
        self.dirs.insert(parent(path).to_string());
        id
    }

    fn dir(&mut self, path: &str) {
        self.dirs.insert(path.to_string());
    }

    fn path(&self, id: FileId) -> &str {
        &self.sources.get(id).display
    }
}

fn parent(path: &str) -> &str {
    &path[..path.rfind('/').unwrap()]
}

impl FpmFiles for Tree {
    fn sources(&self) -> &Sources {
        &self.sources
    }

    fn parsed(&self, id: FileId) -> std::sync::Arc<FpmFile> {
        self.parsed[id.0].clone()
    }

    fn expand_include(&mut self, pattern: &str, _from: Location) -> Expanded {
        self.patterns.push(pattern.to_string());
        if !self.dirs.contains(parent(pattern)) {
            return Expanded::DirMissing { certain: true };
        }
        let glob = glob::Pattern::new(pattern).unwrap();
        let matches: Vec<FileId> =
            self.paths.iter().filter(|(path, _)| glob.matches(path)).map(|(_, &id)| id).collect();
        if matches.is_empty() {
            Expanded::NoMatch
        } else {
            Expanded::Files(matches)
        }
    }
}

fn names(settings: &[Setting]) -> Vec<String> {
    settings
        .iter()
        .map(|s| match &s.array_key {
            Some(key) => format!("{}[{}]={}", s.name, key, s.value.text),
            None => format!("{}={}", s.name, s.value.text),
        })
        .collect()
}

fn codes(config: &FpmConfig) -> Vec<(&str, Severity)> {
    config.findings.iter().map(|f| (f.code.as_str(), f.severity)).collect()
}

fn only<'a>(config: &'a FpmConfig, code: &str) -> &'a Finding {
    let found: Vec<_> = config.findings.iter().filter(|f| f.code == code).collect();
    assert_eq!(found.len(), 1, "{:#?}", config.findings);
    found[0]
}

fn text(tree: &Tree, location: Location) -> &str {
    std::str::from_utf8(tree.sources.get(location.file).slice(location.span)).unwrap()
}

#[test]
fn global_before_sections_pools_and_reopening() {
    let mut tree = Tree::default();
    let root = tree.file(
        "/etc/fpm/php-fpm.conf",
        "pid = /run/fpm.pid\n\
         [www]\n\
         PM.Max_Children = 3\n\
         php_value[Memory_Limit] = 64M\n\
         [global]\n\
         Log_Level = debug\n\
         [other]\n\
         pm = static\n\
         [WWW]\n\
         pm.max_children = 4\n",
    );
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert!(config.findings.is_empty(), "{:#?}", config.findings);
    assert_eq!(config.root, Some(root));
    assert_eq!(config.files, vec![root]);
    assert_eq!(names(&config.global), ["pid=/run/fpm.pid", "log_level=debug"]);
    assert_eq!(config.pools.len(), 2);
    let www = &config.pools[0];
    assert_eq!(www.name, "www", "the name of the first header");
    assert_eq!(text(&tree, www.header), "[www]");
    // Both sections merged, in reading order: PHP-FPM's last scalar wins.
    assert_eq!(names(&www.settings), ["pm.max_children=3", "php_value[Memory_Limit]=64M", "pm.max_children=4"]);
    assert_eq!(text(&tree, www.settings[0].name_location()), "PM.Max_Children");
    assert_eq!(text(&tree, www.settings[0].value_location()), "3");
    assert_eq!(text(&tree, www.settings[0].location), "PM.Max_Children = 3");
    assert_eq!(names(&config.pools[1].settings), ["pm=static"]);
}

#[test]
fn array_names_keep_their_case() {
    let mut tree = Tree::default();
    let root = tree.file("/p.conf", "[www]\nPHP_VALUE[x] = 1\nEnv[A] = b\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert_eq!(names(&config.pools[0].settings), ["PHP_VALUE[x]=1", "Env[A]=b"]);
}

#[test]
fn included_files_continue_and_leak_their_last_section() {
    let mut tree = Tree::default();
    let root = tree.file(
        "/etc/fpm/php-fpm.conf",
        "[global]\n\
         error_log = /var/log/fpm.log\n\
         include = /etc/fpm/pool.d/*.conf\n\
         log_level = debug\n\
         process.max = 10\n\
         [global]\n\
         daemonize = no\n",
    );
    let a = tree.file("/etc/fpm/pool.d/a.conf", "[a]\npm.max_children = 5\n");
    let b = tree.file("/etc/fpm/pool.d/b.conf", "pm.max_children = 7\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert_eq!(config.files, vec![root, a, b], "reading order");
    assert_eq!(tree.patterns, ["/etc/fpm/pool.d/*.conf"]);
    assert_eq!(names(&config.global), ["error_log=/var/log/fpm.log", "daemonize="]);
    // b.conf has no header: it continues in [a]; the root's next lines land in [a] too.
    assert_eq!(
        names(&config.pools[0].settings),
        ["pm.max_children=5", "pm.max_children=7", "log_level=debug", "process.max=10"]
    );
    let leaks: Vec<_> = config.findings.iter().filter(|f| f.code == "FPM009").collect();
    assert_eq!(leaks.len(), 2, "{:#?}", config.findings);
    let first = leaks[0];
    assert_eq!(first.severity, Severity::Warning);
    assert_eq!(text(&tree, first.location), "log_level = debug");
    assert!(first.message.contains("pool [a]") && first.message.contains("[global]"), "{}", first.message);
    assert_eq!(first.related.len(), 1);
    assert_eq!(text(&tree, first.related[0].location), "include = /etc/fpm/pool.d/*.conf");
    assert!(first.help.is_some());
}

#[test]
fn includes_that_stay_in_the_section_do_not_leak() {
    let mut tree = Tree::default();
    let root = tree.file("/etc/fpm/www.conf", "[www]\ninclude = /etc/fpm/common/*.conf\npm = static\n");
    tree.file("/etc/fpm/common/limits.conf", "pm.max_children = 4\n[www]\nrequest_terminate_timeout = 30s\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert!(config.findings.is_empty(), "{:#?}", config.findings);
    assert_eq!(names(&config.pools[0].settings), ["pm.max_children=4", "request_terminate_timeout=30s", "pm=static"]);
}

#[test]
fn relative_include_is_resolved_against_the_prefix() {
    let mut tree = Tree::default();
    let root = tree.file("/etc/fpm/php-fpm.conf", "[global]\ninclude = pool.d/*.conf\n");
    tree.file("/etc/fpm/pool.d/www.conf", "[www]\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert_eq!(tree.patterns, ["/usr/pool.d/*.conf"], "not /etc/fpm/pool.d");
    let relative = config.findings.iter().find(|f| f.severity == Severity::Warning).expect("relative warning");
    assert_eq!(relative.code, "FPM009");
    assert!(relative.message.contains("'/usr/pool.d/*.conf'"), "{}", relative.message);
    assert_eq!(text(&tree, relative.location), "include = pool.d/*.conf");
    // /usr/pool.d does not exist in the tree: PHP-FPM's fatal error follows.
    let missing = config.findings.iter().find(|f| f.severity == Severity::Error).expect("missing dir");
    assert!(missing.message.contains("Unable to globalize '/usr/pool.d/*.conf' (ret=2)"), "{}", missing.message);
    // With `-p /etc/fpm` the same line works.
    let mut tree2 = Tree::default();
    let root = tree2.file("/etc/fpm/php-fpm.conf", "[global]\ninclude = pool.d/*.conf\n");
    let www = tree2.file("/etc/fpm/pool.d/www.conf", "[www]\n");
    let config = resolve(root, &mut tree2, &Prefix::given("/etc/fpm"), false);
    assert_eq!(codes(&config), [("FPM009", Severity::Warning)]);
    assert_eq!(config.files, vec![root, www]);
}

#[test]
fn include_of_a_missing_directory_is_an_error() {
    let mut tree = Tree::default();
    let root = tree.file("/etc/fpm/php-fpm.conf", "include = /etc/fpm/nope.d/*.conf\n[www]\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    let f = only(&config, "FPM009");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("Unable to globalize '/etc/fpm/nope.d/*.conf' (ret=2)"), "{}", f.message);
}

#[test]
fn include_matching_nothing_matters_only_without_pools() {
    let mut tree = Tree::default();
    tree.dir("/etc/fpm/empty.d");
    let root = tree.file("/etc/fpm/php-fpm.conf", "[global]\ninclude = /etc/fpm/empty.d/*.conf\n[www]\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert_eq!(codes(&config), [("FPM009", Severity::Info)]);
    assert!(config.findings[0].message.contains("nothing matches the include pattern '/etc/fpm/empty.d/*.conf'"));

    let mut tree = Tree::default();
    tree.dir("/etc/fpm/empty.d");
    let root = tree.file("/etc/fpm/php-fpm.conf", "[global]\ninclude = /etc/fpm/empty.d/*.conf\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert_eq!(codes(&config), [("FPM009", Severity::Error)]);
    assert!(config.findings[0].message.contains("No pool defined"));
}

#[test]
fn not_followed_includes_are_left_to_the_workspace() {
    struct Outside(Tree);
    impl FpmFiles for Outside {
        fn sources(&self) -> &Sources {
            self.0.sources()
        }
        fn parsed(&self, id: FileId) -> std::sync::Arc<FpmFile> {
            self.0.parsed(id)
        }
        fn expand_include(&mut self, _: &str, _: Location) -> Expanded {
            Expanded::NotFollowed
        }
    }
    let mut tree = Tree::default();
    let root = tree.file("/p.conf", "include = /elsewhere/*.conf\n[www]\n");
    let config = resolve(root, &mut Outside(tree), &Prefix::given("/usr"), false);
    assert!(config.findings.is_empty());
}

#[test]
fn more_than_five_nested_files_is_an_error() {
    let mut tree = Tree::default();
    // r0 (the root) includes r1, which includes r2, ... up to r6.
    let ids: Vec<FileId> = (0..7)
        .map(|i| {
            tree.file(&format!("/etc/fpm/r{i}/r{i}.conf"), &format!("include = /etc/fpm/r{}/*.conf\n[p{i}]\n", i + 1))
        })
        .collect();
    tree.dir("/etc/fpm/r7");
    let config = resolve(ids[0], &mut tree, &Prefix::given("/usr"), false);
    // PHP-FPM opens at most 5 files in one chain: r5 would be the 6th.
    assert_eq!(config.files, ids[..5]);
    let f = only(&config, "FPM009");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.location.file, ids[4]);
    assert!(f.message.contains("failed to include more than 5 files recursively"), "{}", f.message);
}

#[test]
fn a_file_including_itself_stops_at_the_limit() {
    let mut tree = Tree::default();
    let root = tree.file("/etc/fpm/loop.conf", "include = /etc/fpm/*.conf\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert_eq!(config.files, vec![root]);
    assert_eq!(codes(&config), [("FPM009", Severity::Error)]);
}

#[test]
fn pool_name_expansion() {
    let mut tree = Tree::default();
    let root = tree.file(
        "/p.conf",
        "[www]\n\
         slowlog = /var/log/$pool.slow.log\n\
         listen = /run/$pool-$pool.sock\n\
         pm.max_children = $pool\n\
         php_admin_value[error_log] = /var/log/$pool.err\n\
         php_flag[display_errors] = $pool\n\
         env[POOL] = $pool\n",
    );
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert!(config.findings.is_empty(), "{:#?}", config.findings);
    assert_eq!(
        names(&config.pools[0].settings),
        [
            "slowlog=/var/log/www.slow.log",
            "listen=/run/www-www.sock",
            // Integer and flag parsers do not expand `$pool` (they then reject the value).
            "pm.max_children=$pool",
            "php_admin_value[error_log]=/var/log/www.err",
            "php_flag[display_errors]=$pool",
            "env[POOL]=www",
        ]
    );
}

#[test]
fn pool_name_in_global_is_an_error() {
    let mut tree = Tree::default();
    let root = tree.file("/p.conf", "[global]\npid = /run/$pool.pid\nprocess.max = $pool\n[www]\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    let f = only(&config, "FPM001");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.message, "unable to parse value for entry 'pid': Can't use '$pool' when the pool is not defined");
    assert_eq!(text(&tree, f.location), "/run/$pool.pid");
}

#[test]
fn syntax_errors_become_fpm001_with_help() {
    let mut tree = Tree::default();
    let root = tree.file(
        "/etc/fpm/php-fpm.conf",
        "[www]\n# a comment\nthis has no equals\nphp_value[include_path] = .:/a=b\ninclude = /etc/fpm/d/*.conf\n",
    );
    let inc = tree.file("/etc/fpm/d/x.conf", "ping.response = \"open\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    let errors: Vec<_> = config.findings.iter().filter(|f| f.code == "FPM001").collect();
    assert_eq!(errors.len(), 4, "{:#?}", config.findings);
    assert!(errors.iter().all(|f| f.severity == Severity::Error && f.help.is_some()));
    let hash = errors[0];
    assert!(hash.message.contains("value is NULL for a ZEND_INI_PARSER_ENTRY"));
    assert!(hash.help.as_ref().unwrap().contains("`;`"));
    let fix = hash.fix.as_ref().expect("a `#` line gets a fix");
    assert_eq!(fix.edits.len(), 1);
    assert_eq!(fix.edits[0].content, ";");
    assert_eq!(text(&tree, fix.edits[0].location), "#");
    assert_eq!(errors[2].message, "syntax error, unexpected '='");
    assert_eq!(errors[3].location.file, inc);
}

#[test]
fn a_file_included_twice_reports_its_errors_once() {
    let mut tree = Tree::default();
    let root = tree.file("/etc/fpm/main.conf", "include = /etc/fpm/d/*.conf\ninclude = /etc/fpm/d/*.conf\n");
    let inc = tree.file("/etc/fpm/d/x.conf", "[x]\nbroken\n");
    let config = resolve(root, &mut tree, &Prefix::given("/usr"), false);
    assert_eq!(config.files, vec![root, inc]);
    assert_eq!(codes(&config), [("FPM001", Severity::Error)]);
    assert_eq!(tree.path(inc), "/etc/fpm/d/x.conf");
}
