//! One line at a time, as `fpm_conf_load_ini_file` hands each line to the Zend INI parser.
//! Error texts are PHP's own (`syntax error, unexpected '='`) or PHP-FPM's
//! (`value is NULL for a ZEND_INI_PARSER_ENTRY`).

use super::ast::{Entry, FpmFile, Line, LineKind, Value};
use crate::source::Span;

const NULL_VALUE: &str = "value is NULL for a ZEND_INI_PARSER_ENTRY";
const UNTERMINATED_DOUBLE: &str = "syntax error, unexpected end of file, expecting TC_DOLLAR_CURLY or TC_QUOTED_STRING or '\"'";

pub fn parse(src: &[u8]) -> FpmFile {
    let mut lines = Vec::new();
    let mut start = 0;
    while start < src.len() {
        let nl = src[start..].iter().position(|&b| b == b'\n').map(|i| start + i);
        let (content_end, eol_end) = match nl {
            Some(i) if i > start && src[i - 1] == b'\r' => (i - 1, i + 1),
            Some(i) => (i, i + 1),
            None => (src.len(), src.len()),
        };
        lines.push(parse_line(src, Span::new(start, content_end), Span::new(content_end, eol_end)));
        start = eol_end;
    }
    FpmFile { lines }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn parse_line(src: &[u8], span: Span, eol: Span) -> Line {
    let text = &src[span.start..span.end];
    let first = text.iter().position(|&b| !is_space(b));
    let Some(first) = first else {
        return Line { span, eol, kind: LineKind::Blank, comment: None };
    };
    let at = span.start + first;
    match text[first] {
        b';' => Line { span, eol, kind: LineKind::Blank, comment: Some(Span::new(at, span.end)) },
        b'[' => section(src, span, eol, at),
        _ => entry(src, span, eol, at),
    }
}

fn error(span: Span, eol: Span, at: Span, message: &str) -> Line {
    Line { span, eol, kind: LineKind::Error { message: message.into(), span: at }, comment: None }
}

/// `[name]`: the name is kept as written, spaces included (PHP-FPM does); anything but a
/// comment after the `]` is an error.
fn section(src: &[u8], span: Span, eol: Span, open: usize) -> Line {
    let Some(close) = src[open..span.end].iter().position(|&b| b == b']').map(|i| open + i) else {
        return error(span, eol, Span::new(open, span.end), "syntax error, unexpected end of file, expecting ']'");
    };
    let rest = close + 1;
    let tail = src[rest..span.end].iter().position(|&b| !is_space(b)).map(|i| rest + i);
    let comment = match tail {
        None => None,
        Some(i) if src[i] == b';' => Some(Span::new(i, span.end)),
        Some(i) => return error(span, eol, Span::new(i, span.end), NULL_VALUE),
    };
    let name_span = Span::new(open + 1, close);
    let name = lossy(&src[name_span.start..name_span.end]);
    Line { span, eol, kind: LineKind::Section { name, name_span }, comment }
}

fn entry(src: &[u8], span: Span, eol: Span, start: usize) -> Line {
    let end = span.end;
    // The name runs to `=`, `[` or a comment.
    let mut i = start;
    while i < end && !matches!(src[i], b'=' | b'[' | b';') {
        i += 1;
    }
    let mut name_end = i;
    while name_end > start && is_space(src[name_end - 1]) {
        name_end -= 1;
    }
    if name_end == start && i < end && src[i] == b'=' {
        return error(span, eol, Span::new(i, i + 1), "syntax error, unexpected '='");
    }
    let name_span = Span::new(start, name_end);
    let mut array_key = None;
    if i < end && src[i] == b'[' {
        let Some(close) = src[i..end].iter().position(|&b| b == b']').map(|k| i + k) else {
            return error(span, eol, Span::new(i, end), "syntax error, unexpected end of file, expecting ']'");
        };
        let key_span = Span::new(i + 1, close);
        array_key = Some((lossy(&src[key_span.start..key_span.end]), key_span));
        i = close + 1;
        while i < end && is_space(src[i]) {
            i += 1;
        }
    }
    if i >= end || src[i] != b'=' {
        // `# comment`, a bare word, `key ; comment`: PHP-FPM sees an entry with no value.
        let comment = (i < end && src[i] == b';').then(|| Span::new(i, end));
        let content_end = comment.map_or(end, |c| c.start);
        return Line { span, eol, kind: LineKind::Error { message: NULL_VALUE.into(), span: Span::new(start, trim_end(src, start, content_end)) }, comment };
    }
    let (value, comment) = match value(src, i + 1, end) {
        Ok(v) => v,
        Err((at, message)) => return error(span, eol, at, message),
    };
    let name = lossy(&src[name_span.start..name_span.end]);
    Line { span, eol, kind: LineKind::Entry(Entry { name, name_span, array_key, value }), comment }
}

fn trim_end(src: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && is_space(src[end - 1]) {
        end -= 1;
    }
    end
}

/// The value after `=`: bare text, `"..."` (escapes, `${VAR}`), `'...'` (raw), any of
/// them side by side; then an optional `;` comment.
fn value(src: &[u8], from: usize, end: usize) -> Result<(Value, Option<Span>), (Span, &'static str)> {
    let mut i = from;
    while i < end && is_space(src[i]) {
        i += 1;
    }
    let value_start = i;
    let mut text = Vec::new();
    let mut quoted = false;
    let mut bare = Vec::new();
    let mut last_content = i;
    let mut comment = None;
    while i < end {
        match src[i] {
            b';' => {
                comment = Some(Span::new(i, end));
                break;
            }
            b'"' => {
                quoted = true;
                text.append(&mut bare);
                let close = double_quoted(src, i + 1, end, &mut text).ok_or((Span::new(i, end), UNTERMINATED_DOUBLE))?;
                i = close + 1;
                last_content = i;
            }
            b'\'' => {
                quoted = true;
                text.append(&mut bare);
                let close = src[i + 1..end].iter().position(|&b| b == b'\'').map(|k| i + 1 + k).ok_or((Span::new(i, end), "syntax error, unexpected end of file"))?;
                text.extend_from_slice(&src[i + 1..close]);
                i = close + 1;
                last_content = i;
            }
            b'=' => return Err((Span::new(i, i + 1), "syntax error, unexpected '='")),
            b'$' if src.get(i + 1) == Some(&b'{') => {
                let close = src[i..end].iter().position(|&b| b == b'}').map(|k| i + k).ok_or((Span::new(i, end), "syntax error, unexpected end of file, expecting TC_VARNAME"))?;
                bare.extend_from_slice(&src[i..=close]);
                i = close + 1;
                last_content = i;
            }
            b => {
                bare.push(b);
                i += 1;
                if !is_space(b) {
                    last_content = i;
                }
            }
        }
    }
    // Trailing blanks of bare text are not part of the value.
    while bare.last().is_some_and(|&b| is_space(b)) {
        bare.pop();
    }
    text.append(&mut bare);
    let raw = &src[value_start..last_content.max(value_start)];
    let mut text = lossy(&text);
    if !quoted {
        // The INI scanner turns bare keywords into "1" / "".
        match text.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => text = "1".into(),
            "false" | "off" | "no" | "none" | "null" => text.clear(),
            _ => {}
        }
    }
    let has_env = raw.windows(2).any(|w| w == b"${");
    Ok((Value { span: Span::new(value_start, last_content.max(value_start)), text, quoted, has_env }, comment))
}

/// Copy a `"..."` body into `out` (unescaping `\"` and `\\`), returning the closing quote.
fn double_quoted(src: &[u8], from: usize, end: usize, out: &mut Vec<u8>) -> Option<usize> {
    let mut i = from;
    while i < end {
        match src[i] {
            b'\\' if i + 1 < end && matches!(src[i + 1], b'"' | b'\\') => {
                out.push(src[i + 1]);
                i += 2;
            }
            b'"' => return Some(i),
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}
