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

/// What an entry sets: the param or header name, the zone, or the status codes an
/// `error_page` covers. A child that sets a key itself loses nothing by dropping it.
fn keys(p: &Placed) -> Vec<String> {
    match p.name() {
        "proxy_set_header" | "add_header" => p.arg(0).map(str::to_ascii_lowercase).into_iter().collect(),
        "limit_req" => p.directive.args.iter().find_map(|a| a.value.strip_prefix("zone=")).map(str::to_string).into_iter().collect(),
        "error_page" => {
            let n = p.directive.args.len().saturating_sub(1);
            p.directive.args[..n].iter().map(|a| a.value.to_string()).filter(|v| !v.starts_with('=')).collect()
        }
        _ => p.arg(0).map(str::to_string).into_iter().collect(),
    }
}

/// `a, b, c and 2 more`.
fn list(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let shown: Vec<&str> = names.iter().take(SHOWN).map(String::as_str).collect();
    match names.len() {
        n if n > SHOWN => format!("{} and {} more", shown.join(", "), n - SHOWN),
        _ => shown.join(", "),
    }
}

/// What losing `lost` (the keys the child no longer gets) does to a request; `blanked`:
/// those of them the parent set to an empty value.
fn consequence(name: &str, lost: &[String], spelled: &[String], blanked: &[String]) -> String {
    let has = |k: &str| lost.iter().any(|l| l.eq_ignore_ascii_case(k));
    match name {
        "fastcgi_param" => {
            let mut s = format!("PHP-FPM no longer gets {}", list(spelled));
            let why: Vec<&str> = [("SCRIPT_FILENAME", "without SCRIPT_FILENAME: 404 \"Primary script unknown\""), ("REQUEST_METHOD", "without REQUEST_METHOD: an empty 200 page")]
                .iter()
                .filter(|(k, _)| has(k))
                .map(|(_, w)| *w)
                .collect();
            if !why.is_empty() {
                s += &format!(" ({})", why.join("; "));
            }
            s
        }
        "proxy_set_header" => {
            // nginx puts its own Host and Connection back when they are not set. A header
            // set to "" was being kept from the backend: losing that lets the client's through.
            let kept_out = |k: &String| blanked.iter().any(|b| b.eq_ignore_ascii_case(k));
            let others: Vec<String> = spelled.iter().filter(|k| !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("connection") && !kept_out(k)).cloned().collect();
            let unblanked: Vec<String> = spelled.iter().filter(|k| kept_out(k)).cloned().collect();
            let mut parts = Vec::new();
            if !others.is_empty() {
                parts.push(format!("the backend no longer gets {}", list(&others)));
            }
            if !unblanked.is_empty() {
                parts.push(format!("{} set to \"\" no longer keeps the client's header of that name from the backend", list(&unblanked)));
            }
            if has("host") {
                parts.push("Host falls back to $proxy_host".to_string());
            }
            if has("connection") {
                parts.push("Connection falls back to close".to_string());
            }
            parts.join("; ")
        }
        "add_header" => format!("responses here no longer carry {}", list(spelled)),
        "limit_req" | "limit_conn" => format!("the limits of zone {} no longer apply here", list(spelled)),
        "error_page" => format!("errors {} here get nginx's default pages instead", list(spelled)),
        _ => format!("{} no longer apply here", list(spelled)),
    }
}

/// A level that sets `name` over a parent level that sets it too.
struct Override<'w> {
    scope: ScopeId,
    /// The level's first entry of `name`.
    first: Placed<'w>,
    parent_level: ScopeId,
    /// The parent's entries, and those of them the level loses.
    parent: Vec<Placed<'w>>,
    dropped: Vec<Dropped<'w>>,
    /// The keys the level sets itself.
    own: HashSet<String>,
    name: &'static str,
}

/// A parent entry and the keys of it the child does not set.
pub(crate) struct Dropped<'w> {
    entry: Placed<'w>,
    lost: Vec<String>,
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
            let own: HashSet<String> = here.iter().flat_map(keys).collect();
            let dropped: Vec<Dropped> = parent_entries
                .iter()
                .map(|&entry| Dropped { entry, lost: keys(&entry).into_iter().filter(|k| !own.contains(k)).collect() })
                .filter(|d| !d.lost.is_empty())
                .collect();
            if dropped.is_empty() || !seen.insert(first.location()) {
                continue;
            }
            out.push(finding(cx, &Override { scope: s, first, parent_level: plevel, parent: parent_entries, dropped, own, name }));
        }
    }
}
register!(array_directive_overrides_parent);

