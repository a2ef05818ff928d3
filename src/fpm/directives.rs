//! Every PHP-FPM 8.2 directive, where it may stand, and how PHP-FPM reads its value
//! (`fpm_conf.c`: `ini_fpm_global_options`, `ini_fpm_pool_options`).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Time,
    Bool,
    Str,
    Enum(&'static [&'static str]),
    /// `rlimit_core`: an integer or `unlimited`.
    IntOrUnlimited,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Global,
    Pool,
}

#[derive(Debug)]
pub struct Directive {
    pub name: &'static str,
    pub place: Place,
    pub kind: Kind,
}

const LOG_LEVELS: &[&str] = &["debug", "notice", "warning", "warn", "error", "alert"];
const FACILITIES: &[&str] = &[
    "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user", "uucp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];
const PM: &[&str] = &["static", "dynamic", "ondemand"];

macro_rules! d {
    ($name:literal, $place:ident, $kind:expr) => {
        Directive { name: $name, place: Place::$place, kind: $kind }
    };
}

pub const DIRECTIVES: &[Directive] = &[
    d!("pid", Global, Kind::Str),
    d!("error_log", Global, Kind::Str),
    d!("syslog.ident", Global, Kind::Str),
    d!("syslog.facility", Global, Kind::Enum(FACILITIES)),
    d!("log_buffering", Global, Kind::Bool),
    d!("log_level", Global, Kind::Enum(LOG_LEVELS)),
    d!("log_limit", Global, Kind::Int),
    d!("emergency_restart_threshold", Global, Kind::Int),
    d!("emergency_restart_interval", Global, Kind::Time),
    d!("process_control_timeout", Global, Kind::Time),
    d!("process.max", Global, Kind::Int),
    d!("process.priority", Global, Kind::Int),
    d!("daemonize", Global, Kind::Bool),
    d!("rlimit_files", Global, Kind::Int),
    d!("rlimit_core", Global, Kind::IntOrUnlimited),
    d!("events.mechanism", Global, Kind::Str),
    d!("systemd_interval", Global, Kind::Time),
    d!("prefix", Pool, Kind::Str),
    d!("user", Pool, Kind::Str),
    d!("group", Pool, Kind::Str),
    d!("listen", Pool, Kind::Str),
    d!("listen.backlog", Pool, Kind::Int),
    d!("listen.owner", Pool, Kind::Str),
    d!("listen.group", Pool, Kind::Str),
    d!("listen.mode", Pool, Kind::Str),
    d!("listen.acl_users", Pool, Kind::Str),
    d!("listen.acl_groups", Pool, Kind::Str),
    d!("listen.allowed_clients", Pool, Kind::Str),
    d!("listen.setfib", Pool, Kind::Int),
    d!("process.priority", Pool, Kind::Int),
    d!("process.dumpable", Pool, Kind::Bool),
    d!("pm", Pool, Kind::Enum(PM)),
    d!("pm.max_children", Pool, Kind::Int),
    d!("pm.start_servers", Pool, Kind::Int),
    d!("pm.min_spare_servers", Pool, Kind::Int),
    d!("pm.max_spare_servers", Pool, Kind::Int),
    d!("pm.max_spawn_rate", Pool, Kind::Int),
    d!("pm.process_idle_timeout", Pool, Kind::Time),
    d!("pm.max_requests", Pool, Kind::Int),
    d!("pm.status_path", Pool, Kind::Str),
    d!("pm.status_listen", Pool, Kind::Str),
    d!("ping.path", Pool, Kind::Str),
    d!("ping.response", Pool, Kind::Str),
    d!("access.log", Pool, Kind::Str),
    d!("access.format", Pool, Kind::Str),
    d!("slowlog", Pool, Kind::Str),
    d!("request_slowlog_timeout", Pool, Kind::Time),
    d!("request_slowlog_trace_depth", Pool, Kind::Int),
    d!("request_terminate_timeout", Pool, Kind::Time),
    d!("request_terminate_timeout_track_finished", Pool, Kind::Bool),
    d!("rlimit_files", Pool, Kind::Int),
    d!("rlimit_core", Pool, Kind::IntOrUnlimited),
    d!("chroot", Pool, Kind::Str),
    d!("chdir", Pool, Kind::Str),
    d!("catch_workers_output", Pool, Kind::Bool),
    d!("decorate_workers_output", Pool, Kind::Bool),
    d!("clear_env", Pool, Kind::Bool),
    d!("security.limit_extensions", Pool, Kind::Str),
    d!("apparmor_hat", Pool, Kind::Str),
];

/// Array directives (`name[key] = value`), compared case-sensitively.
pub const ARRAYS: &[&str] = &["env", "php_value", "php_admin_value", "php_flag", "php_admin_flag", "access.suppress_path"];

/// The directive `name` (case-insensitive) valid in `place`.
pub fn lookup(name: &str, place: Place) -> Option<&'static Directive> {
    index(name, place).map(|i| &DIRECTIVES[usize::from(i)])
}

