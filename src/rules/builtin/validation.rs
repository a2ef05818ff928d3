//! CFL003: what a staged `nginx -t` of the tree would read or run from outside it, and
//! the plan for the parts that can be stood in for (throw-away certificates, writable
//! directories, host names).
//!
//! `nginx -t` is not a pure parser: it dlopens modules, runs embedded Perl, loads
//! certificates, creates the pid file, logs and temp directories. The linter runs it on a
//! pull request's config, so anything that would make it read or execute a file outside
//! the linted tree is refused before the validator starts, and found by `conflint check`
//! too, so the refusal is never a surprise.

use std::collections::{BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};

use crate::effective::nginx::{NginxView, Placed, ScopeId};
use crate::finding::{Finding, Location, Severity};
use crate::fix::stage::Unit;
use crate::rules::context::RuleContext;
use crate::source::FileId;
use crate::workspace::paths::{lexical_normalize, Located};
use crate::workspace::Workspace;

pub const CODE: &str = "CFL003";

/// The facts of the nginx build that matter (Debian's, unless `nginx -V` says otherwise).
#[derive(Clone, Debug)]
pub struct NginxBuild {
    /// `--prefix`: relative `load_module`, log, pid and temp paths are under it.
    pub prefix: PathBuf,
    /// The directory of `--conf-path`: where the live nginx.conf lives.
    pub conf_dir: PathBuf,
    /// Directories `load_module` may load from.
    pub module_dirs: Vec<PathBuf>,
    /// Paths `nginx -t` writes when the config does not name its own: pid, logs, temps.
    pub default_writes: Vec<PathBuf>,
    /// The compiled-in temp directories by the directive that moves them
    /// (`client_body_temp_path` → `/var/lib/nginx/body`).
    pub temp_paths: Vec<(String, PathBuf)>,
}

impl Default for NginxBuild {
    fn default() -> Self {
        let temp_paths: Vec<(String, PathBuf)> = [("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"), ("uwsgi", "uwsgi"), ("scgi", "scgi")]
            .iter()
            .map(|(d, p)| (format!("{d}_temp_path"), PathBuf::from("/var/lib/nginx").join(p)))
            .collect();
        NginxBuild {
            prefix: "/usr/share/nginx".into(),
            conf_dir: "/etc/nginx".into(),
            module_dirs: vec!["/usr/lib/nginx/modules".into(), "/usr/share/nginx/modules".into()],
            default_writes: ["/run/nginx.pid", "/var/log/nginx/error.log", "/var/log/nginx/access.log"]
                .iter()
                .map(PathBuf::from)
                .chain(temp_paths.iter().map(|(_, p)| p.join("x")))
                .collect(),
            temp_paths,
        }
    }
}

/// What a stand-in file must hold to pass `nginx -t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DummyKind {
    Certificate,
    Key,
    DhParam,
    TicketKey,
    Password,
}

/// A file `nginx -t` loads that is absent, or lives outside the tree: a throw-away one
/// stands in for it, so nothing outside the tree is read.
#[derive(Clone, Debug)]
pub struct Dummy {
    /// The path as nginx sees it (absolute, live-system).
    pub system: PathBuf,
    /// Where it belongs in the linted tree, when a staged unit covers it.
    pub local: Option<PathBuf>,
    pub kind: DummyKind,
    pub at: Location,
}

/// One root nginx.conf's staged validation, as far as it can be decided without running.
pub struct NginxPlan {
    pub root: FileId,
    /// Directories to stage: the root's own directory first.
    pub units: Vec<Unit>,
    pub refusals: Vec<Finding>,
    pub dummies: Vec<Dummy>,
    /// Absolute paths nginx -t creates or opens for writing (hashed, not ordered: a
    /// big tree names tens of thousands of log files, and ordering paths is slow).
    pub writes: HashSet<PathBuf>,
    /// Upstream host names nginx -t resolves.
    pub hosts: BTreeSet<String>,
    /// Collect `writes` and `hosts` (staging needs them; the lint rule only the refusals).
    effects: bool,
}

