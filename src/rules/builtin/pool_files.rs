//! PHP-FPM pool-file consistency: FPM006 duplicates, FPM007 slowlog, FPM008 listen.

use crate::effective::address::{collide, meeting_key, MeetingKey};
use crate::effective::fpm::PoolView;
use crate::fpm::numbers::fpm_time;
use crate::finding::Finding;
use crate::fpm::resolve::Pool;
use crate::rules::context::RuleContext;
use rustc_hash::FxHashMap;

/// FPM006: a scalar set twice in one file of a pool (the earlier one is dead), or an array
/// key set twice anywhere in the pool (the FIRST wins, so a later override is dead).
/// A scalar overridden by a later file (Docker's `zz-docker.conf`) is the intended
/// last-wins override and is not reported.
pub fn duplicate_directive(cx: &RuleContext, out: &mut Vec<Finding>) {
    for pool in PoolView::all(&cx.ws.fpm) {
        let (settings, keys) = (&pool.pool.settings, pool.pool.keys());
        // The latest earlier setting of each identity, so every setting is one lookup: known
        // directives by table position, arrays and unknown names by their text.
        let mut last_known: FxHashMap<u16, usize> = FxHashMap::default();
        let mut last_named: FxHashMap<(&str, Option<&str>), usize> = FxHashMap::default();
        for (i, later) in settings.iter().enumerate() {
            let earlier = match keys[i] {
                Pool::UNKNOWN => last_named.insert((&later.name, later.array_key.as_deref()), i),
                key => last_known.insert(key, i),
            }
            .map(|j| &settings[j]);
            let Some(earlier) = earlier else { continue };
            let name = pool.name();
            match &later.array_key {
                Some(key) => out.push(
                    cx.finding(later.location, format!("{}[{key}] is set again in pool `{name}`, but PHP-FPM applies the FIRST value ({}); this {} never takes effect", later.name, earlier.value.text, later.value.text))
                        .with_related(earlier.location, "the value PHP-FPM uses"),
                ),
                None if earlier.location.file == later.location.file => out.push(
                    cx.finding(earlier.location, format!("{} is set twice in pool `{name}`; the later value {} wins and this one is dead", later.name, later.value.text))
                        .with_related(later.location, "the value PHP-FPM uses"),
                ),
                None => {}
            }
        }
    }
}
register!(duplicate_directive);

/// FPM007: `request_slowlog_timeout` needs `slowlog`, and may not exceed a non-zero
/// `request_terminate_timeout`.
pub fn slowlog_invalid(cx: &RuleContext, out: &mut Vec<Finding>) {
    for pool in PoolView::all(&cx.ws.fpm) {
        let name = pool.name();
        let Some(slow) = pool.get(crate::pool_key!("request_slowlog_timeout")) else { continue };
        let Some(slow_secs) = fpm_time(&slow.value.text).filter(|s| *s > 0) else { continue };
        if pool.get(crate::pool_key!("slowlog")).is_none_or(|s| s.value.text.is_empty()) {
            out.push(cx.finding(slow.location, format!("[pool {name}] 'slowlog' must be specified for use with 'request_slowlog_timeout': PHP-FPM refuses to start")));
        }
        if let Some(term) = pool.get(crate::pool_key!("request_terminate_timeout")) {
            if let Some(term_secs) = fpm_time(&term.value.text).filter(|t| *t > 0 && slow_secs > *t) {
                out.push(
                    cx.finding(slow.value_location(), format!("[pool {name}] 'request_slowlog_timeout' ({slow_secs}) can't be greater than 'request_terminate_timeout' ({term_secs}): PHP-FPM refuses to start"))
                        .with_related(term.value_location(), "request_terminate_timeout"),
                );
            }
        }
    }
}
register!(slowlog_invalid);

/// FPM008: two pools bound to the same address, including forms PHP-FPM's own string
/// comparison misses (`9000` vs `0.0.0.0:9000`, `/run//a.sock`) that fail only at bind.
pub fn duplicate_listen(cx: &RuleContext, out: &mut Vec<Finding>) {
    let listeners = &cx.join().listeners;
    // Only addresses with the same path or port can collide; group them first.
    let mut seen: rustc_hash::FxHashMap<(*const crate::fpm::resolve::FpmConfig, MeetingKey), Vec<usize>> =
        rustc_hash::FxHashMap::with_capacity_and_hasher(listeners.len(), Default::default());
    for (i, l) in listeners.iter().enumerate() {
        let group = seen.entry((l.pool.config as *const _, meeting_key(&l.addr))).or_default();
        let earlier = group.iter().map(|&j| &listeners[j]).find(|e| collide(&e.addr, &l.addr));
        group.push(i);
        if let Some(first) = earlier {
            let same_text = first.listen.value.text == l.listen.value.text;
            let when = if same_text { "PHP-FPM refuses to start" } else { "PHP-FPM's own check misses it; the second bind fails at start" };
            out.push(
                cx.finding(l.listen.value_location(), format!("[pool {}] unable to set listen address as it's already used in another pool '{}' ({}): {when}", l.pool.name(), first.pool.name(), l.addr))
                    .with_related(first.listen.value_location(), format!("pool `{}` listens here", first.pool.name())),
            );
        }
    }
}
register!(duplicate_listen);
