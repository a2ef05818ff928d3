//! Any bytes: the PHP-FPM parser must not panic, and its lines (each span followed by its
//! line ending) must concatenate back to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = conflint::fpm::parse(data);
    let mut rebuilt = Vec::with_capacity(data.len());
    let mut at = 0;
    for line in &file.lines {
        assert_eq!(line.span.start, at, "line does not start where the previous one ended");
        assert_eq!(line.eol.start, line.span.end, "line ending does not follow the line");
        rebuilt.extend_from_slice(&data[line.span.start..line.span.end]);
        rebuilt.extend_from_slice(&data[line.eol.start..line.eol.end]);
        at = line.eol.end;
    }
    assert!(rebuilt == data, "lines do not rebuild the input");
});
