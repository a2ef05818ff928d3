//! FPM002 unknown directives and FPM003 values PHP-FPM refuses or silently misreads.

use crate::finding::{Applicability, Edit, Finding, Severity};
use crate::fpm::directives::{self, Directive, Kind, Place, ARRAYS, DIRECTIVES};
use crate::fpm::resolve::{Pool, Setting};
use crate::rules::context::RuleContext;
use crate::rules::edit;

/// Where a setting stands, named only when a finding needs it.
#[derive(Clone, Copy)]
enum Section<'w> {
    Global,
    Pool(&'w str),
}

impl std::fmt::Display for Section<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Section::Global => f.write_str("[global]"),
            Section::Pool(name) => write!(f, "pool `{name}`"),
        }
    }
}

/// Calls `visit` with every setting, where it stands (`[global]` or a pool) and its
/// directive (`None`: an array or a name PHP-FPM does not know). Pool settings' directives
/// come from the pool's key array: most checks then skip a setting without reading it.
fn each_setting<'w>(cx: &RuleContext<'_, 'w>, mut visit: impl FnMut(Place, Section<'w>, &'w Setting, Option<&'static Directive>)) {
    for config in &cx.ws.fpm {
        for s in &config.global {
            visit(Place::Global, Section::Global, s, s.directive);
        }
    }
    for pool in cx.ws.fpm.iter().flat_map(|config| &config.pools) {
        for (s, &key) in pool.settings.iter().zip(pool.keys()) {
            visit(Place::Pool, Section::Pool(&pool.name), s, (key != Pool::UNKNOWN).then(|| &DIRECTIVES[usize::from(key)]));
        }
    }
}

pub fn unknown_directive(cx: &RuleContext, out: &mut Vec<Finding>) {
    each_setting(cx, |place, section, s, directive| {
        if directive.is_some() {
            return;
        }
        if s.array_key.is_some() {
            if place == Place::Global {
                out.push(cx.finding(s.location, format!("`{}[…]` in [global]: PHP-FPM refuses it (Array are not allowed in the global section)", s.name)).with_help("array settings belong in a pool section"));
            } else if !ARRAYS.contains(&s.name.as_ref()) {
                out.push(cx.finding(s.name_location(), format!("unknown directive '{}' in {section}: PHP-FPM refuses to start", s.name)).with_help(format!("array directives are {}", ARRAYS.join(", "))));
            }
            return;
        }
        let mut f = cx.finding(s.name_location(), format!("unknown entry '{}' in {section}: PHP-FPM refuses to start", s.name));
        if directives::other_place(&s.name, place) {
            let home = if place == Place::Global { "a pool" } else { "[global]" };
            f = f.with_help(format!("`{}` belongs in {home}", s.name));
        } else {
            let close = directives::suggestions(&s.name, place, 3);
            if let Some((_, best)) = close.first() {
                f = f.with_help(format!("did you mean `{best}`?"));
            }
            let within_two: Vec<&str> = close.iter().filter(|(d, _)| *d <= 2).map(|(_, n)| *n).collect();
            if let [only] = within_two.as_slice() {
                f = f.with_fix(edit::fix(Applicability::Safe, format!("rename to `{only}`"), vec![Edit { location: s.name_location(), content: only.to_string() }]));
            }
        }
        out.push(f);
    });
}
register!(unknown_directive);

pub fn invalid_value(cx: &RuleContext, out: &mut Vec<Finding>) {
    each_setting(cx, |_, section, s, directive| {
        // Any string is a valid string: most settings end here, unread.
        let Some(d) = directive.filter(|d| d.kind != Kind::Str) else { return };
        if s.value.is_deferred() {
            return;
        }
        let text = &*s.value.text;
        if let Some(reason) = directives::invalid(d.kind, text) {
            out.push(cx.finding(s.value_location(), format!("unable to parse value for entry '{}' in {section}: {reason}; PHP-FPM refuses to start", d.name)));
            return;
        }
        if d.kind == Kind::Time {
            if let Some((seconds, why)) = misread_time(text) {
                let mut f = cx.finding(s.value_location(), format!("{} = {text} in {section} is read as {why}: PHP-FPM only looks at the last character for a unit", d.name));
                f.severity = Severity::Warning;
                out.push(f.with_fix(edit::fix(Applicability::Safe, format!("write {seconds}s"), vec![Edit { location: s.value_location(), content: format!("{seconds}s") }])));
            }
        }
    });
}
register!(invalid_value);

/// `500ms` (500 seconds to PHP-FPM) and `1.5m` (60 seconds): what the writer meant, in
/// whole seconds, and what PHP-FPM reads.
fn misread_time(text: &str) -> Option<(u64, String)> {
    if let Some(ms) = text.strip_suffix("ms").and_then(|n| n.parse::<u64>().ok()) {
        return Some((ms.div_ceil(1000).max(1), format!("{ms} seconds, not {ms} milliseconds")));
    }
    let (number, unit) = text.split_at(text.len() - 1);
    let scale = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    };
    if !number.contains('.') {
        return None;
    }
    let meant: f64 = number.parse().ok()?;
    let read = crate::fpm::numbers::fpm_time(text)?;
    Some(((meant * scale).round() as u64, format!("{read} seconds, not {}", (meant * scale).round())))
}
