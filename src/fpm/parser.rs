//! The PHP-FPM line parser.
//!
//! `fpm_conf_load_ini_file` reads the file one line at a time (up to `\n`), appends `\n` and
//! hands that single line to the Zend INI scanner in NORMAL mode. So every construct is
//! line-local and this parser works the same way: it mirrors the character classes and the
//! longest-match rules of `Zend/zend_ini_scanner.l` and the grammar of `zend_ini_parser.y`
//! closely enough to give PHP-FPM's verdict on each line, verified against `php-fpm8.2 -t`
//! (see `tests/fpm_phpfpm_oracle.rs`).
//!
//! Deliberate approximations, all on inputs no real config contains:
//! * a lone `\r` ends a line (the scanner treats it as a line break too, but not inside quotes),
//!   so such a line's `eol` is `\r`;
//! * text after a section header on the same line (`[www] user = x`) is reported as an error,
//!   where PHP-FPM would read it as a second statement;
//! * of the PHP constants the scanner substitutes, only the `E_*` error levels are known.

use super::ast::{Entry, FpmFile, Line, LineError, LineKind, Section, Value};
use crate::scan;
use crate::source::Span;
use crate::text::Text;

/// `value is NULL for a ZEND_INI_PARSER_ENTRY`: PHP-FPM's words for a line without `=`.
pub(crate) const MSG_NO_VALUE: &str = "value is NULL for a ZEND_INI_PARSER_ENTRY";
pub(crate) const MSG_UNTERMINATED_DQ: &str =
    "syntax error, unexpected end of file, expecting TC_DOLLAR_CURLY or TC_QUOTED_STRING or '\"'";
pub(crate) const MSG_UNEXPECTED_EQ: &str = "syntax error, unexpected '='";
pub(crate) const MSG_UNTERMINATED_SECTION: &str = "syntax error, unexpected end of file, expecting ']'";
pub(crate) const MSG_EMPTY_SQ: &str =
    "empty single-quoted string '' (php-fpm: value is NULL for a ZEND_INI_PARSER_ENTRY)";
pub(crate) const MSG_UNTERMINATED_SQ: &str = "syntax error, unexpected end of file";
pub(crate) const MSG_AFTER_SECTION: &str = "unexpected text after the section header";
pub(crate) const MSG_HASH_PREFIX: &str = "`#` does not start a comment in PHP-FPM";

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Byte classes of the Zend INI scanner, as a lookup table for speed.
const LABEL: u8 = 1; // LABEL_CHAR: [^=\n\r\t;&|^$~(){}!"\[\]\x00]
const VALUE: u8 = 2; // VALUE_CHARS without LITERAL_DOLLAR: [^$= \t\n\r;&|^~()!"'\x00]
const BRACKET: u8 = 4; // SECTION_VALUE_CHARS without escapes/dollar: [^$\n\r;"'\]\\]
const OPERATOR: u8 = 8; // OPERATORS: [&|^~()!]

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut k = 0;
        if !matches!(
            c,
            b'=' | b'\n'
                | b'\r'
                | b'\t'
                | b';'
                | b'&'
                | b'|'
                | b'^'
                | b'$'
                | b'~'
                | b'('
                | b')'
                | b'{'
                | b'}'
                | b'!'
                | b'"'
                | b'['
                | b']'
                | 0
        ) {
            k |= LABEL;
        }
        if !matches!(
            c,
            b'$' | b'='
                | b' '
                | b'\t'
                | b'\n'
                | b'\r'
                | b';'
                | b'&'
                | b'|'
                | b'^'
                | b'~'
                | b'('
                | b')'
                | b'!'
                | b'"'
                | b'\''
                | 0
        ) {
            k |= VALUE;
        }
        if !matches!(c, b'$' | b'\n' | b'\r' | b';' | b'"' | b'\'' | b']' | b'\\') {
            k |= BRACKET;
        }
        if matches!(c, b'&' | b'|' | b'^' | b'~' | b'(' | b')' | b'!') {
            k |= OPERATOR;
        }
        t[i] = k;
        i += 1;
    }
    t
};

fn is(c: u8, class: u8) -> bool {
    CLASS[c as usize] & class != 0
}

/// For [`scan::run_end`]: flags every byte that is not a LABEL_CHAR (and `'`, space and the
/// control bytes below `*` that are).
fn label_stops(x: u64) -> u64 {
    scan::below(x, b'*')
        | scan::equal(x, b';')
        | scan::equal(x, b'=')
        | scan::equal(x, b'[')
        | scan::equal(x, b']')
        | scan::equal(x, b'^')
        | scan::at_least_ascii(x, b'{')
}