/// Directives naming a file nginx -t loads (relative to the conf directory), and what a
/// stand-in for it holds; `None`: no stand-in is possible.
pub fn loaded_file(name: &str) -> Option<Option<DummyKind>> {
    let kind = match name {
        "ssl_certificate" | "ssl_trusted_certificate" | "ssl_client_certificate" => Some(DummyKind::Certificate),
        "ssl_certificate_key" => Some(DummyKind::Key),
        "ssl_dhparam" => Some(DummyKind::DhParam),
        "ssl_session_ticket_key" => Some(DummyKind::TicketKey),
        "ssl_password_file" => Some(DummyKind::Password),
        "ssl_crl" | "ssl_stapling_file" => None,
        _ => {
            let rest = ["proxy_", "grpc_", "uwsgi_"].iter().find_map(|p| name.strip_prefix(p))?;
            return match rest {
                "ssl_certificate" | "ssl_trusted_certificate" => Some(Some(DummyKind::Certificate)),
                "ssl_certificate_key" => Some(Some(DummyKind::Key)),
                "ssl_password_file" => Some(Some(DummyKind::Password)),
                "ssl_crl" => Some(None),
                _ => None,
            };
        }
    };
    Some(kind)
}

fn runs_perl(name: &str) -> bool {
    name == "perl" || name.starts_with("perl_")
}

fn loads_lua(name: &str) -> bool {
    name.ends_with("_by_lua_file") || name.ends_with("_by_lua_file_dir")
}

/// The directives [`NginxPlan::directive`] may refuse.
fn refusable(name: &str) -> bool {
    name == "load_module" || runs_perl(name) || loads_lua(name) || loaded_file(name).is_some()
}

/// Directives whose first argument is a path nginx -t creates or opens for writing.
pub fn written_path(name: &str) -> bool {
    matches!(name, "pid" | "error_log" | "access_log") || name.ends_with("_temp_path") || name.ends_with("_cache_path")
}

pub const UPSTREAM_PASSES: &[&str] = &["proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass"];

pub fn validation_refused(cx: &RuleContext, out: &mut Vec<Finding>) {
    let build = NginxBuild::default();
    for &top in &cx.nginx().tops {
        if cx.ws.nginx_roots.contains(&cx.nginx().scope(top).origin) {
            // As a lint finding it is a notice of what `--fix` will refuse, at the rule's
            // severity; the refusal itself does not depend on it.
            out.extend(plan(cx.ws, cx.nginx(), top, &build, false).refusals.into_iter().map(|mut f| {
                f.severity = cx.rule.severity;
                f
            }));
        }
    }
}
register!(validation_refused);

/// The directories that stand for live-system ones: the root's own directory (mapped, else
/// the build's conf dir), then every other map-root.
pub fn units_for(ws: &Workspace, root: FileId, build: &NginxBuild) -> Vec<Unit> {
    let mut units = Vec::new();
    let Some(local) = ws.source(root).disk_path.as_ref().and_then(|p| p.parent()).map(Path::to_path_buf) else { return units };
    let system = match ws.confinement.unmap(&local) {
        // `unmap` of the mapped directory itself ends in `/`.
        s if s != local => s.components().collect(),
        _ => build.conf_dir.clone(),
    };
    units.push(Unit { system, local });
    for m in ws.confinement.maps.iter().cloned().chain(ws.confinement.learned()) {
        if m.local.is_dir() && !units.iter().any(|u| u.local == m.local || u.system == m.system) {
            units.push(Unit { system: m.system, local: m.local });
        }
    }
    units
}

pub fn plan_nginx(ws: &Workspace, view: &NginxView, top: ScopeId, build: &NginxBuild) -> NginxPlan {
    plan(ws, view, top, build, true)
}

