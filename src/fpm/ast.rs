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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line without its terminator.
    pub span: Span,
    /// `\n`, `\r\n`, a lone `\r` (the INI scanner breaks lines there too), or empty on a
    /// last line without a newline.
    pub eol: Span,
    pub kind: LineKind,
    /// A `;` comment on this line (a whole-line comment or a trailing one), `;` included.
    pub comment: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// Only whitespace (and possibly a comment).
    Blank,
    /// `[name]`.
    Section { name: Text, name_span: Span },
    /// Boxed: most lines of a real pool file are comments, and an entry is by far the
    /// largest kind, so inline it would make every line as large.
    Entry(Box<Entry>),
    /// A line PHP-FPM refuses, with the reason in PHP-FPM's words where it has them
    /// (`value is NULL for a ZEND_INI_PARSER_ENTRY` for a `#` line, `syntax error,
    /// unexpected '='`, ...).
    Error { message: String, span: Span },
}

/// `key = value` or `name[key] = value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name as written (`pm.max_children`, `php_admin_value`).
    pub name: Text,
    pub name_span: Span,
    /// For arrays: the text between the brackets and its span (`memory_limit`).
    pub array_key: Option<(Text, Span)>,
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