/// For [`scan::run_end`]: flags every byte that is not a VALUE_CHAR (and `#`, `%` and the
/// control bytes below `*` that are).
fn value_stops(x: u64) -> u64 {
    scan::below(x, b'*')
        | scan::equal(x, b';')
        | scan::equal(x, b'=')
        | scan::equal(x, b'^')
        | scan::equal(x, b'|')
        | scan::equal(x, b'~')
}

/// For [`scan::run_end`]: flags every byte that is not a BRACKET byte (and the bytes below
/// `(` that are).
fn bracket_stops(x: u64) -> u64 {
    scan::below(x, b'(') | scan::equal(x, b';') | scan::equal(x, b']') | scan::equal(x, b'\\')
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The bare words the scanner turns into booleans/null, case-insensitively, with the token
/// name bison reports them by and the string PHP-FPM receives.
fn keyword(word: &[u8]) -> Option<(&'static str, &'static str)> {
    const WORDS: [(&str, &str, &str); 8] = [
        ("true", "BOOL_TRUE", "1"),
        ("on", "BOOL_TRUE", "1"),
        ("yes", "BOOL_TRUE", "1"),
        ("false", "BOOL_FALSE", ""),
        ("off", "BOOL_FALSE", ""),
        ("no", "BOOL_FALSE", ""),
        ("none", "BOOL_FALSE", ""),
        ("null", "NULL_NULL", ""),
    ];
    // Every keyword starts with one of these letters: most values (numbers, paths) stop here.
    if word.len() > 5 || !matches!(word.first().map(u8::to_ascii_lowercase), Some(b't' | b'o' | b'y' | b'f' | b'n')) {
        return None;
    }
    WORDS.iter().find(|(w, _, _)| w.as_bytes().eq_ignore_ascii_case(word)).map(|&(_, tok, text)| (tok, text))
}

/// The PHP error-level constants; the scanner substitutes any defined constant, these are the
/// ones configs use (`php_value[error_reporting] = E_ALL & ~E_DEPRECATED`).
fn constant(name: &[u8]) -> Option<i32> {
    const E: [(&str, i32); 16] = [
        ("E_ERROR", 1),
        ("E_WARNING", 2),
        ("E_PARSE", 4),
        ("E_NOTICE", 8),
        ("E_CORE_ERROR", 16),
        ("E_CORE_WARNING", 32),
        ("E_COMPILE_ERROR", 64),
        ("E_COMPILE_WARNING", 128),
        ("E_USER_ERROR", 256),
        ("E_USER_WARNING", 512),
        ("E_USER_NOTICE", 1024),
        ("E_STRICT", 2048),
        ("E_RECOVERABLE_ERROR", 4096),
        ("E_DEPRECATED", 8192),
        ("E_USER_DEPRECATED", 16384),
        ("E_ALL", 32767),
    ];
    E.iter().find(|(n, _)| n.as_bytes() == name).map(|&(_, v)| v)
}

fn lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn lossy_vec(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| lossy(e.as_bytes()))
}

