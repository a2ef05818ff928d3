//! Apply text edits to one file's bytes in one pass.

use crate::finding::Edit;

/// Apply non-overlapping `edits` (all for the same file) to `text`, in position order;
/// insertions at the same offset keep their given order. Everything outside the edited
/// spans is kept byte for byte (line endings, indentation, invalid UTF-8, a missing final
/// newline).
pub fn apply(text: &[u8], edits: &[&Edit]) -> Vec<u8> {
    let mut order: Vec<usize> = (0..edits.len()).collect();
    order.sort_by_key(|&i| (edits[i].location.span.start, edits[i].location.span.end, i));
    let mut out = Vec::with_capacity(text.len() + 64);
    let mut cursor = 0usize;
    for i in order {
        let span = edits[i].location.span;
        let (start, end) = (span.start.min(text.len()).max(cursor), span.end.min(text.len()).max(cursor));
        debug_assert!(span.start >= cursor, "overlapping edits reached apply()");
        out.extend_from_slice(&text[cursor..start]);
        out.extend_from_slice(edits[i].content.as_bytes());
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
