//! `conflint.toml`: read with toml_edit so every error names the key and its line.
//! Unknown keys, unknown rule codes and bad values are errors, never ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml_edit::{ImDocument, Item, Table};

use crate::host::Host;
use crate::rules::{options::{parse_host_size, OptionValue, RawValue}, Registry};
use crate::workspace::exclude::{Excludes, DEFAULT_EXCLUDE};

pub const FILE_NAME: &str = "conflint.toml";

#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: Option<PathBuf>,
    pub select: Option<Vec<String>>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    /// Glob (relative to the config file's directory) → codes or prefixes.
    pub per_file_ignores: Vec<(String, Vec<String>)>,
    /// `[check] exclude`: replaces the default list when given.
    pub exclude: Option<Vec<String>>,
    /// `[check] extend-exclude`: added to `exclude` (or the default list).
    pub extend_exclude: Vec<String>,
    pub rules_dir: Option<PathBuf>,
    /// `[check] max-file-size`: a file over it is reported, not read.
    pub max_file_size: Option<u64>,
    pub nginx_prefix: Option<PathBuf>,
    pub nginx_map_root: Vec<(PathBuf, PathBuf)>,
    pub fpm_prefix: Option<PathBuf>,
    pub fpm_map_root: Vec<(PathBuf, PathBuf)>,
    pub host: Host,
    /// `[rules.CODE]` option overrides, checked against each rule's declared options by
    /// [`Config::check_against`] once the rule registry (with `rules-dir`) is known.
    pub rule_options: BTreeMap<String, BTreeMap<String, OptionValue>>,
    raw_rule_options: Vec<RawRuleOption>,
    /// Every code or prefix written in `[check]`, with its key and line, checked against
    /// the registry like the options.
    raw_selectors: Vec<(String, String, usize)>,
}

