//! NGX302: a level that sets an array directive drops every entry its parent set.

use std::collections::HashSet;

use crate::effective::nginx::{Placed, ScopeId, ARRAY_DIRECTIVES};
use crate::nginx::ast::{Directive, Item};
use crate::source::FileId;
use crate::workspace::Workspace;
use crate::finding::{Applicability, Finding};
use crate::rules::context::RuleContext;
use crate::rules::edit;
use crate::workspace::Context;

/// What losing the parent's entries of `name` does to a request.
fn consequence(name: &str) -> &'static str {
    match name {
        "fastcgi_param" => "PHP-FPM no longer gets them (without SCRIPT_FILENAME: 404 \"Primary script unknown\"; without REQUEST_METHOD: an empty 200 page)",
        "proxy_set_header" => "the backend no longer gets them (Host falls back to $proxy_host, X-Forwarded-For/X-Real-IP are gone)",
        "add_header" => "responses here no longer carry them",
        "limit_req" | "limit_conn" => "those limits no longer apply here",
        "error_page" => "errors here get nginx's default pages instead",
        _ => "they no longer apply here",
    }
}

fn values(p: &Placed) -> Vec<String> {
    std::iter::once(p.name().to_string()).chain(p.directive.args.iter().map(|a| a.value.clone())).collect()
}

pub fn array_directive_overrides_parent(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    let mut seen = HashSet::new();
    for &name in ARRAY_DIRECTIVES {
        // Only the scopes that set it, in document order.
        let mut setting: Vec<ScopeId> = view.named(name).map(|(s, _)| s).collect();
        setting.dedup();
        for s in setting {
            if !matches!(view.scope(s).context, Context::Server | Context::Location) {
                continue;
            }
            let here: Vec<Placed> = view.here(s, name).collect();
            let Some(&first) = here.first() else { continue };
            // The nearest enclosing level that sets it (the chain past `s`).
            let Some(parent) = view.chain(s).nth(1) else { continue };
            let Some((plevel, parent_entries)) = view.effective_array(parent, name) else { continue };
            if name == "add_header" {
                if let Some((_, inherit)) = view.effective(s, "add_header_inherit") {
                    if inherit.arg(0) != Some("on") {
                        continue;
                    }
                }
            }
            // Repeating the parent's entries (the same snippet included again) drops nothing.
            let child_values: HashSet<Vec<String>> = here.iter().map(values).collect();
            let dropped: Vec<Placed> = parent_entries.iter().copied().filter(|p| !child_values.contains(&values(p))).collect();
            if dropped.is_empty() || !seen.insert(first.location()) {
                continue;
            }
            out.push(finding(cx, s, first, plevel, &dropped, name));
        }
    }
}
register!(array_directive_overrides_parent);

fn finding(cx: &RuleContext, s: ScopeId, first: Placed, plevel: ScopeId, dropped: &[Placed], name: &str) -> Finding {
    let view = cx.nginx();
    let n = dropped.len();
    let entries = if n == 1 { format!("the {name} set") } else { format!("all {n} {name} entries set") };
    let mut f = cx.finding(
        first.location(),
        format!(
            "this {name} in {} replaces {entries} in {}: {}",
            view.describe(s),
            view.describe(plevel),
            consequence(name)
        ),
    );
    for p in dropped {
        let shown: Vec<&str> = p.directive.args.iter().take(2).map(|a| a.value.as_str()).collect();
        f = f.with_related(p.location(), format!("dropped here: {name} {}", shown.join(" ")));
    }
    f = f.with_help(format!(
        "nginx never merges {name}: a level that sets one drops every one it would inherit; repeat the parent's entries (or its include) here"
    ));
    if let Some(fx) = repeat_fix(cx, s, first, plevel, dropped) {
        f = f.with_fix(fx);
    }
    f
}

/// Lines that repeat the parent's dropped entries: its `include` for entries that came from
/// an included file holding nothing else, the directive itself otherwise; inserted before
/// the child's first entry (or before the include that brought it), in the child's own file.
/// Whether all the `include` at `file` brings, through nested includes too, is `name`
/// entries. Only then is repeating the include the same as repeating the entries: other
/// directives may not be allowed in the child (`server_tokens`, `ssl_*` in a location), and
/// the file may lead back to the child's own (an include cycle). The workspace has already
/// cut include cycles, so the recursion ends.
fn brings_only(ws: &Workspace, file: FileId, include: &Directive, name: &str) -> bool {
    let Some(targets) = ws.includes.get(&(file, include.span.start)).filter(|t| !t.is_empty()) else { return false };
    targets.iter().all(|t| {
        ws.nginx.get(t).is_some_and(|nf| {
            nf.config.items.iter().all(|item| match item {
                Item::Directive(d) if d.block().is_some() => false,
                Item::Directive(d) if d.name.value == "include" => brings_only(ws, *t, d, name),
                Item::Directive(d) => d.name.value == name,
                Item::Comment(_) => true,
                Item::Error(_) => false,
            })
        })
    })
}

fn repeat_fix(cx: &RuleContext, s: ScopeId, first: Placed, plevel: ScopeId, dropped: &[Placed]) -> Option<crate::finding::Fix> {
    let view = cx.nginx();
    let pown = view.own_file(plevel);
    let mut lines: Vec<String> = Vec::new();
    for p in dropped {
        let inc = (p.file != pown).then(|| view.include_bringing(cx.ws, plevel, p.file)).flatten();
        let line = match inc.filter(|inc| brings_only(cx.ws, inc.file, inc.directive, p.name())) {
            Some(inc) => edit::directive_text(cx.ws.source(inc.file), inc),
            None => edit::directive_text(cx.ws.source(p.file), *p),
        };
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    let own = view.own_file(s);
    let anchor = if first.file == own { first } else { view.include_bringing(cx.ws, s, first.file)? };
    let src = cx.ws.source(anchor.file);
    Some(edit::fix(
        Applicability::Unsafe,
        match lines.as_slice() {
            [one] => format!("repeat `{one}` here"),
            many => format!("repeat the {} inherited lines here", many.len()),
        },
        vec![edit::insert_lines_before(src, anchor.location(), &lines)],
    ))
}