fn plan(ws: &Workspace, view: &NginxView, top: ScopeId, build: &NginxBuild, effects: bool) -> NginxPlan {
    let root = view.scope(top).origin;
    let units = units_for(ws, root, build);
    let writes = if effects { build.default_writes.iter().cloned().collect() } else { HashSet::new() };
    let mut plan = NginxPlan { root, units, refusals: Vec::new(), dummies: Vec::new(), writes, hosts: BTreeSet::new(), effects };
    let Some(conf) = plan.units.first().cloned() else { return plan };
    let upstreams = if effects { view.upstreams(top) } else { Default::default() };
    let mut files = BTreeSet::new();
    let mut last = None;
    for &s in view.tree_of(top) {
        for p in &view.scope(s).directives {
            if last.replace(p.file) != Some(p.file) {
                files.insert(p.file);
            }
            if effects {
                plan.directive(ws, view, s, *p, &conf, build, &upstreams);
            }
        }
    }
    if !effects {
        // Only refusals are wanted: visit the few names that can cause one, not every
        // directive of the tree.
        for name in view.names().filter(|name| refusable(name)) {
            for (s, p) in view.named(name).filter(|&(s, _)| view.top_of(s) == top) {
                plan.directive(ws, view, s, p, &conf, build, &upstreams);
            }
        }
    }
    for file in files {
        plan.check_staged(ws, file);
    }
    plan
}

impl NginxPlan {
    fn refuse(&mut self, at: Location, message: String, help: &str) {
        self.refusals.push(Finding::new(CODE, Severity::Error, at, message).with_help(help.to_string()));
    }

    /// Every file of the tree must come from a staged directory: anything else would be
    /// read from the live system (`include ../shared/x.conf` from `/etc/nginx`).
    fn check_staged(&mut self, ws: &Workspace, file: FileId) {
        let Some(path) = ws.source(file).disk_path.clone() else { return };
        if self.units.iter().any(|u| path.starts_with(&u.local)) {
            return;
        }
        let Some(at) = ws.nginx.get(&file).and_then(|f| f.included_from.first().copied()) else { return };
        self.refuse(
            at,
            format!("{} lies outside the staged configuration directories; nginx -t would read the live system's file instead", ws.source(file).display),
            "move it under the directory of nginx.conf, or map its directory with --map-root SYSTEM=DIR",
        );
    }

    /// Refuses `p` when validating would run code or read a file from outside the staged
    /// tree ([`refusable`] names); with `effects`, also notes what it writes or resolves.
    #[allow(clippy::too_many_arguments)]
    fn directive(&mut self, ws: &Workspace, view: &NginxView, scope: ScopeId, p: Placed, conf: &Unit, build: &NginxBuild, upstreams: &std::collections::HashMap<&str, ScopeId>) {
        let name = p.name();
        let Some(arg) = p.arg(0) else { return };
        let at = p.arg_location(0);
        if name == "load_module" {
            self.load_module(arg, at, build);
        } else if runs_perl(name) {
            self.refuse(at, format!("`{name}` runs Perl code while nginx -t reads the configuration"), "validate with --validate never, or on a throw-away machine");
        } else if loads_lua(name) {
            let path = absolute(arg, &build.prefix);
            if !matches!(ws.confinement.locate(&path), Located::Inside(_)) {
                self.refuse(at, format!("`{name}` loads {arg}, which is outside the linted tree"), "keep the Lua files in the linted tree (and map their directory with --map-root)");
            }
        } else if let Some(kind) = loaded_file(name) {
            self.loaded(ws, arg, at, kind, conf);
        } else if self.effects {
            self.effect(view, scope, name, arg, build, upstreams);
        }
    }

    /// What a directive makes `nginx -t` write or resolve.
    fn effect(&mut self, view: &NginxView, scope: ScopeId, name: &str, arg: &str, build: &NginxBuild, upstreams: &std::collections::HashMap<&str, ScopeId>) {
        if written_path(name) {
            self.written(name, arg, build);
        } else if name == "listen" {
            if let Some(sock) = arg.strip_prefix("unix:") {
                self.writes.insert(absolute(sock, Path::new("/")));
            } else if let Some(host) = host_of(arg) {
                // `listen app:80;` with a Compose service name.
                self.hosts.insert(host.to_string());
            }
        } else if UPSTREAM_PASSES.contains(&name) {
            if let Some(host) = host_of(arg).filter(|h| !upstreams.contains_key(h)) {
                self.hosts.insert(host.to_string());
            }
        } else if name == "server" && view.block_name(scope) == Some("upstream") {
            // Always a host, even when named like its upstream (`upstream relay { server relay:3000; }`).
            if let Some(host) = host_of(arg) {
                self.hosts.insert(host.to_string());
            }
        }
    }