fn finding(cx: &RuleContext, o: &Override) -> Finding {
    let view = cx.nginx();
    let name = o.name;
    let mut lost: Vec<String> = Vec::new();
    // The names as the parent spells them (`X-Forwarded-For`), once each.
    let mut spelled: Vec<String> = Vec::new();
    let mut blanked: Vec<String> = Vec::new();
    for d in &o.dropped {
        for k in &d.lost {
            if !lost.contains(k) {
                lost.push(k.clone());
                let as_written = match name {
                    "proxy_set_header" | "add_header" => d.entry.arg(0).unwrap_or(k).to_string(),
                    _ => k.clone(),
                };
                if name == "proxy_set_header" && d.entry.arg(1) == Some("") {
                    blanked.push(as_written.clone());
                }
                spelled.push(as_written);
            }
        }
    }
    let mut f = cx.finding(
        o.first.location(),
        format!("this {name} in {} replaces the {name} entries of {}: {}", view.describe(o.scope), view.describe(o.parent_level), consequence(name, &lost, &spelled, &blanked)),
    );
    for d in &o.dropped {
        let shown: Vec<&str> = d.entry.directive.args.iter().take(2).map(|a| if a.value.is_empty() { "\"\"" } else { a.value.as_str() }).collect();
        f = f.with_related(d.entry.location(), format!("dropped here: {name} {}", shown.join(" ")));
    }
    f = f.with_help(format!(
        "nginx never merges {name}: a level that sets one drops every one it would inherit; repeat the parent's entries (or its include) here"
    ));
    if let Some(fx) = repeat_fix(cx, o) {
        f = f.with_fix(fx);
    }
    f
}

/// Whether all the `include` at `file` brings, through nested includes too, is `name`
/// entries. Only then is repeating the include the same as repeating the entries: other
/// directives may not be allowed in the child (`server_tokens`, `ssl_*` in a location), and
/// the file may lead back to the child's own (an include cycle). The workspace has already
/// cut include cycles, so the recursion ends.
fn brings_only(ws: &Workspace, file: FileId, include: &Directive, name: &str) -> bool {
    let Some(targets) = ws.includes.get(&(file, include.span.start())).filter(|t| !t.is_empty()) else { return false };
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

/// Whether every entry of the parent that the include at `inc` brings in is dropped
/// whole: repeating the include then adds nothing the child sets itself (no header sent
/// twice).
fn brings_only_dropped(cx: &RuleContext, inc: Placed, plevel: ScopeId, parent: &[Placed], own: &HashSet<String>) -> bool {
    let view = cx.nginx();
    parent
        .iter()
        .filter(|e| view.include_bringing(cx.ws, plevel, e.file).is_some_and(|i| i.location() == inc.location()))
        .all(|e| keys(e).iter().all(|k| !own.contains(k)))
}

/// The dropped entry written out again, with only the status codes the child does not
/// cover (`error_page 500 502 /50x.html;` → `error_page 500 /50x.html;`).
fn repeat_line(cx: &RuleContext, d: &Dropped) -> String {
    let whole = edit::directive_text(cx.ws.source(d.entry.file), d.entry);
    if d.entry.name() != "error_page" || d.lost.len() == keys(&d.entry).len() {
        return whole;
    }
    let src = cx.ws.source(d.entry.file);
    let args = &d.entry.directive.args;
    let words: Vec<String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| *i + 1 == args.len() || a.value.starts_with('=') || d.lost.iter().any(|l| *l == a.value))
        .map(|(_, a)| String::from_utf8_lossy(src.slice(a.span)).into_owned())
        .collect();
    format!("error_page {};", words.join(" "))
}

/// Lines that write the inherited `entries` of `plevel` again at a child level: the
/// parent's `include` for entries brought by an include holding only such entries (and
/// none the child sets itself, `own`), else each directive as written.
pub(crate) fn repeat_lines(cx: &RuleContext, plevel: ScopeId, parent: &[Placed], entries: &[Dropped], own: &HashSet<String>) -> Vec<String> {
    let view = cx.nginx();
    let pown = view.own_file(plevel);
    let mut lines: Vec<String> = Vec::new();
    for d in entries {
        let p = &d.entry;
        let inc = (p.file != pown).then(|| view.include_bringing(cx.ws, plevel, p.file)).flatten();
        let line = match inc.filter(|inc| brings_only(cx.ws, inc.file, inc.directive, p.name()) && brings_only_dropped(cx, *inc, plevel, parent, own)) {
            Some(inc) => edit::directive_text(cx.ws.source(inc.file), inc),
            None => repeat_line(cx, d),
        };
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines
}

/// Every inherited entry of `name` at `scope`, ready to be written again there before a
/// new one of key `adding` is added at that level (adding one drops them all). `None` when
/// the level sets its own entries (nothing is inherited), or when an inherited entry sets
/// `adding` already.
pub(crate) fn inherited_for_addition(cx: &RuleContext, scope: ScopeId, name: &str, adding: &str) -> Option<Vec<String>> {
    let view = cx.nginx();
    let Some((level, entries)) = view.effective_array(scope, name) else { return Some(Vec::new()) };
    if level == scope {
        return Some(Vec::new());
    }
    if entries.iter().any(|e| keys(e).iter().any(|k| k.eq_ignore_ascii_case(adding))) {
        return None;
    }
    let own: HashSet<String> = HashSet::from([adding.to_ascii_lowercase()]);
    let all: Vec<Dropped> = entries.iter().map(|&entry| Dropped { entry, lost: keys(&entry) }).collect();
    Some(repeat_lines(cx, level, &entries, &all, &own))
}

/// The lost entries written again (see [`repeat_lines`]) before the child's first entry (or
/// before the include that brought it), in the child's own file.
fn repeat_fix(cx: &RuleContext, o: &Override) -> Option<crate::finding::Fix> {
    let view = cx.nginx();
    let lines = repeat_lines(cx, o.parent_level, &o.parent, &o.dropped, &o.own);
    let own_file = view.own_file(o.scope);
    let anchor = if o.first.file == own_file { o.first } else { view.include_bringing(cx.ws, o.scope, o.first.file)? };
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