#[derive(Debug, Clone)]
struct RawRuleOption {
    code: String,
    name: Option<String>,
    value: Option<RawValue>,
    line: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// The nearest `conflint.toml` in `start` or above it.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    let dir = if start.is_dir() { start.as_path() } else { start.parent()? };
    dir.ancestors().map(|d| d.join(FILE_NAME)).find(|p| p.is_file())
}

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let display = path.display().to_string();
    // `--config` may name a FIFO or a device: read like a config, never blocking.
    let fail = |message: String| ConfigError { path: display.clone(), line: 0, message };
    let bytes = crate::workspace::read::regular_file(path, crate::workspace::read::DEFAULT_MAX_FILE_SIZE).map_err(|e| match e {
        crate::workspace::read::ReadError::Io(e) => fail(e.to_string()),
        refused => fail(refused.reason()),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let display = path.display().to_string();
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let err = |span: Option<std::ops::Range<usize>>, message: String| ConfigError {
        path: display.clone(),
        line: span.map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1),
        message,
    };
    let doc = ImDocument::parse(text.to_string()).map_err(|e| err(e.span(), format!("invalid TOML: {}", e.message())))?;
    let mut cfg = Config { path: Some(path.to_path_buf()), ..Default::default() };
    let root = doc.as_table();
    for (key, item) in root.iter() {
        let span = item.span().or_else(|| root.key(key).and_then(|k| k.span()));
        let table = item.as_table().ok_or_else(|| err(span.clone(), format!("`{key}` must be a table such as [{key}]")))?;
        match key {
            "check" => read_check(table, &mut cfg, &base, text, &err)?,
            "nginx" => {
                for (k, v) in table.iter() {
                    let span = v.span();
                    match k {
                        "prefix" => cfg.nginx_prefix = Some(base.join(string(v).ok_or_else(|| err(span, "nginx.prefix must be a string".into()))?)),
                        "map-root" => cfg.nginx_map_root = map_root(v, &base).map_err(|m| err(span, format!("nginx.map-root: {m}")))?,
                        "version" => {
                            let s = string(v).ok_or_else(|| err(span.clone(), "nginx.version must be a string such as \"1.22.1\"".into()))?;
                            cfg.host.nginx.version = s.parse().map_err(|m| err(span, format!("nginx.version: {m}")))?;
                            cfg.host.nginx.source = crate::nginx::directives::VersionSource::Config;
                        }
                        "modules" => {
                            let list = strings(v).ok_or_else(|| err(span.clone(), "nginx.modules must be a list of module names such as [\"ngx_http_lua_module\"]".into()))?;
                            cfg.host.nginx.modules = Some(list);
                        }
                        _ => return Err(err(span, format!("unknown key `nginx.{k}` (expected prefix, map-root, version, modules)"))),
                    }
                }
            }
            "fpm" => {
                for (k, v) in table.iter() {
                    let span = v.span();
                    match k {
                        "prefix" => cfg.fpm_prefix = Some(PathBuf::from(string(v).ok_or_else(|| err(span, "fpm.prefix must be a string".into()))?)),
                        "map-root" => cfg.fpm_map_root = map_root(v, &base).map_err(|m| err(span, format!("fpm.map-root: {m}")))?,
                        _ => return Err(err(span, format!("unknown key `fpm.{k}` (expected prefix, map-root)"))),
                    }
                }
            }
            "host" => {
                for (k, v) in table.iter() {
                    let span = v.span();
                    match k {
                        "memory" => {
                            let s = string(v).ok_or_else(|| err(span.clone(), "host.memory must be a string such as \"8GiB\"".into()))?;
                            // `auto`: this machine's memory (the sizing rules on the server itself).
                            cfg.host.memory = Some(if s == "auto" {
                                crate::diagnose::live::host_memory().ok_or_else(|| err(span, "host.memory = \"auto\": this machine's /proc/meminfo is not readable".into()))?
                            } else {
                                parse_host_size(&s).ok_or_else(|| err(span, format!("host.memory: `{s}` is not a size such as \"8GiB\"")))?
                            });
                        }
                        "nginx-user" => cfg.host.nginx_user = Some(string(v).ok_or_else(|| err(span, "host.nginx-user must be a string".into()))?),
                        _ => return Err(err(span, format!("unknown key `host.{k}` (expected memory, nginx-user)"))),
                    }
                }
            }
            "rules" => {
                for (code, v) in table.iter() {
                    let line = line_of(text, v.span());
                    let t = v.as_table().ok_or_else(|| err(v.span(), format!("`rules.{code}` must be a table")))?;
                    cfg.raw_rule_options.push(RawRuleOption { code: code.to_string(), name: None, value: None, line });
                    for (name, value) in t.iter() {
                        cfg.raw_rule_options.push(RawRuleOption {
                            code: code.to_string(),
                            name: Some(name.to_string()),
                            value: value.as_value().and_then(RawValue::from_toml),
                            line: line_of(text, value.span()),
                        });
                    }
                }
            }
            _ => return Err(err(span, format!("unknown table `[{key}]` (expected check, nginx, fpm, host, rules)"))),
        }
    }
    Ok(cfg)
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> usize {
    span.map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1)
}

impl Config {
    /// The exclude patterns in effect, relative to the config file's directory. Without a
    /// config file only the defaults apply, which name directories anywhere.
    pub fn excludes(&self, cwd: &Path) -> Excludes {
        let base = self.path.as_deref().and_then(Path::parent).map_or_else(|| PathBuf::from("/"), |d| cwd.join(d));
        let defaults = || DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect();
        let mut patterns: Vec<String> = self.exclude.clone().unwrap_or_else(defaults);
        patterns.extend(self.extend_exclude.iter().cloned());
        // Every pattern was checked when the file was read; the defaults are valid.
        Excludes::new(&base, &patterns).unwrap_or_default()
    }

