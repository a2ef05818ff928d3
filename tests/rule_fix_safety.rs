//! Fix safety (`../shared/spec/rules.md`, "Fix safety"): a safe fix keeps what the server
//! does, a fix that changes a runtime value is unsafe, and no fix — safe or unsafe — makes
//! another rule's finding appear.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use conflint::check::{lint, Linted, Settings};
use conflint::finding::Applicability;
use conflint::rules::FixKind;
use conflint::workspace::Options;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What a rule's fix does, in the terms of the definition.
#[derive(Clone, Copy, Debug)]
enum Change {
    /// Nothing the server does changes (a comment, the spelling of the value in use).
    Nothing,
    /// A configuration nginx or PHP-FPM refuses becomes the one its text plainly means.
    RefusedToMeant,
    /// A runtime value changes: what it is.
    Runtime(&'static str),
    /// The rule has no fix.
    NoFix,
}

/// Every rule's fix, judged against the definition. A new rule must be added here.
const FIXES: &[(&str, Change)] = &[
    ("CFL001", Change::Nothing),
    ("CFL002", Change::NoFix),
    ("CFL003", Change::NoFix),
    ("FPM001", Change::RefusedToMeant),
    ("FPM002", Change::RefusedToMeant),
    ("FPM003", Change::Nothing),
    ("FPM004", Change::NoFix),
    ("FPM005", Change::Runtime("process counts (which of several readings was meant is a guess)")),
    ("FPM006", Change::NoFix),
    ("FPM007", Change::NoFix),
    ("FPM008", Change::NoFix),
    ("FPM009", Change::NoFix),
    ("FPM010", Change::NoFix),
    ("FPM101", Change::Runtime("a count: pm.max_children")),
    ("FPM102", Change::NoFix),
    ("FPM103", Change::Runtime("a count: pm.max_requests")),
    ("FPM104", Change::Runtime("a limit: listen.backlog")),
    ("FPM105", Change::NoFix),
    ("FPM106", Change::Runtime("a timeout: process_control_timeout")),
    ("FPM201", Change::Runtime("a timeout: request_terminate_timeout")),
    ("FPM202", Change::Runtime("owners: listen.owner, listen.group")),
    ("NGX001", Change::NoFix),
    ("NGX002", Change::NoFix),
    ("NGX003", Change::NoFix),
    ("NGX004", Change::NoFix),
    ("NGX005", Change::NoFix),
    ("NGX006", Change::NoFix),
    ("NGX007", Change::NoFix),
    ("NGX008", Change::NoFix),
    ("NGX009", Change::NoFix),
    ("NGX010", Change::NoFix),
    ("NGX011", Change::NoFix),
    ("NGX101", Change::Runtime("a timeout: fastcgi_read_timeout")),
    ("NGX102", Change::Runtime("a timeout: proxy_read_timeout")),
    ("NGX103", Change::Runtime("a timeout: *_connect_timeout")),
    ("NGX104", Change::NoFix),
    ("NGX110", Change::Runtime("the upstream requests go to")),
    ("NGX111", Change::NoFix),
    ("NGX112", Change::Runtime("protocol version and headers")),
    ("NGX113", Change::NoFix),
    ("NGX114", Change::NoFix),
    ("NGX201", Change::Runtime("a limit: burst")),
    ("NGX202", Change::Runtime("a limit: burst")),
    ("NGX203", Change::Runtime("a status code")),
    ("NGX204", Change::NoFix),
    ("NGX205", Change::Runtime("sizes and rates (nginx has no exact equivalent of the refused text)")),
    ("NGX206", Change::NoFix),
    ("NGX301", Change::Runtime("the params PHP-FPM gets")),
    ("NGX302", Change::Runtime("headers and params")),
    ("NGX401", Change::Runtime("a limit: worker_rlimit_nofile")),
    ("XFP001", Change::Runtime("the address nginx connects to")),
    ("XFP002", Change::Runtime("a timeout: fastcgi_read_timeout")),
    ("XFP003", Change::Runtime("owners: listen.owner, listen.group")),
    ("XFP004", Change::Runtime("the address nginx connects to or PHP-FPM binds")),
    ("XFP005", Change::NoFix),
    ("XFP006", Change::Runtime("an ACL: listen.allowed_clients")),
];

/// The definition: what a fix of this kind must be declared as.
fn required(change: Change) -> FixKind {
    match change {
        Change::Nothing | Change::RefusedToMeant => FixKind::Safe,
        Change::Runtime(_) => FixKind::Unsafe,
        Change::NoFix => FixKind::None,
    }
}

/// Every fixture case of every rule: (code, case path).
fn cases() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for rule in conflint::rules::all() {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(manifest().join("fixtures").join(&rule.code)).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        out.extend(paths.into_iter().map(|p| (rule.code.clone(), p)));
    }
    out
}

