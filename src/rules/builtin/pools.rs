//! PHP-FPM process-manager validity and sizing: FPM004, FPM005, FPM101, FPM102, FPM105.

use crate::effective::fpm::PoolView;
use crate::fpm::numbers::atoi;
use crate::pool_key;
use crate::finding::{Applicability, Edit, Finding, Severity};
use crate::fpm::resolve::Setting;
use crate::rules::context::RuleContext;
use crate::rules::edit;
use crate::rules::options::parse_host_size;

/// Every distribution's package and the official Docker image define their pool `[www]`
/// in a `www.conf` of their own: a tree that does not hold all PHP-FPM reads, and no
/// `www.conf` replacing theirs, may only add to it (a `php-fpm.d/zz-docker.conf` that
/// sets `listen` alone).
const STOCK_POOL: &str = "www";

fn adds_to_stock_pool(cx: &RuleContext, pool: &PoolView) -> bool {
    let is_www_conf = |file| cx.ws.source(file).display.rsplit('/').next() == Some("www.conf");
    !pool.config.complete
        && pool.name().eq_ignore_ascii_case(STOCK_POOL)
        && !is_www_conf(pool.pool.header.file)
        && !pool.pool.settings.iter().any(|s| is_www_conf(s.location.file))
}

/// FPM004: `listen`, `pm` and a positive `pm.max_children` are mandatory.
pub fn required_missing(cx: &RuleContext, out: &mut Vec<Finding>) {
    for pool in PoolView::all(&cx.ws.fpm) {
        let name = pool.name();
        // Missing because misspelled: the typo's finding (FPM002) takes this one in.
        let typo = |f: Finding, directive: &str| match pool.misspelled(directive) {
            Some(t) => f.with_related(t.name_location(), format!("`{}` is refused here; `{directive}` was probably meant", t.name)),
            None => f,
        };
        let missing = |directive: &str, what: &str| {
            if !adds_to_stock_pool(cx, &pool) {
                return cx.finding(pool.pool.header, format!("pool `{name}` has no `{directive}`: PHP-FPM refuses to start ([pool {name}] {what})"));
            }
            let mut f = cx.finding(
                pool.pool.header,
                format!("pool `{name}` has no `{directive}` here: assumed to add to the `[{name}]` pool of the package's or image's own www.conf (not in the linted tree), which sets it; were this all PHP-FPM reads, it would refuse to start ([pool {name}] {what})"),
            );
            f.severity = Severity::Info;
            f.with_help("lint the whole PHP-FPM configuration (php-fpm.conf and every file it includes) to check the pool as PHP-FPM reads it")
        };
        for (key, directive) in [(pool_key!("listen"), "listen"), (pool_key!("pm"), "pm")] {
            // `listen =` is as good as none.
            if pool.get(key).is_none_or(|s| directive == "listen" && s.value.text.is_empty() && !s.value.is_deferred()) {
                let what = if directive == "pm" { "the process manager is missing (static, dynamic or ondemand)" } else { "no listen address have been defined!" };
                out.push(typo(missing(directive, what), directive));
            }
        }
        match pool.get(pool_key!("pm.max_children")) {
            None => out.push(typo(missing("pm.max_children", "pm.max_children must be a positive value"), "pm.max_children")),
            Some(s) if !s.value.is_deferred() && atoi(&s.value.text) < 1 => out.push(cx.finding(
                s.value_location(),
                format!("pm.max_children = {} in pool `{name}`: PHP-FPM refuses to start ([pool {name}] pm.max_children must be a positive value)", shown(s)),
            )),
            Some(_) => {}
        }
    }
}
register!(required_missing);

fn shown(s: &Setting) -> String {
    if s.value.text.is_empty() { "(empty)".into() } else { s.value.text.to_string() }
}