/// A pool directive's position in [`DIRECTIVES`], found at compile time with
/// [`pool_key!`](crate::pool_key): rules ask every pool for the same few directives, and
/// that way skip the name lookup each time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolKey(pub u16);

impl PoolKey {
    /// Fails to compile (in a `const`) when `name` is not a pool directive spelled as the
    /// table spells it.
    pub const fn of(name: &str) -> PoolKey {
        let mut i = 0;
        while i < DIRECTIVES.len() {
            if matches!(DIRECTIVES[i].place, Place::Pool) && same_bytes(DIRECTIVES[i].name.as_bytes(), name.as_bytes()) {
                return PoolKey(i as u16);
            }
            i += 1;
        }
        panic!("not a PHP-FPM pool directive");
    }
}

/// `a == b` for a `const fn` (slice equality is not `const` yet).
const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The [`PoolKey`] of a pool directive, checked at compile time:
///
/// ```
/// let key = conflint::pool_key!("pm.max_children");
/// assert_eq!(conflint::fpm::directives::DIRECTIVES[usize::from(key.0)].name, "pm.max_children");
/// ```
///
/// A name that is not a pool directive does not compile:
///
/// ```compile_fail
/// let key = conflint::pool_key!("pid"); // a [global] directive
/// ```
#[macro_export]
macro_rules! pool_key {
    ($name:literal) => {{
        const KEY: $crate::fpm::directives::PoolKey = $crate::fpm::directives::PoolKey::of($name);
        KEY
    }};
}

/// Slots of the open-addressed name tables: a power of two, well above the directive count.
const SLOTS: usize = 256;

/// Where a name starts probing: its length and three of its bytes tell the table's names
/// apart in few probes, for a fraction of a general string hash.
const fn slot(name: &[u8]) -> usize {
    let n = name.len();
    if n == 0 {
        return 0;
    }
    (n.wrapping_mul(31) ^ (name[0] as usize).wrapping_mul(7) ^ (name[n / 2] as usize).wrapping_mul(17) ^ (name[n - 1] as usize).wrapping_mul(131)) % SLOTS
}

/// For `[global]` and for pools: [`DIRECTIVES`] positions + 1 by [`slot`], probing
/// linearly; 0 is an empty slot. Built at compile time.
const BY_NAME: [[u16; SLOTS]; 2] = {
    let mut tables = [[0u16; SLOTS]; 2];
    let mut i = 0;
    while i < DIRECTIVES.len() {
        let table = &mut tables[matches!(DIRECTIVES[i].place, Place::Pool) as usize];
        let mut s = slot(DIRECTIVES[i].name.as_bytes());
        while table[s] != 0 {
            s = (s + 1) % SLOTS;
        }
        table[s] = i as u16 + 1;
        i += 1;
    }
    tables
};

/// The position of `name` (case-insensitive) in [`DIRECTIVES`] for `place`: every
/// setting of every pool is looked up.
pub fn index(name: &str, place: Place) -> Option<u16> {
    let table = &BY_NAME[usize::from(place == Place::Pool)];
    let find = |name: &str| {
        let mut s = slot(name.as_bytes());
        // The table is never full: an empty slot ends every probe.
        loop {
            match table[s] {
                0 => return None,
                k if DIRECTIVES[usize::from(k - 1)].name == name => return Some(k - 1),
                _ => s = (s + 1) % SLOTS,
            }
        }
    };
    // Names are nearly always written in lower case, as the table has them: only a miss
    // is worth a look for capitals.
    find(name).or_else(|| name.bytes().any(|b| b.is_ascii_uppercase()).then(|| find(&name.to_ascii_lowercase())).flatten())
}

