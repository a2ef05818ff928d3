//! Lossless nginx configuration tree.
//!
//! Every byte of the source belongs to exactly one token of the tree (a word, a `;`, a
//! brace, a comment, a raw Lua body or an error node) or to the whitespace between two
//! tokens, so [`Config::print`] rebuilds the file byte for byte from the tree.

use crate::source::Span;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub items: Vec<Item>,
    /// Syntax errors in source order, worded as nginx words them.
    pub errors: Vec<SyntaxError>,
    /// Length of the parsed source in bytes.
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Directive(Directive),
    Comment(Comment),
    /// Bytes skipped while recovering from a syntax error.
    Error(Span),
}

/// `# ...` up to (not including) the end of the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// Text after the `#`, lossily decoded.
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub name: Word,
    pub args: Vec<Word>,
    /// Comments that stand between the name/arguments and the terminator
    /// (`proxy_pass # why\n http://x;`).
    pub inner_comments: Vec<Comment>,
    pub end: End,
    /// From the first byte of the name to the last byte of the terminator (`;` or `}`),
    /// or of the last argument when the terminator is missing.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    Semicolon(Span),
    Block(Block),
    /// The directive was cut off by a syntax error (reported in `Config::errors`).
    Missing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The `{`.
    pub open: Span,
    pub items: Vec<Item>,
    /// The `}`; `None` when the file ended first.
    pub close: Option<Span>,
    /// For `*_by_lua_block` (and other raw blocks): the body between the braces, kept
    /// verbatim and not parsed as nginx directives. `items` is empty then.
    pub raw: Option<Span>,
}

/// One token: a directive name or an argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The token as written, quotes included.
    pub span: Span,
    /// The value nginx stores: quotes removed, `\"` `\'` `\\` `\t` `\r` `\n` unescaped,
    /// other `\x` kept as written; non-UTF-8 bytes decoded lossily.
    pub value: String,
    /// `Some('"')` or `Some('\'')` for a quoted token.
    pub quote: Option<char>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    /// nginx's own words, e.g. `unexpected "}"`, `unexpected end of file, expecting ";" or "}"`.
    pub message: String,
}

impl Directive {
    pub fn block(&self) -> Option<&Block> {
        match &self.end {
            End::Block(b) => Some(b),
            _ => None,
        }
    }

    /// Argument values as strings.
    pub fn arg_values(&self) -> impl Iterator<Item = &str> {
        self.args.iter().map(|a| a.value.as_str())
    }
}

impl Config {
    /// All directives in source order, depth first, with their nesting depth (0 = top level).
    pub fn walk(&self) -> Vec<(usize, &Directive)> {
        fn go<'a>(items: &'a [Item], depth: usize, out: &mut Vec<(usize, &'a Directive)>) {
            for item in items {
                if let Item::Directive(d) = item {
                    out.push((depth, d));
                    if let Some(b) = d.block() {
                        go(&b.items, depth + 1, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        go(&self.items, 0, &mut out);
        out
    }
}