/// FPM005: the `pm = dynamic` relations PHP-FPM enforces at start, in its order.
pub fn pm_spare_invalid(cx: &RuleContext, out: &mut Vec<Finding>) {
    for pool in PoolView::all(&cx.ws.fpm) {
        let name = pool.name();
        let pm = pool.get(pool_key!("pm")).map(|s| s.value.text.to_ascii_lowercase());
        if pm.as_deref() == Some("ondemand") {
            if let Some(s) = pool.get(pool_key!("pm.process_idle_timeout")) {
                if crate::fpm::numbers::fpm_time(&s.value.text).is_some_and(|t| t <= 0) {
                    out.push(cx.finding(s.value_location(), format!("[pool {name}] pm.process_idle_timeout({}s) must be greater than 0s: PHP-FPM refuses to start", atoi(&s.value.text))));
                }
            }
            continue;
        }
        if pm.as_deref() != Some("dynamic") {
            continue;
        }
        let any_env = [pool_key!("pm.max_children"), pool_key!("pm.min_spare_servers"), pool_key!("pm.max_spare_servers"), pool_key!("pm.start_servers")].into_iter().any(|k| pool.get(k).is_some_and(|s| s.value.is_deferred()));
        let Some(children_s) = pool.get(pool_key!("pm.max_children")) else { continue };
        if any_env {
            continue;
        }
        let children = atoi(&children_s.value.text);
        if children < 1 {
            continue; // FPM004
        }
        let min_s = pool.get(pool_key!("pm.min_spare_servers"));
        let max_s = pool.get(pool_key!("pm.max_spare_servers"));
        let min = min_s.map_or(0, |s| atoi(&s.value.text));
        let max = max_s.map_or(0, |s| atoi(&s.value.text));
        let at = |s: Option<&Setting>| s.map_or(pool.pool.header, |s| s.value_location());
        if min <= 0 {
            out.push(cx.finding(at(min_s), format!("[pool {name}] pm.min_spare_servers({min}) must be a positive value: PHP-FPM refuses to start")));
            continue;
        }
        if max <= 0 {
            out.push(cx.finding(at(max_s), format!("[pool {name}] pm.max_spare_servers({max}) must be a positive value: PHP-FPM refuses to start")));
            continue;
        }
        if min > children || max > children {
            let mut edits = Vec::new();
            for s in [min_s, max_s].into_iter().flatten() {
                if atoi(&s.value.text) > children {
                    edits.push(Edit { location: s.value_location(), content: children.to_string() });
                }
            }
            let culprit = if max > children { max_s } else { min_s };
            out.push(
                cx.finding(at(culprit), format!("[pool {name}] pm.min_spare_servers({min}) and pm.max_spare_servers({max}) cannot be greater than pm.max_children({children}): PHP-FPM refuses to start"))
                    .with_related(children_s.value_location(), "pm.max_children")
                    .with_fix(edit::fix(Applicability::Unsafe, format!("clamp the spare servers to pm.max_children ({children})"), edits)),
            );
            continue;
        }
        if max < min {
            out.push(cx.finding(at(max_s), format!("[pool {name}] pm.max_spare_servers({max}) must not be less than pm.min_spare_servers({min}): PHP-FPM refuses to start")).with_related(at(min_s), "pm.min_spare_servers"));
            continue;
        }
        if let Some(start_s) = pool.get(pool_key!("pm.start_servers")) {
            let start = atoi(&start_s.value.text);
            if start > 0 && (start < min || start > max) {
                let good = min + (max - min) / 2;
                out.push(
                    cx.finding(start_s.value_location(), format!("[pool {name}] pm.start_servers({start}) must not be less than pm.min_spare_servers({min}) and not greater than pm.max_spare_servers({max}): PHP-FPM refuses to start"))
                        .with_fix(edit::fix(Applicability::Unsafe, format!("set pm.start_servers to {good}, PHP-FPM's own default"), vec![Edit { location: start_s.value_location(), content: good.to_string() }])),
                );
                continue;
            }
        }
        if let Some(s) = pool.get(pool_key!("pm.max_spawn_rate")) {
            if atoi(&s.value.text) <= 0 {
                out.push(cx.finding(s.value_location(), format!("[pool {name}] pm.max_spawn_rate must be a positive value: PHP-FPM refuses to start")));
            }
        }
    }
}
register!(pm_spare_invalid);

/// Memory one worker may use: the pool's `memory_limit` (php_admin_value first, as it
/// cannot be raised), else the rule's `worker-memory`.
fn worker_memory(cx: &RuleContext, pool: &PoolView) -> (u64, String) {
    for array in ["php_admin_value", "php_value"] {
        if let Some(s) = pool.array(array, "memory_limit") {
            if let Some(bytes) = parse_php_quantity(&s.value.text) {
                return (bytes, format!("{} (memory_limit)", s.value.text));
            }
        }
    }
    let bytes = cx.size("worker-memory");
    (bytes, format!("{} (option worker-memory)", human(bytes)))
}

/// PHP's quantity syntax: `128M`, `1G`, `512k`, plain bytes; `-1` is unlimited.
fn parse_php_quantity(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.starts_with('-') {
        return None;
    }
    parse_host_size(t)
}

fn human(bytes: u64) -> String {
    if bytes % (1 << 30) == 0 {
        format!("{}GiB", bytes >> 30)
    } else {
        format!("{}MiB", bytes >> 20)
    }
}

