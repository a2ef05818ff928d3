//! The generated directive tables are reproducible: regenerating them from the revisions
//! recorded in src/nginx/directives/data/SOURCES gives the committed files byte for byte.
//!
//! Needs local mirrors of the pinned repositories (`$CONFLINT_MIRRORS`, default
//! /work/.mirror; see docs/directives.md) and python3. CI has no network and no mirrors,
//! so there this test says it skipped; run it wherever the mirrors are.

use std::process::Command;

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
