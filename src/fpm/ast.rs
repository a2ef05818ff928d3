//! Lossless PHP-FPM configuration file: one entry per physical line, as PHP-FPM reads it
//! (`fpm_conf_load_ini_file` hands each line to the Zend INI parser separately).

use crate::source::Span;
use crate::text::Text;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FpmFile {
    /// Every line of the file in order; concatenating their `span`s and `eol`s gives the
    /// file back byte for byte.
    pub lines: Vec<Line>,
}

/// A big pool tree has millions of lines, and the lines table is most of the parse's
/// memory: every kind but `Blank` is boxed and the terminator is kept as its length, so a
/// line takes 40 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line without its terminator.
    pub span: Span,
    pub kind: LineKind,
    /// A `;` comment on this line (a whole-line comment or a trailing one), `;` included.
    pub comment: Option<Span>,
    /// Length of [`Line::eol`]: 0, 1 or 2.
    pub eol_len: u8,
}

impl Line {
    /// `\n`, `\r\n`, a lone `\r` (the INI scanner breaks lines there too), or empty on a
    /// last line without a newline.
    pub fn eol(&self) -> Span {
        Span::new(self.span.end(), self.span.end() + usize::from(self.eol_len))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// Only whitespace (and possibly a comment).
    Blank,
    Section(Box<Section>),
    Entry(Box<Entry>),
    Error(Box<LineError>),
}

/// `[name]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: Text,
    pub name_span: Span,
}

/// A line PHP-FPM refuses, with the reason in PHP-FPM's words where it has them
/// (`value is NULL for a ZEND_INI_PARSER_ENTRY` for a `#` line, `syntax error,
/// unexpected '='`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub message: String,
    pub span: Span,
}

/// `key = value` or `name[key] = value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name as written (`pm.max_children`, `php_admin_value`).
    pub name: Text,
    pub name_span: Span,
    /// For arrays: the text between the brackets and its span (`memory_limit`); boxed, as
    /// most entries are not arrays.
    pub array_key: Option<Box<(Text, Span)>>,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    /// The value as written, quotes included, trailing comment and surrounding
    /// whitespace excluded; empty (at the position after `=`) for `key =`.
    pub span: Span,
    /// What PHP-FPM receives after the INI scanner: quotes removed, bare keywords
    /// converted (`yes`/`on`/`true` → `1`, `no`/`off`/`false`/`none`/`null` → ``),
    /// `${NAME}` left as written (expansion depends on the environment). Cheap to clone:
    /// each effective setting holds its entry's value, and a big pool tree has a million.
    pub text: Text,
    pub quoted: bool,
    /// The value contains `${...}`: its effective value depends on the environment.
    pub has_env: bool,
}

impl Value {
    /// The value is only known where PHP-FPM runs: `${ENV}`, or a template placeholder
    /// (`{{ var }}`, `{% … %}`, `<%= … %>`, `%%VAR%%`) filled in by deployment tooling.
    pub fn is_deferred(&self) -> bool {
        // One pass over the bytes: this is asked of every setting of every pool.
        self.has_env || self.text.as_bytes().windows(2).any(|w| matches!(w, [b'{', b'{' | b'%'] | [b'<' | b'%', b'%']))
    }
}
