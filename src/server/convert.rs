//! Between conflint's byte spans and real paths and LSP's positions and `file:` URIs.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::{Position, PositionEncodingKind, Range, Uri};

use crate::source::{SourceFile, Span};

/// What an LSP `character` counts. UTF-16 code units unless the client offers UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// UTF-8 when the client lists it (no conversion needed), else the mandatory UTF-16.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }
}

/// The LSP position of byte `offset`. Invalid UTF-8 counts as the editor shows it: each
/// undecodable sequence is one U+FFFD.
pub fn position(src: &SourceFile, offset: usize, enc: Encoding) -> Position {
    let offset = offset.min(src.text.len());
    let line = src.position(offset).line;
    let start = src.line_span(line).start();
    let before = &src.text[start..offset];
    let character = match enc {
        Encoding::Utf8 => before.len(),
        Encoding::Utf16 => String::from_utf8_lossy(before).encode_utf16().count(),
    };
    Position { line: to_u32(line - 1), character: to_u32(character) }
}

pub fn range(src: &SourceFile, span: Span, enc: Encoding) -> Range {
    Range { start: position(src, span.start(), enc), end: position(src, span.end(), enc) }
}

/// The byte offset of LSP position `pos` in `text`; a position past its line's end is the
/// line's end (as LSP asks), past the last line the end of the text.
pub fn offset(text: &[u8], pos: Position, enc: Encoding) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match memchr::memchr(b'\n', &text[start..]) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
    let line = &text[start..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let wanted = pos.character as usize;
    if enc == Encoding::Utf8 {
        return start + wanted.min(line.len());
    }
    // UTF-16 units, each undecodable sequence one U+FFFD (as `position` counts them).
    let (mut units, mut at) = (0, start);
    for chunk in line.utf8_chunks() {
        for c in chunk.valid().chars() {
            if units >= wanted {
                return at;
            }
            units += c.len_utf16();
            at += c.len_utf8();
        }
        if !chunk.invalid().is_empty() {
            if units >= wanted {
                return at;
            }
            units += 1;
            at += chunk.invalid().len();
        }
    }
    at
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The local path of a `file:` URI (`file:///p`, `file://localhost/p`); `None` for any
/// other scheme (`untitled:`, remote hosts), which conflint does not lint.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.get(..7).filter(|scheme| scheme.eq_ignore_ascii_case("file://")).map(|_| &s[7..])?;
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    Some(PathBuf::from(OsStr::from_bytes(&percent_decode(path.as_bytes()))))
}

/// A `file:` URI for an absolute path, every byte but unreserved ones and `/` escaped.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let mut s = String::from("file://");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&s).ok()
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match (s[i], s.get(i + 1).copied().and_then(hex), s.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("x", None, text.as_bytes().to_vec())
    }

    #[test]
    fn utf16_counts_surrogate_pairs_and_utf8_counts_bytes() {
        let f = file("a;\r\nlocation /é😀 { x; }\n");
        let x = "a;\r\nlocation /é😀 { ".len();
        // `é` is one UTF-16 unit and two bytes; `😀` two units and four bytes.
        assert_eq!(position(&f, x, Encoding::Utf16), Position { line: 1, character: 16 });
        assert_eq!(position(&f, x, Encoding::Utf8), Position { line: 1, character: 19 });
        assert_eq!(position(&f, f.text.len(), Encoding::Utf16), Position { line: 2, character: 0 });
    }

    #[test]
    fn offsets_are_the_inverse_of_positions() {
        let text = "a;\r\nlocation /é😀 { x; }\n\u{ff}";
        let f = file(text);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for (o, _) in text.char_indices().filter(|&(o, _)| text.as_bytes()[o] != b'\n' && !text[o..].starts_with("\r\n")) {
                assert_eq!(offset(text.as_bytes(), position(&f, o, enc), enc), o, "{enc:?} {o}");
            }
        }
        // Past the end of a line: its end, before the CR LF; past the last line: the end.
        assert_eq!(offset(text.as_bytes(), Position { line: 0, character: 40 }, Encoding::Utf16), 2);
        assert_eq!(offset(text.as_bytes(), Position { line: 9, character: 0 }, Encoding::Utf16), text.len());
        assert_eq!(offset(b"\xff\xfe x", Position { line: 0, character: 3 }, Encoding::Utf16), 3);
    }

    #[test]
    fn invalid_utf8_counts_as_replacement_characters() {
        let f = SourceFile::new("x", None, b"\xff\xfe x".to_vec());
        assert_eq!(position(&f, 3, Encoding::Utf16).character, 3);
        assert_eq!(position(&f, 3, Encoding::Utf8).character, 3);
    }

    #[test]
    fn encoding_prefers_utf8_only_when_offered() {
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(Some(&[PositionEncodingKind::UTF16])), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(Some(&[PositionEncodingKind::UTF16, PositionEncodingKind::UTF8])), Encoding::Utf8);
    }

    #[test]
    fn uris_round_trip_paths_with_spaces_and_non_ascii() {
        let p = Path::new("/srv/my sites/café%.conf");
        let uri = path_to_uri(p).unwrap();
        assert_eq!(uri.as_str(), "file:///srv/my%20sites/caf%C3%A9%25.conf");
        assert_eq!(uri_to_path(&uri).unwrap(), p);
        // VS Code escapes less than we do; both forms name the same file.
        let vscode = Uri::from_str("file:///srv/my%20sites/caf%C3%A9%25.conf").unwrap();
        assert_eq!(uri_to_path(&vscode).unwrap(), p);
        let localhost = Uri::from_str("file://localhost/etc/nginx/nginx.conf").unwrap();
        assert_eq!(uri_to_path(&localhost).unwrap(), Path::new("/etc/nginx/nginx.conf"));
    }

    #[test]
    fn other_schemes_and_hosts_are_not_files() {
        for s in ["untitled:Untitled-1", "https://example.com/x.conf", "file://server/share/x.conf"] {
            assert_eq!(uri_to_path(&Uri::from_str(s).unwrap()), None, "{s}");
        }
    }
}
