//! Lossless nginx configuration tree.
//!
//! Every byte of the source belongs to exactly one token of the tree (a word, a `;`, a
//! brace, a comment, a raw Lua body or an error node) or to the whitespace between two
//! tokens, so [`Config::print`] rebuilds the file byte for byte from the tree.

use crate::source::Span;
use crate::text::Text;

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
    pub text: Text,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub name: Word,
    pub args: Box<[Word]>,
    /// Comments that stand between the name/arguments and the terminator
    /// (`proxy_pass # why\n http://x;`).
    pub inner_comments: Box<[Comment]>,
    pub end: End,
    /// From the first byte of the name to the last byte of the terminator (`;` or `}`),
    /// or of the last argument when the terminator is missing.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    Semicolon(Span),
    Block(Box<Block>),
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
    pub value: Text,
    /// `Some('"')` or `Some('\'')` for a quoted token.
    pub quote: Option<char>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    /// nginx's own words, e.g. `unexpected "}"`, `unexpected end of file, expecting ";" or "}"`.
    pub message: String,
}

impl Item {
    /// The item's first byte.
    pub fn start(&self) -> usize {
        match self {
            Item::Directive(d) => d.span.start(),
            Item::Comment(c) => c.span.start(),
            Item::Error(span) => span.start(),
        }
    }
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
    /// Call `f` on every directive, depth first, without collecting them.
    pub fn for_each_directive<'a>(&'a self, f: &mut impl FnMut(&'a Directive)) {
        fn go<'a>(items: &'a [Item], f: &mut impl FnMut(&'a Directive)) {
            for item in items {
                if let Item::Directive(d) = item {
                    f(d);
                    if let Some(b) = d.block() {
                        go(&b.items, f);
                    }
                }
            }
        }
        go(&self.items, f);
    }

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

impl Config {
    /// The block directives whose body holds byte `offset`, outermost first: where a
    /// directive written at `offset` stands. A block the file ends in before its `}` holds
    /// everything after its `{` (text being typed).
    pub fn blocks_at(&self, offset: usize) -> Vec<&Directive> {
        let mut out = Vec::new();
        let mut items = &self.items[..];
        loop {
            // Items are in source order and do not overlap: only the last one starting
            // before `offset` can hold it (a binary search, as every include of a big
            // tree asks).
            let before = items.partition_point(|i| i.start() < offset);
            let Some(Item::Directive(d)) = before.checked_sub(1).map(|i| &items[i]) else { return out };
            match d.block() {
                Some(b) if b.open.end() <= offset && b.close.is_none_or(|c| offset <= c.start()) => {
                    out.push(d);
                    items = &b.items;
                }
                _ => return out,
            }
        }
    }

    /// The directive whose name holds byte `offset` (its end included: the cursor just
    /// after a word is on it), with the blocks it stands in.
    pub fn name_at(&self, offset: usize) -> Option<(Vec<&Directive>, &Directive)> {
        let blocks = self.blocks_at(offset);
        let items = blocks.last().and_then(|d| d.block()).map_or(&self.items[..], |b| &b.items[..]);
        let at = items.partition_point(|i| i.start() <= offset).checked_sub(1)?;
        match &items[at] {
            Item::Directive(d) if offset <= d.name.span.end() => Some((blocks, d)),
            _ => None,
        }
    }
}

/// What a [`Token`] of the tree is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A directive name or argument.
    Word,
    Semicolon,
    /// `{`
    Open,
    /// `}`
    Close,
    Comment,
    /// A raw block body (`*_by_lua_block`).
    Raw,
    /// Bytes skipped while recovering from a syntax error.
    Error,
}

