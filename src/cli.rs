//! The command line: `conflint check` (the default), `conflint rule`, `conflint init`,
//! `conflint server` and `conflint completions`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::Settings;
use crate::finding::{Finding, Severity};
use crate::report::{self, Format};
use crate::rules::{self, Registry};
use crate::workspace::paths::display_path;
use crate::workspace::Context;

#[derive(Parser, Debug)]
#[command(
    name = "conflint",
    version,
    about = "Lint nginx and PHP-FPM configuration: find the 502/503/504 before the reload",
    // `conflint PATH` is `conflint check PATH` (normalize_args); say so where users look first.
    override_usage = "conflint [OPTIONS] [PATHS]...    (the same as `conflint check`)\n       conflint <COMMAND>",
    after_help = "`conflint [OPTIONS] [PATHS]...` lints PATHS (default \".\"): see `conflint check --help` for its options."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lint files and directories (the default: `conflint PATH` is `conflint check PATH`).
    Check(Box<CheckArgs>),
    /// Explain a rule.
    Rule(RuleArgs),
    /// Write a commented conflint.toml for the tree in DIR (never replaces one without --force).
    Init(InitArgs),
    /// Run the language server (LSP) on standard input and output, for editors.
    Server,
    /// Print the shell completion script for SHELL (e.g. `conflint completions bash`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (conflint.1, conflint-check.1, ...) into DIR, for packages.
    #[command(hide = true)]
    Manpages {
        dir: PathBuf,
    },
    /// From the error logs of a server answering 502/503/504 to the config line and rule
    /// responsible, with live checks of sockets, pools and host (read-only).
    Diagnose(crate::diagnose::command::DiagnoseArgs),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Where to write conflint.toml; the tree below it is read to fill in what it can.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Replace an existing conflint.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ColorWhen {
    /// When standard output is a terminal; NO_COLOR, FORCE_COLOR and CLICOLOR_FORCE decide first.
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Full,
    Concise,
    Json,
    JsonLines,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to lint; `-` reads standard input (an `nginx -T` dump is split
    /// back into its files).
    #[arg(default_value = ".")]
    pub paths: Vec<String>,
    /// The name of the file read from standard input.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,
    #[arg(long, value_enum, env = "CONFLINT_OUTPUT_FORMAT", default_value = "full")]
    pub output_format: OutputFormat,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,
    /// Rules to enable: codes or prefixes (`NGX1`, `FPM`, `ALL`), comma separated.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub select: Option<Vec<String>>,
    /// Rules to enable in addition to `--select`.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub extend_select: Vec<String>,
    /// Rules to disable: codes or prefixes.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub ignore: Vec<String>,
    /// Config file (default: the nearest conflint.toml upward from the first PATH).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Context of a snippet file that no linted file includes.
    #[arg(long, value_parser = ["main", "http", "server", "location"])]
    pub context: Option<String>,
    /// nginx prefix for relative includes (default: the directory of the root nginx.conf).
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// Where absolute paths of the live system live inside the tree, e.g. `/etc/nginx=nginx`.
    #[arg(long, value_name = "SYSTEM=DIR", value_parser = parse_map_root)]
    pub map_root: Vec<(PathBuf, PathBuf)>,
    /// PHP-FPM prefix that relative `include=` patterns resolve against (`php-fpm -p`;
    /// default: from where the tree puts php-fpm.conf, `usr/local/etc/` → `/usr/local`,
    /// else `/usr`, Debian's build).
    #[arg(long, value_name = "DIR")]
    pub fpm_prefix: Option<PathBuf>,
    /// Memory of the PHP host, for the capacity rules (e.g. `8GiB`).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub host_memory: Option<u64>,
    /// Load your own rule files (same schema as the built-in `rules/`).
    #[arg(long, value_name = "DIR")]
    pub rules_dir: Option<PathBuf>,
    /// Let includes read files outside the linted tree.
    #[arg(long)]
    pub allow_outside: bool,
    /// Apply conflint.toml's `exclude`/`extend-exclude` to paths named on the command line
    /// too (they are skipped silently), as a pre-commit hook needs.
    #[arg(long)]
    pub force_exclude: bool,
    /// Lint the named files as part of their project (the nearest directory with .git or
    /// conflint.toml): includers and PHP-FPM pools are read from it, only the named files'
    /// findings are shown and fixed, and named files that are not configs are skipped
    /// silently. For hooks that pass the changed files.
    #[arg(long)]
    pub in_project: bool,
    /// Show counts per rule instead of the findings.
    #[arg(long)]
    pub statistics: bool,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_parser = ["error", "warning", "info"], default_value = "warning")]
    pub fail_on: String,
    /// Exit 0 even when findings remain.
    #[arg(long)]
    pub exit_zero: bool,
    /// Exit 2 when no nginx or PHP-FPM file was found in PATHS (a mistyped path, an empty
    /// checkout) instead of warning and passing.
    #[arg(long)]
    pub error_on_empty: bool,
    /// Print findings and nothing else (no notes, no summary).
    #[arg(short, long)]
    pub quiet: bool,
    /// When to colour the report. `auto`: on a terminal, unless NO_COLOR is set; FORCE_COLOR
    /// or CLICOLOR_FORCE turn colours on for logs that are not terminals (NO_COLOR wins).
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN", overrides_with = "no_color")]
    pub color: ColorWhen,
    /// The same as `--color never`.
    #[arg(long, overrides_with = "color")]
    pub no_color: bool,
    /// Apply safe fixes, after validating the fixed tree (see --validate).
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,
    /// With --fix or --diff: also apply unsafe fixes.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the unified diff of all fixes and write nothing.
    #[arg(long)]
    pub diff: bool,
    /// Validate the fixed tree with the real nginx -t / php-fpm -t before writing.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub validate: ValidateWhen,
    /// The nginx binary for --validate, and whose `nginx -V` picks the directive table when
    /// conflint.toml has no `[nginx] version` (default: nginx on PATH).
    #[arg(long, value_name = "PATH")]
    pub nginx: Option<PathBuf>,
    /// The php-fpm binary for --validate (default: the first php-fpm* on PATH).
    #[arg(long, value_name = "PATH")]
    pub php_fpm: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ValidateWhen {
    /// When the validator is found (and say so when it is not).
    Auto,
    /// Fail (exit 2, nothing written) when validation cannot run.
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct RuleArgs {
    /// The rule code, e.g. NGX101.
    #[arg(required_unless_present = "all")]
    pub code: Option<String>,
    /// Every rule.
    #[arg(long, conflicts_with = "code")]
    pub all: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub output_format: RuleFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum RuleFormat {
    Text,
    Json,
}

fn parse_size_arg(s: &str) -> Result<u64, String> {
    let size = if s == "auto" { crate::diagnose::live::host_memory() } else { crate::rules::options::parse_host_size(s) };
    size.ok_or_else(|| format!("`{s}` is not a size such as 8GiB or 512m (or auto)"))
}

pub(crate) fn parse_map_root(s: &str) -> Result<(PathBuf, PathBuf), String> {
    let (system, local) = s.split_once('=').ok_or("expected SYSTEM=DIR, e.g. /etc/nginx=nginx")?;
    if !system.starts_with('/') {
        return Err(format!("`{system}` is not an absolute path"));
    }
    Ok((PathBuf::from(system), PathBuf::from(local)))
}

/// `conflint [PATHS]` means `conflint check [PATHS]`.
pub fn normalize_args(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let first = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    let is_command = matches!(first, "help" | "-h" | "--help" | "-V" | "--version") || <Cli as clap::CommandFactory>::command().find_subcommand(first).is_some();
    if !is_command {
        args.insert(1.min(args.len()), "check".into());
    }
    args
}

/// A failure that ends the run with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    #[error(transparent)]
    Check(#[from] crate::check::Error),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    RuleFile(#[from] crate::rules::RuleFileError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("language server: {0}")]
    Server(String),
}

pub fn run(cli: Cli) -> Result<i32, Fatal> {
    match cli.command {
        Command::Check(args) => check(*args),
        Command::Rule(args) => rule(args),
        Command::Init(args) => init(args),
        Command::Server => crate::server::run().map_err(Fatal::Server),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "conflint", &mut std::io::stdout().lock());
            Ok(0)
        }
        Command::Manpages { dir } => {
            clap_mangen::generate_to(<Cli as clap::CommandFactory>::command(), &dir)?;
            Ok(0)
        }
        Command::Diagnose(args) => crate::diagnose::command::run(args),
    }
}

