//! NGX301: a PHP location whose effective `fastcgi_param`s have no `SCRIPT_FILENAME`.

use std::collections::HashSet;

use crate::effective::nginx::{IncludeAt, Placed, ScopeId};
use crate::finding::{Applicability, Finding, Location, Severity};
use crate::rules::context::RuleContext;
use crate::rules::edit;

const SCRIPT_FILENAME_LINE: &str = "fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;";

/// What an include we could not read is known to contain, by its file name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Debian's `fastcgi.conf` and `snippets/fastcgi-php.conf` (which includes it): the
    /// standard params with `SCRIPT_FILENAME`.
    WithScript,
    /// `fastcgi_params`: the standard params without `SCRIPT_FILENAME`.
    WithoutScript,
    /// Anything else: it may set any params.
    Unknown,
}

/// Judge an include that read nothing by its name — unless a file of that name is in the
/// linted tree beside or above the including file (a local file the include did not reach:
/// we cannot tell which one nginx reads).
fn known_by_name(cx: &RuleContext, inc: &IncludeAt) -> Known {
    let Some(path) = inc.directive.arg(0) else { return Known::Unknown };
    if inc.is_glob() {
        return Known::Unknown;
    }
    let base = path.rsplit('/').next().unwrap_or(path);
    // A file of that name next to the including file or in a directory above it.
    let including = &cx.ws.source(inc.directive.file).display;
    let local = cx.ws.sources.iter().any(|(_, src)| {
        let (dir, name) = src.display.rsplit_once('/').unwrap_or(("", &src.display));
        name == base && (dir.is_empty() || including.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/')))
    });
    if local {
        return Known::Unknown;
    }
    match base {
        "fastcgi.conf" | "fastcgi-php.conf" => Known::WithScript,
        "fastcgi_params" => Known::WithoutScript,
        _ => Known::Unknown,
    }
}

/// The level whose `fastcgi_param`s a request at a location gets.
struct Effective<'w> {
    level: ScopeId,
    params: Vec<Placed<'w>>,
    /// Includes at that level that were not read but are known by name.
    unread: Vec<(IncludeAt<'w>, Known)>,
}

impl Effective<'_> {
    fn has_script(&self) -> bool {
        self.params.iter().any(|p| p.arg(0) == Some("SCRIPT_FILENAME")) || self.unread.iter().any(|(_, k)| *k == Known::WithScript)
    }
}

/// The params a request at `id` gets: `Ok(None)` when no level sets any, `Err(())` when an
/// include we cannot read stands on the way.
fn effective_from<'w>(cx: &RuleContext<'_, 'w>, id: ScopeId) -> Result<Option<Effective<'w>>, ()> {
    let view = cx.nginx();
    for level in view.chain(id) {
        let params: Vec<Placed<'w>> = view.here(level, "fastcgi_param").collect();
        let mut unread = Vec::new();
        for inc in view.includes_in(cx.ws, level).into_iter().filter(|i| i.unread) {
            match known_by_name(cx, &inc) {
                Known::Unknown => return Err(()),
                k => unread.push((inc, k)),
            }
        }
        if !params.is_empty() || !unread.is_empty() {
            return Ok(Some(Effective { level, params, unread }));
        }
    }
    Ok(None)
}

/// FastCGI is also used for Python, CGI wrappers and test backends, which do not need
/// SCRIPT_FILENAME: only PHP locations are checked. PHP shows in the location pattern, the
/// pass target (`php8.2-fpm.sock`, `php:9000`, FPM's default port 9000), `fastcgi_index
/// index.php` or `fastcgi_split_path_info` with `.php`.
fn looks_like_php(cx: &RuleContext, loc: ScopeId, pass: Placed) -> bool {
    let view = cx.nginx();
    let php = |t: &str| t.to_ascii_lowercase().contains("php");
    let target = pass.arg(0).unwrap_or_default();
    if php(target) || target.ends_with(":9000") {
        return true;
    }
    view.chain(loc).any(|s| {
        let block_args = view.scope(s).block.filter(|b| matches!(b.name(), "location" | "if")).is_some_and(|b| b.directive.arg_values().any(php));
        block_args
            || ["fastcgi_index", "fastcgi_split_path_info"].iter().any(|d| view.here(s, d).any(|p| p.directive.arg_values().any(php)))
    })
}

/// PHP-FPM answers its `pm.status_path` and `ping.path` itself, without a script.
fn is_fpm_status_page(cx: &RuleContext, loc: ScopeId) -> bool {
    let view = cx.nginx();
    view.scope(loc).block.filter(|b| b.name() == "location").is_some_and(|b| {
        b.directive.arg_values().last().is_some_and(|uri| {
            let uri = uri.to_ascii_lowercase();
            uri.contains("status") || uri.contains("ping")
        })
    })
}

