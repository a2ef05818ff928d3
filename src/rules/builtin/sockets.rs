//! FPM202: a unix socket nobody but root may open.

use crate::effective::address::{fpm_listen, Addr};
use crate::effective::fpm::PoolView;
use crate::pool_key;
use crate::finding::{Applicability, Finding, Severity};
use crate::rules::context::RuleContext;
use crate::rules::edit;

/// The user and group nginx's workers run as, when the tree says: the `user` of the
/// nginx.conf that `at` belongs to (or of the tree's first nginx.conf; the group defaults
/// to the user's name, as nginx does), else `[host] nginx-user`. `None` when neither says:
/// without `user` a root master runs its workers as the build's default (`nobody` in
/// Debian's), and a master that is not root ignores `user` and keeps its own.
pub fn nginx_user(cx: &RuleContext, at: Option<crate::effective::nginx::ScopeId>) -> Option<(String, String)> {
    let from = |d: crate::effective::nginx::Placed| {
        let user = d.arg(0)?.to_string();
        let group = d.arg(1).map_or_else(|| user.clone(), str::to_string);
        Some((user, group))
    };
    let from_conf = match at {
        Some(scope) => cx.nginx().main_directive(scope, "user").and_then(from),
        None => cx.ws.nginx_roots.iter().find_map(|root| {
            let top = cx.nginx().tops.iter().copied().find(|&t| cx.nginx().scope(t).origin == *root)?;
            cx.nginx().first_here(top, "user").and_then(from)
        }),
    };
    from_conf.or_else(|| cx.host.nginx_user.as_ref().map(|u| (u.clone(), u.clone())))
}

/// What to say when nginx's user is not known.
pub const NGINX_USER_UNKNOWN: &str = "nginx's user is not in the linted tree (no `user` in nginx.conf, no `[host] nginx-user` in conflint.toml): a root master runs its workers as the build's default (`nobody` on Debian), one that is not root keeps its own user";

/// A pool that sets `user` is meant for a PHP-FPM master running as root: as root PHP-FPM
/// refuses a pool without one, and only root can hand the socket to another owner. A pool
/// without `user` runs under a master that is not root (a rootless container): the socket
/// belongs to that master's user, and `listen.owner` for anyone else makes the start fail
/// (`failed to chown() the socket`).
pub fn master_is_root(pool: &PoolView) -> bool {
    pool.get(pool_key!("user")).is_some_and(|s| !s.value.text.trim().is_empty())
}

pub fn socket_owner_missing(cx: &RuleContext, out: &mut Vec<Finding>) {
    let user = nginx_user(cx, None);
    for pool in PoolView::all(&cx.ws.fpm) {
        let Some(listen) = pool.get(pool_key!("listen")) else { continue };
        if !matches!(fpm_listen(&listen.value.text, &cx.ws.fpm_prefix), Some(Addr::Unix(_))) {
            continue;
        }
        if [pool_key!("listen.owner"), pool_key!("listen.group"), pool_key!("listen.acl_users"), pool_key!("listen.acl_groups")].into_iter().any(|k| pool.get(k).is_some()) {
            continue;
        }
        if !master_is_root(&pool) || user.as_ref().is_some_and(|(u, _)| u == "root") {
            continue;
        }
        let made = format!("pool `{}` creates {} as root:root 0660 (no listen.owner, listen.group or ACL)", pool.name(), listen.value.text);
        let Some((user, group)) = &user else {
            let mut f = cx.finding(listen.location, format!("{made}: nginx workers that are not root get `(13: Permission denied)` and answer 502"));
            f.severity = Severity::Info;
            out.push(f.with_help(format!("{NGINX_USER_UNKNOWN}; set listen.owner and listen.group to that user")));
            continue;
        };
        let src = cx.ws.source(listen.location.file);
        // Two insertions at the same place apply in order: owner, then group.
        let edits = vec![
            edit::insert_line_after(src, listen.location, &format!("listen.owner = {user}")),
            edit::insert_line_after(src, listen.location, &format!("listen.group = {group}")),
        ];
        out.push(
            cx.finding(listen.location, format!("{made}: nginx's workers ({user}) get `(13: Permission denied)` and answer 502"))
                .with_fix(edit::fix(Applicability::Unsafe, format!("add listen.owner = {user} and listen.group = {group}"), edits)),
        );
    }
}
register!(socket_owner_missing);