/// Is `name` a directive of the other section kind (`pm` in `[global]`)?
pub fn other_place(name: &str, place: Place) -> bool {
    let other = if place == Place::Global { Place::Pool } else { Place::Global };
    lookup(name, other).is_some()
}

/// Known names within edit distance `max` of `name`, with their distance, nearest first.
pub fn suggestions(name: &str, place: Place, max: usize) -> Vec<(usize, &'static str)> {
    let lower = name.to_ascii_lowercase();
    let mut found: Vec<(usize, &'static str)> = DIRECTIVES
        .iter()
        .filter(|d| d.place == place)
        .map(|d| (edit_distance(&lower, d.name), d.name))
        .filter(|(dist, _)| *dist <= max)
        .collect();
    found.sort();
    found.dedup_by_key(|(_, n)| *n);
    found
}

/// Levenshtein distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Why PHP-FPM refuses `value` for a directive of `kind`, in its words (the text after
/// `unable to parse value for entry '…':`), or `None` when it accepts it. `value` is the
/// text after the INI scanner (keywords already turned into "1"/"").
pub fn invalid(kind: Kind, value: &str) -> Option<String> {
    match kind {
        Kind::Int => {
            let digits = value.strip_prefix('-').unwrap_or(value);
            (!digits.bytes().all(|b| b.is_ascii_digit())).then(|| "is not a valid number (greater or equal than zero)".into())
        }
        Kind::IntOrUnlimited => {
            (value != "unlimited" && !value.bytes().all(|b| b.is_ascii_digit())).then(|| "must be greater than zero or 'unlimited'".into())
        }
        Kind::Time => {
            if value.is_empty() {
                return Some("invalid time value".into());
            }
            let last = value.chars().last().expect("not empty");
            (!(last.is_ascii_digit() || matches!(last, 's' | 'm' | 'h' | 'd'))).then(|| "unknown suffix used in time value".into())
        }
        Kind::Bool => (!matches!(value, "1" | "" | "0" | "yes" | "no" | "true" | "false" | "on" | "off" | "none")).then(|| "invalid boolean value".into()),
        Kind::Enum(allowed) => (!allowed.iter().any(|a| a.eq_ignore_ascii_case(value))).then(|| format!("invalid value (expected {})", allowed.join(", "))),
        Kind::Str => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_directive_is_found_where_it_stands_and_nowhere_else() {
        for (i, d) in DIRECTIVES.iter().enumerate() {
            let other = if d.place == Place::Pool { Place::Global } else { Place::Pool };
            assert_eq!(index(d.name, d.place), Some(i as u16), "{}", d.name);
            assert_eq!(index(&d.name.to_ascii_uppercase(), d.place), Some(i as u16), "{}", d.name);
            let elsewhere = DIRECTIVES.iter().position(|e| e.place == other && e.name == d.name).map(|j| j as u16);
            assert_eq!(index(d.name, other), elsewhere, "{} in the other section", d.name);
        }
        for unknown in ["", "pm.max_child", "pm.max_childrenx", "listen.mod", "catch_workers_outputs", "php_value"] {
            assert_eq!(index(unknown, Place::Pool), None, "{unknown}");
        }
    }

    #[test]
    fn lookups_are_case_insensitive_and_placed() {
        assert!(lookup("PM.MAX_CHILDREN", Place::Pool).is_some());
        assert!(lookup("pm.max_children", Place::Global).is_none());
        assert!(other_place("pm", Place::Global));
        assert_eq!(suggestions("pm.max_childs", Place::Pool, 3), vec![(3, "pm.max_children")]);
        assert_eq!(suggestions("pm.max_chidren", Place::Pool, 2), vec![(1, "pm.max_children")]);
    }

    #[test]
    fn values_php_fpm_refuses() {
        assert!(invalid(Kind::Int, "5k").is_some());
        assert!(invalid(Kind::Int, "-5").is_none());
        assert!(invalid(Kind::Time, "30x").is_some());
        assert!(invalid(Kind::Time, "500ms").is_none(), "accepted, but read as 500 s");
        assert!(invalid(Kind::Bool, "maybe").is_some());
        assert!(invalid(Kind::Bool, "1").is_none());
        assert!(invalid(Kind::Enum(PM), "adaptive").is_some());
    }
}