    fn load_module(&mut self, arg: &str, at: Location, build: &NginxBuild) {
        let path = lexical_normalize(&absolute(arg, &build.prefix));
        let traverses = Path::new(arg).components().any(|c| c == Component::ParentDir);
        if traverses || !build.module_dirs.iter().any(|d| path.starts_with(d)) {
            self.refuse(
                at,
                format!("load_module {arg} loads code from outside nginx's module directory ({})", build.module_dirs[0].display()),
                "only packaged modules (modules/… or /usr/lib/nginx/modules/…) are loaded by a staged validation",
            );
        }
    }

    fn loaded(&mut self, ws: &Workspace, arg: &str, at: Location, kind: Option<DummyKind>, conf: &Unit) {
        // Loaded at run time from variables, or from the config itself.
        if arg.contains('$') || arg.starts_with("data:") || arg.starts_with("engine:") {
            return;
        }
        let relative = !arg.starts_with('/');
        let system = lexical_normalize(&absolute(arg, &conf.system));
        let located = if relative { ws.confinement.locate(&conf.local.join(arg)) } else { ws.confinement.locate(&system) };
        let in_unit = |p: &Path| self.units.iter().any(|u| p.starts_with(&u.local));
        let under_unit_system = self.units.iter().any(|u| system.starts_with(&u.system));
        let escapes = Path::new(arg).components().any(|c| c == Component::ParentDir);
        let local = match &located {
            Located::Inside(real) if in_unit(real) => return,
            Located::Missing(mapped) if in_unit(mapped) && !escapes => Some(mapped.clone()),
            Located::Missing(_) | Located::Outside(_) if !under_unit_system && !escapes => None,
            _ => {
                return self.refuse(at, format!("{arg} leaves the staged configuration directory; nginx -t would read it from the live system"), "keep the file inside the linted tree, or name it by an absolute path outside it (a throw-away stand-in is then used)");
            }
        };
        match kind {
            Some(kind) => self.dummies.push(Dummy { system, local, kind, at }),
            None => self.refuse(at, format!("{arg} is not in the linted tree and no stand-in can be made for it"), "add the file to the linted tree"),
        }
    }

    fn written(&mut self, name: &str, arg: &str, build: &NginxBuild) {
        if arg == "off" || arg == "stderr" || arg.contains(':') || arg.contains('$') {
            return;
        }
        let path = absolute(arg, &build.prefix);
        // A cache or temp path is created as a directory; nginx also needs its parent.
        if name.ends_with("_path") {
            self.writes.insert(path.join("x"));
        }
        self.writes.insert(path);
    }
}

/// `path` made absolute against `base` (nginx's rule for relative paths).
pub fn absolute(path: &str, base: &Path) -> PathBuf {
    if path.starts_with('/') { PathBuf::from(path) } else { base.join(path) }
}

/// The host name an upstream address resolves at startup, if it is a name (not an IP, a
/// unix socket, or something with variables).
pub fn host_of(address: &str) -> Option<&str> {
    if address.contains('$') || address.starts_with("unix:") {
        return None;
    }
    let rest = address.split_once("://").map_or(address, |(_, r)| r);
    let authority = rest.split('/').next()?;
    if authority.starts_with('[') {
        return None;
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let is_name = !host.is_empty() && host.parse::<std::net::IpAddr>().is_err() && host.contains(|c: char| c.is_ascii_alphabetic());
    is_name.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn host_names_of_upstream_addresses() {
        assert_eq!(host_of("http://api.internal:8080/x"), Some("api.internal"));
        assert_eq!(host_of("backend:9000"), Some("backend"));
        assert_eq!(host_of("127.0.0.1:9000"), None);
        assert_eq!(host_of("unix:/run/php/fpm.sock"), None);
        assert_eq!(host_of("http://$backend"), None);
        assert_eq!(host_of("[::1]:9000"), None);
    }
}