pub fn parse(src: &[u8]) -> FpmFile {
    // A big file has a million lines: sizing the table exactly avoids copying it as it
    // grows. Counting bytes in chunks of 255 lets the compiler use byte-wide vector lanes.
    let newlines: usize =
        src.chunks(255).map(|chunk| usize::from(chunk.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n')))).sum();
    let mut lines = Vec::with_capacity(newlines + 1);
    // Validated once, so names and values are copied out without validating each.
    let utf8 = std::str::from_utf8(src).ok();
    let mut start = 0;
    while start < src.len() {
        // One scan finds the end of the line and the first NUL: PHP-FPM passes the line as a
        // C string, so the scanner never sees anything after a NUL byte.
        let (end, nul) = line_end(src, start);
        let eol_end = match src.get(end) {
            Some(b'\r') if src.get(end + 1) == Some(&b'\n') => end + 2,
            Some(_) => end + 1,
            None => end,
        };
        let (kind, comment) = LineParser { src, utf8, pos: start, end: nul.unwrap_or(end) }.line();
        lines.push(Line { span: Span::new(start, end), kind, comment, eol_len: (eol_end - end) as u8 });
        start = eol_end;
    }
    FpmFile { lines }
}

/// The end of the line starting at `start` (the first `\n` or `\r`, or the end of input) and
/// the first NUL before it. One vectorised scan: this sees every byte of the input.
fn line_end(src: &[u8], start: usize) -> (usize, Option<usize>) {
    let first = start + memchr::memchr3(b'\n', b'\r', 0, &src[start..]).unwrap_or(src.len() - start);
    if src.get(first) != Some(&0) {
        return (first, None);
    }
    let end = first + 1 + memchr::memchr2(b'\n', b'\r', &src[first + 1..]).unwrap_or(src.len() - first - 1);
    (end, Some(first))
}

/// The error is boxed: errors are rare, and a small `Result` is cheaper to pass around
/// on the path every line takes.
type PResult<T> = Result<T, Box<LineError>>;

/// One line `src[pos..end]` (NUL-truncated, terminator excluded).
struct LineParser<'a> {
    src: &'a [u8],
    /// `src` as text when it is valid UTF-8.
    utf8: Option<&'a str>,
    pos: usize,
    end: usize,
}

impl LineParser<'_> {
    /// A slice of the line as text, when the file is valid UTF-8 (validated once).
    fn validated(&self, bytes: &[u8]) -> Option<&str> {
        let start = (bytes.as_ptr() as usize).wrapping_sub(self.src.as_ptr() as usize);
        self.utf8.and_then(|t| t.get(start..start + bytes.len()))
    }

    /// A slice of the line as text: straight from the validated file when it can be,
    /// decoded lossily otherwise.
    fn text(&self, bytes: &[u8]) -> Text {
        self.validated(bytes).map_or_else(|| lossy(bytes).into(), Text::from)
    }

    fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.src[self.pos])
    }

    fn at(&self, i: usize) -> Option<u8> {
        (i < self.end).then(|| self.src[i])
    }

    /// The end of the run of bytes `keep` accepts from `from` on (at most the line's end).
    fn run_end(&self, from: usize, keep: impl Fn(u8) -> bool) -> usize {
        let rest = &self.src[from.min(self.end)..self.end];
        from + rest.iter().position(|&c| !keep(c)).unwrap_or(rest.len())
    }

    /// The end of the run of `class` bytes from `from` on (at most the line's end), eight
    /// at a time where `stops` (which flags every byte outside the class) flags none.
    fn class_end(&self, from: usize, class: u8, stops: fn(u64) -> u64) -> usize {
        scan::run_end(&self.src[..self.end], from.min(self.end), stops, |c| is(c, class))
    }

    /// The end of the run of LABEL_CHARs from `from` on.
    fn label_end(&self, from: usize) -> usize {
        self.class_end(from, LABEL, label_stops)
    }

    /// The end of the run of VALUE_CHARS from `from` on. LITERAL_DOLLAR is part of it:
    /// `$` swallows the next byte whatever it is (so `a$=b` and `a$;b` are plain values),
    /// unless it opens `${`.
    fn value_run_end(&self, from: usize) -> usize {
        let mut end = from;
        loop {
            end = self.class_end(end, VALUE, value_stops);
            match self.at(end) {
                Some(b'$') if self.at(end + 1) != Some(b'{') => end = (end + 2).min(self.end),
                _ => return end,
            }
        }
    }

    fn skip_blanks(&mut self) {
        self.pos = self.run_end(self.pos, is_blank);
    }

    fn err<T>(&self, message: impl Into<String>, start: usize, end: usize) -> PResult<T> {
        Err(Box::new(LineError { message: message.into(), span: Span::new(start, end.max(start)) }))
    }

    fn line(mut self) -> (LineKind, Option<Span>) {
        // The scanner skips a UTF-8 byte order mark at the start of each string it scans.
        if self.src[self.pos..self.end].starts_with(UTF8_BOM) {
            self.pos += UTF8_BOM.len();
        }
        self.skip_blanks();
        let first = self.pos;
        let mut comment = None;
        let kind = match self.statement(&mut comment) {
            Ok(kind) => kind,
            Err(e) => LineKind::Error(e),
        };
        match self.src.get(first) {
            Some(b'#') => (hash_line(kind, self.src, first, self.end), comment),
            _ => (kind, comment),
        }
    }

    fn statement(&mut self, comment: &mut Option<Span>) -> PResult<LineKind> {
        let Some(c) = self.peek() else { return Ok(LineKind::Blank) };
        let kind = match c {
            b';' => {
                *comment = Some(Span::new(self.pos, self.end));
                return Ok(LineKind::Blank);
            }
            b'[' => self.section()?,
            c if is(c, LABEL) => self.entry()?,
            c => return self.err(format!("syntax error, unexpected '{}'", c as char), self.pos, self.pos + 1),
        };
        self.skip_blanks();
        match self.peek() {
            None => {}
            Some(b';') => *comment = Some(Span::new(self.pos, self.end)),
            Some(_) if matches!(kind, LineKind::Section(_)) => {
                return self.err(
                    format!("{MSG_AFTER_SECTION}: PHP-FPM reads it as another statement on the same line"),
                    self.pos,
                    self.end,
                )
            }
            // What follows an unmatched `'` in a value: the scanner stops there, PHP-FPM
            // never sees it.
            Some(_) => {}
        }
        Ok(kind)
    }

    fn section(&mut self) -> PResult<LineKind> {
        let open = self.pos;
        self.pos += 1;
        let name_start = self.pos;
        let (name, _) = self.bracketed(open)?;
        let name_span = Span::new(name_start, self.pos);
        self.pos += 1; // `]`
        Ok(LineKind::Section(Box::new(Section { name, name_span })))
    }

    /// The content of `[...]` (section name or array key) up to, not including, `]`:
    /// `ST_SECTION_VALUE` / `ST_OFFSET` in the scanner. Returns the text and `has_env`.
    fn bracketed(&mut self, open: usize) -> PResult<(Text, bool)> {
        // Almost always plain bytes up to the `]`: the text is that slice, as written.
        let plain_end = self.class_end(self.pos, BRACKET, bracket_stops);
        if self.at(plain_end) == Some(b']') {
            let run = &self.src[self.pos..plain_end];
            self.pos = plain_end;
            return Ok((self.text(run), false));
        }
        let mut text = Vec::new();
        let mut has_env = false;
        loop {
            let start = self.pos;
            match self.peek() {
                None | Some(b';') => return self.err(MSG_UNTERMINATED_SECTION, open, self.end),
                Some(b']') => return Ok((lossy_vec(text).into(), has_env)),
                Some(b'$') if self.at(start + 1) == Some(b'{') => {
                    self.env_ref()?;
                    text.extend_from_slice(&self.src[start..self.pos]);
                    has_env = true;
                }
                Some(b'"') => has_env |= self.double_quoted(&mut text)?,
                Some(b'\'') => match self.single_quoted() {
                    Some(raw) => text.extend_from_slice(raw),
                    None => return self.err(MSG_UNTERMINATED_SECTION, open, self.end),
                },
                // An escape or a literal `$` takes the next byte whatever it is (even `]`);
                // at the end of the line that byte is the newline PHP-FPM appended.
                Some(b'\\' | b'$') => {
                    if start + 1 >= self.end {
                        return self.err(MSG_UNTERMINATED_SECTION, open, self.end);
                    }
                    text.extend_from_slice(&self.src[start..start + 2]);
                    self.pos += 2;
                }
                Some(_) => {
                    self.pos = self.class_end(self.pos, BRACKET, bracket_stops);
                    // Blanks directly before a `"` belong to the quote token, which drops them.
                    let run = &self.src[start..self.pos];
                    if !(self.peek() == Some(b'"') && run.iter().all(|&c| is_blank(c))) {
                        text.extend_from_slice(run);
                    }
                }
            }
        }
    }

    /// `${NAME}` at `self.pos`; leaves `pos` after `}`.
    fn env_ref(&mut self) -> PResult<()> {
        let open = self.pos;
        self.pos += 2;
        let name_start = self.pos;
        self.pos = self.label_end(self.pos);
        if self.src[name_start..self.pos].iter().all(|&c| is_blank(c)) {
            return match self.peek() {
                Some(b'}') => self.err("syntax error, unexpected '}', expecting TC_VARNAME", open, self.pos + 1),
                _ => self.err("syntax error, unexpected end of file, expecting TC_VARNAME", open, self.end),
            };
        }
        if self.peek() != Some(b'}') {
            return self.err("syntax error, unexpected end of file, expecting '}'", open, self.end);
        }
        self.pos += 1;
        Ok(())
    }

    /// `"..."` at `self.pos`, unescaped into `out` (`\"`, `\\` and `\$` lose the backslash,
    /// other escapes are kept as written, `${NAME}` is kept as written). Returns `has_env`.
    fn double_quoted(&mut self, out: &mut Vec<u8>) -> PResult<bool> {
        let open = self.pos;
        self.pos += 1;
        let mut has_env = false;
        // One allocation: the content is at most the rest of the line.
        out.reserve(self.end - self.pos);
        loop {
            let Some(c) = self.peek() else { return self.err(MSG_UNTERMINATED_DQ, open, self.end) };
            match c {
                b'"' => {
                    self.pos += 1;
                    self.skip_blanks(); // the closing-quote token eats trailing blanks
                    return Ok(has_env);
                }
                b'$' if self.at(self.pos + 1) == Some(b'{') => {
                    let start = self.pos;
                    self.env_ref()?;
                    out.extend_from_slice(&self.src[start..self.pos]);
                    has_env = true;
                }
                b'\\' => match self.at(self.pos + 1) {
                    None => {
                        out.push(b'\\');
                        self.pos += 1;
                    }
                    // `"C:\path\"`: a `\"` that ends the line closes the string.
                    Some(b'"') if self.pos + 2 >= self.end => {
                        out.push(b'\\');
                        self.pos += 1;
                    }
                    Some(e @ (b'"' | b'\\' | b'$')) => {
                        out.push(e);
                        self.pos += 2;
                    }
                    Some(e) => {
                        out.extend_from_slice(&[b'\\', e]);
                        self.pos += 2;
                    }
                },
                _ => {
                    let rest = &self.src[self.pos..self.end];
                    let n = memchr::memchr3(b'"', b'\\', b'$', rest).unwrap_or(rest.len()).max(1);
                    out.extend_from_slice(&rest[..n]);
                    self.pos += n;
                }
            }
        }
    }

    /// `'...'` at `self.pos` with at least one byte inside: the raw content. `None` (and
    /// `pos` unchanged) when there is no such string: the scanner then reports end of input.
    fn single_quoted(&mut self) -> Option<&[u8]> {
        let start = self.pos + 1;
        let close = start + self.src[start..self.end].iter().position(|&c| c == b'\'')?;
        if close == start {
            return None;
        }
        self.pos = close + 1;
        Some(&self.src[start..close])
    }

    /// `name = value` or `name[key] = value`.
    fn entry(&mut self) -> PResult<LineKind> {
        let label_start = self.pos;
        self.pos = self.label_end(self.pos);
        // The label may contain spaces (not tabs); PHP-FPM trims them.
        let mut label_end = self.pos;
        while label_end > label_start && self.src[label_end - 1] == b' ' {
            label_end -= 1;
        }
        let name_span = Span::new(label_start, label_end);
        let label = &self.src[label_start..label_end];
        // `on = 1`: the boolean keyword rule wins the tie with the label rule.
        // (`on[x]` is still an array: the label-with-bracket rule matches longer.)
        if let Some((token, _)) = keyword(label) {
            if self.peek() != Some(b'[') {
                return self.err(format!("syntax error, unexpected {token}"), label_start, label_end);
            }
        }
        let array_key = if self.peek() == Some(b'[') {
            let open = self.pos;
            self.pos += 1;
            self.skip_blanks();
            let key_start = self.pos;
            let (key, _) = self.bracketed(open)?;
            let key_span = Span::new(key_start, self.pos);
            self.pos += 1;
            self.skip_blanks();
            if self.peek() != Some(b'=') {
                let found = match self.peek() {
                    None | Some(b';') => "END_OF_LINE".to_string(),
                    Some(b'[') => "TC_SECTION".to_string(),
                    // (php-fpm -t also reports a stray `]` here as TC_LABEL.)
                    Some(c) if is(c, LABEL) || c == b']' => "TC_LABEL".to_string(),
                    Some(c) => format!("'{}'", c as char),
                };
                return self.err(format!("syntax error, unexpected {found}, expecting '='"), open, self.end);
            }
            Some(Box::new((key, key_span)))
        } else {
            self.skip_blanks();
            if self.peek() != Some(b'=') {
                return self.err(MSG_NO_VALUE, label_start, label_end);
            }
            None
        };
        self.pos += 1; // `=`
        let value = self.value()?;
        Ok(LineKind::Entry(Box::new(Entry { name: self.text(label), name_span, array_key, value })))
    }

    fn value(&mut self) -> PResult<Value> {
        let after_eq = self.pos;
        self.skip_blanks();
        let start = self.pos;
        if let Some(value) = self.plain_value().or_else(|| self.quoted_value()) {
            return Ok(value);
        }
        let mut lexer = ValueLexer {
            p: self,
            first: None,
            last: after_eq,
            tok: Span::empty(start),
            prev: Span::empty(start),
            has_env: false,
            quoted: false,
        };
        let text = lexer.parse()?;
        let first = lexer.first.unwrap_or(after_eq);
        let span = Span::new(first, lexer.last.max(first));
        Ok(Value { span, text: text.into(), quoted: lexer.quoted, has_env: lexer.has_env })
    }
}

