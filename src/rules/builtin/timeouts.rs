//! NGX101, NGX102: read timeouts shorter than slow backend requests; FPM201: a pool
//! without a request time limit.

use std::collections::BTreeMap;

use crate::effective::nginx::{Placed, ScopeId};
use crate::effective::values::{parse_time, Millis, TimeKind};
use crate::effective::fpm::PoolView;
use crate::finding::{Applicability, Edit, Finding, Location};
use crate::fpm::numbers::fpm_time;
use crate::rules::context::RuleContext;
use crate::rules::edit;

const NGINX_DEFAULT_READ_TIMEOUT: Millis = Millis(60_000);

pub fn fastcgi_read_timeout_low(cx: &RuleContext, out: &mut Vec<Finding>) {
    read_timeout_low(cx, out, "fastcgi_pass", "fastcgi_read_timeout", "PHP");
}
register!(fastcgi_read_timeout_low);

pub fn proxy_read_timeout_low(cx: &RuleContext, out: &mut Vec<Finding>) {
    read_timeout_low(cx, out, "proxy_pass", "proxy_read_timeout", "backend");
}
register!(proxy_read_timeout_low);

/// One finding per place the low value is written, naming every location that inherits
/// it; a location that only has nginx's default gets the finding itself.
fn read_timeout_low(cx: &RuleContext, out: &mut Vec<Finding>, pass: &str, timeout: &str, backend: &str) {
    let min = cx.duration("min");
    let fix_value = cx.duration("fix-value");
    let view = cx.nginx();
    let mut by_definition: BTreeMap<Location, (Placed, Millis, Vec<ScopeId>)> = BTreeMap::new();
    for (loc, pass_directive) in view.request_firsts(pass) {
        match view.effective(loc, timeout) {
            Some((_, def)) => {
                let Some(value) = def.arg(0).and_then(|v| parse_time(v, TimeKind::Msec)) else { continue };
                if value < min {
                    by_definition.entry(def.location()).or_insert((def, value, Vec::new())).2.push(loc);
                }
            }
            None if NGINX_DEFAULT_READ_TIMEOUT < min => {
                let src = cx.ws.source(pass_directive.file);
                let f = cx
                    .finding(
                        pass_directive.location(),
                        format!("{timeout} is nginx's default 60s here; {backend} requests slower than that end in 504 Gateway Timeout"),
                    )
                    .with_fix(edit::fix(
                        Applicability::Unsafe,
                        format!("add `{timeout} {fix_value};`"),
                        vec![edit::insert_line_before(src, pass_directive.location(), &format!("{timeout} {fix_value};"))],
                    ));
                out.push(f);
            }
            None => {}
        }
    }
    // The same for every finding: written once.
    let help = format!("raise it to at least {min} (option `min`), or to the longest request you accept");
    let (fix_message, fix_text) = (format!("raise to {fix_value}"), fix_value.to_string());
    for (_, (def, value, locations)) in by_definition {
        let affected = match locations.as_slice() {
            [one] if view.first_here(*one, timeout).is_some() => format!(" in {}", view.describe(*one)),
            [one] => format!(", inherited by {}", view.describe(*one)),
            many => format!(", inherited by {} locations", many.len()),
        };
        let mut f = cx.finding(
            def.arg_location(0),
            format!("{timeout} is {value}{affected}; {backend} requests slower than that end in 504 Gateway Timeout"),
        );
        for &loc in &locations {
            if let Some(p) = view.first_here(loc, pass) {
                f = f.with_related(p.location(), format!("{} passes to {backend} here", view.describe(loc)));
            }
        }
        out.push(f.with_help(help.clone()).with_fix(edit::fix(Applicability::Unsafe, fix_message.clone(), vec![edit::replace_arg(def, 0, fix_text.clone())])));
    }
}

