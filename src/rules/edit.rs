//! Building fix edits that keep the file's own indentation and line endings.

use crate::effective::nginx::Placed;
use crate::finding::{Applicability, Edit, Fix, Location};
use crate::source::{SourceFile, Span};

/// Replace argument `i` of a directive.
pub fn replace_arg(placed: Placed, i: usize, content: impl Into<String>) -> Edit {
    Edit { location: placed.arg_location(i), content: content.into() }
}

/// The whitespace that starts the line holding `offset`.
pub fn indentation(src: &SourceFile, offset: usize) -> String {
    let line = src.line_span(src.position(offset).line);
    let text = &src.text[line.start()..line.end()];
    let n = text.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    String::from_utf8_lossy(&text[..n]).into_owned()
}

/// Insert `line` (no terminator) as a new line just before the line holding `before`,
/// indented like it.
pub fn insert_line_before(src: &SourceFile, file_loc: Location, line: &str) -> Edit {
    let start = src.line_span(src.position(file_loc.span.start()).line).start();
    let indent = indentation(src, file_loc.span.start());
    Edit {
        location: Location { file: file_loc.file, span: Span::empty(start) },
        content: format!("{indent}{line}{}", src.line_ending()),
    }
}

/// Insert `line` as a new line just after the line holding `after`, indented like it.
pub fn insert_line_after(src: &SourceFile, file_loc: Location, line: &str) -> Edit {
    let n = src.position(file_loc.span.end().saturating_sub(1).max(file_loc.span.start())).line;
    let span = src.line_span(n);
    let indent = indentation(src, span.start());
    let eol = src.line_ending();
    // At the end of a file without a final newline the new line needs one first.
    let (at, content) = if span.end() == src.text.len() {
        (span.end(), format!("{eol}{indent}{line}"))
    } else {
        let next = src.line_span(n + 1).start();
        (next, format!("{indent}{line}{eol}"))
    };
    Edit { location: Location { file: file_loc.file, span: Span::empty(at) }, content }
}

/// Remove the whole line holding `loc`, terminator included.
pub fn delete_line(src: &SourceFile, loc: Location) -> Edit {
    let n = src.position(loc.span.start()).line;
    let span = src.line_span(n);
    let end = if n < src.line_count() { src.line_span(n + 1).start() } else { span.end() };
    Edit { location: Location { file: loc.file, span: Span::new(span.start(), end) }, content: String::new() }
}

/// Append `text` as a new last argument of a directive (` text` after its last argument,
/// or after its name when it has none).
pub fn append_arg(placed: Placed, text: &str) -> Edit {
    let d = placed.directive;
    let end = d.args.last().map_or(d.name.span.end(), |a| a.span.end());
    Edit { location: Location { file: placed.file, span: Span::empty(end) }, content: format!(" {text}") }
}

/// Insert `lines` (no terminators) as new lines just before the line holding `before`,
/// each indented like it.
pub fn insert_lines_before(src: &SourceFile, file_loc: Location, lines: &[String]) -> Edit {
    let start = src.line_span(src.position(file_loc.span.start()).line).start();
    let indent = indentation(src, file_loc.span.start());
    let eol = src.line_ending();
    let content = lines.iter().map(|l| format!("{indent}{l}{eol}")).collect();
    Edit { location: Location { file: file_loc.file, span: Span::empty(start) }, content }
}

/// A directive written on one line as its source spells it: name and arguments (quotes
/// kept) joined by single spaces, with `;`. Comments between arguments are dropped.
pub fn directive_text(src: &SourceFile, placed: Placed) -> String {
    let d = placed.directive;
    let words: Vec<String> = std::iter::once(&d.name)
        .chain(&d.args)
        .map(|w| String::from_utf8_lossy(src.slice(w.span)).into_owned())
        .collect();
    format!("{};", words.join(" "))
}

pub fn fix(applicability: Applicability, message: impl Into<String>, edits: Vec<Edit>) -> Fix {
    Fix { applicability, message: message.into(), edits }
}
