//! A generated tree (includes, globs, symlinks, FIFOs, map-roots, `nginx -T` dumps): the
//! workspace resolves without panicking or hanging, reads nothing outside the tree, and
//! every include it records points at a loaded nginx file.
#![no_main]

use conflint_fuzz::Tree;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|tree: Tree| {
    let Ok(w) = tree.write() else { return };
    let ws = match conflint::workspace::Workspace::load(&w.settings.workspace, &mut w.stdin.as_slice()) {
        Ok(ws) => ws,
        Err(_) => return,
    };
    for (_, src) in ws.sources.iter() {
        if let Some(p) = &src.disk_path {
            assert!(p.starts_with(&w.root), "read a file outside the tree: {}", p.display());
        }
    }
    for ((file, at), targets) in &ws.includes {
        assert!(*at < ws.source(*file).text.len(), "include offset past its file");
        for t in targets {
            assert!(ws.nginx.contains_key(t), "include target {t:?} is not a parsed nginx file");
        }
    }
    for root in ws.nginx_roots.iter().chain(&ws.nginx_snippets) {
        assert!(ws.nginx[root].context.is_some(), "a linted nginx file has no context");
    }
});
