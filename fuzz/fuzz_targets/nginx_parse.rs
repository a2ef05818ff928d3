//! Any bytes: the nginx parser must not panic, and its tree must give the input back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = conflint::nginx::parse(data);
    assert!(config.print(data) == data, "printed tree differs from the input");
    if let Err(e) = config.check_lossless(data) {
        panic!("not lossless: {e}");
    }
    for e in &config.errors {
        assert!(
            e.span.start <= e.span.end && e.span.end <= data.len(),
            "error span out of range: {e:?}"
        );
    }
});