impl LineParser<'_> {
    /// Fast path for the common value: one run of ordinary bytes, then the end of the line
    /// or a comment. It yields exactly what the full value grammar below would.
    fn plain_value(&mut self) -> Option<Value> {
        let start = self.pos;
        let end = self.value_run_end(start);
        let run = &self.src[start..end];
        let after = self.value_ends(end)?;
        if end == start || constant(run).is_some() {
            return None;
        }
        self.pos = after;
        let text = match keyword(run) {
            Some((_, converted)) => converted.into(),
            None => self.text(run),
        };
        Some(Value { span: Span::new(start, end), text, quoted: false, has_env: false })
    }

    /// Fast path for a double-quoted value without escapes or `$` (`"/var/lib/php/sessions"`),
    /// then the end of the line or a comment. It yields exactly what the full value grammar
    /// would: the content as written, the span from quote to quote.
    fn quoted_value(&mut self) -> Option<Value> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return None;
        }
        let close = start + 1 + memchr::memchr3(b'"', b'\\', b'$', &self.src[start + 1..self.end])?;
        if self.src[close] != b'"' {
            return None;
        }
        self.pos = self.value_ends(close + 1)?;
        let text = self.text(&self.src[start + 1..close]);
        Some(Value { span: Span::new(start, close + 1), text, quoted: true, has_env: false })
    }

    /// Where a fast-path value that ends at `end` leaves the line: after the blanks that
    /// follow, when only the end of the line or a comment comes next.
    fn value_ends(&self, end: usize) -> Option<usize> {
        let after = self.run_end(end, is_blank);
        self.at(after).is_none_or(|c| c == b';').then_some(after)
    }
}

