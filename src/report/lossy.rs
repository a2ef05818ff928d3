//! Files are bytes; miette and terminals want text. Decode lossily (each invalid sequence
//! becomes U+FFFD, three bytes) and move byte offsets from the raw file into the text.

pub struct Lossy {
    /// Shared: every diagnostic of a file points at the same text.
    pub text: std::sync::Arc<String>,
    /// Every replaced stretch: `(raw start, raw length, text start, text length)`, in
    /// order; empty for clean UTF-8 text.
    shifts: Vec<(usize, usize, usize, usize)>,
}

impl Lossy {
    pub fn new(bytes: &[u8]) -> Self {
        let mut text = String::with_capacity(bytes.len());
        let mut shifts = Vec::new();
        let mut raw = 0;
        for chunk in bytes.utf8_chunks() {
            let valid = chunk.valid();
            if valid.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\t' || b == b'\n') {
                text.push_str(valid);
            } else {
                for (i, c) in valid.char_indices() {
                    match replacement(c, valid.as_bytes().get(i + 1) == Some(&b'\n')) {
                        Some(r) => {
                            shifts.push((raw + i, c.len_utf8(), text.len(), r.len_utf8()));
                            text.push(r);
                        }
                        None => text.push(c),
                    }
                }
            }
            raw += valid.len();
            if !chunk.invalid().is_empty() {
                shifts.push((raw, chunk.invalid().len(), text.len(), char::REPLACEMENT_CHARACTER.len_utf8()));
                text.push(char::REPLACEMENT_CHARACTER);
                raw += chunk.invalid().len();
            }
        }
        Lossy { text: std::sync::Arc::new(text), shifts }
    }

    /// The text offset of raw byte offset `raw` (inside a replaced stretch: its start).
    pub fn offset(&self, raw: usize) -> usize {
        let before = self.shifts.partition_point(|&(raw_start, ..)| raw_start <= raw);
        let text = match before.checked_sub(1).map(|i| self.shifts[i]) {
            None => raw,
            Some((raw_start, raw_len, text_start, _)) if raw < raw_start + raw_len => text_start,
            Some((raw_start, raw_len, text_start, text_len)) => raw - (raw_start + raw_len) + text_start + text_len,
        };
        text.min(self.text.len())
    }
}

/// What to show instead of `c`, when it must not reach a terminal or CI log as it is: a
/// pull request's config (or a message quoting it) must not recolour, rewrite or reorder
/// what the reviewer sees. Control characters become their visible "control picture"
/// (`␛`, `␍`), C1 controls and bidi overrides ("Trojan source") become U+FFFD. A lone
/// `\r` is replaced too, since a terminal would return to the line start. One character
/// replaces one character, so columns stay right.
fn replacement(c: char, next_is_lf: bool) -> Option<char> {
    match c {
        '\t' | '\n' => None,
        '\r' if next_is_lf => None,
        '\0'..='\u{1f}' => char::from_u32(0x2400 + c as u32),
        '\u{7f}' => Some('\u{2421}'),
        '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => Some(char::REPLACEMENT_CHARACTER),
        _ => None,
    }
}

/// `s` with every character [`replacement`] names replaced, newlines included (a message
/// is one line).
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\t') {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(s.chars().map(|c| if c == '\n' { '\u{2424}' } else { replacement(c, false).unwrap_or(c) }).collect())
}

/// Text for stderr, where conflint writes `conflint: ` before each line: every line made
/// [`printable`], so none can start a workflow command (`::error::`) or steer a terminal.
pub fn printable_lines(s: &str) -> String {
    s.lines().map(|l| printable(l).into_owned()).collect::<Vec<_>>().join("\n")
}

