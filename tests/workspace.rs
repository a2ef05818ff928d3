//! Include resolution, path mapping, confinement and snippet contexts on real trees.

use std::path::PathBuf;

use conflint::finding::Finding;
use conflint::source::FileId;
use conflint::workspace::{Context, Options, Workspace};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_with(paths: &[&str], tweak: impl FnOnce(&mut Options)) -> Workspace {
    let mut opts = Options { paths: paths.iter().map(|s| s.to_string()).collect(), cwd: manifest(), ..Default::default() };
    tweak(&mut opts);
    Workspace::load(&opts, &mut std::io::empty()).expect("workspace loads")
}

fn load(paths: &[&str]) -> Workspace {
    load_with(paths, |_| {})
}

fn file(ws: &Workspace, suffix: &str) -> FileId {
    ws.sources
        .iter()
        .find(|(_, f)| f.display.ends_with(suffix))
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("{suffix} not loaded; have {:?}", ws.sources.iter().map(|(_, f)| &f.display).collect::<Vec<_>>()))
}

fn context(ws: &Workspace, suffix: &str) -> Option<Context> {
    ws.nginx[&file(ws, suffix)].context
}

fn findings<'a>(ws: &'a Workspace, code: &str) -> Vec<&'a Finding> {
    ws.findings.iter().filter(|f| f.code == code).collect()
}

/// `(display, line, column)` of a finding.
fn at(ws: &Workspace, f: &Finding) -> (String, usize, usize) {
    let src = ws.source(f.location.file);
    let p = src.position(f.location.span.start());
    (src.display.clone(), p.line, p.column)
}

fn included_files(ws: &Workspace, from: &str) -> Vec<String> {
    let id = file(ws, from);
    let mut keys: Vec<_> = ws.includes.keys().filter(|(f, _)| *f == id).copied().collect();
    keys.sort();
    keys.iter().flat_map(|k| ws.includes[k].iter().map(|t| ws.source(*t).display.clone())).collect()
}

fn check_debian_tree(ws: &Workspace, conf: &str) {
    let root = file(ws, &format!("{conf}/nginx.conf"));
    assert_eq!(ws.nginx_roots, vec![root]);
    // Globs come back sorted; the missing optional.d/ glob is silently nothing, as in nginx.
    assert_eq!(
        included_files(ws, &format!("{conf}/nginx.conf")),
        vec![
            format!("{conf}/mime.types"),
            format!("{conf}/conf.d/a-map.conf"),
            format!("{conf}/conf.d/b-upstream.conf"),
            format!("{conf}/sites-available/app.conf"),
        ]
    );
    assert_eq!(context(ws, "sites-available/app.conf"), Some(Context::Http));
    assert_eq!(context(ws, "snippets/fastcgi-php.conf"), Some(Context::Location));
    assert_eq!(context(ws, "/fastcgi.conf"), Some(Context::Location));
    assert_eq!(context(ws, "conf.d/b-upstream.conf"), Some(Context::Http));
    // Not enabled: linted on its own, as a server-level snippet.
    assert_eq!(ws.nginx_snippets, vec![file(ws, "sites-available/disabled.conf")]);
    assert_eq!(context(ws, "sites-available/disabled.conf"), Some(Context::Server));
    assert!(ws.findings.is_empty(), "unexpected findings: {:?}", ws.findings);
}

#[test]
fn debian_tree_with_relative_includes_and_symlinks() {
    let ws = load(&["fixtures/workspace/relative"]);
    check_debian_tree(&ws, "fixtures/workspace/relative");
}

#[test]
fn debian_tree_with_absolute_etc_nginx_includes_is_mapped_automatically() {
    let ws = load(&["fixtures/workspace/absolute"]);
    check_debian_tree(&ws, "fixtures/workspace/absolute/etc/nginx");
    let note = ws.notes.iter().find(|n| n.path == "/etc/nginx").expect("the automatic mapping is announced");
    assert!(note.message.contains("fixtures/workspace/absolute/etc/nginx"), "{note:?}");
}

#[test]
fn explicit_map_root_gives_the_same_tree() {
    let ws = load_with(&["fixtures/workspace/absolute"], |o| {
        o.map_roots = vec![(PathBuf::from("/etc/nginx"), manifest().join("fixtures/workspace/absolute/etc/nginx"))];
    });
    check_debian_tree(&ws, "fixtures/workspace/absolute/etc/nginx");
    assert!(ws.notes.iter().all(|n| n.path != "/etc/nginx"), "no automatic mapping when one is given");
}

