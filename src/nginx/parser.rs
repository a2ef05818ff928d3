//! Directive tree from the token stream, with nginx's structural errors (those of
//! `ngx_conf_read_token` and `ngx_conf_parse`) and recovery at the next `;` or `}`.
//!
//! The parser is iterative: open blocks live on an explicit stack, so nesting depth costs
//! heap, not call stack. Depth is still capped because other code walks the tree
//! recursively.

use super::ast::{Block, Comment, Config, Directive, End, Item, SyntaxError, Word};
use super::lexer::{self, LexError, Lexer, RawWord, Tok};
use crate::source::Span;
use crate::text::Text;

/// Deepest block nesting kept in the tree; a deeper block becomes an error node.
const MAX_DEPTH: usize = 512;

pub fn parse(src: &[u8]) -> Config {
    let mut p = Parser {
        src,
        utf8: std::str::from_utf8(src).ok(),
        lex: Lexer::new(src),
        errors: Vec::new(),
        stack: Vec::new(),
        items: Vec::new(),
        args: Vec::new(),
        eof_reported: false,
    };
    p.run();
    Config { items: p.items, errors: p.errors, len: src.len() }
}

/// Name, arguments and comments of a directive being read.
struct Head {
    start: usize,
    name: Word,
    args: Vec<Word>,
    comments: Vec<Comment>,
}

impl Head {
    /// End of the last word, for a directive without terminator.
    fn words_end(&self) -> usize {
        self.args.last().unwrap_or(&self.name).span.end()
    }

    fn into_directive(self, end: End, span_end: usize) -> Directive {
        Directive {
            span: Span::new(self.start, span_end),
            name: self.name,
            args: self.args.into_boxed_slice(),
            inner_comments: self.comments.into_boxed_slice(),
            end,
        }
    }
}

/// A block directive whose `}` has not been seen yet.
struct OpenBlock {
    head: Head,
    open: Span,
    /// Where its items start in `Parser::items`.
    first_item: usize,
}

struct Parser<'a> {
    src: &'a [u8],
    /// `src` as text when it is valid UTF-8: validated once, so words and comments are
    /// sliced out of it instead of validated one by one.
    utf8: Option<&'a str>,
    lex: Lexer<'a>,
    errors: Vec<SyntaxError>,
    stack: Vec<OpenBlock>,
    /// Items of the top level and of every open block, innermost last. A block's items
    /// move into a vector of exactly their size when it closes: the tree is most of the
    /// parse's memory, and growing vectors would double it.
    items: Vec<Item>,
    /// Arguments of the directive being read, moved out the same way.
    args: Vec<Word>,
    /// nginx stops at its first error, so the end of the input is reported once: by
    /// whichever error got there first.
    eof_reported: bool,
}

