//! Stand-in accounts for user and group names the validator looks up but this machine
//! lacks: `user nginx;` of an Alpine image, `user = deploy` of a production pool. The names
//! belong to the host the config is for, like its upstream host names, so inside the
//! namespace a private /etc/passwd and /etc/group carry them (`getpwnam("nginx") failed`
//! and `cannot get uid for user 'deploy'` say nothing about the config under test).

use std::collections::{BTreeSet, HashSet};
use std::io;
use std::path::{Path, PathBuf};

/// Account files to mount over the live ones, and what was stood in for.
#[derive(Debug, Default)]
pub struct StandIns {
    /// `(prepared, system path)` pairs for the sandbox.
    pub files: Vec<(PathBuf, PathBuf)>,
    pub note: Option<String>,
}

/// First id tried for a stand-in: above distributions' regular users, below `nobody`
/// (65534), and inside the 65536 ids a rootless namespace maps.
const FIRST_ID: u32 = 60000;

/// Stand-ins for the `users` and `groups` absent from this machine's /etc/passwd and
/// /etc/group, written to `dir`. Numeric ids and names with variables need none. A user
/// stood in for gets the group of its own name (nginx's and php-fpm's default group).
pub fn stand_ins(users: &BTreeSet<String>, groups: &BTreeSet<String>, dir: &Path) -> io::Result<StandIns> {
    stand_ins_from(Path::new("/etc"), users, groups, dir)
}

fn stand_ins_from(etc: &Path, users: &BTreeSet<String>, groups: &BTreeSet<String>, dir: &Path) -> io::Result<StandIns> {
    let (passwd, group) = (std::fs::read_to_string(etc.join("passwd"))?, std::fs::read_to_string(etc.join("group"))?);
    let names = |text: &str| -> HashSet<String> { text.lines().filter_map(|l| l.split(':').next()).map(str::to_string).collect() };
    let ids = |text: &str| -> HashSet<u32> { text.lines().filter_map(|l| l.split(':').nth(2)?.parse().ok()).collect() };
    let (have_users, have_groups) = (names(&passwd), names(&group));
    let name_like = |n: &&String| !n.is_empty() && !n.bytes().all(|b| b.is_ascii_digit()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) && !n.starts_with('-');
    let new_users: Vec<&String> = users.iter().filter(name_like).filter(|u| !have_users.contains(*u)).collect();
    let mut new_groups: BTreeSet<&String> = groups.iter().filter(name_like).filter(|g| !have_groups.contains(*g)).collect();
    new_groups.extend(new_users.iter().copied().filter(|u| !have_groups.contains(*u)));
    if new_users.is_empty() && new_groups.is_empty() {
        return Ok(StandIns::default());
    }
    let (mut used_uids, mut used_gids) = (ids(&passwd), ids(&group));
    let fresh = |used: &mut HashSet<u32>| {
        let id = (FIRST_ID..).find(|i| !used.contains(i)).expect("a free id");
        used.insert(id);
        id
    };
    let mut group_out = with_final_newline(group.clone());
    let mut gids = std::collections::HashMap::new();
    for g in &new_groups {
        let gid = fresh(&mut used_gids);
        gids.insert(g.as_str(), gid);
        group_out += &format!("{g}:x:{gid}:\n");
    }
    let gid_of = |name: &str| -> u32 {
        gids.get(name).copied().or_else(|| group.lines().find(|l| l.split(':').next() == Some(name)).and_then(|l| l.split(':').nth(2)?.parse().ok())).unwrap_or(65534)
    };
    let mut passwd_out = with_final_newline(passwd.clone());
    for u in &new_users {
        let uid = fresh(&mut used_uids);
        passwd_out += &format!("{u}:x:{uid}:{}:conflint stand-in:/nonexistent:/usr/sbin/nologin\n", gid_of(u));
    }
    std::fs::create_dir_all(dir)?;
    let (p, g) = (dir.join("passwd"), dir.join("group"));
    std::fs::write(&p, passwd_out)?;
    std::fs::write(&g, group_out)?;
    let mut named: Vec<String> = new_users.iter().map(|u| format!("user {u}")).collect();
    named.extend(new_groups.iter().map(|g| format!("group {g}")));
    Ok(StandIns {
        files: vec![(p, PathBuf::from("/etc/passwd")), (g, PathBuf::from("/etc/group"))],
        note: Some(format!("accounts absent from this machine, in a private /etc/passwd and /etc/group: {}", named.join(", "))),
    })
}

fn with_final_newline(mut s: String) -> String {
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_absent_names_get_entries_with_free_ids() {
        let etc = tempfile::tempdir().unwrap();
        std::fs::write(etc.path().join("passwd"), "root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\ntaken:x:60000:60000::/:/bin/sh").unwrap();
        std::fs::write(etc.path().join("group"), "root:x:0:\nwww-data:x:33:\ntaken:x:60000:\nnginx:x:101:\n").unwrap();
        let out = tempfile::tempdir().unwrap();
        let s = stand_ins_from(etc.path(), &set(&["www-data", "nginx", "1000", "$pool"]), &set(&["deploy", "www-data"]), out.path()).unwrap();
        let passwd = std::fs::read_to_string(out.path().join("passwd")).unwrap();
        let group = std::fs::read_to_string(out.path().join("group")).unwrap();
        assert!(passwd.starts_with("root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\ntaken:x:60000:60000::/:/bin/sh\n"), "{passwd}");
        // `nginx` has a group already; its user gets that group's id.
        assert!(passwd.ends_with("\nnginx:x:60001:101:conflint stand-in:/nonexistent:/usr/sbin/nologin\n"), "{passwd}");
        assert!(group.ends_with("nginx:x:101:\ndeploy:x:60001:\n"), "{group}");
        assert_eq!(s.note.as_deref(), Some("accounts absent from this machine, in a private /etc/passwd and /etc/group: user nginx, group deploy"));
        assert_eq!(s.files[0].1, Path::new("/etc/passwd"));

        let none = stand_ins_from(etc.path(), &set(&["www-data"]), &set(&["root"]), out.path()).unwrap();
        assert!(none.files.is_empty() && none.note.is_none());
    }
}
