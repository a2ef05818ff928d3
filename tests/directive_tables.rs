//! The generated directive tables are reproducible: regenerating them from the revisions
//! recorded in src/nginx/directives/data/SOURCES gives the committed files byte for byte.
//!
//! Needs local mirrors of the pinned repositories (`$CONFLINT_MIRRORS`, default
//! /work/.mirror; see docs/directives.md) and python3. CI has no network and no mirrors,
//! so there this test says it skipped; run it wherever the mirrors are.
//!
//! The build of the installed nginx, read from its binary, is what `nginx -V` says.

mod common;

use std::path::Path;
use std::process::Command;

use conflint::nginx::directives::build;

#[test]
fn regenerating_the_tables_gives_the_committed_files() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-directives.py");
    let out = match Command::new("python3").arg(script).arg("--check").output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED: python3 is not available ({e}); the tables' reproducibility was not checked");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(3) => eprintln!("SKIPPED: the pinned source repositories are not here, so the tables were not regenerated: {stderr}"),
        _ => panic!("the committed tables differ from what the pinned sources generate (run python3 scripts/gen-directives.py):\n{stderr}"),
    }
}

#[test]
fn the_build_read_from_the_installed_binary_is_what_nginx_v_prints() {
    if !common::validators_installed() {
        return;
    }
    let bin = Path::new("/usr/sbin/nginx");
    let out = Command::new(bin).arg("-V").output().unwrap();
    let printed = build::parse_v(&String::from_utf8_lossy(&out.stderr)).expect("nginx -V names a version");
    assert!(printed.arguments.len() > 10, "Debian's nginx has a long configure line: {printed:?}");
    assert_eq!(build::read_v(bin), Some(printed));
}