/// Whether the report gets colours. `--color always|never` decides; `auto` follows
/// no-color.org, then force-color.org and CLICOLOR_FORCE (NO_COLOR first, as anstream
/// orders it before CLICOLOR_FORCE), then whether the report goes to a terminal. A report
/// written to a file (`-o`) is coloured only when asked for with `--color always`.
fn use_color(args: &CheckArgs) -> bool {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (args.no_color, args.color) {
        (true, _) | (_, ColorWhen::Never) => false,
        (_, ColorWhen::Always) => true,
        (_, ColorWhen::Auto) if args.output_file.is_some() || set("NO_COLOR").is_some() => false,
        // FORCE_COLOR=0 and =false mean "do not force", as Node and most of its tools read them.
        (_, ColorWhen::Auto) if set("FORCE_COLOR").is_some_and(|v| v != "0" && v != "false") || set("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
        (_, ColorWhen::Auto) => std::io::IsTerminal::is_terminal(&std::io::stdout()),
    }
}

/// Nothing was linted: no file of PATHS is an nginx or PHP-FPM file. With --in-project a
/// change without configs is the ordinary case, not a mistake.
fn nothing_linted(ws: &crate::workspace::Workspace, args: &CheckArgs) -> bool {
    !args.in_project && ws.sources.iter().all(|(id, _)| ws.unreported.contains(&id))
}

/// Say that nothing was linted (ruff's "No Python files found"); `Err` ends the run with
/// exit 2 under --error-on-empty.
fn report_nothing_linted(args: &CheckArgs) -> Result<(), Fatal> {
    let paths: Vec<&str> = args.paths.iter().map(|p| if p == "-" { "standard input" } else { p }).collect();
    let what = format!("no nginx or PHP-FPM file found in {}", paths.join(", "));
    if args.error_on_empty {
        return Err(Fatal::Usage(format!("{what}; nothing was linted (--error-on-empty)")));
    }
    if !args.quiet {
        eprintln!("conflint: warning: {what}; nothing was linted");
    }
    Ok(())
}

fn init(args: InitArgs) -> Result<i32, Fatal> {
    if !args.dir.is_dir() {
        return Err(Fatal::Usage(format!("{} is not a directory", args.dir.display())));
    }
    let path = crate::init::run(&args.dir, args.force, &Registry::builtin()).map_err(|e| Fatal::Usage(e.to_string()))?;
    eprintln!("conflint: wrote {}", report::printable(&path.display().to_string()));
    Ok(0)
}

fn rule(args: RuleArgs) -> Result<i32, Fatal> {
    let selected: Vec<&rules::RuleMeta> = if args.all {
        rules::all().iter().collect()
    } else {
        let code = args.code.unwrap_or_default();
        vec![rules::get(&code).ok_or_else(|| Fatal::Usage(format!("unknown rule `{code}` (see `conflint rule --all`)")))?]
    };
    let mut out = std::io::stdout().lock();
    match args.output_format {
        RuleFormat::Text => {
            let pages: Vec<String> = selected.iter().map(|r| r.markdown()).collect();
            write!(out, "{}", pages.join("\n"))?;
        }
        RuleFormat::Json => {
            let items: Vec<serde_json::Value> = selected
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code, "name": r.name, "severity": r.severity, "family": r.family,
                        "summary": r.summary, "fix": format!("{:?}", r.fix).to_lowercase(),
                        "url": r.url(), "explanation": r.markdown(),
                    })
                })
                .collect();
            let value = if args.all { serde_json::Value::Array(items) } else { items.into_iter().next().unwrap_or_default() };
            writeln!(out, "{}", serde_json::to_string_pretty(&value).map_err(std::io::Error::other)?)?;
        }
    }
    Ok(0)
}