/// FPM101: `pm.max_children` below `min`, or below half of what the host's memory allows
/// this pool beside the others (the memory they may use at their own `pm.max_children`).
pub fn max_children_undersized(cx: &RuleContext, out: &mut Vec<Finding>) {
    let min = cx.integer("min");
    let share = cx.float("share");
    let pools = PoolView::all(&cx.ws.fpm);
    // What every pool may use, as FPM102 counts it.
    let usage: Vec<u64> = pools.iter().map(|p| p.int(pool_key!("pm.max_children")).unwrap_or(0).max(0) as u64 * worker_memory(cx, p).0).collect();
    let total: u64 = usage.iter().sum();
    let budget = cx.host.memory.map(|m| (m as f64 * share) as u64);
    // The pools this rule raises, and what the others keep: those split what is left, so
    // that all fixes together stay within the budget (no FPM102).
    let mut flagged = Vec::new();
    for (i, pool) in pools.iter().enumerate() {
        let Some(s) = pool.get(pool_key!("pm.max_children")) else { continue };
        if s.value.is_deferred() {
            continue;
        }
        let children = atoi(&s.value.text);
        if children < 1 {
            continue; // FPM004
        }
        let capacity = budget.map(|b| (b.saturating_sub(total - usage[i]) / worker_memory(cx, pool).0) as i64);
        if children < min || capacity.is_some_and(|c| children * 2 < c) {
            flagged.push((i, s, children, capacity));
        }
    }
    let kept: u64 = (0..pools.len()).filter(|i| !flagged.iter().any(|(j, ..)| j == i)).map(|i| usage[i]).sum();
    let n = flagged.len() as u64;
    for &(i, s, children, capacity) in &flagged {
        let pool = &pools[i];
        let name = pool.name();
        let consequence = format!("when all {children} are busy PHP-FPM logs `[pool {name}] server reached pm.max_children setting ({children})` and requests queue into 502/504");
        let (Some(memory), Some(capacity), Some(budget)) = (cx.host.memory, capacity, budget) else {
            out.push(
                cx.finding(s.value_location(), format!("pm.max_children = {children} in pool `{name}` (below {min}); {consequence}"))
                    .with_help("size it from the host's memory: pass --host-memory or set [host] memory in conflint.toml to get a number"),
            );
            continue;
        };
        let (per_worker, why) = worker_memory(cx, pool);
        let others = total - usage[i];
        let room = if others > 0 { format!("({} × {share} − {} for the other pools) ÷ {why}", human(memory), human(others)) } else { format!("{} × {share} ÷ {why}", human(memory)) };
        let mut f = cx.finding(s.value_location(), format!("pm.max_children = {children} in pool `{name}`; the host could run {capacity} ({room}); {consequence}"));
        let target = (budget.saturating_sub(kept) / n / per_worker) as i64;
        if target > children {
            let why = if n > 1 { format!("set pm.max_children to {target}, its share of the memory beside the other pools") } else { format!("set pm.max_children to {target}") };
            f = f.with_fix(edit::fix(Applicability::Unsafe, why, vec![Edit { location: s.value_location(), content: target.to_string() }]));
        }
        out.push(f);
    }
}
register!(max_children_undersized);

/// FPM102: all pools together may use more memory than the host has.
pub fn max_children_oversized(cx: &RuleContext, out: &mut Vec<Finding>) {
    let Some(memory) = cx.host.memory else { return };
    let share = cx.float("share");
    let budget = (memory as f64 * share) as u64;
    let pools = PoolView::all(&cx.ws.fpm);
    let mut total = 0u64;
    let mut parts = Vec::new();
    for pool in &pools {
        let Some(s) = pool.get(pool_key!("pm.max_children")) else { continue };
        let children = atoi(&s.value.text).max(0) as u64;
        let (per_worker, _) = worker_memory(cx, pool);
        total = total.saturating_add(children.saturating_mul(per_worker));
        parts.push((pool, s, children, per_worker));
    }
    if total <= budget || parts.is_empty() {
        return;
    }
    let (first, rest) = parts.split_first().expect("not empty");
    let arithmetic: Vec<String> = parts.iter().map(|(p, _, c, w)| format!("{} {c} × {}", p.name(), human(*w))).collect();
    let mut f = cx.finding(
        first.1.value_location(),
        format!(
            "the pools may use {} ({}) but the host has {} × {share} = {}: under load the OOM killer ends workers and requests get 502",
            human(total),
            arithmetic.join(" + "),
            human(memory),
            human(budget)
        ),
    );
    for (p, s, _, _) in rest {
        f = f.with_related(s.value_location(), format!("pool `{}`", p.name()));
    }
    out.push(f);
}
register!(max_children_oversized);

/// FPM105: the global `process.max` caps all pools below their sum of `pm.max_children`.
pub fn process_max_below_children(cx: &RuleContext, out: &mut Vec<Finding>) {
    for config in cx.ws.fpm.iter().filter(|c| !c.fragment) {
        let Some(s) = config.global.iter().rev().find(|s| s.array_key.is_none() && s.name == "process.max") else { continue };
        let max = atoi(&s.value.text);
        let sum: i64 = config.pools.iter().filter_map(|p| p.settings.iter().rev().find(|s| s.name == "pm.max_children")).map(|s| atoi(&s.value.text).max(0)).sum();
        if max > 0 && max < sum {
            out.push(cx.finding(
                s.value_location(),
                format!("process.max = {max} but the pools allow {sum} children together: past {max} PHP-FPM logs `The maximum number of processes has been reached` and requests queue into 502/504"),
            ));
        }
    }
}
register!(process_max_below_children);