/// PHP-FPM reads a `#` line as an entry whose name starts with `#`: reword whatever came out
/// of that so the user learns the real cause.
fn hash_line(kind: LineKind, src: &[u8], first: usize, end: usize) -> LineKind {
    if src.get(first) != Some(&b'#') || first >= end {
        return kind;
    }
    let (what, span) = match kind {
        LineKind::Entry(e) => {
            let word = if e.array_key.is_some() { "directive" } else { "entry" };
            (format!("unknown {word} '{}'", e.name), e.name_span)
        }
        LineKind::Error(e) => (e.message, e.span),
        other => return other,
    };
    LineKind::Error(Box::new(LineError {
        message: format!("{MSG_HASH_PREFIX} (php-fpm: {what})"),
        span: Span::new(first, span.end().max(first + 1)),
    }))
}

/// A token of the value grammar (`ST_VALUE`).
enum Tok {
    /// A piece of a string list: its text and the token name bison would report.
    Piece(Vec<u8>, &'static str),
    Op(u8),
    /// `true`/`on`/`yes`/`false`/`off`/`no`/`none`/`null`: token name and converted text.
    Keyword(&'static str, &'static str),
    Eq,
    /// End of the line (or a `;` comment).
    EndOfLine,
    /// The scanner hit a byte it has no rule for (an unmatched `'`) and reports end of input.
    EndOfFile,
}

impl Tok {
    fn name(&self) -> String {
        match self {
            Tok::Piece(_, name) => (*name).to_string(),
            Tok::Op(c) => format!("'{}'", *c as char),
            Tok::Keyword(name, _) => (*name).to_string(),
            Tok::Eq => "'='".to_string(),
            Tok::EndOfLine => "END_OF_LINE".to_string(),
            Tok::EndOfFile => "end of file".to_string(),
        }
    }
}

struct ValueLexer<'p, 'a> {
    p: &'p mut LineParser<'a>,
    /// Span of the value as written: first token start, last token end.
    first: Option<usize>,
    last: usize,
    /// Where the current and the previous token were, for error spans.
    tok: Span,
    prev: Span,
    has_env: bool,
    quoted: bool,
}

impl ValueLexer<'_, '_> {
    fn next(&mut self) -> PResult<Tok> {
        let start = self.p.pos;
        let tok = self.token()?;
        self.prev = self.tok;
        self.tok = Span::new(start, self.p.pos.max(start));
        Ok(tok)
    }

