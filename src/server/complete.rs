//! Completion of directive names: nginx's that are valid in the context at the cursor,
//! from the tables the tree is checked against; PHP-FPM's that are valid in the section
//! at the cursor. The buffer is parsed as it is, half-typed text included.

use std::collections::HashMap;
use std::path::Path;

use lsp_types::{CompletionItem, CompletionItemKind, CompletionList, CompletionTextEdit, Documentation, MarkupContent, MarkupKind, Range, TextEdit};

use super::tables::{bit, context_in, Tables, Usable};
use crate::fpm::ast::{FpmFile, LineKind};
use crate::fpm::directives::{self as fpm_table, Place};
use crate::nginx::ast::{Config, TokenKind};
use crate::nginx::directives::Directive;
use crate::workspace::Kind;

/// What the buffer at `path` is: the last lint's word for it, else its content's.
pub fn kind_of(tables: &Tables, path: &Path, text: &[u8]) -> Kind {
    if tables.top(path).is_some() {
        return Kind::Nginx;
    }
    crate::workspace::classify(path, text)
}

/// The contexts a directive written at `offset` of the nginx buffer `config` is read in
/// (one per place the file is read; empty inside a block of data such as `map`), and a
/// note when the file's own context is a guess.
pub fn contexts_at(tables: &Tables, path: &Path, config: &Config, offset: usize) -> (Vec<u32>, Option<String>) {
    let (tops, guessed) = match tables.top(path).filter(|t| !t.contexts.is_empty()) {
        Some(top) => (top.contexts.clone(), top.guessed.then(|| "guessed from its content: no nginx.conf of the project includes it".to_string())),
        None => (
            bit(crate::workspace::infer_context(config)).into_iter().collect(),
            Some("guessed from its content: the project's last lint did not read this file".to_string()),
        ),
    };
    let blocks = config.blocks_at(offset);
    let mut here: Vec<u32> = tops.iter().filter_map(|&t| context_in(t, &blocks)).collect();
    here.dedup();
    let guessed = guessed.map(|how| format!("{} ({how})", top_names(&tops)));
    (here, guessed)
}

fn top_names(tops: &[u32]) -> String {
    let names: Vec<&str> = tops.iter().map(|&c| crate::nginx::directives::ctx::describe(c)).collect();
    format!("the file's top level taken as {}", names.join(", "))
}

pub fn completion(tables: &Tables, path: &Path, text: &[u8], offset: usize, range_of: &dyn Fn(usize, usize) -> Range) -> Option<CompletionList> {
    match kind_of(tables, path, text) {
        Kind::Nginx => nginx(tables, path, text, offset, range_of),
        Kind::Fpm => fpm(tables.is_fpm_main(path), text, offset, range_of),
        Kind::Other(_) => None,
    }
}

/// Where the name being typed at `offset` starts: directive names are `[A-Za-z0-9_]`
/// (PHP-FPM's also take `.`).
fn word_start(text: &[u8], offset: usize, dot: bool) -> usize {
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || (dot && b == b'.');
    offset - text[..offset].iter().rev().take_while(|&&b| name_byte(b)).count()
}

fn nginx(tables: &Tables, path: &Path, text: &[u8], offset: usize, range_of: &dyn Fn(usize, usize) -> Range) -> Option<CompletionList> {
    let start = word_start(text, offset, false);
    let config = crate::nginx::parse(text);
    // A directive name stands first in the file or after `;`, `{`, `}` or a comment;
    // nothing is completed inside a comment, a quoted string or a Lua block.
    let tokens = config.tokens();
    if let Some(t) = tokens.iter().take_while(|t| t.span.start() < start).last() {
        if t.span.end() > start || t.kind == TokenKind::Word {
            return None;
        }
    }
    let (here, guessed) = contexts_at(tables, path, &config, start);
    if here.is_empty() {
        return None;
    }
    let mut best: HashMap<&str, (&'static Directive, Usable)> = HashMap::new();
    for d in tables.candidates() {
        if !here.iter().all(|&c| d.contexts & c != 0) {
            continue;
        }
        let Some(u) = tables.usable(d) else { continue };
        match best.get(d.name.as_str()) {
            Some((_, kept)) if *kept <= u => {}
            _ => {
                best.insert(d.name.as_str(), (d, u));
            }
        }
    }
    let range = range_of(start, offset);
    let mut items: Vec<CompletionItem> = best
        .into_values()
        .map(|(d, u)| {
            let mut detail = format!("{} · {}", d.module, d.context_names().join(", "));
            for note in tables.note(d, &u).into_iter().chain(guessed.clone()) {
                detail.push_str("; ");
                detail.push_str(&note);
            }
            CompletionItem {
                label: d.name.to_string(),
                kind: Some(CompletionItemKind::KEYWORD),
                detail: Some(detail),
                documentation: Some(markdown(tables.markdown(d, &u, &here))),
                // Usable directives first, then the marked ones.
                sort_text: Some(format!("{}{}", u8::from(u != Usable::Yes), d.name)),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit { range, new_text: d.name.to_string() })),
                ..Default::default()
            }
        })
        .collect();
    items.sort_by(|a, b| a.sort_text.cmp(&b.sort_text));
    Some(CompletionList { is_incomplete: false, items })
}

