//! The generic evaluator for pure-data checks: "in every SCOPE having DIRECTIVE, the
//! effective VALUE is below/above an option, or unset". House rules in a user's rules
//! directory use the same schema.

use std::collections::BTreeMap;

use super::context::RuleContext;
use super::meta::{CheckSpec, FixKind, ScopeKind, ValueKind, When};
use super::options::OptionValue;
use crate::effective::fpm::{misspelling, PoolView};
use crate::fpm::directives::Place;
use crate::fpm::resolve::Setting;
use crate::fpm::numbers::fpm_time;
use crate::effective::nginx::{Placed, ScopeId};
use crate::effective::values::{parse_size, parse_time, TimeKind};
use crate::finding::{Applicability, Finding, Location};
use crate::rules::edit;
use crate::workspace::Context;

/// Check a rule file's `[check]` table against the rule's declared `fix`; the message
/// names what is missing or wrong.
pub fn validate(check: &CheckSpec, fix: FixKind, options: &[&str]) -> Result<(), String> {
    match (&check.builtin, check.scope) {
        (Some(_), None) if check.fix_set.is_some() || check.fix_delete || check.fix_applicability.is_some() => {
            return Err("`check.fix-set`, `check.fix-delete` and `check.fix-applicability` are for checks without `builtin`".into())
        }
        (Some(_), None) => return Ok(()),
        (Some(_), Some(_)) => return Err("`check.builtin` and `check.where` exclude each other".into()),
        (None, None) => return Err("`check` needs `builtin` or `where`".into()),
        (None, Some(_)) => {}
    }
    let value = check.value.as_deref().ok_or("`check.where` needs `check.value`")?;
    let when = check.when.ok_or("`check.where` needs `check.when` (below, above, unset, unset-or-zero)")?;
    if value.is_empty() {
        return Err("`check.value` is empty".into());
    }
    if matches!(when, When::Below | When::Above) {
        let than = check.than.as_deref().ok_or("`check.when = below/above` needs `check.than` (an option name)")?;
        if !options.contains(&than) {
            return Err(format!("`check.than` names option `{than}`, which the rule does not declare"));
        }
        check.kind.ok_or("`check.when = below/above` needs `check.type` (duration, size, integer)")?;
    }
    if let Some(opt) = &check.fix_set {
        if !options.contains(&opt.as_str()) {
            return Err(format!("`check.fix-set` names option `{opt}`, which the rule does not declare"));
        }
    }
    if check.fix_delete && (check.fix_set.is_some() || !matches!(check.scope, Some(ScopeKind::Pool | ScopeKind::Global))) {
        return Err("`check.fix-delete` is for `where = \"pool\"` or `\"global\"` checks without `fix-set`".into());
    }
    let fixes = check.fix_set.is_some() || check.fix_delete;
    match (fix, fixes) {
        (FixKind::None, true) => return Err("the check has a fix (`fix-set`/`fix-delete`) but the rule declares `fix = \"none\"`".into()),
        (FixKind::Safe | FixKind::Unsafe, false) => return Err("the rule declares a fix but the check has none (`check.fix-set` or `check.fix-delete`)".into()),
        _ => {}
    }
    if let Some(a) = check.fix_applicability {
        if applicability(fix) != Some(a) {
            return Err(format!("`check.fix-applicability = \"{}\"` disagrees with the rule's `fix`", if a == Applicability::Safe { "safe" } else { "unsafe" }));
        }
    }
    Ok(())
}

/// The applicability of the fixes a rule declaring `fix` makes.
pub fn applicability(fix: FixKind) -> Option<Applicability> {
    match fix {
        FixKind::Safe => Some(Applicability::Safe),
        FixKind::Unsafe => Some(Applicability::Unsafe),
        FixKind::None => None,
    }
}

/// A comparable reading of a value.
fn read(kind: ValueKind, text: &str, fpm: bool) -> Option<i64> {
    match kind {
        ValueKind::Duration if fpm => fpm_time(text).map(|s| s * 1000),
        ValueKind::Duration => parse_time(text, TimeKind::Msec).map(|m| m.0 as i64),
        ValueKind::Size => parse_size(text).map(|s| s as i64),
        ValueKind::Integer if fpm => Some(crate::fpm::numbers::atoi(text)),
        ValueKind::Integer => text.parse().ok(),
    }
}

fn limit(cx: &RuleContext, check: &CheckSpec) -> Option<(i64, String)> {
    let name = check.than.as_deref()?;
    Some(match cx.options.get(name)? {
        OptionValue::Duration(d) => (d.0 as i64, d.to_string()),
        OptionValue::Size(s) => (*s as i64, s.to_string()),
        OptionValue::Integer(i) => (*i, i.to_string()),
        OptionValue::Float(f) => (*f as i64, f.to_string()),
        OptionValue::String(s) => (s.parse().ok()?, s.clone()),
    })
}

