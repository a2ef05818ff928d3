//! FPM010: the rest of what `php-fpm -t` refuses once every value parsed
//! (`fpm_conf_process_all_pools`, `fpm_conf_post_process`, the array parser): paths that do
//! not start with `/`, a priority outside [-19, 20], a negative `process.max`, a
//! `log_limit` below 512, a flag that is not a boolean, no pool at all, no `user` when the
//! master runs as root.

use crate::effective::fpm::PoolView;
use crate::finding::{Finding, Location, Severity};
use crate::fpm::directives::{invalid, Kind};
use crate::fpm::numbers::atoi;
use crate::fpm::resolve::{PrefixOrigin, Setting};
use crate::pool_key;
use crate::rules::context::RuleContext;

fn global<'a>(settings: &'a [Setting], name: &str) -> Option<&'a Setting> {
    settings.iter().rev().find(|s| s.array_key.is_none() && s.name.eq_ignore_ascii_case(name))
}

fn refuses(cx: &RuleContext, at: Location, why: String) -> Finding {
    cx.finding(at, format!("{why}: PHP-FPM refuses to start"))
}

pub fn fpm_startup_refused(cx: &RuleContext, out: &mut Vec<Finding>) {
    for config in &cx.ws.fpm {
        // Only when every include= was read: pools may be in a directory left out.
        let all_read = !config.findings.iter().any(|f| f.code == "FPM009") && !cx.ws.findings.iter().any(|f| f.code == "CFL002" && config.files.contains(&f.location.file));
        if let Some(root) = config.root.filter(|_| !config.fragment && config.pools.is_empty() && all_read) {
            let at = Location { file: root, span: crate::source::Span::new(0, 0) };
            out.push(refuses(cx, at, "No pool defined. at least one pool section must be specified in config file".into()).with_help("add a pool ([www] with user, listen, pm) or an include= of pool files"));
        }
        if let Some(s) = global(&config.global, "process.max").filter(|s| !s.value.is_deferred() && atoi(&s.value.text) < 0) {
            out.push(refuses(cx, s.value_location(), "process_max can't be negative".into()));
        }
        if let Some(s) = global(&config.global, "log_limit").filter(|s| !s.value.is_deferred() && atoi(&s.value.text) < 512) {
            out.push(refuses(cx, s.value_location(), "log_limit must be greater than 512".into()));
        }
        if let Some(s) = global(&config.global, "error_log").filter(|s| !s.value.is_deferred() && s.value.text.is_empty()) {
            out.push(refuses(cx, s.value_location(), "failed to open error_log (/var/): Is a directory (21)".into()).with_help("an empty error_log is the log directory itself: name a file, or `syslog`"));
        }
        if let Some(s) = global(&config.global, "process.priority").filter(|s| !s.value.is_deferred() && !(-19..=20).contains(&atoi(&s.value.text))) {
            out.push(refuses(cx, s.value_location(), "process.priority must be included into [-19,20]".into()));
        }
    }
    for pool in PoolView::all(&cx.ws.fpm) {
        let name = pool.name();
        for (key, what) in [(pool_key!("pm.status_path"), "status"), (pool_key!("ping.path"), "ping")] {
            if let Some(s) = pool.get(key).filter(|s| !s.value.is_deferred() && !s.value.text.is_empty() && !s.value.text.starts_with('/')) {
                out.push(refuses(cx, s.value_location(), format!("[pool {name}] the {what} path '{}' must start with a '/'", s.value.text)));
            }
        }
        if let Some(s) = pool.get(pool_key!("process.priority")).filter(|s| !s.value.is_deferred() && !(-19..=20).contains(&atoi(&s.value.text))) {
            out.push(refuses(cx, s.value_location(), format!("[pool {name}] process.priority must be included into [-19,20]")));
        }
        for s in pool.pool.settings.iter().filter(|s| s.array_key.is_some()) {
            let key = s.array_key.as_deref().unwrap_or("");
            if key.is_empty() && s.name != "access.suppress_path" {
                out.push(refuses(cx, s.name_location(), format!("You must provide a key for field '{}'", s.name)));
            } else if s.value.is_deferred() {
            } else if (s.name == "php_flag" || s.name == "php_admin_flag") && invalid(Kind::Bool, &s.value.text).is_some() {
                out.push(refuses(cx, s.value_location(), format!("error while parsing '{}[{key}]' : invalid boolean value", s.name)));
            } else if s.name == "env" && s.value.text.is_empty() {
                // `false`, `off`, `no`, `none` and `null` are empty after the INI scanner too.
                out.push(refuses(cx, s.value_location(), format!("env[{key}]: empty value")));
            }
        }
        if pool.get(pool_key!("request_slowlog_trace_depth")).is_some_and(|s| !s.value.is_deferred() && atoi(&s.value.text) != 0) && pool.get(pool_key!("slowlog")).is_none_or(|s| s.value.text.is_empty()) {
            let s = pool.get(pool_key!("request_slowlog_trace_depth")).expect("checked");
            out.push(refuses(cx, s.name_location(), format!("[pool {name}] 'slowlog' must be specified for use with 'request_slowlog_trace_depth'")));
        }
        // Only a master started as root refuses it. The distributions' services and the
        // official image start it so, and their layout says which one this is; a custom
        // layout (a container running php-fpm as one user) or a pool file read alone may
        // be run otherwise, so there it is a warning.
        if pool.get(pool_key!("user")).is_none() {
            let why = format!("[pool {name}] user has not been defined");
            let help = "PHP-FPM refuses this when its master runs as root, as the distributions' services do: add `user = www-data` (and `group`)";
            let packaged = pool.config.prefix.origin == PrefixOrigin::Layout;
            let f = if pool.config.fragment || !packaged {
                let mut f = cx.finding(pool.pool.header, format!("{why}: PHP-FPM refuses to start if its master runs as root")).with_help(help);
                f.severity = Severity::Warning;
                f
            } else {
                refuses(cx, pool.pool.header, why).with_help(help)
            };
            out.push(f);
        }
    }
}
register!(fpm_startup_refused);