pub fn fastcgi_script_filename_missing(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    let mut seen = HashSet::new();
    // Insertion points already fixed by an earlier finding (locations sharing a level).
    let mut fixed = HashSet::new();
    for (loc, pass) in view.request_firsts("fastcgi_pass") {
        if !seen.insert(pass.location()) {
            continue;
        }
        if !looks_like_php(cx, loc, pass) || is_fpm_status_page(cx, loc) {
            continue;
        }
        let Ok(effective) = effective_from(cx, loc) else { continue };
        // A file linted without its nginx.conf: the params may come from a level we do not see.
        if effective.is_none() && view.main_of(loc).is_none() {
            continue;
        }
        if effective.as_ref().is_some_and(Effective::has_script) {
            continue;
        }
        // A level that dropped a parent's complete set is NGX302's finding (whose fix
        // restores all of it, not only SCRIPT_FILENAME).
        if let Some(e) = &effective {
            let parent = view.chain(e.level).nth(1);
            if parent.and_then(|p| effective_from(cx, p).ok().flatten()).is_some_and(|pe| pe.has_script()) {
                continue;
            }
        }
        let Some(e) = effective else {
            out.push(
                cx.finding(
                    pass.location(),
                    format!(
                        "no fastcgi_param reaches {}: PHP-FPM gets no SCRIPT_FILENAME (nor REQUEST_METHOD) and answers \"Primary script unknown\" with 404 File not found, or an empty page",
                        view.describe(loc)
                    ),
                )
                .with_help("add `include fastcgi.conf;` (the standard params with SCRIPT_FILENAME) to the location"),
            );
            continue;
        };
        out.push(missing_in_level(cx, loc, pass, &e, &mut fixed));
    }
}
register!(fastcgi_script_filename_missing);

fn missing_in_level(cx: &RuleContext, loc: ScopeId, pass: Placed, e: &Effective, fixed: &mut HashSet<Location>) -> Finding {
    let view = cx.nginx();
    let where_ = if e.level == loc { String::new() } else { format!(" (inherited from {})", view.describe(e.level)) };
    // Known only by its name: the file is nginx's own unless an image rewrote it (some add
    // SCRIPT_FILENAME to /etc/nginx/fastcgi_params), so the finding is an assumption.
    let assumed = e.unread.iter().find(|(_, k)| *k == Known::WithoutScript).and_then(|(inc, _)| inc.directive.arg(0));
    let mut f = match assumed {
        None => cx.finding(
            pass.location(),
            format!(
                "the fastcgi_params of {}{where_} have no SCRIPT_FILENAME: PHP-FPM answers \"Primary script unknown\" and every PHP request gets 404 File not found",
                view.describe(loc)
            ),
        ),
        Some(name) => {
            let mut f = cx.finding(
                pass.location(),
                format!(
                    "the fastcgi_params of {}{where_} have no SCRIPT_FILENAME if `{name}` (not in the linted tree) is the one nginx ships, which has none: PHP-FPM would answer \"Primary script unknown\" and every PHP request get 404 File not found",
                    view.describe(loc)
                ),
            );
            f.severity = Severity::Info;
            f
        }
    };
    // Name the include that brought the params (Debian's `fastcgi_params`), else the params.
    let own = view.own_file(e.level);
    let mut brought = Vec::new();
    for p in &e.params {
        if p.file != own {
            if let Some(inc) = view.include_bringing(cx.ws, e.level, p.file) {
                if !brought.iter().any(|b: &Placed| b.location() == inc.location()) {
                    brought.push(inc);
                }
            }
        }
    }
    brought.extend(e.unread.iter().map(|(inc, _)| inc.directive));
    for inc in &brought {
        f = f.with_related(inc.location(), format!("`include {}` sets params without SCRIPT_FILENAME", inc.arg(0).unwrap_or_default()));
    }
    if brought.is_empty() {
        if let Some(first) = e.params.first() {
            f = f.with_related(first.location(), "the params are set here");
        }
    }
    f = f.with_help("Debian's `fastcgi_params` lacks SCRIPT_FILENAME; `include fastcgi.conf;` (or `snippets/fastcgi-php.conf`) has it");
    // Insert after the last param or include of that level written in the level's own file,
    // so the new line joins the same array instead of replacing it.
    let anchors = e
        .params
        .iter()
        .filter(|p| p.file == own)
        .map(|p| p.location())
        .chain(brought.iter().filter(|b| b.file == own).map(|b| b.location()))
        .chain(e.unread.iter().filter(|(i, _)| i.direct).map(|(i, _)| i.directive.location()))
        .max_by_key(|l| l.span.start());
    if let Some(anchor) = anchors.filter(|a| fixed.insert(*a)) {
        let src = cx.ws.source(anchor.file);
        f = f.with_fix(edit::fix(
            Applicability::Unsafe,
            "add `fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;`",
            vec![edit::insert_line_after(src, anchor, SCRIPT_FILENAME_LINE)],
        ));
    }
    f
}