fn fires(check: &CheckSpec, value: Option<i64>, limit: Option<i64>) -> bool {
    match (check.when, value, limit) {
        (Some(When::Below), Some(v), Some(l)) => v < l,
        (Some(When::Above), Some(v), Some(l)) => v > l,
        (Some(When::Unset), None, _) => true,
        (Some(When::UnsetOrZero), None, _) => true,
        (Some(When::UnsetOrZero), Some(0), _) => true,
        _ => false,
    }
}

fn render(template: Option<&str>, directive: &str, value: &str, scope: &str, limit: &str) -> String {
    let t = template.unwrap_or("{directive} is {value} in {scope}");
    t.replace("{directive}", directive).replace("{value}", value).replace("{scope}", scope).replace("{limit}", limit)
}

fn fix_text(cx: &RuleContext, check: &CheckSpec) -> Option<String> {
    Some(match cx.options.get(check.fix_set.as_deref()?)? {
        OptionValue::Duration(d) => d.to_string(),
        OptionValue::Size(s) => s.to_string(),
        OptionValue::Integer(i) => i.to_string(),
        OptionValue::Float(f) => f.to_string(),
        OptionValue::String(s) => s.clone(),
    })
}

pub fn evaluate(cx: &RuleContext, check: &CheckSpec, out: &mut Vec<Finding>) {
    match check.scope {
        Some(ScopeKind::Pool) | Some(ScopeKind::Global) => evaluate_fpm(cx, check, out),
        Some(_) => evaluate_nginx(cx, check, out),
        None => {}
    }
}

fn evaluate_nginx(cx: &RuleContext, check: &CheckSpec, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    let (Some(name), Some(kind_scope)) = (check.value.as_deref(), check.scope) else { return };
    let context = match kind_scope {
        ScopeKind::Location => Context::Location,
        ScopeKind::Server => Context::Server,
        _ => Context::Http,
    };
    let lim = limit(cx, check);
    let applicability = applicability(cx.rule.fix).unwrap_or(Applicability::Safe);
    // Findings at the same definition are one finding naming every scope it affects.
    let mut by_definition: BTreeMap<Location, (Placed, String, Vec<ScopeId>)> = BTreeMap::new();
    // With `having`, only the scopes that have that directive, anchored at its first one.
    let scopes: Vec<(ScopeId, Option<Placed>)> = match &check.having {
        Some(h) => view.firsts(h).map(|(id, p)| (id, Some(p))).collect(),
        None => view.ids().map(|id| (id, view.scope(id).block)).collect(),
    };
    for (id, anchor) in scopes.into_iter().filter(|&(id, _)| view.scope(id).context == context) {
        let effective = view.effective(id, name);
        let text = effective.and_then(|(_, p)| p.arg(0)).map(str::to_string).or_else(|| check.default.clone());
        let value = match (&text, check.kind) {
            (Some(t), Some(k)) => match read(k, t, false) {
                Some(v) => Some(v),
                None => continue, // unreadable values are other rules' business
            },
            (Some(_), None) => Some(1),
            (None, _) => None,
        };
        if !fires(check, value, lim.as_ref().map(|l| l.0)) {
            continue;
        }
        let shown = text.clone().unwrap_or_else(|| "not set".into());
        match effective {
            Some((_, def)) => {
                by_definition.entry(def.location()).or_insert((def, shown, Vec::new())).2.push(id);
            }
            None => {
                let Some(at) = anchor else { continue };
                let scope = view.describe(id);
                let mut f = cx.finding(at.location(), render(check.message.as_deref(), name, &shown, &scope, lim.as_ref().map_or("", |l| l.1.as_str())));
                if let Some(v) = fix_text(cx, check) {
                    let src = cx.ws.source(at.file);
                    let line = format!("{name} {v};");
                    f = f.with_fix(edit::fix(applicability, format!("add `{line}`"), vec![edit::insert_line_before(src, at.location(), &line)]));
                }
                out.push(f);
            }
        }
    }
    for (_, (def, shown, scopes)) in by_definition {
        let scope = match scopes.as_slice() {
            [one] if view.first_here(*one, name).is_some() => view.describe(*one),
            [one] => format!("{} (inherited)", view.describe(*one)),
            many => format!("{} places that inherit it", many.len()),
        };
        let mut f = cx.finding(def.arg_location(0), render(check.message.as_deref(), name, &shown, &scope, lim.as_ref().map_or("", |l| l.1.as_str())));
        for &id in &scopes {
            if let Some(at) = check.having.as_deref().and_then(|h| view.first_here(id, h)).or(view.scope(id).block) {
                if at.location() != def.location() {
                    f = f.with_related(at.location(), format!("{} is affected", view.describe(id)));
                }
            }
        }
        if let Some(v) = fix_text(cx, check) {
            f = f.with_fix(edit::fix(applicability, format!("set {name} to {v}"), vec![edit::replace_arg(def, 0, v)]));
        }
        out.push(f);
    }
}

