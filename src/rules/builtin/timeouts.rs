//! NGX101, NGX102: read timeouts shorter than slow backend requests.

use std::collections::BTreeMap;

use crate::effective::nginx::{Placed, ScopeId};
use crate::effective::values::{parse_time, Millis, TimeKind};
use crate::finding::{Applicability, Finding, Location};
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
                        Applicability::Safe,
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
        out.push(f.with_help(help.clone()).with_fix(edit::fix(Applicability::Safe, fix_message.clone(), vec![edit::replace_arg(def, 0, fix_text.clone())])));
    }
}
