//! Template placeholders (`${FPM_TIMEOUT}`, `{{ timeout }}`, `<PHP_TIMEOUT>`, `%%PORT%%`)
//! stand where deployment tooling writes the real value: no rule judges them. Findings that
//! rest on one are dropped, and each file that has some gets one note saying so.

use std::collections::BTreeMap;

use crate::finding::{Finding, Location};
use crate::source::{FileId, Span};
use crate::workspace::{Note, Workspace};

/// The first placeholder in `text`, as written: `${NAME}`/`$NAME` in capitals (envsubst;
/// nginx's own variables are lower case), `{{ … }}`, `{% … %}`, `<%= … %>`, `<NAME>`,
/// `%%NAME%%`, `@NAME@`.
pub fn placeholder(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let upper = |s: &[u8]| !s.is_empty() && s[0].is_ascii_uppercase() && s.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_');
    // Quick exit: most values have none of the opening characters.
    if !b.iter().any(|c| matches!(c, b'$' | b'{' | b'<' | b'%' | b'@')) {
        return None;
    }
    for i in 0..b.len() {
        let rest = &b[i..];
        let closed = |open: &[u8], close: &[u8]| -> Option<usize> {
            let body = rest.strip_prefix(open)?;
            let end = body.windows(close.len()).position(|w| w == close)?;
            Some(open.len() + end + close.len())
        };
        let len = match rest[0] {
            b'$' if rest.get(1) == Some(&b'{') => closed(b"${", b"}").filter(|&n| upper(&rest[2..n - 1])),
            b'$' => {
                let n = rest[1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
                (n >= 2 && upper(&rest[1..=n])).then_some(n + 1)
            }
            b'{' => closed(b"{{", b"}}").or_else(|| closed(b"{%", b"%}")),
            b'<' => closed(b"<%", b"%>").or_else(|| closed(b"<", b">").filter(|&n| upper(&rest[1..n - 1]))),
            b'%' => closed(b"%%", b"%%").filter(|&n| upper(&rest[2..n - 2])),
            b'@' => closed(b"@", b"@").filter(|&n| upper(&rest[1..n - 1])),
            _ => None,
        };
        if let Some(n) = len {
            return text.get(i..i + n);
        }
    }
    None
}

/// Where the workspace holds placeholders: per file, the spans of the directives (nginx)
/// and settings (PHP-FPM) whose values are templated, and the first placeholder seen.
pub struct Templated {
    spans: BTreeMap<FileId, Vec<Span>>,
    first: BTreeMap<FileId, (usize, String)>,
}

impl Templated {
    pub fn find(ws: &Workspace) -> Templated {
        let mut t = Templated { spans: BTreeMap::new(), first: BTreeMap::new() };
        for (&file, nf) in &ws.nginx {
            for (_, d) in nf.config.walk() {
                let Some(p) = d.args.iter().find_map(|a| placeholder(&a.value)) else { continue };
                // A block's own arguments only: the block holds other directives.
                let span = match d.block() {
                    Some(_) => Span::new(d.name.span.start, d.args.last().map_or(d.name.span.end, |a| a.span.end)),
                    None => d.span,
                };
                t.add(file, span, p);
            }
        }
        for (&file, f) in &ws.fpm_files {
            for line in &f.lines {
                if let crate::fpm::ast::LineKind::Entry(e) = &line.kind {
                    // `${NAME}` is PHP-FPM's own environment expansion, not a template.
                    if e.value.has_env {
                        continue;
                    }
                    if let Some(p) = placeholder(&e.value.text) {
                        t.add(file, line.span, p);
                    }
                }
            }
        }
        t
    }

    fn add(&mut self, file: FileId, span: Span, placeholder: &str) {
        self.spans.entry(file).or_default().push(span);
        let first = self.first.entry(file).or_insert((0, placeholder.to_string()));
        first.0 += 1;
    }

    fn covers(&self, at: Location) -> bool {
        self.spans.get(&at.file).is_some_and(|spans| spans.iter().any(|s| s.start <= at.span.start && at.span.end <= s.end))
    }

    /// Does `f` judge a templated value: is it, or one of the places it cites, inside a
    /// templated directive or setting?
    pub fn judged_by(&self, f: &Finding) -> bool {
        !self.spans.is_empty() && (self.covers(f.location) || f.related.iter().any(|r| self.covers(r.location)))
    }

    /// One note per file with placeholders.
    pub fn notes(&self, ws: &Workspace) -> Vec<Note> {
        self.first
            .iter()
            .map(|(&file, (n, example))| {
                let message = if *n == 1 {
                    format!("1 value is a template placeholder (`{example}`) and was not judged; lint the rendered file to check it")
                } else {
                    format!("{n} values are template placeholders (`{example}`, …) and were not judged; lint the rendered file to check them")
                };
                Note { path: ws.source(file).display.clone(), message }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::placeholder;

    #[test]
    fn placeholders_of_common_template_tools() {
        assert_eq!(placeholder("${FPM_TIMEOUT}"), Some("${FPM_TIMEOUT}"));
        assert_eq!(placeholder("$FPM_TIMEOUT"), Some("$FPM_TIMEOUT"));
        assert_eq!(placeholder("{{ timeout }}"), Some("{{ timeout }}"));
        assert_eq!(placeholder("{% if x %}"), Some("{% if x %}"));
        assert_eq!(placeholder("<PHP_TIMEOUT>"), Some("<PHP_TIMEOUT>"));
        assert_eq!(placeholder("<%= @port %>"), Some("<%= @port %>"));
        assert_eq!(placeholder("%%TEST_PORT%%"), Some("%%TEST_PORT%%"));
        assert_eq!(placeholder("@PHP_PORT@"), Some("@PHP_PORT@"));
        assert_eq!(placeholder("127.0.0.1:${PHP_PORT}"), Some("${PHP_PORT}"));
    }

    #[test]
    fn nginx_variables_and_regexes_are_not_placeholders() {
        for v in ["$host", "${host}x", "$document_root$fastcgi_script_name", "~ ^/(?<app>[a-z]+)/", "300ms", "$1", "user@example.com", "50%", "$A"] {
            assert_eq!(placeholder(v), None, "{v}");
        }
    }
}