    /// Check `[check]` codes and `[rules.CODE]` against the rules in effect (built-in and `rules-dir`).
    pub fn check_against(&mut self, registry: &Registry) -> Result<(), ConfigError> {
        let path = self.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        let err = |line: usize, message: String| ConfigError { path: path.clone(), line, message };
        for (code, key, line) in &self.raw_selectors {
            if !registry.selector_known(code) {
                return Err(err(*line, format!("{key}: unknown rule code or prefix `{code}`")));
            }
        }
        for raw in &self.raw_rule_options {
            let meta = registry.get(&raw.code).ok_or_else(|| err(raw.line, format!("unknown rule `{}` in [rules]", raw.code)))?;
            let Some(name) = &raw.name else { continue };
            let spec = meta.options.get(name).ok_or_else(|| {
                let known: Vec<&str> = meta.options.keys().map(String::as_str).collect();
                err(raw.line, format!("rule {} has no option `{name}` (options: {})", meta.code, if known.is_empty() { "none".into() } else { known.join(", ") }))
            })?;
            let value = raw.value.as_ref().ok_or_else(|| err(raw.line, format!("rules.{}.{name}: expected {}", meta.code, spec.kind.name())))?;
            let parsed = spec.kind.parse(value).map_err(|m| err(raw.line, format!("rules.{}.{name}: {m}", meta.code)))?;
            self.rule_options.entry(meta.code.clone()).or_default().insert(name.clone(), parsed);
        }
        Ok(())
    }
}

type ErrFn<'a> = dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError + 'a;

fn read_check(table: &Table, cfg: &mut Config, base: &Path, text: &str, err: &ErrFn) -> Result<(), ConfigError> {
    for (k, v) in table.iter() {
        let span = v.span();
        let line = line_of(text, span.clone());
        let mut codes = |v: &Item| -> Result<Vec<String>, ConfigError> {
            let list = strings(v).ok_or_else(|| err(span.clone(), format!("check.{k} must be a list of rule codes")))?;
            cfg.raw_selectors.extend(list.iter().map(|c| (c.clone(), format!("check.{k}"), line)));
            Ok(list)
        };
        match k {
            "select" => cfg.select = Some(codes(v)?),
            "extend-select" => cfg.extend_select = codes(v)?,
            "ignore" => cfg.ignore = codes(v)?,
            "exclude" => cfg.exclude = Some(exclude_patterns(v, k, base, &span, err)?),
            "extend-exclude" => cfg.extend_exclude = exclude_patterns(v, k, base, &span, err)?,
            "max-file-size" => {
                let s = string(v).ok_or_else(|| err(span.clone(), "check.max-file-size must be a string such as \"64MiB\"".into()))?;
                let size = parse_host_size(&s).ok_or_else(|| err(span.clone(), format!("check.max-file-size: `{s}` is not a size such as \"64MiB\"")))?;
                // Positions in a file are 32-bit (`source::Span`).
                if size > crate::source::MAX_SOURCE_LEN {
                    return Err(err(span, format!("check.max-file-size: `{s}` is over the largest file conflint reads (4 GiB less one byte)")));
                }
                cfg.max_file_size = Some(size);
            }
            "rules-dir" => cfg.rules_dir = Some(base.join(string(v).ok_or_else(|| err(span, "check.rules-dir must be a string".into()))?)),
            "per-file-ignores" => {
                let t = v.as_table_like().ok_or_else(|| err(span.clone(), "check.per-file-ignores must be a table of glob = [codes]".into()))?;
                for (glob, codes_item) in t.iter() {
                    let span = codes_item.span().or(span.clone());
                    glob::Pattern::new(glob).map_err(|e| err(span.clone(), format!("check.per-file-ignores: bad glob `{glob}`: {e}")))?;
                    let list = strings(codes_item).ok_or_else(|| err(span.clone(), format!("check.per-file-ignores.\"{glob}\" must be a list of rule codes")))?;
                    let line = line_of(text, span.clone());
                    cfg.raw_selectors.extend(list.iter().map(|c| (c.clone(), format!("check.per-file-ignores.\"{glob}\""), line)));
                    cfg.per_file_ignores.push((glob.to_string(), list));
                }
            }
            _ => return Err(err(span, format!("unknown key `check.{k}` (expected select, extend-select, ignore, per-file-ignores, exclude, extend-exclude, rules-dir, max-file-size)"))),
        }
    }
    Ok(())
}

/// A list of gitignore-style patterns, each checked now so a bad one names its line.
fn exclude_patterns(v: &Item, key: &str, base: &Path, span: &Option<std::ops::Range<usize>>, err: &ErrFn) -> Result<Vec<String>, ConfigError> {
    let list = strings(v).ok_or_else(|| err(span.clone(), format!("check.{key} must be a list of patterns (gitignore syntax)")))?;
    Excludes::new(base, &list).map_err(|(i, m)| {
        let at = v.as_array().and_then(|a| a.get(i)).and_then(|x| x.span()).or(span.clone());
        err(at, format!("check.{key}: {m}"))
    })?;
    Ok(list)
}