fn is_fail(case: &Path) -> bool {
    case.file_name().unwrap().to_string_lossy().starts_with("fail-")
}

/// Lint `case` (relative paths from `cwd`) with every rule, with the case's own conflint.toml.
fn run(cwd: &Path, case: &Path) -> Linted {
    let rel = case.strip_prefix(cwd).unwrap().to_string_lossy().into_owned();
    let registry = conflint::rules::Registry::builtin();
    let mut config = conflint::config::discover(case)
        .filter(|p| p.starts_with(case))
        .map(|p| conflint::config::load(&p).expect("fixture conflint.toml"))
        .unwrap_or_default();
    config.check_against(&registry).expect("fixture conflint.toml matches the rules");
    let settings = Settings { workspace: Options { paths: vec![rel], cwd: cwd.to_path_buf(), ..Default::default() }, config, selection: Default::default(), registry };
    lint(&settings, &mut std::io::empty()).expect("fixture loads")
}

fn copy_case(case: &Path, tmp: &Path) -> PathBuf {
    let target = tmp.join("case");
    if case.is_dir() {
        for entry in ignore::WalkBuilder::new(case).standard_filters(false).build().flatten() {
            let dest = target.join(entry.path().strip_prefix(case).unwrap());
            if entry.path().is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
            } else {
                std::fs::copy(entry.path(), &dest).unwrap();
            }
        }
    } else {
        std::fs::create_dir_all(&target).unwrap();
        std::fs::copy(case, target.join(case.file_name().unwrap())).unwrap();
    }
    target
}