/// Does `c` stay escaped in JSON? serde_json escapes C0 controls; DEL, C1 controls and
/// bidi overrides are valid JSON as they are, yet reach a terminal that `cat`s the report.
fn json_escaped(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// serde_json's formatter with [`json_escaped`] characters written as `\uXXXX`: the same
/// JSON value, with nothing raw in its bytes that a terminal would obey.
struct Inert<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for Inert<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        // Every such character is DEL or starts with 0xC2 (C1) or 0xE2 (bidi) in UTF-8.
        if memchr::memchr3(0x7f, 0xc2, 0xe2, fragment.as_bytes()).is_none() {
            return w.write_all(fragment.as_bytes());
        }
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| json_escaped(c)) {
            w.write_all(&rest.as_bytes()[..i])?;
            write!(w, "\\u{:04x}", c as u32)?;
            rest = &rest[i + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// serde_json's `PrettyFormatter` (two spaces a level), writing each line break and its
/// indent in one piece rather than one write for every level: SARIF nests ten deep.
#[derive(Default)]
struct Indented {
    level: usize,
    has_value: bool,
}

impl Indented {
    /// `,` then a line break and the indent of `level`, for every level up to this deep.
    const BREAKS: &'static [u8] = b",\n                                                                ";

    fn line<W: ?Sized + std::io::Write>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        let from = if comma { 0 } else { 1 };
        let width = 2 + 2 * self.level;
        if width <= Self::BREAKS.len() {
            return w.write_all(&Self::BREAKS[from..width]);
        }
        w.write_all(&Self::BREAKS[from..2])?;
        (0..self.level).try_for_each(|_| w.write_all(b"  "))
    }

    /// An array or object begins: one level deeper, nothing in it yet.
    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// It ends, on a line of its own unless it was empty.
    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, false)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Indented {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.line(w, !first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.line(w, !first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Write `value` as JSON (indented when `pretty`) with no raw control characters.
pub fn write_json<T: serde::Serialize + ?Sized>(out: &mut dyn std::io::Write, value: &T, pretty: bool) -> std::io::Result<()> {
    let mut chunks = Chunks { buf: Vec::new(), out };
    if pretty {
        value.serialize(&mut serde_json::Serializer::with_formatter(&mut chunks, Inert(Indented::default())))?;
    } else {
        value.serialize(&mut serde_json::Serializer::with_formatter(&mut chunks, Inert(serde_json::ser::CompactFormatter)))?;
    }
    chunks.out.write_all(&chunks.buf)
}

/// serde_json writes a value in many pieces of a few bytes; gathering them here, where the
/// writer's type is known, spares a dynamic call into `out` for each piece.
struct Chunks<'a> {
    buf: Vec<u8>,
    out: &'a mut dyn std::io::Write,
}

impl Chunks<'_> {
    const SIZE: usize = 64 * 1024;
}

impl std::io::Write for Chunks<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= Self::SIZE {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
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

    #[test]
    fn terminal_controls_become_visible_one_for_one() {
        let l = Lossy::new(b"a\x1b[31mb\rc\r\nd\xe2\x80\xaee");
        assert_eq!(l.text.as_str(), "a\u{241b}[31mb\u{240d}c\r\nd\u{fffd}e");
        assert_eq!(l.offset(2), l.text.find('[').unwrap());
        assert_eq!(l.offset(8), l.text.find('c').unwrap());
        assert_eq!(l.offset(11), l.text.find('d').unwrap());
        assert_eq!(l.offset(13), l.text.find('\u{fffd}').unwrap());
        assert_eq!(l.offset(15), l.text.rfind('e').unwrap());
        assert_eq!(printable("x\u{1b}]0;title\u{7}\nnext"), "x\u{241b}]0;title\u{2407}\u{2424}next");
        assert_eq!(printable("plain ascii"), "plain ascii");
    }

    /// Nested deeper than the indent table reaches, with empty and one-element arrays and
    /// objects at every depth.
    #[test]
    fn indented_json_is_byte_for_byte_serde_jsons_pretty_output() {
        let mut value = serde_json::json!({"leaf": [], "empty": {}, "one": [1], "s": "x\u{202e}"});
        for depth in 0..45 {
            value = serde_json::json!({"depth": depth, "inner": [value, {}, [], {"k": [[]]}], "last": null});
            if depth % 9 == 0 {
                value = serde_json::json!([value]);
            }
        }
        let mut ours = Vec::new();
        write_json(&mut ours, &value, true).unwrap();
        let theirs = serde_json::to_string_pretty(&value).unwrap().replace('\u{202e}', "\\u202e");
        // Past the levels `BREAKS` holds.
        assert!(ours.windows(100).any(|w| w.iter().all(|&b| b == b' ')));
        assert_eq!(String::from_utf8(ours).unwrap(), theirs);
    }

    #[test]
    fn json_keeps_the_value_and_escapes_what_a_terminal_obeys() {
        let value = serde_json::json!({"m": "a\u{1b}[2Jb\u{9b}c\u{202e}d\u{7f}é"});
        let mut out = Vec::new();
        write_json(&mut out, &value, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, r#"{"m":"a\u001b[2Jb\u009bc\u202ed\u007fé"}"#);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }
}