#[test]
fn a_file_included_from_several_places_is_parsed_once() {
    let ws = load(&["fixtures/workspace/relative"]);
    let n = ws.sources.iter().filter(|(_, f)| f.display.ends_with("/fastcgi.conf")).count();
    assert_eq!(n, 1);
}

#[test]
fn demo_tree_reports_the_missing_snippet_with_nginx_words() {
    let ws = load(&["fixtures/demo"]);
    let missing = findings(&ws, "NGX007");
    assert_eq!(missing.len(), 1, "{:?}", ws.findings);
    assert_eq!(at(&ws, missing[0]), ("fixtures/demo/nginx/sites-available/blog.conf".into(), 11, 17));
    assert!(missing[0].message.starts_with("open() \"/etc/nginx/snippets/php-fastcgi.conf\" failed (2: No such file or directory)"), "{}", missing[0].message);
    // The site reached through an absolute symlink is linted in the http context.
    assert_eq!(context(&ws, "sites-available/shop.conf"), Some(Context::Http));
    assert!(findings(&ws, "CFL002").is_empty(), "modules-enabled/ is absent, not outside: {:?}", findings(&ws, "CFL002"));
}

#[test]
fn include_cycle_shows_the_chain() {
    let ws = load(&["fixtures/bad-input/include-cycle"]);
    let cycles = findings(&ws, "NGX008");
    assert_eq!(cycles.len(), 1, "{:?}", ws.findings);
    let f = cycles[0];
    assert_eq!(at(&ws, f), ("fixtures/bad-input/include-cycle/b.conf".into(), 2, 9));
    assert_eq!(
        f.message,
        "include cycle: fixtures/bad-input/include-cycle/a.conf → fixtures/bad-input/include-cycle/b.conf → fixtures/bad-input/include-cycle/a.conf"
    );
}

#[test]
fn includes_leaving_the_tree_are_reported_and_never_read() {
    let ws = load(&["fixtures/workspace/confinement/tree"]);
    let outside = findings(&ws, "CFL002");
    let lines: Vec<usize> = outside.iter().map(|f| at(&ws, f).1).collect();
    assert_eq!(lines, vec![3, 4, 5], "{outside:?}");
    assert!(outside[1].message.starts_with("/etc/passwd is outside the linted tree"));
    for (_, f) in ws.sources.iter() {
        assert!(!f.lossy().contains("SECRET"), "{} was read", f.display);
        assert!(!f.display.contains("passwd"));
    }
}

#[test]
fn allow_outside_reads_what_the_user_allowed() {
    let ws = load_with(&["fixtures/workspace/confinement/tree"], |o| o.allow_outside = true);
    assert!(ws.sources.iter().any(|(_, f)| f.lossy().contains("SECRET")));
    assert!(findings(&ws, "CFL002").is_empty());
}

#[test]
fn snippet_context_can_be_forced() {
    let ws = load_with(&["fixtures/workspace/relative/sites-available/disabled.conf"], |o| o.context = Some(Context::Location));
    assert_eq!(context(&ws, "disabled.conf"), Some(Context::Location));
}

#[test]
fn nginx_t_dump_on_stdin_keeps_each_files_line_numbers() {
    let dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
                # configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n\n\
                # configuration file /etc/nginx/conf.d/site.conf:\nserver {\n    listen 80;\n    location / {\n        root /srv\n    }\n}\n\n";
    let opts = Options { paths: vec!["-".into()], cwd: manifest(), ..Default::default() };
    let ws = Workspace::load(&opts, &mut dump.as_bytes()).unwrap();
    assert_eq!(included_files(&ws, "/etc/nginx/nginx.conf"), vec!["/etc/nginx/conf.d/site.conf".to_string()]);
    assert_eq!(context(&ws, "site.conf"), Some(Context::Http));
    let syntax = findings(&ws, "NGX001");
    assert_eq!(syntax.len(), 1, "{:?}", ws.findings);
    assert_eq!(at(&ws, syntax[0]).0, "/etc/nginx/conf.d/site.conf");
    assert_eq!(at(&ws, syntax[0]).1, 5);
}

