//! The fixer on a generated tree, unsafe fixes included: every fix applied leaves files
//! that parse as well as before (no new syntax or include errors), and fixing the fixed
//! tree again changes nothing.
#![no_main]

use conflint_fuzz::{check_linted, Tree};
use libfuzzer_sys::fuzz_target;

const BREAKING: &[&str] = &["NGX001", "NGX007", "NGX008", "FPM001"];

fn breakage(l: &conflint::check::Linted) -> usize {
    l.workspace.findings.iter().filter(|f| BREAKING.contains(&f.code.as_str())).count()
}

fuzz_target!(|tree: Tree| {
    if tree.layout.dump {
        return; // standard input is never fixed
    }
    let Ok(w) = tree.write() else { return };
    let Ok(before) = conflint::check::lint(&w.settings, &mut std::io::empty()) else { return };
    let Ok(first) = conflint::fix::run(&w.settings, true) else { return };
    check_linted(&first.remaining, &w.root);
    if first.files.is_empty() {
        return;
    }
    assert!(
        breakage(&first.remaining) <= breakage(&before),
        "fixes broke the tree: {:?}",
        first.remaining.workspace.findings.iter().filter(|f| BREAKING.contains(&f.code.as_str())).map(|f| &f.message).collect::<Vec<_>>()
    );
    let mut again = w.settings.clone();
    for f in &first.files {
        again.workspace.overlay.insert(f.path.clone(), f.fixed.clone());
    }
    let Ok(second) = conflint::fix::run(&again, true) else { panic!("the fixed tree no longer lints") };
    let changed: Vec<(&str, String)> = second
        .files
        .iter()
        .map(|f| (f.display.as_str(), String::from_utf8_lossy(&f.fixed).into_owned()))
        .collect();
    assert!(
        changed.is_empty(),
        "a second fix pass changed {changed:?}; remaining after the first: {:?}",
        first.remaining.findings.iter().filter(|f| f.fix.is_some()).map(|f| (&f.code, &f.message)).collect::<Vec<_>>()
    );
});
