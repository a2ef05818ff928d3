//! FPM202: a unix socket nobody but root may open.

use crate::effective::address::{fpm_listen, Addr};
use crate::effective::fpm::PoolView;
use crate::pool_key;
use crate::finding::{Applicability, Finding};
use crate::rules::context::RuleContext;
use crate::rules::edit;

/// The user nginx's workers run as: the `user` of the nginx.conf that `at` belongs to (or
/// of the tree's first nginx.conf), else `[host] nginx-user`, else Debian's `www-data`; the
/// group defaults to the user's name, as nginx does.
/// Returns `(user, group, from_config)`; `from_config` is false when it is the default.
pub fn nginx_user(cx: &RuleContext, at: Option<crate::effective::nginx::ScopeId>) -> (String, String, bool) {
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
    if let Some((user, group)) = from_conf {
        return (user, group, true);
    }
    match &cx.host.nginx_user {
        Some(user) => (user.clone(), user.clone(), true),
        None => ("www-data".into(), "www-data".into(), false),
    }
}

pub fn socket_owner_missing(cx: &RuleContext, out: &mut Vec<Finding>) {
    let (user, group, _) = nginx_user(cx, None);
    for pool in PoolView::all(&cx.ws.fpm) {
        let Some(listen) = pool.get(pool_key!("listen")) else { continue };
        if !matches!(fpm_listen(&listen.value.text, &cx.ws.fpm_prefix), Some(Addr::Unix(_))) {
            continue;
        }
        if [pool_key!("listen.owner"), pool_key!("listen.group"), pool_key!("listen.acl_users"), pool_key!("listen.acl_groups")].into_iter().any(|k| pool.get(k).is_some()) {
            continue;
        }
        let src = cx.ws.source(listen.location.file);
        // Two insertions at the same place apply in order: owner, then group.
        let edits = vec![
            edit::insert_line_after(src, listen.location, &format!("listen.owner = {user}")),
            edit::insert_line_after(src, listen.location, &format!("listen.group = {group}")),
        ];
        out.push(
            cx.finding(listen.location, format!("pool `{}` creates {} as root:root 0660 (no listen.owner, listen.group or ACL): nginx's workers ({user}) get `(13: Permission denied)` and answer 502", pool.name(), listen.value.text))
                .with_fix(edit::fix(Applicability::Safe, format!("add listen.owner = {user} and listen.group = {group}"), edits)),
        );
    }
}
register!(socket_owner_missing);