fn check(args: CheckArgs) -> Result<i32, Fatal> {
    let cwd = std::env::current_dir()?;
    let config_path = match &args.config {
        Some(p) => Some(p.clone()),
        None => {
            let first = args.paths.iter().find(|p| *p != "-").map_or(cwd.clone(), |p| cwd.join(p));
            crate::config::discover(&first)
        }
    };
    let config = match &config_path {
        Some(p) => crate::config::load(p)?,
        None => Default::default(),
    };
    let mut config = config;
    let registry = match args.rules_dir.as_ref().map(|d| cwd.join(d)).or_else(|| config.rules_dir.clone()) {
        Some(dir) => Registry::builtin().with_rules_dir(&dir)?,
        None => Registry::builtin(),
    };
    config.check_against(&registry)?;
    for sel in args.select.iter().flatten().chain(&args.extend_select).chain(&args.ignore) {
        if !registry.selector_known(sel) {
            return Err(Fatal::Usage(format!("unknown rule code or prefix `{sel}`")));
        }
    }
    if let Some(m) = args.host_memory {
        config.host.memory = Some(m);
    }
    // The directive tables follow the server's nginx: asked with `nginx -V` (no
    // configuration is read), else the newest release conflint knows.
    let linted: Vec<PathBuf> = if args.paths.is_empty() { vec![cwd.clone()] } else { args.paths.iter().filter(|p| *p != "-").map(|p| cwd.join(p)).collect() };
    config.host.nginx.learn(&linted, || args.nginx.clone().or_else(crate::nginx::directives::build::on_path).as_deref().and_then(crate::nginx::directives::build::probe));
    let context = args.context.as_deref().map(|c| c.parse::<Context>().map_err(Fatal::Usage)).transpose()?;
    let mut settings = Settings::from_config(config, registry, &cwd);
    let (selection, opts) = (&mut settings.selection, &mut settings.workspace);
    if args.select.is_some() {
        selection.select = args.select.clone();
    }
    selection.extend_select.extend(args.extend_select.iter().cloned());
    selection.ignore.extend(args.ignore.iter().cloned());
    if !args.map_root.is_empty() {
        opts.map_roots = args.map_root.clone();
    }
    opts.paths = args.paths.clone();
    opts.stdin_filename = args.stdin_filename.clone();
    opts.context = context;
    opts.prefix = args.prefix.clone().or(opts.prefix.take());
    if let Some(p) = &args.fpm_prefix {
        opts.fpm_prefix = Some(p.clone());
    }
    opts.allow_outside = args.allow_outside;
    opts.force_exclude = args.force_exclude;
    opts.in_project = args.in_project;
    if args.in_project && args.paths.iter().any(|p| p == "-") {
        return Err(Fatal::Usage("--in-project takes the paths of files in a project, not `-`".into()));
    }
    if (args.fix || args.diff) && args.paths.iter().any(|p| p == "-") {
        return Err(Fatal::Usage("standard input cannot be fixed: name the files instead of `-`".into()));
    }
    if args.diff {
        return diff(&settings, &args);
    }
    let (linted, validator_fails) = if args.fix {
        match fix(&settings, &args)? {
            Ok(done) => done,
            Err(code) => return Ok(code),
        }
    } else {
        (crate::check::lint(&settings, &mut std::io::stdin().lock())?, false)
    };
    let ws = &linted.workspace;
    let findings = &linted.findings;
    let empty = nothing_linted(ws, &args);
    if empty {
        report_nothing_linted(&args)?;
    }

    // `--statistics` prints the XFP note beside its counts, on stdout: not twice.
    let in_statistics = |n: &crate::workspace::Note| args.statistics && n.message.starts_with("nginx ↔ PHP-FPM");
    if !args.quiet {
        let mut err = std::io::stderr().lock();
        // File names and config text reach the terminal or the CI log: neutralised like
        // `full`, so a name holding `\n::error::` cannot start a workflow command.
        for note in linted.notes.iter().filter(|n| !in_statistics(n)) {
            let message = report::printable(&note.message);
            match note.path.as_str() {
                "" => writeln!(err, "conflint: {message}")?,
                path => writeln!(err, "conflint: {}: {message}", report::printable(path))?,
            }
        }
    }

    let color = use_color(&args);
    let mut sink: Box<dyn Write> = match &args.output_file {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if args.statistics {
        write_statistics(findings, &settings.registry, &mut sink)?;
        for note in linted.notes.iter().filter(|n| in_statistics(n)) {
            writeln!(sink, "note: {}", report::printable(&note.message))?;
        }
    } else {
        let format = match args.output_format {
            OutputFormat::Full => Format::Full,
            OutputFormat::Concise => Format::Concise,
            OutputFormat::Json => Format::Json,
            OutputFormat::JsonLines => Format::JsonLines,
            OutputFormat::Sarif => Format::Sarif,
            OutputFormat::Github => Format::Github,
        };
        let root = matches!(format, Format::Sarif | Format::Github).then(|| report::RepoRoot::discover(&settings.workspace.cwd));
        report::render(format, findings, &ws.sources, &settings.registry, &report::Options { color, root, ..Default::default() }, &mut sink)?;
        // "All checks passed!" would tell whoever mistyped a path that all is well.
        if !args.quiet && !empty {
            match format {
                Format::Full | Format::Concise if validator_fails && findings.is_empty() => writeln!(sink, "No problems found by conflint, but the validator refuses the configuration (see above).")?,
                Format::Full | Format::Concise => write!(sink, "{}", report::summary(findings))?,
                // Annotations go to stdout; the count is for the log, beside them.
                Format::Github => {
                    sink.flush()?;
                    let mut err = std::io::stderr().lock();
                    write!(err, "{}", report::summary(findings))?;
                    if let Some(note) = report::github_overflow_note(findings) {
                        writeln!(err, "{note}")?;
                    }
                }
                Format::Json | Format::JsonLines | Format::Sarif => {}
            }
        }
    }
    sink.flush()?;

    let threshold: Severity = args.fail_on.parse().map_err(Fatal::Usage)?;
    // A tree its validator refuses does not pass, whatever conflint found in it.
    let failing = validator_fails || findings.iter().any(|f| f.severity >= threshold);
    // The process ends next: freeing every node of a big tree one by one only costs time.
    std::mem::forget(linted);
    Ok(if failing && !args.exit_zero { 1 } else { 0 })
}

/// `--diff`: one unified diff of every fix, nothing written; exit 1 when there is one.
fn diff(settings: &Settings, args: &CheckArgs) -> Result<i32, Fatal> {
    let outcome = crate::fix::run(settings, args.unsafe_fixes, &Default::default())?;
    if nothing_linted(&outcome.remaining.workspace, args) {
        report_nothing_linted(args)?;
    }
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut out = std::io::stdout().lock();
    for f in &outcome.files {
        // A name holding `\n::error::` would start a workflow command in a CI log (and
        // cannot be patched anyway). The content stays byte for byte, so the diff applies,
        // except on a terminal, where a person reads it and escape codes must not act.
        let diff = crate::fix::diff::unified(&report::printable(&crate::fix::diff_path(f)), &f.original, &f.fixed);
        if terminal {
            writeln!(out, "{}", report::printable_lines(&diff))?;
        } else {
            write!(out, "{diff}")?;
        }
    }
    for d in &outcome.dropped {
        eprintln!("conflint: {}", report::printable(d));
    }
    Ok(i32::from(!outcome.files.is_empty()))
}

/// `--fix`: fix, validate, write what the validators accept. `Err(code)` ends the run
/// without a report (validation could not run, or was refused). `Ok((linted, failing))`:
/// the lint of the written tree, and whether that tree still fails its validator.
fn fix(settings: &Settings, args: &CheckArgs) -> Result<Result<(crate::check::Linted, bool), i32>, Fatal> {
    use crate::fix::validate::{Isolation, Mode, ValidateError, ValidateOptions};
    let opts = ValidateOptions {
        mode: match args.validate {
            ValidateWhen::Auto => Mode::Auto,
            ValidateWhen::Always => Mode::Always,
            ValidateWhen::Never => Mode::Never,
        },
        nginx: args.nginx.clone(),
        php_fpm: args.php_fpm.clone(),
        cwd: settings.workspace.cwd.clone(),
    };
    let cwd = &settings.workspace.cwd;
    // One --fix at a time on a tree: the second waits (the lock lasts until we return).
    let mut named: Vec<PathBuf> = settings.workspace.paths.iter().map(|p| cwd.join(p)).filter_map(|p| p.canonicalize().ok()).collect();
    if named.is_empty() {
        named.push(cwd.canonicalize()?);
    }
    let mut lock = crate::fix::lock::TreeLock::default();
    let lock_dirs = named.iter().map(|p| if p.is_dir() { p.clone() } else { p.parent().unwrap_or(p).to_path_buf() });
    lock.take(lock_dirs, &mut |d| eprintln!("conflint: another conflint --fix is working on {}; waiting for it to finish", display_path(d, cwd)))?;
    // What an interrupted --fix left behind: before linting, since a write through hard
    // links it began must be finished first.
    let mut scanned = crate::fix::write::dirs_under(&named);
    report_leftovers(&crate::fix::write::leftovers(scanned.iter().map(PathBuf::as_path)), cwd)?;
    let report = crate::fix::validated::fix(settings, args.unsafe_fixes, &opts)?;
    {
        // The directories of files read from elsewhere (an include from outside a named
        // directory).
        let ws = match &report {
            Ok(r) => &r.outcome.remaining.workspace,
            Err(s) => &s.outcome.remaining.workspace,
        };
        let more: std::collections::BTreeSet<PathBuf> = ws.sources.iter().filter_map(|(_, s)| s.disk_path.as_ref()?.parent().map(Path::to_path_buf)).filter(|d| !scanned.contains(d)).collect();
        report_leftovers(&crate::fix::write::leftovers(more.iter().map(PathBuf::as_path)), cwd)?;
        scanned.extend(more);
    }
    let mut err = std::io::stderr().lock();
    let report = match report {
        Ok(r) => r,
        Err(stopped) => {
            for d in &stopped.outcome.dropped {
                writeln!(err, "conflint: {}", report::printable(d))?;
            }
            match stopped.error {
                ValidateError::Refused { findings } => {
                    writeln!(err, "conflint: error: {}; nothing was written", ValidateError::Refused { findings: Vec::new() })?;
                    report::render(Format::Concise, &findings, &stopped.outcome.remaining.workspace.sources, &settings.registry, &report::Options::default(), &mut err)?;
                }
                e => {
                    // The validator's own output, several lines naming the config's files.
                    for line in report::printable_lines(e.to_string().trim_end()).lines() {
                        writeln!(err, "conflint: error: {line}")?;
                    }
                    writeln!(err, "conflint: nothing was written")?;
                }
            }
            return Ok(Err(2));
        }
    };
    for d in &report.outcome.dropped {
        writeln!(err, "conflint: {}", report::printable(d))?;
    }
    for a in &report.already {
        let finding = a.finding.as_ref().map_or(String::new(), |f| format!(" (conflint: {f})"));
        let line = format!("{} already fails before any fix: {}{finding}", a.validator, a.message);
        writeln!(err, "conflint: {}", report::printable(&line))?;
    }
    if !report.left_out.is_empty() {
        writeln!(err, "conflint:   the fixes were validated with {} left out of the staged copy", report::printable(&report.left_out.join(", ")))?;
    }
    for d in &report.dropped {
        let line = format!("left out the {} fix at {} ({}): {} refuses it: {}", d.fix.id.code, d.fix.at, d.fix.message, d.validator, d.message);
        writeln!(err, "conflint: {}", report::printable(&line))?;
    }
    for r in &report.validation.ran {
        let how = match &r.ran.isolation {
            Isolation::Namespace => "in a private namespace".to_string(),
            Isolation::RewrittenCopy { why } => format!("on a rewritten copy (no namespace: {why})"),
        };
        let line = format!("validated {} with {} {how}", r.ran.config, r.ran.validator);
        writeln!(err, "conflint: {}", report::printable(&line))?;
        for s in &r.ran.substitutions {
            writeln!(err, "conflint:   stand-in: {}", report::printable(s))?;
        }
    }
    for s in report.skipped.iter().chain(&report.validation.skipped) {
        writeln!(err, "conflint: warning: NOT VALIDATED: {}", report::printable(s))?;
    }
    let outcome = report.outcome;
    if !outcome.files.is_empty() {
        let files: Vec<_> = outcome.files.iter().map(|f| (f.path.clone(), f.original.clone(), f.fixed.clone())).collect();
        // A --fix on a directory inside ours may be writing there.
        let parents: std::collections::BTreeSet<PathBuf> = files.iter().filter_map(|(p, _, _)| Some(crate::fix::write::target_of(p).ok()?.0.parent()?.to_path_buf())).collect();
        let dirs = parents.into_iter().filter_map(|d| d.canonicalize().ok());
        lock.take(dirs, &mut |d| eprintln!("conflint: another conflint --fix is working on {}; waiting for it to finish", display_path(d, cwd)))?;
        if let Err(e) = crate::fix::write::write_all(&crate::fix::write::RealFs, &files) {
            writeln!(err, "conflint: error: {e}")?;
            return Ok(Err(2));
        }
        let (n, m) = (outcome.applied, outcome.files.len());
        writeln!(err, "Fixed {n} problem{} in {m} file{}", if n == 1 { "" } else { "s" }, if m == 1 { "" } else { "s" })?;
    }
    Ok(Ok((outcome.remaining, report.still_failing)))
}

/// Clear up what interrupted `--fix` runs left, and say so.
fn report_leftovers(found: &[crate::fix::write::Leftover], cwd: &Path) -> std::io::Result<()> {
    if found.is_empty() {
        return Ok(());
    }
    let (removed, finished) = crate::fix::write::clear(found);
    let mut err = std::io::stderr().lock();
    if !removed.is_empty() {
        let names: Vec<String> = removed.iter().map(|p| report::printable(&display_path(p, cwd)).into_owned()).collect();
        let n = names.len();
        writeln!(err, "conflint: removed {n} temporary file{} left by an interrupted conflint --fix: {}", if n == 1 { "" } else { "s" }, names.join(", "))?;
    }
    for (target, done) in finished {
        match done {
            Ok(()) => writeln!(err, "conflint: finished writing {} (an interrupted conflint --fix had begun it)", display_path(&target, cwd))?,
            Err(e) => writeln!(err, "conflint: warning: cannot finish the interrupted write of {}: {e}; its new contents are beside it in .{}.conflint-*.journal", display_path(&target, cwd), target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())?,
        }
    }
    Ok(())
}

fn write_statistics(findings: &[Finding], registry: &Registry, out: &mut dyn Write) -> std::io::Result<()> {
    let mut counts: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for f in findings {
        let e = counts.entry(f.code.as_str()).or_default();
        e.0 += 1;
        if f.fix.as_ref().is_some_and(|x| x.applicability == crate::finding::Applicability::Safe) {
            e.1 += 1;
        }
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    for (code, (n, fixable)) in rows {
        let name = registry.get(code).map_or("", |r| r.name.as_str());
        let mark = if fixable > 0 { "[*]" } else { "   " };
        writeln!(out, "{n:>5}\t{code}\t{mark} {name}")?;
    }
    Ok(())
}