fn markdown(value: String) -> Documentation {
    Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value })
}

/// The section PHP-FPM reads line `n` of `file` in: the last header above it; above every
/// header, `[global]` in a main file and the includer's section (unknown) in another.
pub fn fpm_section(file: &FpmFile, n: usize, main: bool) -> Option<Place> {
    let header = file.lines[..n].iter().rev().find_map(|l| match &l.kind {
        LineKind::Section(s) => Some(if s.name.eq_ignore_ascii_case("global") { Place::Global } else { Place::Pool }),
        _ => None,
    });
    header.or(main.then_some(Place::Global))
}

/// Why a place is a guess, for the detail of a key above every `[section]` header.
pub const FPM_UNPLACED: &str = "above every [section] header: PHP-FPM reads these lines in the section of the include= that reads this file";

fn fpm(main: bool, text: &[u8], offset: usize, range_of: &dyn Fn(usize, usize) -> Range) -> Option<CompletionList> {
    let file = crate::fpm::parse(text);
    let n = file.lines.iter().position(|l| l.span.start() <= offset && offset <= l.span.end())?;
    let line = &file.lines[n];
    let start = word_start(text, offset, true);
    // Only a key is completed: the text before it on its line is blank.
    if !text[line.span.start()..start].iter().all(|b| b.is_ascii_whitespace()) || matches!(line.kind, LineKind::Section(_)) {
        return None;
    }
    let place = fpm_section(&file, n, main);
    let places: &[Place] = match place {
        Some(Place::Global) => &[Place::Global],
        Some(Place::Pool) => &[Place::Pool],
        None => &[Place::Global, Place::Pool],
    };
    let range = range_of(start, offset);
    let mut items: Vec<CompletionItem> = Vec::new();
    let mut push = |name: &str, place: Option<Place>, what: String| {
        if items.iter().any(|i: &CompletionItem| i.label == name) {
            return;
        }
        let section = match place {
            Some(Place::Global) => "[global]",
            Some(Place::Pool) => "pool section",
            None => "any section",
        };
        let mut detail = format!("PHP-FPM 8.2 · {section} · {what}");
        if places.len() > 1 {
            detail.push_str(&format!("; {FPM_UNPLACED}"));
        }
        items.push(CompletionItem {
            label: name.to_string(),
            kind: Some(CompletionItemKind::PROPERTY),
            documentation: Some(markdown(fpm_markdown(name, place, &what))),
            detail: Some(detail),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit { range, new_text: name.to_string() })),
            ..Default::default()
        });
    };
    for &p in places {
        for d in fpm_table::DIRECTIVES.iter().filter(|d| d.place == p) {
            push(d.name, Some(p), kind_words(d.kind));
        }
        if p == Place::Pool {
            for a in fpm_table::ARRAYS {
                push(a, Some(Place::Pool), format!("an array: `{a}[name] = value`"));
            }
        }
    }
    push("include", None, "a path or glob of files read in place".into());
    items.sort_by(|a, b| a.label.cmp(&b.label));
    Some(CompletionList { is_incomplete: false, items })
}

