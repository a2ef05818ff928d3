//! Tokenizer that follows nginx's `ngx_conf_read_token` (src/core/ngx_conf_file.c).
//!
//! The lexer only splits bytes into tokens; deciding whether a `;`, `{` or `}` is legal
//! where it stands is the parser's job, because nginx makes that decision from the number
//! of words already collected for the directive.

mod lua;

pub(crate) use lua::scan_block as scan_lua_block;

use crate::scan;
use crate::source::Span;

/// nginx reads the configuration through a buffer of this size; a token that does not fit
/// is an error (`NGX_CONF_BUFFER`).
const CONF_BUFFER: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A directive name or argument, quotes included in `span`.
    Word(RawWord),
    Semi(Span),
    Open(Span),
    Close(Span),
    /// `#` to the end of the line, a trailing CR excluded.
    Comment(Span),
    /// A lexical error nginx stops at. `token` is what the lexer consumed (it resumes at
    /// `token.end`); `at` is where the error is reported.
    Error {
        kind: LexError,
        at: Span,
        token: Span,
    },
    Eof,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawWord {
    pub span: Span,
    /// The opening quote of a quoted word.
    pub quote: Option<u8>,
    /// The word contains a backslash, so its value needs unescaping.
    pub escaped: bool,
    /// A quoted word whose closing quote was found (always true for unquoted words).
    pub closed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LexError {
    /// A closing quote followed by something other than whitespace, `;`, `{` or `)`.
    AfterQuote,
    /// A token that does not fit nginx's read buffer; `quote` is set when nginx was still
    /// inside a quoted string when the buffer filled up.
    TooLong { quote: Option<u8> },
}

impl LexError {
    /// The message in nginx's words; `at` is the error span, `token` the consumed token.
    pub fn message(self, src: &[u8], at: Span, token: Span) -> String {
        match self {
            LexError::AfterQuote => format!("unexpected \"{}\"", char_at(src, at.start())),
            LexError::TooLong { quote: Some(q) } => format!(
                "too long parameter, probably missing terminating \"{}\" character",
                q as char
            ),
            LexError::TooLong { quote: None } => {
                // nginx prints the first 10 bytes from where its token buffer starts,
                // which is after the opening quote of a quoted word.
                let start = match src[token.start()] {
                    b'"' | b'\'' => token.start() + 1,
                    _ => token.start(),
                };
                let head = &src[start..(start + 10).min(src.len())];
                format!("too long parameter \"{}...\" started", String::from_utf8_lossy(head))
            }
        }
    }
}

/// The character starting at `at`, for messages: nginx prints the raw byte; a whole UTF-8
/// character reads better and is the same for ASCII.
fn char_at(src: &[u8], at: usize) -> char {
    let tail = &src[at..(at + 4).min(src.len())];
    let valid = match std::str::from_utf8(tail) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&tail[..e.valid_up_to()]).unwrap_or_default(),
    };
    valid.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Length in bytes of the character `char_at` reports, at least 1.