    fn token(&mut self) -> PResult<Tok> {
        let p = &mut *self.p;
        let start = p.pos;
        let Some(c) = p.peek() else { return Ok(Tok::EndOfLine) };
        let tok = match c {
            b' ' | b'\t' => {
                p.skip_blanks();
                match p.peek() {
                    None | Some(b';') => return Ok(Tok::EndOfLine),
                    // Blanks before a quote belong to the quote token, which drops them.
                    Some(b'"') => return self.token(),
                    Some(_) => Tok::Piece(p.src[start..p.pos].to_vec(), "TC_WHITESPACE"),
                }
            }
            b';' => return Ok(Tok::EndOfLine),
            b'=' => Tok::Eq,
            b'"' => {
                let mut text = Vec::new();
                self.has_env |= p.double_quoted(&mut text)?;
                self.quoted = true;
                // The closing quote ate trailing blanks; they are not part of the value span.
                let mut end = p.pos;
                while end > start && is_blank(p.src[end - 1]) {
                    end -= 1;
                }
                self.mark(start, end);
                return Ok(Tok::Piece(text, "'\"'"));
            }
            b'\'' if p.at(start + 1) == Some(b'\'') => return p.err(MSG_EMPTY_SQ, start, start + 2),
            b'\'' => match p.single_quoted() {
                Some(raw) => {
                    self.quoted = true;
                    Tok::Piece(raw.to_vec(), "TC_RAW")
                }
                None => return Ok(Tok::EndOfFile),
            },
            b'$' if p.at(start + 1) == Some(b'{') => {
                p.env_ref()?;
                self.has_env = true;
                Tok::Piece(p.src[start..p.pos].to_vec(), "TC_DOLLAR_CURLY")
            }
            c if is(c, OPERATOR) => {
                p.pos += 1;
                self.first.get_or_insert(start);
                self.last = p.pos;
                p.skip_blanks();
                return Ok(Tok::Op(c));
            }
            _ => {
                p.pos = p.value_run_end(p.pos);
                let run = &p.src[start..p.pos];
                if let Some((name, text)) = keyword(run) {
                    // The keyword rule wins the tie with the string rules and eats blanks.
                    self.first.get_or_insert(start);
                    self.last = p.pos;
                    p.skip_blanks();
                    return Ok(Tok::Keyword(name, text));
                }
                let is_constant = (run[0].is_ascii_alphabetic() || run[0] == b'_')
                    && run.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
                if is_constant {
                    match constant(run) {
                        Some(v) => Tok::Piece(v.to_string().into_bytes(), "TC_CONSTANT"),
                        None => Tok::Piece(run.to_vec(), "TC_CONSTANT"),
                    }
                } else if is_number(run) {
                    Tok::Piece(run.to_vec(), "TC_NUMBER")
                } else {
                    Tok::Piece(run.to_vec(), "TC_STRING")
                }
            }
        };
        if !matches!(tok, Tok::Eq) {
            self.mark(start, self.p.pos);
        }
        Ok(tok)
    }

