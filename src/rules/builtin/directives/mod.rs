//! NGX002–NGX006: what `nginx -t` refuses about a directive itself — an unknown name, the
//! wrong context, the wrong number of arguments, a value the slot rejects, a duplicate —
//! checked against the directive tables of [`crate::nginx::directives`].

pub mod analysis;
mod custom;
mod definitions;
mod variables;
pub mod values;

use crate::finding::Finding;
use crate::rules::context::RuleContext;

fn report(cx: &RuleContext, code: &str, out: &mut Vec<Finding>) {
    for p in cx.directives().problems.iter().filter(|p| p.code == code) {
        let mut f = cx.finding(p.at, p.message.clone());
        if let Some(s) = p.severity {
            f.severity = s;
        }
        if let Some(h) = &p.help {
            f = f.with_help(h.clone());
        }
        if let Some((at, what)) = &p.related {
            f = f.with_related(*at, what.clone());
        }
        out.push(f);
    }
}

pub fn nginx_unknown_directive(cx: &RuleContext, out: &mut Vec<Finding>) {
    report(cx, analysis::UNKNOWN, out);
}
register!(nginx_unknown_directive);

pub fn directive_not_allowed_here(cx: &RuleContext, out: &mut Vec<Finding>) {
    report(cx, analysis::NOT_ALLOWED, out);
}
register!(directive_not_allowed_here);

pub fn directive_arguments(cx: &RuleContext, out: &mut Vec<Finding>) {
    report(cx, analysis::ARGUMENTS, out);
}
register!(directive_arguments);

pub fn directive_value(cx: &RuleContext, out: &mut Vec<Finding>) {
    report(cx, analysis::VALUE, out);
}
register!(directive_value);

pub fn directive_duplicate(cx: &RuleContext, out: &mut Vec<Finding>) {
    report(cx, analysis::DUPLICATE, out);
}
register!(directive_duplicate);

pub fn unknown_variable(cx: &RuleContext, out: &mut Vec<Finding>) {
    report(cx, analysis::VARIABLE, out);
}
register!(unknown_variable);

pub fn events_missing(cx: &RuleContext, out: &mut Vec<Finding>) {
    report(cx, analysis::NO_EVENTS, out);
}
register!(events_missing);
