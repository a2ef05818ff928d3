//! Files are bytes; miette and terminals want text. Decode lossily (each invalid sequence
//! becomes U+FFFD, three bytes) and move byte offsets from the raw file into the text.

pub struct Lossy {
    /// Shared: every diagnostic of a file points at the same text.
    pub text: std::sync::Arc<String>,
    /// `(raw start, text start)` of every invalid sequence, with the raw length; empty for
    /// valid UTF-8.
    shifts: Vec<(usize, usize, usize)>,
}

impl Lossy {
    pub fn new(bytes: &[u8]) -> Self {
        let mut text = String::with_capacity(bytes.len());
        let mut shifts = Vec::new();
        let mut raw = 0;
        for chunk in bytes.utf8_chunks() {
            text.push_str(chunk.valid());
            raw += chunk.valid().len();
            if !chunk.invalid().is_empty() {
                shifts.push((raw, text.len(), chunk.invalid().len()));
                text.push(char::REPLACEMENT_CHARACTER);
                raw += chunk.invalid().len();
            }
        }
        Lossy { text: std::sync::Arc::new(text), shifts }
    }

    /// The text offset of raw byte offset `raw` (inside an invalid sequence: its start).
    pub fn offset(&self, raw: usize) -> usize {
        let mut delta: isize = 0;
        for &(raw_start, text_start, len) in &self.shifts {
            if raw < raw_start {
                break;
            }
            if raw < raw_start + len {
                return text_start;
            }
            delta = (text_start + 3) as isize - (raw_start + len) as isize;
        }
        ((raw as isize + delta).max(0) as usize).min(self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_move_past_replacement_characters() {
        let l = Lossy::new(b"ab\xffcd\xfe\xfeef");
        assert_eq!(l.text.as_str(), "ab\u{fffd}cd\u{fffd}\u{fffd}ef");
        assert_eq!(l.offset(0), 0);
        assert_eq!(l.offset(2), 2);
        assert_eq!(l.offset(3), 5); // 'c'
        assert_eq!(l.offset(7), l.text.find('e').unwrap());
        assert_eq!(l.offset(100), l.text.len());
        let v = Lossy::new("é x".as_bytes());
        assert_eq!(v.offset(3), 3);
    }
}