fn char_len(src: &[u8], at: usize) -> usize {
    match char_at(src, at) {
        char::REPLACEMENT_CHARACTER => 1,
        c => c.len_utf8(),
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Byte classes inside an unquoted word.
const PLAIN: u8 = 0;
const STOP: u8 = 1; // whitespace, `;`, `{`: may end the word
const DOLLAR: u8 = 2;
const BACKSLASH: u8 = 3;

static WORD_CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    t[b' ' as usize] = STOP;
    t[b'\t' as usize] = STOP;
    t[b'\r' as usize] = STOP;
    t[b'\n' as usize] = STOP;
    t[b';' as usize] = STOP;
    t[b'{' as usize] = STOP;
    t[b'$' as usize] = DOLLAR;
    t[b'\\' as usize] = BACKSLASH;
    t
};

/// The first byte at or after `i` that is not whitespace.
fn skip_space(src: &[u8], mut i: usize) -> usize {
    while let Some(&b) = src.get(i) {
        match (b, scan::chunk_at(src, i)) {
            // Indentation: as many of the eight as are spaces (at least this one).
            (b' ', Some(x)) => i += scan::leading(x, b' '),
            _ if is_space(b) => i += 1,
            _ => break,
        }
    }
    i
}

/// The end of the run of [`PLAIN`] bytes from `i`. A chunk is skipped whole when none of its
/// bytes is below `%` (whitespace and `$` are), `;`, `{` or `\`.
fn plain_end(src: &[u8], i: usize) -> usize {
    let stops = |x| scan::below(x, b'%') | scan::equal(x, b';') | scan::equal(x, b'{') | scan::equal(x, b'\\');
    scan::run_end(src, i, stops, |b| WORD_CLASS[b as usize] == PLAIN)
}

pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    /// Where the next token search starts: always just after the last token returned.
    pub pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a [u8]) -> Self {
        Lexer { src, pos: 0 }
    }

    pub fn next_tok(&mut self) -> Tok {
        let src = self.src;
        let i = skip_space(src, self.pos);
        // At the end the position stays after the last token, so trailing whitespace is
        // never swallowed into an error span.
        let Some(&b) = src.get(i) else { return Tok::Eof };
        let one = Span::new(i, i + 1);
        let tok = match b {
            b';' => Tok::Semi(one),
            b'{' => Tok::Open(one),
            b'}' => Tok::Close(one),
            b'#' => self.comment(i),
            b'"' | b'\'' => self.quoted(i, b),
            _ => self.unquoted(i),
        };
        self.pos = match tok {
            Tok::Error { token, .. } => token.end(),
            Tok::Word(w) => w.span.end(),
            Tok::Semi(s) | Tok::Open(s) | Tok::Close(s) | Tok::Comment(s) => s.end(),
            Tok::Eof => i,
        };
        tok
    }

    fn comment(&self, start: usize) -> Tok {
        let src = self.src;
        let lf = comment_unit_end(src, start);
        let mut end = lf;
        if end > start + 1 && src[end - 1] == b'\r' {
            end -= 1;
        }
        let span = Span::new(start, end);
        // A comment is a token to nginx's buffer too: a comment line longer than the
        // buffer is rejected (verified with nginx 1.22.1).
        match self.too_long(start, lf, None) {
            Some(kind) => Tok::Error { kind, at: Span::new(start, start + 1), token: span },
            None => Tok::Comment(span),
        }
    }

    fn quoted(&self, start: usize, quote: u8) -> Tok {
        let src = self.src;
        let mut i = start + 1;
        let mut escaped = false;
        let close = loop {
            // Straight to the next quote or backslash: whatever lies between is content.
            i += src.get(i..).and_then(|rest| memchr::memchr2(quote, b'\\', rest)).unwrap_or(src.len().saturating_sub(i));
            match src.get(i) {
                None => break None,
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                Some(_) => break Some(i),
            }
        };
        let Some(close) = close else {
            let span = Span::new(start, src.len());
            if let Some(kind) = self.too_long(start + 1, src.len(), Some(quote)) {
                return Tok::Error { kind, at: Span::new(start, start + 1), token: span };
            }
            return Tok::Word(RawWord { span, quote: Some(quote), escaped, closed: false });
        };
        let span = Span::new(start, close + 1);
        let next = src.get(close + 1).copied();
        // nginx's buffer holds the word from after the opening quote through the closing
        // quote, plus the following byte when that is whitespace.
        let unit_end = if next.is_some_and(is_space) { close + 2 } else { close + 1 };
        let quote_at_fill = (start + 1 + CONF_BUFFER - 1 < close).then_some(quote);
        if let Some(kind) = self.too_long(start + 1, unit_end, quote_at_fill) {
            return Tok::Error { kind, at: Span::new(start, start + 1), token: span };
        }
        match next {
            Some(b) if !is_space(b) && !matches!(b, b';' | b'{' | b')') => {
                let at = close + 1;
                Tok::Error {
                    kind: LexError::AfterQuote,
                    at: Span::new(at, at + char_len(src, at)),
                    token: span,
                }
            }
            _ => Tok::Word(RawWord { span, quote: Some(quote), escaped, closed: true }),
        }
    }

    fn unquoted(&self, start: usize) -> Tok {
        let src = self.src;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = plain_end(src, i);
            match WORD_CLASS[*src.get(i).unwrap_or(&b' ') as usize] {
                DOLLAR => {
                    // `${` does not open a block, and nginx keeps that state across any
                    // number of `{`.
                    i += 1;
                    while src.get(i) == Some(&b'{') {
                        i += 1;
                    }
                }
                BACKSLASH => {
                    escaped = true;
                    i += 2;
                }
                _ => break,
            }
        }
        let end = i.min(src.len());
        let span = Span::new(start, end);
        let unit_end = if src.get(end).copied().is_some_and(is_space) { end + 1 } else { end };
        if let Some(kind) = self.too_long(start, unit_end, None) {
            return Tok::Error { kind, at: Span::new(start, start + 1), token: span };
        }
        Tok::Word(RawWord { span, quote: None, escaped, closed: true })
    }

    /// nginx refills its 4096-byte buffer by keeping the bytes from the start of the
    /// current token. It fails when, at a refill, those bytes fill the whole buffer:
    /// exactly when the bytes nginx holds for one token (`unit_start..unit_end`) number at
    /// least `CONF_BUFFER` and the file goes on past the first `CONF_BUFFER` of them.
    /// (Checked against nginx 1.22.1 for token lengths 4093..4097 at several alignments.)
    fn too_long(&self, unit_start: usize, unit_end: usize, quote: Option<u8>) -> Option<LexError> {
        (unit_end - unit_start >= CONF_BUFFER && unit_start + CONF_BUFFER < self.src.len())
            .then_some(LexError::TooLong { quote })
    }
}

/// End of the comment starting at `start`: the LF ending its line, or the end of input.
fn comment_unit_end(src: &[u8], start: usize) -> usize {
    memchr::memchr(b'\n', &src[start..]).map_or(src.len(), |n| start + n)
}

/// The value nginx stores for a word's content (quotes already stripped): `\"` `\'` `\\`
/// become the character, `\t` `\r` `\n` the control character, any other `\x` stays.
pub(crate) fn unescape(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len());
    let mut i = 0;
    while i < content.len() {
        let b = content[i];
        if b == b'\\' {
            let replaced = match content.get(i + 1) {
                Some(&c @ (b'"' | b'\'' | b'\\')) => Some(c),
                Some(b't') => Some(b'\t'),
                Some(b'r') => Some(b'\r'),
                Some(b'n') => Some(b'\n'),
                _ => None,
            };
            if let Some(c) = replaced {
                out.push(c);
                i += 2;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk is skipped whole only when none of its bytes can end the word or change how
    /// it is read.
    #[test]
    fn the_chunk_test_flags_every_byte_that_is_not_plain() {
        for b in 0..=255u8 {
            let mut bytes = [b'a'; 16];
            bytes[11] = b;
            let end = if WORD_CLASS[b as usize] == PLAIN { 16 } else { 11 };
            assert_eq!(plain_end(&bytes, 0), end, "byte {b:#x}");
        }
    }
}
