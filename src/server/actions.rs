//! Code actions: one quick fix per diagnostic with a fix, and `source.fixAll.conflint`.

use std::collections::HashMap;

use lsp_types::{CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Diagnostic, Range, TextEdit, Uri, WorkspaceEdit};

use super::diagnostics::{FixData, SOURCE};

pub const FIX_ALL: CodeActionKind = CodeActionKind::new("source.fixAll.conflint");

/// The actions for `params`; `published` are the diagnostics last published for its
/// document (fix-all covers all of them, not only those under the cursor).
pub fn code_actions(params: &CodeActionParams, published: &[Diagnostic]) -> Vec<CodeActionOrCommand> {
    let only = params.context.only.as_deref();
    let mut actions = Vec::new();
    if wanted(only, &CodeActionKind::QUICKFIX) {
        for d in &params.context.diagnostics {
            let Some(fix) = fix_of(d) else { continue };
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                edit: Some(WorkspaceEdit { changes: Some(fix.changes), ..Default::default() }),
                // An unsafe fix may change what the server does: never the one an editor
                // applies on its own.
                is_preferred: Some(fix.safe),
                ..Default::default()
            }));
        }
    }
    if wanted(only, &FIX_ALL) {
        if let Some(changes) = fix_all(published) {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: "conflint: fix all safe problems".into(),
                kind: Some(FIX_ALL),
                edit: Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }),
                ..Default::default()
            }));
        }
    }
    actions
}

fn fix_of(d: &Diagnostic) -> Option<FixData> {
    if d.source.as_deref() != Some(SOURCE) {
        return None;
    }
    serde_json::from_value(d.data.clone()?).ok()
}

/// LSP's rule: a requested kind covers itself and its sub-kinds (`source` covers
/// `source.fixAll.conflint`); no `only` wants everything.
fn wanted(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    only.is_none_or(|kinds| {
        kinds
            .iter()
            .any(|k| kind.as_str() == k.as_str() || kind.as_str().strip_prefix(k.as_str()).is_some_and(|rest| rest.starts_with('.')))
    })
}

/// Every safe fix whose edits overlap no edit taken before it, as `conflint check --fix`
/// takes them in one pass; `None` when there is nothing to fix.
fn fix_all(published: &[Diagnostic]) -> Option<HashMap<Uri, Vec<TextEdit>>> {
    let mut taken: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for fix in published.iter().filter_map(fix_of).filter(|f| f.safe) {
        let clash = fix
            .changes
            .iter()
            .any(|(uri, edits)| taken.get(uri).is_some_and(|t| edits.iter().any(|e| t.iter().any(|a| overlaps(a.range, e.range)))));
        if clash {
            continue;
        }
        for (uri, edits) in fix.changes {
            taken.entry(uri).or_default().extend(edits);
        }
    }
    (!taken.is_empty()).then_some(taken)
}

/// Two insertions at one point do not overlap; an insertion overlaps a replacement only
/// strictly inside it (the same rule as the CLI fixer's).
fn overlaps(a: Range, b: Range) -> bool {
    let empty = |r: Range| r.start == r.end;
    match (empty(a), empty(b)) {
        (true, true) => false,
        (true, false) => b.start < a.start && a.start < b.end,
        (false, true) => a.start < b.start && b.start < a.end,
        (false, false) => a.start < b.end && b.start < a.end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::Position;

    fn r(l0: u32, c0: u32, l1: u32, c1: u32) -> Range {
        Range { start: Position::new(l0, c0), end: Position::new(l1, c1) }
    }

    #[test]
    fn overlap_follows_the_cli_fixer() {
        assert!(overlaps(r(0, 2, 0, 5), r(0, 4, 0, 8)));
        assert!(!overlaps(r(0, 2, 0, 5), r(0, 5, 0, 8)), "touching ranges");
        assert!(!overlaps(r(1, 0, 1, 0), r(1, 0, 1, 0)), "two insertions at one point");
        assert!(overlaps(r(0, 0, 2, 0), r(1, 3, 1, 3)), "insertion inside a replacement");
        assert!(!overlaps(r(0, 0, 2, 0), r(2, 0, 2, 0)), "insertion at its end");
    }

    #[test]
    fn kinds_cover_their_sub_kinds_only() {
        let source = [CodeActionKind::SOURCE];
        assert!(wanted(Some(&source), &FIX_ALL));
        assert!(wanted(Some(&[CodeActionKind::SOURCE_FIX_ALL]), &FIX_ALL));
        assert!(!wanted(Some(&source), &CodeActionKind::QUICKFIX));
        assert!(!wanted(Some(&[CodeActionKind::new("source.fix")]), &FIX_ALL), "a prefix of a word is not a parent kind");
        assert!(wanted(None, &CodeActionKind::QUICKFIX));
    }
}