/// One span of source bytes held by the tree; see [`Config::tokens`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Config {
    /// Every token of the tree in source order. Between two consecutive tokens (and before
    /// the first and after the last) there is only whitespace: [`Config::check_lossless`].
    pub fn tokens(&self) -> Vec<Token> {
        let mut out = Vec::new();
        push_items(&self.items, &mut out);
        out
    }

    /// The file rebuilt from the tree: each token's bytes, with the whitespace gaps between
    /// tokens taken from `src`. Equal to `src` for the `src` the tree was parsed from.
    pub fn print(&self, src: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        let mut at = 0;
        for t in self.tokens() {
            out.extend_from_slice(src.get(at..t.span.start()).unwrap_or_default());
            out.extend_from_slice(src.get(t.span.start()..t.span.end()).unwrap_or_default());
            at = t.span.end();
        }
        out.extend_from_slice(src.get(at..self.len).unwrap_or_default());
        out
    }

    /// Check that the tokens are in order, do not overlap, are not empty, and leave only
    /// whitespace (space, tab, CR, LF) uncovered; the error names the first offending byte
    /// range.
    pub fn check_lossless(&self, src: &[u8]) -> Result<(), String> {
        if src.len() != self.len {
            return Err(format!("tree is for {} bytes, source has {}", self.len, src.len()));
        }
        let mut at = 0;
        for t in self.tokens() {
            if t.span.start() < at || t.span.end() > src.len() || t.span.is_empty() {
                return Err(format!("{:?} token at {:?} after offset {at}", t.kind, t.span));
            }
            check_gap(src, at, t.span.start())?;
            at = t.span.end();
        }
        check_gap(src, at, src.len())
    }
}

fn check_gap(src: &[u8], from: usize, to: usize) -> Result<(), String> {
    match src[from..to].iter().position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
        Some(n) => {
            Err(format!("byte {:?} at offset {} is in no token", src[from + n] as char, from + n))
        }
        None => Ok(()),
    }
}

fn push_items(items: &[Item], out: &mut Vec<Token>) {
    for item in items {
        match item {
            Item::Directive(d) => push_directive(d, out),
            Item::Comment(c) => out.push(Token { kind: TokenKind::Comment, span: c.span }),
            Item::Error(span) => out.push(Token { kind: TokenKind::Error, span: *span }),
        }
    }
}

fn push_directive(d: &Directive, out: &mut Vec<Token>) {
    out.push(Token { kind: TokenKind::Word, span: d.name.span });
    // Arguments and the comments between them, merged back into source order.
    let mut comments = d.inner_comments.iter().peekable();
    for arg in &d.args {
        while let Some(c) = comments.next_if(|c| c.span.start() < arg.span.start()) {
            out.push(Token { kind: TokenKind::Comment, span: c.span });
        }
        out.push(Token { kind: TokenKind::Word, span: arg.span });
    }
    out.extend(comments.map(|c| Token { kind: TokenKind::Comment, span: c.span }));
    match &d.end {
        End::Semicolon(span) => out.push(Token { kind: TokenKind::Semicolon, span: *span }),
        End::Block(b) => {
            out.push(Token { kind: TokenKind::Open, span: b.open });
            push_items(&b.items, out);
            if let Some(raw) = b.raw.filter(|r| !r.is_empty()) {
                out.push(Token { kind: TokenKind::Raw, span: raw });
            }
            if let Some(close) = b.close {
                out.push(Token { kind: TokenKind::Close, span: close });
            }
        }
        End::Missing => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn blocks_at_follows_unclosed_blocks_and_stops_at_closed_ones() {
        let src = "http {\n  server {\n    listen 80;\n    loc\n";
        let c = crate::nginx::parse(src.as_bytes());
        let names = |o: usize| c.blocks_at(o).iter().map(|d| d.name.value.clone()).collect::<Vec<_>>();
        assert_eq!(names(src.len()), ["http", "server"]);
        assert_eq!(names(3), Vec::<String>::new());
        let closed = "events { }\nhttp { }\n";
        let c = crate::nginx::parse(closed.as_bytes());
        assert_eq!(c.blocks_at(9).len(), 1, "inside the braces of events");
        assert!(c.blocks_at(10).is_empty(), "after its closing brace");
        let (blocks, d) = c.name_at(13).unwrap();
        assert_eq!((blocks.len(), d.name.value.as_str()), (0, "http"));
    }
}