fn conflint(dir: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_conflint")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn every_rules_fix_is_declared_as_the_definition_requires_and_is_what_it_makes() {
    let rules = conflint::rules::all();
    let listed: Vec<&str> = FIXES.iter().map(|(c, _)| *c).collect();
    let codes: Vec<&str> = rules.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(listed, codes, "FIXES must list every rule, in code order");
    // What each rule's checks really produce on its fixtures.
    let mut produced: BTreeMap<String, Vec<Applicability>> = BTreeMap::new();
    for (code, case) in cases() {
        let linted = run(&manifest(), &case);
        for f in linted.findings.iter().filter(|f| f.code == code) {
            if let Some(fix) = &f.fix {
                produced.entry(code.clone()).or_default().push(fix.applicability);
            }
        }
    }
    let mut problems = Vec::new();
    for (rule, (_, change)) in rules.iter().zip(FIXES) {
        let want = required(*change);
        if rule.fix != want {
            let why = match change {
                Change::Nothing => "it keeps what the server does".to_string(),
                Change::RefusedToMeant => "it turns a refused config into what it plainly means".to_string(),
                Change::Runtime(what) => format!("it changes {what}"),
                Change::NoFix => "it has no fix".to_string(),
            };
            problems.push(format!("{}: rules/{}.toml declares fix = {:?}, the definition requires {want:?}: {why}", rule.code, rule.code, rule.fix));
        }
        let made = produced.get(&rule.code).map(Vec::as_slice).unwrap_or_default();
        let as_declared = |a: &Applicability| matches!((a, rule.fix), (Applicability::Safe, FixKind::Safe) | (Applicability::Unsafe, FixKind::Unsafe));
        match rule.fix {
            FixKind::None if !made.is_empty() => problems.push(format!("{}: declares no fix but its check makes {made:?}", rule.code)),
            FixKind::Safe | FixKind::Unsafe if made.is_empty() => problems.push(format!("{}: declares a {:?} fix but no fixture gets one", rule.code, rule.fix)),
            _ if !made.iter().all(as_declared) => problems.push(format!("{}: declares {:?} but makes {made:?}", rule.code, rule.fix)),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Finding counts per code, a slip's folded findings counted too (they are there, only
/// reported as part of the slip).
fn counts(linted: &Linted) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for f in &linted.findings {
        for code in std::iter::once(&f.code).chain(&f.folded) {
            *out.entry(code.clone()).or_default() += 1;
        }
    }
    out
}

#[test]
fn no_fix_makes_a_finding_appear() {
    let mut problems = Vec::new();
    let mut fixed = 0;
    for (code, case) in cases() {
        let tmp = tempfile::tempdir().unwrap();
        let copy = copy_case(&case, tmp.path());
        let before = counts(&run(tmp.path(), &copy));
        let out = conflint(&copy, &["check", "--fix", "--unsafe-fixes", "--validate", "never", "--exit-zero", "--quiet", "."]);
        if !out.contains("Fixed ") {
            continue;
        }
        fixed += 1;
        let after = counts(&run(tmp.path(), &copy));
        for (c, n) in &after {
            let was = before.get(c).copied().unwrap_or(0);
            if *n > was {
                problems.push(format!("{code}/{}: all fixes applied, {c} went from {was} to {n}", case.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(fixed > 30, "only {fixed} fixtures had fixes applied");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// `php-fpm8.2 -tt`'s dump of the effective values of the pools in `files`, timestamps
/// cut; `None` when PHP-FPM refuses them.
fn fpm_dump(dir: &Path, files: &[PathBuf]) -> Option<Vec<String>> {
    let mut main = format!("[global]\nerror_log = {}/fpm.log\npid = {}/fpm.pid\n", dir.display(), dir.display());
    for f in files {
        // As root PHP-FPM wants a user for each pool; re-opening the pool adds one.
        let pools: Vec<String> = conflint::fpm::parse(&std::fs::read(f).unwrap()).lines.into_iter().filter_map(|l| match l.kind {
            conflint::fpm::ast::LineKind::Section(s) => Some(s.name.to_string()),
            _ => None,
        }).collect();
        main += &format!("include = {}\n", f.display());
        for p in pools {
            main += &format!("[{p}]\nuser = www-data\ngroup = www-data\n");
        }
    }
    let conf = dir.join("dump-main.conf");
    std::fs::write(&conf, main).unwrap();
    let o = Command::new("php-fpm8.2").args(["-tt", "-y"]).arg(&conf).output().unwrap();
    let text = String::from_utf8_lossy(&o.stderr).into_owned();
    o.status.success().then(|| text.lines().filter_map(|l| l.split_once("] ").map(|(_, rest)| rest.to_string())).filter(|l| l.starts_with("NOTICE: \t")).collect())
}

#[test]
fn safe_fixes_keep_the_values_php_fpm_uses() {
    if !common::validators_installed() {
        return;
    }
    let mut compared = Vec::new();
    for (code, case) in cases().into_iter().filter(|(_, c)| is_fail(c)) {
        if conflint::rules::get(&code).unwrap().fix != FixKind::Safe {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let copy = copy_case(&case, tmp.path());
        let files: Vec<PathBuf> = ignore::WalkBuilder::new(&copy).build().flatten().map(|e| e.into_path()).filter(|p| p.is_file()).collect();
        let parsed = |p: &Path| conflint::fpm::parse(&std::fs::read(p).unwrap());
        let is_pool_file = |p: &Path| parsed(p).lines.iter().any(|l| matches!(&l.kind, conflint::fpm::ast::LineKind::Section(s) if s.name != "global"));
        let fpm: Vec<PathBuf> = files.into_iter().filter(|p| is_pool_file(p)).collect();
        // Only pools PHP-FPM accepts as they are: a refused one has nothing to keep.
        let Some(before) = (!fpm.is_empty()).then(|| fpm_dump(tmp.path(), &fpm)).flatten() else { continue };
        conflint(&copy, &["check", "--select", &code, "--fix", "--validate", "never", "--exit-zero", "--quiet", "."]);
        let after = fpm_dump(tmp.path(), &fpm).unwrap_or_else(|| panic!("{code}/{}: PHP-FPM refuses the safely fixed pool", case.display()));
        assert_eq!(before, after, "{code}/{}: a safe fix changed what PHP-FPM uses", case.display());
        compared.push(code);
    }
    assert!(compared.iter().any(|c| c == "FPM003"), "FPM003's safe fix was not compared: {compared:?}");
}
