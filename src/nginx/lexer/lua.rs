//! The end of a `*_by_lua_block { ... }` body, found the way lua-nginx-module finds it.
//!
//! lua-nginx-module re-reads the body with its own lexer (`ngx_http_lua_lex`), which looks
//! for the leftmost of: `{`, `}`, `--[=*[` (long comment), `[=*[` (long string), `--` to
//! the end of the line, and one-line `"..."`/`'...'` strings with backslash escapes. A
//! quote that does not close on its line matches nothing and is skipped as plain code.
//! Braces are counted; the body ends at the `}` that brings the count back to zero.

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LuaError {
    /// The input ended first; `last_open` is the last `{` seen (lua-nginx-module reports
    /// that line).
    Eof { last_open: Span },
    /// A long bracket `[==[` (span) with no matching `]==]`.
    LongBracket { open: Span, level: usize },
}

impl LuaError {
    pub fn span(self) -> Span {
        match self {
            LuaError::Eof { last_open } => last_open,
            LuaError::LongBracket { open, .. } => open,
        }
    }

    /// The message in lua-nginx-module's words.
    pub fn message(self) -> String {
        match self {
            LuaError::Eof { .. } => {
                "unexpected end of file, expecting terminating characters for lua code block"
                    .to_string()
            }
            LuaError::LongBracket { level, .. } => format!(
                "Lua code block missing the closing long bracket \"]{}]\", the inlined Lua code \
                 may be too long",
                "=".repeat(level)
            ),
        }
    }
}

/// Scan the body that starts right after the block's `{` (`open`); return the offset of
/// the matching `}`.
pub(crate) fn scan_block(src: &[u8], open: Span) -> Result<usize, LuaError> {
    let mut level = 1usize;
    let mut last_open = open;
    let mut i = open.end();
    while let Some(&b) = src.get(i) {
        match b {
            b'{' => {
                level += 1;
                last_open = Span::new(i, i + 1);
                i += 1;
            }
            b'}' => {
                level -= 1;
                if level == 0 {
                    return Ok(i);
                }
                i += 1;
            }
            b'-' if src.get(i + 1) == Some(&b'-') => {
                i = match long_bracket(src, i + 2) {
                    Some(eq) => skip_long(src, i + 2, eq)?,
                    None => src[i..].iter().position(|&c| c == b'\n').map_or(src.len(), |n| i + n),
                };
            }
            b'[' => {
                i = match long_bracket(src, i) {
                    Some(eq) => skip_long(src, i, eq)?,
                    None => i + 1,
                };
            }
            b'"' | b'\'' => i = short_string(src, i).unwrap_or(i + 1),
            _ => i += 1,
        }
    }
    Err(LuaError::Eof { last_open })
}

/// `[`, any number of `=`, `[` at `at`: the number of `=`.
fn long_bracket(src: &[u8], at: usize) -> Option<usize> {
    if src.get(at) != Some(&b'[') {
        return None;
    }
    let eq = src[at + 1..].iter().take_while(|&&c| c == b'=').count();
    (src.get(at + 1 + eq) == Some(&b'[')).then_some(eq)
}

/// Skip the long bracket opened at `at` with `eq` equals signs; return the offset after
/// its closing bracket.
fn skip_long(src: &[u8], at: usize, eq: usize) -> Result<usize, LuaError> {
    let body = at + eq + 2;
    let mut i = body;
    while let Some(n) = src[i..].iter().position(|&c| c == b']') {
        let close = i + n;
        let run = src[close + 1..].iter().take_while(|&&c| c == b'=').count();
        if run == eq && src.get(close + 1 + eq) == Some(&b']') {
            return Ok(close + eq + 2);
        }
        i = close + 1;
    }
    Err(LuaError::LongBracket { open: Span::new(at, body), level: eq })
}

/// A one-line quoted string starting at `start`: the offset after its closing quote.
fn short_string(src: &[u8], start: usize) -> Option<usize> {
    let quote = src[start];
    let mut i = start + 1;
    loop {
        match *src.get(i)? {
            b'\n' => return None,
            b'\\' => {
                if *src.get(i + 1)? == b'\n' {
                    return None;
                }
                i += 2;
            }
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
}
