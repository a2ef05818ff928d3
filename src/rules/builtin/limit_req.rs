//! NGX201–NGX206: rate and connection limits (`limit_req`, `limit_conn` and their zones),
//! the 503s they produce and the mistakes that make nginx refuse the config.

use std::collections::HashSet;

use crate::effective::nginx::{NginxView, Placed, ScopeId};
use crate::effective::values::{parse_rate, parse_size, Rate};
use crate::finding::{Applicability, Finding, Severity};
use crate::rules::context::RuleContext;
use crate::rules::edit;
use crate::workspace::Context;

/// nginx refuses zones smaller than 8 pages (`zone "zone=one:16k" is too small`).
const MIN_ZONE_SIZE: u64 = 8 * 4096;
/// Below this a zone keyed by client address runs out of nodes on a public site.
const PUBLIC_ZONE_SIZE: u64 = 1 << 20;

/// A `limit_req_zone`/`limit_conn_zone` definition.
struct ZoneDef<'w> {
    placed: Placed<'w>,
    name: &'w str,
    /// Index of the `zone=` argument.
    zone_arg: usize,
    /// The text after `:` in `zone=name:size` (`None` when there is no `:`).
    size: Option<&'w str>,
    /// Index of the `rate=` argument (limit_req_zone only).
    rate_arg: Option<usize>,
    key: Option<&'w str>,
}

impl<'w> ZoneDef<'w> {
    fn read(placed: Placed<'w>) -> Option<Self> {
        let args: Vec<&'w str> = placed.directive.args.iter().map(|a| a.value.as_str()).collect();
        let zone_arg = args.iter().position(|a| a.starts_with("zone="))?;
        let spec = &args[zone_arg]["zone=".len()..];
        let (name, size) = match spec.split_once(':') {
            Some((n, s)) => (n, Some(s)),
            None => (spec, None),
        };
        let rate_arg = args.iter().position(|a| a.starts_with("rate="));
        // nginx takes the key from the first argument only.
        let key = args.first().filter(|a| !a.starts_with("zone=") && !a.starts_with("rate=")).copied();
        Some(ZoneDef { placed, name, zone_arg, size, rate_arg, key })
    }

    fn rate(&self) -> Option<Rate> {
        self.rate_arg.and_then(|i| self.placed.arg(i)).and_then(|r| parse_rate(&r["rate=".len()..]))
    }
}

fn zones<'w>(view: &NginxView<'w>, id: ScopeId, directive: &str) -> Vec<ZoneDef<'w>> {
    view.all_in_tree(id, directive).into_iter().filter_map(|(_, p)| ZoneDef::read(p)).collect()
}

/// The zone name a `limit_req zone=NAME ...` or `limit_conn NAME N` refers to, with the
/// index of the argument that names it.
fn zone_ref<'w>(p: Placed<'w>) -> Option<(usize, &'w str)> {
    if p.name() == "limit_conn" {
        return p.arg(0).map(|z| (0, z));
    }
    p.directive.args.iter().position(|a| a.value.starts_with("zone=")).map(|i| (i, &p.directive.args[i].value["zone=".len()..]))
}

fn arg_index(p: Placed, prefix: &str) -> Option<usize> {
    p.directive.args.iter().position(|a| a.value.starts_with(prefix))
}

/// Every `limit_req` (or `limit_conn`) written anywhere, once per place in the source
/// even when its file is included from several places.
fn each_written<'w>(view: &NginxView<'w>, name: &str) -> Vec<(ScopeId, Placed<'w>)> {
    let mut seen = HashSet::new();
    view.named(name)
        .filter(|(_, p)| seen.insert(p.location()))
        .collect::<Vec<_>>()
}

/// The `limit_req_status` a request at `id` gets when it is limited.
fn limit_status(view: &NginxView, id: ScopeId, name: &str) -> String {
    let status = if name == "limit_conn" { "limit_conn_status" } else { "limit_req_status" };
    view.effective(id, status).and_then(|(_, p)| p.arg(0).map(str::to_string)).unwrap_or_else(|| "503".into())
}

fn status_words(code: &str) -> String {
    match code {
        "503" => "503 Service Temporarily Unavailable".into(),
        "429" => "429 Too Many Requests".into(),
        other => other.to_string(),
    }
}