#[test]
fn missing_path_argument_is_an_error() {
    let opts = Options { paths: vec!["fixtures/no/such/dir".into()], cwd: manifest(), ..Default::default() };
    let err = Workspace::load(&opts, &mut std::io::empty()).err().expect("error");
    assert_eq!(err.to_string(), "fixtures/no/such/dir: No such file or directory");
}

#[test]
fn fpm_pools_are_found_through_a_mapped_absolute_include() {
    let ws = load(&["fixtures/demo"]);
    assert_eq!(ws.fpm.len(), 1, "one php-fpm.conf, its pool.d included");
    let cfg = &ws.fpm[0];
    let names: Vec<&str> = cfg.files.iter().map(|f| ws.source(*f).display.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "fixtures/demo/php/8.2/fpm/php-fpm.conf",
            "fixtures/demo/php/8.2/fpm/pool.d/shop.conf",
            "fixtures/demo/php/8.2/fpm/pool.d/www.conf"
        ]
    );
}

#[test]
fn side_by_side_trees_each_resolve_etc_nginx_in_their_own_directory() {
    let ws = load(&["fixtures/NGX007/pass-two-trees-two-nginx-confs"]);
    let dir = "fixtures/NGX007/pass-two-trees-two-nginx-confs";
    assert_eq!(included_files(&ws, &format!("{dir}/a/nginx.conf")), vec![format!("{dir}/a/conf.d/a.conf")]);
    assert_eq!(
        included_files(&ws, &format!("{dir}/b/nginx.conf")),
        vec![format!("{dir}/b/conf.d/b.conf"), format!("{dir}/b/snippets/b-only.conf")]
    );
    assert!(ws.findings.is_empty(), "unexpected findings: {:?}", ws.findings);
    assert!(ws.notes.iter().any(|n| n.message.contains("2 nginx trees, each linted on its own")), "{:?}", ws.notes);
}

#[test]
fn a_snippet_of_another_tree_resolves_its_includes_there_and_says_so() {
    let ws = load(&["fixtures/NGX007/pass-two-trees-one-nginx-conf"]);
    let dir = "fixtures/NGX007/pass-two-trees-one-nginx-conf";
    assert_eq!(included_files(&ws, &format!("{dir}/magento2/sites-available/shop.conf")), vec![format!("{dir}/magento2/conf_m2/maps.conf")]);
    assert_eq!(included_files(&ws, &format!("{dir}/magento1/sites-enabled/shop.conf")), vec![format!("{dir}/magento1/conf_m1/maps.conf")]);
    assert!(ws.findings.is_empty(), "unexpected findings: {:?}", ws.findings);
    let note = ws.notes.iter().find(|n| n.path.ends_with("magento2/sites-available/shop.conf")).expect("a note on the other tree's snippet");
    assert!(note.message.contains("linted as part of another tree"), "{}", note.message);
}

/// A walk of many files (read on several threads while the walk goes on) keeps the walk's
/// order: files sorted by path, directory by directory, and the notes of files it could
/// not read in that same order.
#[test]
fn many_walked_files_come_back_in_walk_order_with_their_notes() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    let mut too_big = Vec::new();
    for d in ["b", "a/z", "a"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    for i in 0..60 {
        let rel = format!("{}/site{i:02}.conf", ["a", "a/z", "b"][i % 3]);
        let big = i % 7 == 0;
        let body = if big { format!("# {}\n", "x".repeat(300)) } else { format!("server {{ listen {}; }}\n", 8000 + i) };
        std::fs::write(dir.path().join(&rel), body).unwrap();
        if big { too_big.push(rel) } else { expected.push(rel) }
    }
    // The walk lists each directory sorted by name, `a/site*` before `a/z/`: path order.
    expected.sort_by(|x, y| std::path::Path::new(x).cmp(std::path::Path::new(y)));
    too_big.sort_by(|x, y| std::path::Path::new(x).cmp(std::path::Path::new(y)));
    let opts = Options { paths: vec![".".into()], cwd: dir.path().to_path_buf(), max_file_size: 200, ..Default::default() };
    let ws = Workspace::load(&opts, &mut std::io::empty()).unwrap();
    let loaded: Vec<String> = ws.sources.iter().map(|(_, f)| f.display.trim_start_matches("./").to_string()).collect();
    assert_eq!(loaded, expected);
    let noted: Vec<String> = ws.notes.iter().filter(|n| n.message.contains("limit")).map(|n| n.path.trim_start_matches("./").to_string()).collect();
    assert_eq!(noted, too_big);
}