/// A PHP-FPM value kind in words.
pub fn kind_words(kind: fpm_table::Kind) -> String {
    match kind {
        fpm_table::Kind::Int => "an integer".into(),
        fpm_table::Kind::Time => "a time: seconds, or a number with s, m, h or d".into(),
        fpm_table::Kind::Bool => "a boolean: yes/no, on/off, true/false, 1/0".into(),
        fpm_table::Kind::Str => "a string".into(),
        fpm_table::Kind::Enum(values) => format!("one of {}", values.join(", ")),
        fpm_table::Kind::IntOrUnlimited => "an integer or `unlimited`".into(),
    }
}

/// What the PHP-FPM table says of key `name`.
pub fn fpm_markdown(name: &str, place: Option<Place>, what: &str) -> String {
    let section = match place {
        Some(Place::Global) => "[global]",
        Some(Place::Pool) => "a pool section ([www] and the like)",
        None => "any section",
    };
    format!(
        "**{name}** (PHP-FPM 8.2, fpm_conf.c)\n\n- Section: {section}\n- Value: {what}\n\n[PHP-FPM configuration on php.net](https://www.php.net/manual/en/install.fpm.configuration.php)\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::directives::{Target, VersionSource};

    fn tables() -> Tables {
        Tables::new(Target { version: "1.22.1".parse().unwrap(), source: VersionSource::Config, build: None, modules: None }, None)
    }

    /// The labels offered at `|` (else at the end).
    fn labels(path: &str, text: &str) -> Option<Vec<String>> {
        let at = text.find('|').unwrap_or(text.len());
        let text = text.replace('|', "");
        let list = completion(&tables(), Path::new(path), text.as_bytes(), at, &|_, _| Range::default())?;
        Some(list.items.into_iter().map(|i| i.label).collect())
    }

    #[test]
    fn names_valid_where_the_cursor_is_in_half_typed_text() {
        let server = labels("nginx/nginx.conf", "events {}\nhttp {\n  server {\n    listen 80;\n    loc").unwrap();
        assert!(server.iter().any(|l| l == "location") && server.iter().any(|l| l == "listen"));
        assert!(!server.iter().any(|l| l == "worker_connections" || l == "upstream"));
        let events = labels("nginx/nginx.conf", "events {\n  wor").unwrap();
        assert!(events.iter().any(|l| l == "worker_connections") && !events.iter().any(|l| l == "proxy_pass"));
        // An argument, a comment, a map's body: nothing.
        assert_eq!(labels("nginx/nginx.conf", "events {}\nhttp {\n  server {\n    listen 80 ss"), None);
        assert_eq!(labels("nginx/nginx.conf", "events {}\nhttp {\n  # prox"), None);
        assert_eq!(labels("nginx/nginx.conf", "events {}\nhttp {\n  map $a $b {\n    de"), None);
    }

    #[test]
    fn typing_inside_a_closed_block_keeps_its_context() {
        let offered = labels("nginx/sites-enabled/a", "server {\n  location / {\n    proxy_pa|\n  }\n  listen 80;\n}\n").unwrap();
        assert!(offered.iter().any(|l| l == "proxy_pass") && !offered.iter().any(|l| l == "listen"), "{offered:?}");
        let offered = labels("nginx/sites-enabled/a", "server {\n  location / {\n    root /srv;\n  }\n  |\n}\n").unwrap();
        assert!(offered.iter().any(|l| l == "listen"), "{offered:?}");
        let offered = labels("nginx/sites-enabled/a", "server {\n  if ($x) {\n    re|\n  }\n}\n").unwrap();
        assert!(offered.iter().any(|l| l == "return") && !offered.iter().any(|l| l == "root"), "if in server: {offered:?}");
    }

    #[test]
    fn php_fpm_keys_by_section() {
        let pool = labels("php/pool.d/www.conf", "[www]\nuser = www-data\npm.max_").unwrap();
        assert!(pool.iter().any(|l| l == "pm.max_children") && pool.iter().any(|l| l == "php_admin_value"));
        assert!(!pool.iter().any(|l| l == "log_level"));
        let global = labels("php/php-fpm.conf", "[global]\nerror_log = /x\nlog_").unwrap();
        assert!(global.iter().any(|l| l == "log_level") && !global.iter().any(|l| l == "pm.max_children"));
        assert_eq!(labels("php/pool.d/www.conf", "[www]\nuser = www"), None, "a value, not a key");
    }
}
