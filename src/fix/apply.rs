//! Apply text edits to one file's bytes in one pass.

use crate::finding::Edit;

/// Apply non-overlapping `edits` (all for the same file) to `text`, in position order;
/// insertions at the same offset keep their given order. Everything outside the edited
/// spans is kept byte for byte (line endings, indentation, invalid UTF-8, a missing final
/// newline).
pub fn apply(text: &[u8], edits: &[&Edit]) -> Vec<u8> {
    splice(text, edits.iter().map(|e| (e.location.span.start(), e.location.span.end(), e.content.as_str())).collect())
}

/// Replace each `(start, end, content)` byte range of `text`; ranges must not overlap.
/// Equal ranges (insertions at one point) keep their given order.
pub fn splice<S: AsRef<str>>(text: &[u8], mut edits: Vec<(usize, usize, S)>) -> Vec<u8> {
    edits.sort_by_key(|e| (e.0, e.1));
    let mut out = Vec::with_capacity(text.len() + 64);
    let mut cursor = 0usize;
    for (start, end, content) in edits {
        debug_assert!(start >= cursor, "overlapping edits reached splice()");
        let (start, end) = (start.min(text.len()).max(cursor), end.min(text.len()).max(cursor));
        out.extend_from_slice(&text[cursor..start]);
        out.extend_from_slice(content.as_ref().as_bytes());
        cursor = end;
    }
    out.extend_from_slice(&text[cursor..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;
    use crate::source::{FileId, Span};

    fn edit(start: usize, end: usize, content: &str) -> Edit {
        Edit { location: Location { file: FileId(0), span: Span::new(start, end) }, content: content.into() }
    }

    #[test]
    fn applies_in_position_order_and_keeps_the_rest() {
        let text = b"a 30s;\r\nb 1;\xff\n";
        let edits = [edit(2, 5, "300s"), edit(0, 0, "# x\r\n")];
        assert_eq!(apply(text, &edits.iter().collect::<Vec<_>>()), b"# x\r\na 300s;\r\nb 1;\xff\n");
    }

    #[test]
    fn insertions_at_one_point_keep_their_order() {
        let edits = [edit(1, 1, "a"), edit(1, 1, "b"), edit(2, 2, "c")];
        assert_eq!(apply(b"xy", &edits.iter().collect::<Vec<_>>()), b"xabyc");
    }
}