    fn mark(&mut self, start: usize, end: usize) {
        self.first.get_or_insert(start);
        self.last = end;
    }

    /// The syntax error for `tok`, the token just read; a missing operand at the end of the
    /// line is reported on the token before it.
    fn unexpected<T>(&self, tok: &Tok) -> PResult<T> {
        let (message, span) = match tok {
            Tok::Eq => (MSG_UNEXPECTED_EQ.to_string(), Span::new(self.tok.start(), self.tok.start() + 1)),
            Tok::EndOfFile => (MSG_UNTERMINATED_SQ.to_string(), Span::new(self.tok.start(), self.p.end)),
            Tok::EndOfLine => (format!("syntax error, unexpected {}", tok.name()), self.prev),
            tok => (format!("syntax error, unexpected {}", tok.name()), self.tok),
        };
        self.p.err(message, span.start(), span.end())
    }

    /// `string_or_value`: a keyword alone, an expression, or nothing.
    fn parse(&mut self) -> PResult<String> {
        let tok = self.next()?;
        let (text, next) = match tok {
            Tok::EndOfLine => return Ok(String::new()),
            Tok::Keyword(_, text) => (text.to_string(), self.next()?),
            tok @ Tok::EndOfFile => return self.unexpected(&tok),
            tok => {
                let (operand, next) = self.expr(tok)?;
                (operand.into_text(), next)
            }
        };
        match next {
            Tok::EndOfLine | Tok::EndOfFile => Ok(text),
            tok => self.unexpected(&tok),
        }
    }

