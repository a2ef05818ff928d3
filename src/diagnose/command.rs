//! `conflint diagnose` on the command line: its options, and turning them into a lint of
//! the configuration plus a [`super::run`].

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::check::Settings;
use crate::cli::Fatal;
use crate::rules::Registry;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum DiagnoseFormat {
    /// For people: causes ranked by count, config lines, rules, fixes, live checks.
    Full,
    /// For scripts (fields documented in docs/diagnose.md).
    Json,
}

#[derive(Args, Debug)]
pub struct DiagnoseArgs {
    /// Config files or directories (default: this machine's /etc/nginx and the PHP-FPM
    /// configurations found the usual ways).
    pub paths: Vec<String>,
    /// A log to read instead of those the configuration names (repeatable); `-` reads a
    /// pasted excerpt from standard input.
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<String>,
    /// Only events since then: a duration (`90m`, `2h`, `1d`) or a time (`2025-01-20 10:00`).
    /// Rotated `.1` and `.gz` files are read when the window reaches back into them.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// The zone the logs' times were written in: `local`, `UTC` or an offset (`+02:00`).
    #[arg(long, default_value = "local", value_name = "ZONE", overrides_with = "timezone")]
    pub timezone: String,
    /// Check the running services (default: when the configuration read is the one
    /// running on this machine).
    #[arg(long, conflicts_with = "no_live")]
    pub live: bool,
    /// Do not check the running services.
    #[arg(long)]
    pub no_live: bool,
    /// Let live checks connect to pass targets that are not loopback addresses.
    #[arg(long)]
    pub probe_remote: bool,
    #[arg(long, value_enum, default_value = "full")]
    pub output_format: DiagnoseFormat,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,
    /// Config file (default: the nearest conflint.toml upward from the first PATH).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// nginx prefix for relative includes (default: the directory of the root nginx.conf).
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// Where absolute paths of the live system live inside the tree, e.g. `/etc/nginx=nginx`.
    #[arg(long, value_name = "SYSTEM=DIR", value_parser = crate::cli::parse_map_root)]
    pub map_root: Vec<(PathBuf, PathBuf)>,
    /// PHP-FPM prefix (`php-fpm -p`; default `/usr`).
    #[arg(long, value_name = "DIR")]
    pub fpm_prefix: Option<PathBuf>,
    /// Let includes read files outside the named paths (always on for the live layout).
    #[arg(long)]
    pub allow_outside: bool,
    /// No colours (also when NO_COLOR is set or the output is not a terminal).
    #[arg(long)]
    pub no_color: bool,
}

pub fn run(args: DiagnoseArgs) -> Result<i32, Fatal> {
    let cwd = std::env::current_dir()?;
    let zone: super::time::Zone = args.timezone.parse().map_err(Fatal::Usage)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let since = args.since.as_deref().map(|s| super::time::parse_since(s, now, zone)).transpose().map_err(Fatal::Usage)?;
    let live_layout = args.paths.is_empty();
    let paths = if live_layout { super::live_layout() } else { args.paths.clone() };
    if paths.is_empty() {
        return Err(Fatal::Usage("no /etc/nginx or PHP-FPM configuration on this machine: name the configuration (conflint diagnose nginx/ php/)".into()));
    }
    if paths.iter().any(|p| p == "-") && args.logs.iter().any(|l| l == "-") {
        return Err(Fatal::Usage("standard input can be the configuration or a log, not both".into()));
    }
    let config_path = match &args.config {
        Some(p) => Some(p.clone()),
        None => crate::config::discover(&paths.iter().find(|p| *p != "-").map_or(cwd.clone(), |p| cwd.join(p))),
    };
    let mut config = match &config_path {
        Some(p) => crate::config::load(p)?,
        None => Default::default(),
    };
    let registry = match &config.rules_dir {
        Some(dir) => Registry::builtin().with_rules_dir(dir)?,
        None => Registry::builtin(),
    };
    config.check_against(&registry)?;
    let mut settings = Settings::from_config(config, registry, &cwd);
    let ws = &mut settings.workspace;
    ws.paths = paths.clone();
    if !args.map_root.is_empty() {
        ws.map_roots = args.map_root.clone();
    }
    ws.prefix = args.prefix.clone().or(ws.prefix.take());
    if let Some(p) = &args.fpm_prefix {
        ws.fpm_prefix = Some(p.clone());
    }
    ws.allow_outside = args.allow_outside || live_layout;
    let mut stdin = std::io::stdin().lock();
    let linted = if args.logs.iter().any(|l| l == "-") { crate::check::lint(&settings, &mut std::io::empty())? } else { crate::check::lint(&settings, &mut stdin)? };
    let opts = super::Options {
        logs: args.logs.clone(),
        since,
        now,
        zone,
        live: if args.live { Some(true) } else if args.no_live { Some(false) } else { None },
        probe_remote: args.probe_remote,
        live_layout,
        // The live layout's paths too: `conflint check --diff` must read the same tree.
        paths: paths.iter().filter(|p| *p != "-").cloned().collect(),
    };
    let diagnosis = super::run(&linted, &settings.registry, &opts, &mut stdin);
    let color = !args.no_color && std::env::var_os("NO_COLOR").is_none() && args.output_file.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut sink: Box<dyn Write> = match &args.output_file {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.output_format {
        DiagnoseFormat::Full => super::report::full(&diagnosis, zone, color, &mut sink)?,
        DiagnoseFormat::Json => super::report::json(&diagnosis, &mut sink)?,
    }
    sink.flush()?;
    Ok(diagnosis.exit_code())
}