fn string(v: &Item) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn strings(v: &Item) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|x| x.as_str().map(str::to_string)).collect()
}

fn map_root(v: &Item, base: &Path) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let t = v.as_table_like().ok_or("expected a table such as { \"/etc/nginx\" = \"nginx\" }")?;
    t.iter()
        .map(|(system, local)| {
            if !system.starts_with('/') {
                return Err(format!("`{system}` is not an absolute path"));
            }
            let local = local.as_str().ok_or_else(|| format!("`{system}` must map to a directory name"))?;
            Ok((PathBuf::from(system), base.join(local)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Config, ConfigError> {
        parse(s, Path::new("/repo/conflint.toml"))
    }

    #[test]
    fn reads_the_documented_keys() {
        let cfg = parse_str(
            r#"
[check]
select = ["ALL"]
ignore = ["NGX0"]
[check.per-file-ignores]
"legacy/**" = ["NGX001"]

[nginx]
prefix = "nginx"
map-root = { "/etc/nginx" = "nginx" }

[fpm]
prefix = "/usr"
map-root = { "/etc/php/8.2/fpm" = "php" }

[host]
memory = "8GiB"
nginx-user = "www-data"
"#,
        )
        .unwrap();
        assert_eq!(cfg.select, Some(vec!["ALL".to_string()]));
        assert_eq!(cfg.per_file_ignores, vec![("legacy/**".to_string(), vec!["NGX001".to_string()])]);
        assert_eq!(cfg.nginx_prefix, Some(PathBuf::from("/repo/nginx")));
        assert_eq!(cfg.nginx_map_root, vec![(PathBuf::from("/etc/nginx"), PathBuf::from("/repo/nginx"))]);
        assert_eq!(cfg.fpm_map_root, vec![(PathBuf::from("/etc/php/8.2/fpm"), PathBuf::from("/repo/php"))]);
        assert_eq!(cfg.host.memory, Some(8 << 30));
        assert_eq!(cfg.host.nginx_user.as_deref(), Some("www-data"));
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let e = parse_str("[check]\nselect = [\"ALL\"]\nignroe = [\"NGX001\"]\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown key `check.ignroe`"), "{}", e.message);
        let e = parse_str("[check]\nignore = [\"NGX999\"]\n").unwrap().check_against(&Registry::builtin()).unwrap_err();
        assert_eq!((e.line, e.message.contains("unknown rule code or prefix `NGX999`")), (2, true), "{}", e.message);
        let mut cfg = parse_str("\n[rules.NGX777]\nmin = \"60s\"\n").unwrap();
        let e = cfg.check_against(&Registry::builtin()).unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (2, "unknown rule `NGX777` in [rules]"));
        let mut cfg = parse_str("[rules.NGX101]\nmin = \"60s\"\nfix-value = \"5 minutes\"\n").unwrap();
        let e = cfg.check_against(&Registry::builtin()).unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (3, "rules.NGX101.fix-value: `5 minutes` is not a valid nginx time"));
        let e = parse_str("[host]\nmemory = \"lots\"\n").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (2, "host.memory: `lots` is not a size such as \"8GiB\""));
        let auto = parse_str("[host]\nmemory = \"auto\"\n").unwrap();
        assert_eq!(auto.host.memory, crate::diagnose::live::host_memory(), "auto is this machine's MemTotal");
        assert!(auto.host.memory.unwrap_or(0) > 0);
        let e = parse_str("[check]\nexclude = [\n  \"legacy/\",\n  \"a/**{\",\n]\n").unwrap_err();
        assert_eq!(e.line, 4, "{}", e.message);
        assert!(e.message.starts_with("check.exclude: bad pattern `a/**{`"), "{}", e.message);
        let e = parse_str("[cheque]\n").unwrap_err();
        assert!(e.message.starts_with("unknown table `[cheque]`"));
        assert_eq!(e.to_string().split(':').take(2).collect::<Vec<_>>(), vec!["/repo/conflint.toml", "1"]);
    }
}
