//! The whole lint of a generated tree with every rule selected: no panic, no hang, every
//! finding, related place and fix edit inside its file, nothing read outside the tree.
#![no_main]

use conflint_fuzz::{check_linted, Tree};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|tree: Tree| {
    let Ok(w) = tree.write() else { return };
    if let Ok(linted) = conflint::check::lint(&w.settings, &mut w.stdin.as_slice()) {
        check_linted(&linted, &w.root);
    }
});