/// FPM201: a pool that never ends a request. The fix gives PHP-FPM the read timeout of the
/// nginx locations the pool serves, so neither side gives up first (XFP002): one shared
/// value, or `fix-value` when no location of the tree reaches the pool.
pub fn request_terminate_timeout_unset(cx: &RuleContext, out: &mut Vec<Finding>) {
    let fix_value = cx.duration("fix-value");
    let join = cx.join();
    for pool in PoolView::all(&cx.ws.fpm) {
        let setting = pool.get(crate::pool_key!("request_terminate_timeout"));
        if setting.is_some_and(|s| s.value.is_deferred()) {
            continue;
        }
        // Unreadable values are FPM003's.
        match setting.map(|s| fpm_time(&s.value.text)) {
            Some(None) => continue,
            Some(Some(t)) if t != 0 => continue,
            _ => {}
        }
        let shown = setting.map_or("not set", |s| &*s.value.text);
        let at = setting.map_or(pool.pool.header, |s| s.value_location());
        let mut f = cx.finding(
            at,
            format!("pool `{}` never ends a stuck request (request_terminate_timeout is {shown}): I/O-bound scripts pin workers until the pool is exhausted", pool.name()),
        );
        // Unset because misspelled: the typo's finding (FPM002) takes this one in.
        if let Some(t) = setting.is_none().then(|| pool.misspelled("request_terminate_timeout")).flatten() {
            f = f.with_related(t.name_location(), format!("`{}` is refused here; `request_terminate_timeout` was probably meant", t.name));
        }
        // The read timeouts of the locations passing to this pool.
        let mut reads: Vec<Option<Millis>> = join
            .sites
            .iter()
            .filter(|site| join.reached(site).iter().any(|l| l.pool.pool.header == pool.pool.header))
            .map(|site| match view_read_timeout(cx, site.scope) {
                Some(Some(ms)) => Some(ms),
                Some(None) => None,
                None => Some(NGINX_DEFAULT_READ_TIMEOUT),
            })
            .collect();
        reads.sort();
        reads.dedup();
        let want = match reads.as_slice() {
            [] => Some(fix_value),
            [Some(one)] => Some(*one),
            _ => None,
        };
        // PHP-FPM counts whole seconds, and a slowlog timeout above the limit stops it from
        // starting (FPM007).
        let slowlog = pool.seconds(crate::pool_key!("request_slowlog_timeout")).unwrap_or(0);
        let want = want.filter(|w| w.0 % 1000 == 0 && w.0 > 0).map(|w| (w.0 / 1000) as i64).filter(|&w| slowlog <= w);
        match want {
            Some(secs) => {
                let text = format!("{secs}s");
                let edit = match setting {
                    Some(s) => Edit { location: s.value_location(), content: text.clone() },
                    None => {
                        let after = pool.get(crate::pool_key!("pm.max_children")).map_or(pool.pool.header, |s| s.location);
                        edit::insert_line_after(cx.ws.source(after.file), after, &format!("request_terminate_timeout = {text}"))
                    }
                };
                let why = if reads.is_empty() { "option `fix-value`" } else { "the fastcgi_read_timeout of the nginx locations it serves" };
                f = f.with_fix(edit::fix(Applicability::Unsafe, format!("set request_terminate_timeout = {text} ({why})"), vec![edit]));
            }
            None => f = f.with_help("the nginx locations served by this pool wait different times (fastcgi_read_timeout): set request_terminate_timeout to the longest a request may take"),
        }
        out.push(f);
    }
}
register!(request_terminate_timeout_unset);

/// The effective `fastcgi_read_timeout` at a location: `None` when nginx's default
/// applies, `Some(None)` when the value cannot be read.
fn view_read_timeout(cx: &RuleContext, scope: ScopeId) -> Option<Option<Millis>> {
    cx.nginx().effective(scope, "fastcgi_read_timeout").map(|(_, p)| p.arg(0).and_then(|v| parse_time(v, TimeKind::Msec)))
}