impl Parser<'_> {
    fn run(&mut self) {
        loop {
            match self.lex.next_tok() {
                Tok::Eof => break,
                Tok::Word(w) => self.directive(w),
                Tok::Comment(span) => {
                    let c = self.comment(span);
                    self.items.push(Item::Comment(c));
                }
                Tok::Semi(span) => {
                    self.error(span, "unexpected \";\"");
                    self.items.push(Item::Error(span));
                }
                Tok::Open(span) => {
                    self.error(span, "unexpected \"{\"");
                    let end = self.skip(1);
                    self.items.push(Item::Error(Span::new(span.start(), end)));
                }
                Tok::Close(span) => {
                    if self.stack.is_empty() {
                        self.error(span, "unexpected \"}\"");
                        self.items.push(Item::Error(span));
                    } else {
                        self.close_block(Some(span));
                    }
                }
                Tok::Error { kind, at, token } => {
                    self.lex_error(kind, at, token);
                    // A too long comment is still a comment: nothing to resynchronise.
                    let end = if self.src[token.start()] == b'#' { token.end() } else { self.skip(0) };
                    self.items.push(Item::Error(Span::new(token.start(), end)));
                }
            }
        }
        if !self.stack.is_empty() {
            self.eof_error("unexpected end of file, expecting \"}\"");
        }
        while !self.stack.is_empty() {
            self.close_block(None);
        }
    }

    /// Read one directive whose name is `first`, up to its `;`, `{` or an error.
    fn directive(&mut self, first: RawWord) {
        let start = first.span.start();
        let name = self.word(first);
        let mut comments = Vec::new();
        loop {
            match self.lex.next_tok() {
                Tok::Word(w) => {
                    let word = self.word(w);
                    self.args.push(word);
                }
                Tok::Comment(span) => comments.push(self.comment(span)),
                Tok::Semi(span) => {
                    let head = self.head(start, name, comments);
                    let d = head.into_directive(End::Semicolon(span), span.end());
                    self.items.push(Item::Directive(d));
                    return;
                }
                Tok::Open(open) => {
                    let head = self.head(start, name, comments);
                    return self.open_block(head, open);
                }
                Tok::Close(span) => {
                    // `}` after words: nginx's "unexpected }". The directive is kept
                    // unterminated and the `}` still closes the enclosing block.
                    self.error(span, "unexpected \"}\"");
                    let head = self.head(start, name, comments);
                    let end = head.words_end();
                    self.items.push(Item::Directive(head.into_directive(End::Missing, end)));
                    if self.stack.is_empty() {
                        self.items.push(Item::Error(span));
                    } else {
                        self.close_block(Some(span));
                    }
                    return;
                }
                Tok::Eof => {
                    self.eof_error("unexpected end of file, expecting \";\" or \"}\"");
                    let head = self.head(start, name, comments);
                    let end = head.words_end();
                    self.items.push(Item::Directive(head.into_directive(End::Missing, end)));
                    return;
                }
                Tok::Error { kind, at, token } => {
                    self.lex_error(kind, at, token);
                    self.args.clear();
                    let end = self.skip(0);
                    self.items.push(Item::Error(Span::new(start, end)));
                    return;
                }
            }
        }
    }

    /// The directive read so far, its arguments moved out of the scratch vector.
    /// (`split_off` copies them in one go into a vector of exactly their number and leaves
    /// the scratch vector its capacity; collecting a `drain` moved them one by one.)
    fn head(&mut self, start: usize, name: Word, comments: Vec<Comment>) -> Head {
        Head { start, name, args: self.args.split_off(0), comments }
    }

    fn open_block(&mut self, head: Head, open: Span) {
        if head.name.value.ends_with("_by_lua_block") {
            return self.lua_block(head, open);
        }
        if self.stack.len() >= MAX_DEPTH {
            self.error(open, format!("too deep nesting: more than {MAX_DEPTH} levels of blocks"));
            let end = self.skip(1);
            self.items.push(Item::Error(Span::new(head.start, end)));
            return;
        }
        self.stack.push(OpenBlock { head, open, first_item: self.items.len() });
    }

    /// lua-nginx-module reads these bodies itself; they are kept verbatim.
    fn lua_block(&mut self, head: Head, open: Span) {
        let (close, body_end) = match lexer::scan_lua_block(self.src, open) {
            Ok(at) => (Some(Span::new(at, at + 1)), at),
            Err(e) => {
                self.error(e.span(), e.message());
                // Nothing after an unterminated body can be trusted: it is all Lua.
                self.eof_reported = true;
                (None, self.src.len())
            }
        };
        self.lex.pos = close.map_or(body_end, |c| c.end());
        let block =
            Block { open, items: Vec::new(), close, raw: Some(Span::new(open.end(), body_end)) };
        let d = head.into_directive(End::Block(Box::new(block)), self.lex.pos);
        self.items.push(Item::Directive(d));
    }

    /// Pop the innermost open block; `close` is its `}`, or `None` at the end of input.
    fn close_block(&mut self, close: Option<Span>) {
        let Some(b) = self.stack.pop() else { return };
        let items = self.items.split_off(b.first_item);
        let end = match close {
            Some(c) => c.end(),
            None => items.last().map_or(b.open.end(), item_end),
        };
        let block = Block { open: b.open, items, close, raw: None };
        let d = b.head.into_directive(End::Block(Box::new(block)), end);
        self.items.push(Item::Directive(d));
    }

    /// Skip tokens after an error, `depth` blocks deep: through the next `;` or `}` that
    /// ends the broken directive, stopping before a `}` that closes an enclosing block.
    /// Returns the end of the last skipped token.
    fn skip(&mut self, mut depth: usize) -> usize {
        loop {
            let before = self.lex.pos;
            match self.lex.next_tok() {
                Tok::Semi(_) if depth == 0 => return self.lex.pos,
                Tok::Open(_) => depth += 1,
                Tok::Close(_) if depth == 0 => {
                    self.lex.pos = before;
                    return before;
                }
                Tok::Close(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return self.lex.pos;
                    }
                }
                Tok::Eof => {
                    // The error being recovered from swallowed the rest of the input.
                    self.eof_reported = true;
                    return before;
                }
                _ => {}
            }
        }
    }

    fn word(&self, w: RawWord) -> Word {
        let content = match w.quote {
            Some(_) if w.closed => &self.src[w.span.start() + 1..w.span.end() - 1],
            Some(_) => &self.src[w.span.start() + 1..w.span.end()],
            None => &self.src[w.span.start()..w.span.end()],
        };
        let value = if w.escaped {
            let bytes = lexer::unescape(content);
            match String::from_utf8(bytes) {
                Ok(s) => Text::from(s),
                Err(e) => Text::from(String::from_utf8_lossy(e.as_bytes()).as_ref()),
            }
        } else {
            self.text(content)
        };
        Word { span: w.span, value, quote: w.quote.map(char::from) }
    }

    fn comment(&self, span: Span) -> Comment {
        Comment { span, text: self.text(&self.src[span.start() + 1..span.end()]) }
    }

    /// A slice of `src` as text: from the validated file when it is valid UTF-8, decoded
    /// lossily otherwise.
    fn text(&self, bytes: &[u8]) -> Text {
        let start = bytes.as_ptr() as usize - self.src.as_ptr() as usize;
        match self.utf8.and_then(|t| t.get(start..start + bytes.len())) {
            Some(text) => Text::from(text),
            None => Text::from(String::from_utf8_lossy(bytes).as_ref()),
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(SyntaxError { span, message: message.into() });
    }

    fn lex_error(&mut self, kind: LexError, at: Span, token: Span) {
        let message = kind.message(self.src, at, token);
        self.error(at, message);
    }

    fn eof_error(&mut self, message: &str) {
        if !self.eof_reported {
            self.eof_reported = true;
            self.error(Span::empty(self.src.len()), message);
        }
    }
}

fn item_end(item: &Item) -> usize {
    match item {
        Item::Directive(d) => d.span.end(),
        Item::Comment(c) => c.span.end(),
        Item::Error(span) => span.end(),
    }
}