fn evaluate_fpm(cx: &RuleContext, check: &CheckSpec, out: &mut Vec<Finding>) {
    let Some(name) = check.value.as_deref() else { return };
    let lim = limit(cx, check);
    let limit_text = lim.as_ref().map_or(String::new(), |l| l.1.clone());
    let global = check.scope == Some(ScopeKind::Global);
    let applicability = applicability(cx.rule.fix).unwrap_or(Applicability::Safe);
    let targets: Vec<Target> = if global {
        cx.ws
            .fpm
            .iter()
            .filter(|c| !c.fragment)
            .filter_map(|c| {
                let at = c.root.map(|f| Location { file: f, span: crate::source::Span::empty(0) })?;
                let setting = c.global.iter().rev().find(|s| s.array_key.is_none() && s.name.eq_ignore_ascii_case(name));
                let header = global_header(cx, c).unwrap_or(at);
                Some(Target { setting, header, pool: None, global: Some(&c.global) })
            })
            .collect()
    } else {
        let scalar = crate::effective::fpm::Scalar::resolve(name);
        PoolView::all(&cx.ws.fpm).into_iter().map(|p| Target { setting: p.get(scalar), header: p.pool.header, pool: Some(p), global: None }).collect()
    };
    for Target { setting, header, pool, global: global_settings } in targets {
        if setting.is_some_and(|s| s.value.is_deferred()) {
            continue;
        }
        let text = setting.map(|s| &*s.value.text).or(check.default.as_deref());
        let value = match (text, check.kind) {
            (Some(t), Some(k)) => match read(k, t, true) {
                Some(v) => Some(v),
                None => continue,
            },
            (Some(t), None) => Some(i64::from(!t.is_empty())),
            (None, _) => None,
        };
        if !fires(check, value, lim.as_ref().map(|l| l.0)) {
            continue;
        }
        let shown = setting.map_or("not set", |s| &*s.value.text);
        let scope = pool.as_ref().map_or_else(|| "[global]".to_string(), |p| format!("pool `{}`", p.name()));
        let at = setting.map_or(header, |s| s.value_location());
        let mut f = cx.finding(at, render(check.message.as_deref(), name, shown, &scope, &limit_text));
        // Unset because misspelled: the typo's finding (FPM002) says it, and takes this one in.
        if setting.is_none() {
            let typo = match &pool {
                Some(p) => p.misspelled(name),
                None => global_settings.and_then(|g| misspelling(g, name, Place::Global)),
            };
            if let Some(t) = typo {
                f = f.with_related(t.name_location(), format!("`{}` is refused here; `{name}` was probably meant", t.name));
            }
        }
        if let Some(v) = fix_text(cx, check) {
            let edit = match setting {
                Some(s) => crate::finding::Edit { location: s.value_location(), content: v.clone() },
                // No `[global]` header: the lines before the first section are global, so
                // the setting goes first (after the first line would put it in a pool).
                None if global && header.span.is_empty() => edit::insert_line_before(cx.ws.source(header.file), header, &format!("{name} = {v}")),
                None => {
                    let after = check.fix_after.as_deref().and_then(|k| pool.and_then(|p| p.get(k))).map_or(header, |s| s.location);
                    edit::insert_line_after(cx.ws.source(after.file), after, &format!("{name} = {v}"))
                }
            };
            f = f.with_fix(edit::fix(applicability, format!("set {name} = {v}"), vec![edit]));
        } else if let (true, Some(s)) = (check.fix_delete, setting) {
            f = f.with_fix(edit::fix(applicability, format!("delete `{name}` (PHP-FPM's default applies)"), vec![edit::delete_line(cx.ws.source(s.location.file), s.location)]));
        }
        out.push(f);
    }
}

/// Where a PHP-FPM check looks: the setting (if set), where a missing one is reported, and
/// its pool, or the `[global]` settings.
struct Target<'w> {
    setting: Option<&'w Setting>,
    header: Location,
    pool: Option<PoolView<'w>>,
    global: Option<&'w [Setting]>,
}

/// The `[global]` header of a configuration, if it has one.
fn global_header(cx: &RuleContext, config: &crate::fpm::resolve::FpmConfig) -> Option<Location> {
    let root = config.root?;
    let file = cx.ws.fpm_files.get(&root)?;
    file.lines.iter().find_map(|l| match &l.kind {
        crate::fpm::ast::LineKind::Section(s) if s.name.eq_ignore_ascii_case("global") => Some(Location { file: root, span: l.span }),
        _ => None,
    })
}