/// The time between two requests a rate allows: `100ms` for 10r/s, `6s` for 10r/m.
fn interval(r: Rate) -> String {
    let ms = if r.per_minute { 60_000 / r.count } else { 1000 / r.count };
    if ms >= 1000 && ms % 1000 == 0 { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

/// NGX201: `limit_req` without `burst=`.
pub fn limit_req_no_burst(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    let fix_burst = cx.integer("fix-burst").max(1) as u64;
    for (scope, p) in each_written(view, "limit_req") {
        if arg_index(p, "burst=").is_some() {
            continue;
        }
        let Some((zi, zone)) = zone_ref(p) else { continue };
        let def = zones(view, scope, "limit_req_zone").into_iter().find(|z| z.name == zone);
        let rate = def.as_ref().and_then(ZoneDef::rate);
        let burst = rate.map_or(fix_burst, |r| fix_burst.max(r.per_second_ceil()));
        let pace = match rate {
            Some(r) => format!("within {} of its previous one (rate {}r/{})", interval(r), r.count, if r.per_minute { "m" } else { "s" }),
            None => "sooner than the zone's rate allows".into(),
        };
        let status = status_words(&limit_status(view, scope, "limit_req"));
        let mut f = cx.finding(
            p.arg_location(zi),
            format!("limit_req zone={zone} has no burst=: every request from one client that arrives {pace} is rejected at once with {status}"),
        );
        if let Some(def) = &def {
            f = f.with_related(def.placed.location(), format!("zone `{zone}` is defined here"));
        }
        let extra = if arg_index(p, "delay=").is_some() || p.directive.args.iter().any(|a| a.value == "nodelay") {
            format!("burst={burst}")
        } else {
            format!("burst={burst} nodelay")
        };
        out.push(
            f.with_help("a page load fetches many assets at once; `burst=` lets that many requests through before limiting, `nodelay` serves them without queueing")
                .with_fix(edit::fix(Applicability::Unsafe, format!("append `{extra}`"), vec![edit::append_arg(p, &extra)])),
        );
    }
}
register!(limit_req_no_burst);

/// NGX202: `burst=N` below `min-burst` or below the zone's rate per second.
pub fn limit_req_burst_small(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    let min_burst = cx.integer("min-burst").max(0) as u64;
    for (scope, p) in each_written(view, "limit_req") {
        let Some(bi) = arg_index(p, "burst=") else { continue };
        let Some(burst) = p.arg(bi).and_then(|b| b["burst=".len()..].parse::<u64>().ok()).filter(|&b| b > 0) else { continue };
        let Some((_, zone)) = zone_ref(p) else { continue };
        let def = zones(view, scope, "limit_req_zone").into_iter().find(|z| z.name == zone);
        let per_second = def.as_ref().and_then(ZoneDef::rate).map(Rate::per_second_ceil);
        let wanted = min_burst.max(per_second.unwrap_or(0));
        if burst >= wanted {
            continue;
        }
        let why = match per_second {
            Some(r) if burst < r => format!("smaller than the zone's {r} requests per second"),
            _ => format!("below `min-burst` ({min_burst})"),
        };
        let status = status_words(&limit_status(view, scope, "limit_req"));
        let mut f = cx.finding(
            p.arg_location(bi),
            format!("burst={burst} for zone {zone} is {why}: a client that sends more than {burst} requests at once (one page load with its assets) gets {status}"),
        );
        if let Some(def) = &def {
            let rate = def.rate_arg.and_then(|i| def.placed.arg(i)).unwrap_or("rate");
            f = f.with_related(def.placed.location(), format!("zone `{zone}` is defined here with {rate}"));
        }
        out.push(
            f.with_help(format!("size burst= to the number of requests one page view makes (option `min-burst`, {min_burst})"))
                .with_fix(edit::fix(Applicability::Unsafe, format!("raise to burst={wanted}"), vec![edit::replace_arg(p, bi, format!("burst={wanted}"))])),
        );
    }
}
register!(limit_req_burst_small);

/// NGX203: `limit_req` applies and the effective `limit_req_status` is nginx's 503.
pub fn limit_req_status_default(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    if view.named("limit_req").next().is_none() {
        return;
    }
    let mut seen = HashSet::new();
    for s in view.ids() {
        if !matches!(view.scope(s).context, Context::Server | Context::Location) {
            continue;
        }
        let Some((level, entries)) = view.effective_array(s, "limit_req") else { continue };
        if view.effective(s, "limit_req_status").is_some() {
            continue;
        }
        let first = entries[0];
        if !seen.insert(first.location()) {
            continue;
        }
        let mut f = cx.finding(
            first.location(),
            "limit_req rejects with nginx's default 503 here: rate-limited clients see 503 Service Temporarily Unavailable, which looks like an outage in monitoring and to clients",
        );
        if let Some(def) = zone_ref(first)
            .and_then(|(_, zone)| zones(view, level, "limit_req_zone").into_iter().find(|z| z.name == zone))
        {
            f = f.with_related(def.placed.location(), format!("zone `{}` is defined here", def.name));
        }
        let last = entries.iter().rfind(|e| e.file == first.file).copied().unwrap_or(first);
        let src = cx.ws.source(last.file);
        out.push(
            f.with_help("429 Too Many Requests tells clients (and retry logic) to slow down, and keeps rate limiting apart from backend failures")
                .with_fix(edit::fix(
                    Applicability::Safe,
                    "add `limit_req_status 429;`",
                    vec![edit::insert_line_after(src, last.location(), "limit_req_status 429;")],
                )),
        );
    }
}
register!(limit_req_status_default);

/// Could the tree of `id` define zones we do not see? An include that read nothing, or a
/// template placeholder standing where a directive should (`%%TEST_GLOBALS_HTTP%%`,
/// `{{ zones }}`), which swallows the directives after it up to the next `;`.
fn tree_has_unknown_include(cx: &RuleContext, id: ScopeId) -> bool {
    let view = cx.nginx();
    let placeholder = |name: &str| !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    view.tree_of(id).iter().any(|&s| {
        view.includes_in(cx.ws, s).iter().any(|i| i.targets.is_empty())
            || (matches!(view.scope(s).context, Context::Main | Context::Http | Context::Server | Context::Location)
                && view.scope(s).directives.iter().any(|p| placeholder(p.name())))
    })
}

/// NGX204: a zone that no `limit_req_zone`/`limit_conn_zone` defines.
pub fn limit_zone_undefined(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    for (directive, zone_directive) in [("limit_req", "limit_req_zone"), ("limit_conn", "limit_conn_zone")] {
        for (scope, p) in each_written(view, directive) {
            // Only a whole configuration (from nginx.conf) shows every zone.
            if view.main_of(scope).is_none() || tree_has_unknown_include(cx, scope) {
                continue;
            }
            let Some((zi, zone)) = zone_ref(p) else { continue };
            let defined = zones(view, scope, zone_directive);
            if zone.is_empty() || zone.contains('$') || defined.iter().any(|z| z.name == zone) {
                continue;
            }
            let other = if zone_directive == "limit_req_zone" { "limit_conn_zone" } else { "limit_req_zone" };
            let message = match zones(view, scope, other).into_iter().find(|z| z.name == zone) {
                Some(_) => format!("{directive} uses zone `{zone}`, which is a {other}, not a {zone_directive}: nginx refuses to start (the shared memory zone \"{zone}\" is already declared for a different use)"),
                None => format!("{directive} uses zone `{zone}`, but no {zone_directive} defines it: nginx refuses to start (zero size shared memory zone \"{zone}\")"),
            };
            let mut f = cx.finding(p.arg_location(zi), message);
            let mut names: Vec<&str> = defined.iter().map(|z| z.name).collect();
            names.sort_unstable();
            names.dedup();
            f = match names.as_slice() {
                [] => f.with_help(format!("define it in http{{}}: `{zone_directive} $binary_remote_addr zone={zone}:10m{}`", if directive == "limit_req" { " rate=10r/s;" } else { ";" })),
                _ => f.with_help(format!("defined {zone_directive} zones: {}", names.join(", "))),
            };
            for z in defined.iter().filter(|z| strsim_close(z.name, zone)) {
                f = f.with_related(z.placed.location(), format!("did you mean `{}`?", z.name));
            }
            out.push(f);
        }
    }
}
register!(limit_zone_undefined);

/// Edit distance at most 2 (case-insensitive), the names being different.
fn strsim_close(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.to_lowercase().chars().collect(), b.to_lowercase().chars().collect());
    if a == b {
        return true;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

/// NGX205: zone definitions and `burst=` values nginx rejects, and zones too small for
/// a per-client key.
pub fn limit_req_zone_invalid(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    let mut seen = HashSet::new();
    for zone_directive in ["limit_req_zone", "limit_conn_zone"] {
        for (_, p) in view.named(zone_directive) {
            if !seen.insert(p.location()) {
                continue;
            }
            let Some(z) = ZoneDef::read(p) else { continue };
            zone_findings(cx, &z, zone_directive, out);
        }
    }
    for (_, p) in each_written(view, "limit_req") {
        let Some(bi) = arg_index(p, "burst=") else { continue };
        let value = &p.arg(bi).unwrap_or_default()["burst=".len()..];
        if value.parse::<i64>().is_ok_and(|b| b > 0) {
            continue;
        }
        out.push(
            cx.finding(p.arg_location(bi), format!("invalid burst value \"burst={value}\": nginx refuses to start"))
                .with_help("burst= must be a positive number; leave it out for no burst"),
        );
    }
}
register!(limit_req_zone_invalid);

fn zone_findings(cx: &RuleContext, z: &ZoneDef, zone_directive: &str, out: &mut Vec<Finding>) {
    let p = z.placed;
    let zone_loc = p.arg_location(z.zone_arg);
    match z.size.map(|s| (s, parse_size(s))) {
        None | Some((_, None)) => out.push(
            cx.finding(zone_loc, format!("invalid zone size \"{}\": nginx refuses to start", p.arg(z.zone_arg).unwrap_or_default()))
                .with_help("write `zone=NAME:SIZE`, e.g. `zone=perip:10m`"),
        ),
        Some((_, Some(size))) if size < MIN_ZONE_SIZE => out.push(
            cx.finding(zone_loc, format!("zone \"{}\" is too small: nginx refuses to start (minimum 32k)", p.arg(z.zone_arg).unwrap_or_default()))
                .with_fix(edit::fix(Applicability::Safe, "set the size to 1m", vec![edit::replace_arg(p, z.zone_arg, format!("zone={}:1m", z.name))])),
        ),
        Some((written, Some(size))) if size < PUBLIC_ZONE_SIZE && z.key.is_some_and(|k| k.contains("remote_addr")) => {
            let directive = if zone_directive == "limit_conn_zone" { "limit_conn" } else { "limit_req" };
            let mut f = cx.finding(
                zone_loc,
                format!(
                    "zone `{}` keyed by {} is only {written}: when it fills up nginx logs `could not allocate node in {directive} zone \"{}\"` and new clients get 503",
                    z.name,
                    z.key.unwrap_or_default(),
                    z.name
                ),
            );
            f.severity = Severity::Warning;
            out.push(
                f.with_help("1m holds about 16000 client addresses")
                    .with_fix(edit::fix(Applicability::Safe, "set the size to 1m", vec![edit::replace_arg(p, z.zone_arg, format!("zone={}:1m", z.name))])),
            );
        }
        _ => {}
    }
    let Some(ri) = z.rate_arg else {
        if zone_directive == "limit_req_zone" {
            out.push(cx.finding(p.location(), "limit_req_zone has no rate=: nginx refuses to start"));
        }
        return;
    };
    let written = p.arg(ri).unwrap_or_default();
    let rate = &written["rate=".len()..];
    if parse_rate(rate).is_some() {
        return;
    }
    let mut f = cx
        .finding(p.arg_location(ri), format!("invalid rate \"{written}\": nginx refuses to start (rates are r/s or r/m)"))
        .with_help("nginx only knows requests per second (`r/s`) and per minute (`r/m`)");
    if let Some(per_hour) = rate.strip_suffix("r/h").and_then(|n| n.parse::<u64>().ok()).filter(|&n| n > 0) {
        let per_minute = per_hour.div_ceil(60);
        f = f.with_fix(edit::fix(
            Applicability::Safe,
            format!("use rate={per_minute}r/m"),
            vec![edit::replace_arg(p, ri, format!("rate={per_minute}r/m"))],
        ));
    }
    out.push(f);
}

/// NGX206: `limit_req`/`limit_conn` where an unconditional `return` answers first.
pub fn limit_req_bypassed(cx: &RuleContext, out: &mut Vec<Finding>) {
    let view = cx.nginx();
    for name in ["limit_req", "limit_conn"] {
        for (scope, p) in each_written(view, name) {
            let Some((ret_scope, ret)) = returning_level(view, scope) else { continue };
            let phase = if view.scope(ret_scope).context == Context::Server { "server rewrite" } else { "rewrite" };
            let f = cx
                .finding(
                    p.location(),
                    format!(
                        "{name} never applies here: `return {}` in {} answers every request in the {phase} phase, before limits are checked",
                        ret.directive.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" "),
                        view.describe(ret_scope)
                    ),
                )
                .with_related(ret.location(), "this `return` runs first")
                .with_help("move the limit to the location that does the work, or drop it");
            out.push(f);
        }
    }
}
register!(limit_req_bypassed);

/// The level whose unconditional `return` answers requests handled at `scope` before the
/// preaccess phase: `scope` itself (a location's own `return`; rewrite directives are not
/// inherited), or the enclosing `server`'s top-level `return`.
fn returning_level<'w>(view: &NginxView<'w>, scope: ScopeId) -> Option<(ScopeId, Placed<'w>)> {
    if view.scope(scope).context == Context::Location {
        if let Some(r) = view.first_here(scope, "return") {
            return Some((scope, r));
        }
    }
    let server = view.chain(scope).find(|&s| view.scope(s).context == Context::Server)?;
    view.first_here(server, "return").map(|r| (server, r))
}
