//! Byte scans eight bytes at a time, as one `u64` (the first byte in the lowest bits).
//!
//! The parsers see every byte of their input, most of it indentation or the plain middle of
//! a word. A chunk with no byte of interest is skipped with a handful of arithmetic
//! operations instead of eight compares and branches. Each test below flags a byte by
//! setting its high bit; only the lowest flag is sure to be a match (a borrow or carry can
//! flag the bytes above one), which is all a scan for the first stop asks.

const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGH_BITS: u64 = ONES * 0x80;

/// The eight bytes of `src` from `i`, when there are eight.
pub(crate) fn chunk_at(src: &[u8], i: usize) -> Option<u64> {
    src.get(i..i + 8).map(|c| u64::from_le_bytes(c.try_into().expect("eight bytes")))
}

/// Flags each byte of `x` equal to `c`.
pub(crate) fn equal(x: u64, c: u8) -> u64 {
    let y = x ^ (ONES * u64::from(c));
    y.wrapping_sub(ONES) & !y & HIGH_BITS
}

/// Flags each byte of `x` below `n` (at most 0x80).
pub(crate) fn below(x: u64, n: u8) -> u64 {
    debug_assert!(n <= 0x80);
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH_BITS
}

/// Flags each byte of `x` from `n` to 0x7f (`n` at least 0x01).
pub(crate) fn at_least_ascii(x: u64, n: u8) -> u64 {
    debug_assert!(n >= 1);
    // Seven-bit bytes plus `0x80 - n` stay below 0x100, so nothing carries between them.
    ((x & !HIGH_BITS) + ONES * u64::from(0x80 - n)) & !x & HIGH_BITS
}

/// Index within the chunk of the lowest flagged byte; 8 when none is.
pub(crate) fn first(flags: u64) -> usize {
    (flags.trailing_zeros() / 8) as usize
}

/// How many of the chunk's bytes, from the first, equal `c`.
pub(crate) fn leading(x: u64, c: u8) -> usize {
    ((x ^ (ONES * u64::from(c))).trailing_zeros() / 8) as usize
}

/// The end of the run from `i` (at most `src.len()`) of bytes `keep` accepts. Chunks where
/// `stops` flags nothing are skipped whole: it must flag every byte `keep` refuses (it may
/// flag some `keep` accepts, which are then stepped over one by one).
pub(crate) fn run_end(src: &[u8], mut i: usize, stops: impl Fn(u64) -> u64, keep: impl Fn(u8) -> bool) -> usize {
    loop {
        while let Some(x) = chunk_at(src, i) {
            let flags = stops(x);
            if flags != 0 {
                i += first(flags);
                break;
            }
            i += 8;
        }
        match src.get(i) {
            Some(&b) if keep(b) => i += 1,
            _ => return i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every test against a plain per-byte answer, for every byte value in every position
    /// of a chunk whose other bytes are chosen to provoke borrows and carries.
    #[test]
    fn each_test_finds_the_first_matching_byte_exactly() {
        let fillers = [0x00, 0x01, 0x20, 0x41, 0x7f, 0x80, 0xff];
        for filler in fillers {
            for at in 0..8 {
                for b in 0..=255u8 {
                    let mut bytes = [filler; 8];
                    bytes[at] = b;
                    let x = u64::from_le_bytes(bytes);
                    let want = |f: &dyn Fn(u8) -> bool| bytes.iter().position(|&c| f(c)).unwrap_or(8);
                    for c in [0x00, b' ', b';', b'\\', 0x7f, 0x80, 0xff] {
                        assert_eq!(first(equal(x, c)), want(&|v| v == c), "equal {c:#x} in {bytes:x?}");
                        assert_eq!(leading(x, c), bytes.iter().take_while(|&&v| v == c).count());
                    }
                    for n in [0x01, 0x25, 0x2a, 0x80] {
                        assert_eq!(first(below(x, n)), want(&|v| v < n), "below {n:#x} in {bytes:x?}");
                    }
                    for n in [0x01, 0x7b, 0x7f] {
                        assert_eq!(first(at_least_ascii(x, n)), want(&|v| (n..0x80).contains(&v)), "at least {n:#x} in {bytes:x?}");
                    }
                }
            }
        }
    }

    #[test]
    fn run_end_agrees_with_a_byte_by_byte_scan() {
        let keep = |b: u8| b.is_ascii_alphanumeric() || b == b'!';
        // Flags too much (`!` and every byte below `0`), never too little.
        let stops = |x: u64| below(x, b'0') | at_least_ascii(x, b'{');
        let text = b"abc def!ghijklmnopqrstu!!!!!!!!!vwxyz0123456789{ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let src = &text[..end];
                let want = start + src[start..].iter().position(|&b| !keep(b)).unwrap_or(end - start);
                assert_eq!(run_end(src, start, stops, keep), want, "from {start} in {:?}", String::from_utf8_lossy(src));
            }
        }
    }
}