    /// `expr ('|' | '&' | '^') expr ...`, left-associative; returns the token after it.
    fn expr(&mut self, tok: Tok) -> PResult<(Operand, Tok)> {
        let (mut lhs, mut next) = self.unary(tok)?;
        while let Tok::Op(op @ (b'|' | b'&' | b'^')) = next {
            let tok = self.next()?;
            let (rhs, after) = self.unary(tok)?;
            lhs = Operand::Int(match op {
                b'|' => lhs.int() | rhs.int(),
                b'&' => lhs.int() & rhs.int(),
                _ => lhs.int() ^ rhs.int(),
            });
            next = after;
        }
        Ok((lhs, next))
    }

    fn unary(&mut self, tok: Tok) -> PResult<(Operand, Tok)> {
        match tok {
            Tok::Op(op @ (b'~' | b'!')) => {
                let tok = self.next()?;
                let (operand, next) = self.unary(tok)?;
                let v = operand.int();
                Ok((Operand::Int(if op == b'~' { !v } else { (v == 0) as i32 }), next))
            }
            Tok::Op(b'(') => {
                let tok = self.next()?;
                let (inner, next) = self.expr(tok)?;
                match next {
                    Tok::Op(b')') => Ok((inner, self.next()?)),
                    tok => self.unexpected(&tok),
                }
            }
            Tok::Piece(mut text, _) => loop {
                match self.next()? {
                    Tok::Piece(more, _) => text.extend_from_slice(&more),
                    next => return Ok((Operand::Str(text), next)),
                }
            },
            tok => self.unexpected(&tok),
        }
    }
}

fn is_number(run: &[u8]) -> bool {
    let digits = run.strip_prefix(b"-").unwrap_or(run);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// An operand of a value expression: a string, or the integer an operator produced.
enum Operand {
    Str(Vec<u8>),
    Int(i32),
}

impl Operand {
    fn int(&self) -> i32 {
        match self {
            Operand::Str(s) => crate::fpm::numbers::atoi(&String::from_utf8_lossy(s)) as i32,
            Operand::Int(v) => *v,
        }
    }

    fn into_text(self) -> String {
        match self {
            Operand::Str(s) => lossy_vec(s),
            Operand::Int(v) => v.to_string(),
        }
    }
}

/// What to do about a syntax error, keyed on the messages this parser produces.
pub(crate) fn help_for(message: &str) -> &'static str {
    if message.starts_with(MSG_HASH_PREFIX) {
        "PHP-FPM comments start with `;`: replace the `#` with `;`"
    } else if message == MSG_NO_VALUE {
        "every line must be `name = value`, a `[section]`, or a `;` comment: add `= value` or comment the line out with `;`"
    } else if message == MSG_UNTERMINATED_DQ {
        "close the double quote on the same line: PHP-FPM reads one line at a time, values cannot span lines"
    } else if message == MSG_UNEXPECTED_EQ {
        "`=` is only allowed once, unquoted: put the value in double quotes (`name = \"a=b\"`)"
    } else if message == MSG_UNTERMINATED_SECTION {
        "close the section name with `]` on the same line; `;` cannot appear inside it"
    } else if message == MSG_EMPTY_SQ {
        "write an empty value as `\"\"`, or leave the value out (`name =`)"
    } else if message == MSG_UNTERMINATED_SQ {
        "close the single quote on the same line, or use double quotes"
    } else if message.starts_with(MSG_AFTER_SECTION) {
        "put the section header on a line of its own"
    } else if message.contains("BOOL_") || message.contains("NULL_NULL") {
        "`true`/`on`/`yes`/`false`/`off`/`no`/`none`/`null` are keywords for the INI scanner: quote a value that contains them as words (`name = \"on duty\"`)"
    } else if message.contains("TC_VARNAME") || message.contains("expecting '}'") {
        "write environment variables as `${NAME}`"
    } else if message.contains("expecting '='") {
        "write arrays as `name[key] = value`"
    } else {
        "characters `&|^~()!` are operators in unquoted values: put the value in double quotes"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk is skipped whole only when none of its bytes can end the run: the chunk tests
    /// must flag every byte outside the class.
    #[test]
    fn the_chunk_tests_flag_every_byte_that_ends_a_label_a_value_or_a_key() {
        for b in 0..=255u8 {
            let mut bytes = [b'a'; 8];
            bytes[3] = b;
            let x = u64::from_le_bytes(bytes);
            if !is(b, LABEL) {
                assert_eq!(scan::first(label_stops(x)), 3, "label stop {b:#x}");
            }
            if !is(b, VALUE) {
                assert_eq!(scan::first(value_stops(x)), 3, "value stop {b:#x}");
            }
            if !is(b, BRACKET) {
                assert_eq!(scan::first(bracket_stops(x)), 3, "bracket stop {b:#x}");
            }
        }
    }
}
