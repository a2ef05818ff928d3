//! Is a file an nginx config, a PHP-FPM config, or neither? Decided by content when it
//! is clear (a PHP-FPM pool file kept in a repository's `nginx/` folder is still INI), by
//! path when the content says little (an empty or comment-only file), the way an ops
//! engineer would guess.

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Nginx,
    Fpm,
    /// Not a config we lint; the reason is shown when the user named the file.
    Other(&'static str),
}

/// PHP-FPM directive names that never appear in nginx configs.
const FPM_KEYS: &[&str] = &[
    "pm", "pm.max_children", "pm.start_servers", "pm.min_spare_servers", "pm.max_spare_servers",
    "pm.max_requests", "listen", "listen.owner", "listen.group", "listen.mode", "user", "group",
    "request_terminate_timeout", "php_admin_value", "php_value", "php_flag", "php_admin_flag",
    "pid", "error_log", "include", "process_control_timeout", "slowlog", "env", "chdir",
    "catch_workers_output", "clear_env", "security.limit_extensions", "pm.process_idle_timeout",
    "emergency_restart_threshold", "daemonize", "log_level", "listen.allowed_clients",
];

/// Names that only make sense in nginx.
const NGINX_KEYS: &[&str] = &[
    "server", "location", "http", "events", "upstream", "listen", "server_name", "root",
    "index", "fastcgi_pass", "proxy_pass", "include", "try_files", "worker_processes",
    "worker_connections", "fastcgi_param", "add_header", "return", "rewrite", "error_page",
    "access_log", "error_log", "ssl_certificate", "map", "types", "user", "pid", "gzip",
    "client_max_body_size", "limit_req_zone", "limit_req", "proxy_set_header", "sendfile",
    "keepalive_timeout", "default_type", "expires", "if", "set", "alias", "charset",
];

pub fn classify(path: &Path, bytes: &[u8]) -> Kind {
    if bytes.is_empty() {
        return by_path(path).unwrap_or(Kind::Other("empty file"));
    }
    if looks_binary(bytes) {
        return Kind::Other("binary file");
    }
    if let Some(why) = other_by_name(path) {
        return Kind::Other(why);
    }
    if let Some(why) = xml(bytes) {
        return Kind::Other(why);
    }
    if is_dump(bytes) {
        return Kind::Other("an `nginx -T` dump, whose parts nginx read from several files; lint it as one with `conflint check - < FILE`");
    }
    let content = Scores::of(bytes);
    content
        .decisive()
        .or_else(|| by_path(path))
        .or_else(|| content.leaning())
        .unwrap_or(Kind::Other("not recognised as an nginx or PHP-FPM configuration"))
}

/// `nginx -T` output saved to a file: it opens (after `nginx: … syntax is ok` lines when
/// stderr was captured too) with a `# configuration file PATH:` header. Read as one file,
/// its parts would lose the contexts their includes give them.
fn is_dump(bytes: &[u8]) -> bool {
    bytes.split(|&b| b == b'\n').map(<[u8]>::trim_ascii).find(|l| !l.is_empty() && !l.starts_with(b"nginx: ")).is_some_and(|l| l.starts_with(b"# configuration file ") && l.ends_with(b":"))
}

/// An XML document: PHP-FPM 5.2's `php-fpm.conf` (`<configuration>`, `<section
/// name="global_options">`) or any other XML, which neither program reads.
fn xml(bytes: &[u8]) -> Option<&'static str> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if !head.starts_with("<?xml") && !head.starts_with("<configuration") {
        return None;
    }
    Some(if head.contains("global_options") || head.contains("max_children") {
        "a PHP-FPM 5.2 XML configuration (PHP-FPM 5.3 and later read only INI files); not linted"
    } else {
        "an XML file, not an nginx or PHP-FPM configuration"
    })
}

/// Why a file with template tags is not linted.
pub(crate) const TEMPLATE: &str = "a template ({{ … }}, {% … %} or %%NAME%% tags) that nginx cannot read as it is; not linted (lint the configuration it renders)";

/// Is this nginx text a template rendered into a config before nginx reads it?
/// `%%NAME%%` substitutions (nginx's own test suite) always say so; Jinja, Liquid or Go
/// tags only when they break nginx's syntax (`parse_failed`), as `{{` may be in a regex.
pub(crate) fn is_template(bytes: &[u8], parse_failed: bool) -> bool {
    has_percent_tags(bytes) || (parse_failed && has_template_tags(bytes))
}

/// Jinja, Liquid, Twig or Go template tags outside `#` comments (`{% if … %}`,
/// `{{ .Env.PORT }}`): never nginx syntax, whose `{` only opens a block.
fn has_template_tags(bytes: &[u8]) -> bool {
    code_lines(bytes).any(|code| contains(code, b"{{") || contains(code, b"{%"))
}

/// `%%NAME%%` substitutions with an upper-case name, outside `#` comments.
fn has_percent_tags(bytes: &[u8]) -> bool {
    let is_name = |n: &[u8]| n.first().is_some_and(u8::is_ascii_uppercase) && n.iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    // Split at each `%`, `%%NAME%%` is a name between two empty pieces.
    contains(bytes, b"%%") && code_lines(bytes).any(|code| {
        let pieces: Vec<&[u8]> = code.split(|&b| b == b'%').collect();
        pieces.windows(3).any(|w| w[0].is_empty() && is_name(w[1]) && w[2].is_empty())
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// The lines of `bytes` that are not `#` comments, leading blanks trimmed.
fn code_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|&b| b == b'\n').map(|l| l.trim_ascii_start()).filter(|l| !l.starts_with(b"#"))
}

/// NUL bytes or mostly non-text in the first 8 KiB.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let odd = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c)).count();
    odd * 10 > head.len()
}

fn by_path(path: &Path) -> Option<Kind> {
    let s = path.to_string_lossy().to_ascii_lowercase().replace('\\', "/");
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    // `.htpasswd`, `.gitignore`, `.env` beside the configs: only their content can tell.
    if name.starts_with('.') {
        return None;
    }
    let dirs: Vec<&str> = s.split('/').collect();
    let in_dir = |d: &str| dirs[..dirs.len().saturating_sub(1)].contains(&d);
    let ext_ok = !has_other_extension(path);
    if name == "php-fpm.conf" || name == "www.conf" || in_dir("pool.d") || in_dir("php-fpm.d") {
        return ext_ok.then_some(Kind::Fpm);
    }
    if in_dir("fpm") && name.ends_with(".conf") {
        return Some(Kind::Fpm);
    }
    if name == "nginx.conf"
        || matches!(name.as_str(), "fastcgi_params" | "fastcgi.conf" | "mime.types" | "proxy_params" | "scgi_params" | "uwsgi_params")
    {
        return Some(Kind::Nginx);
    }
    let nginx_dir = ["nginx", "sites-available", "sites-enabled", "conf.d", "snippets", "modules-enabled", "modules-available"]
        .iter()
        .any(|d| in_dir(d));
    (nginx_dir && ext_ok && !in_dir("php")).then_some(Kind::Nginx)
}

/// Files that are never configs, whatever directory they are in (`nginx/Dockerfile`,
/// `nginx/ssl/site.pem`), with the reason shown when the user named one.
pub(crate) fn other_by_name(path: &Path) -> Option<&'static str> {
    if has_other_extension(path) {
        return Some("not a configuration file (by its extension)");
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let stem = name.split('.').next().unwrap_or("");
    matches!(stem, "dockerfile" | "containerfile" | "makefile" | "readme" | "license" | "changelog" | "jenkinsfile" | "vagrantfile" | "procfile")
        .then_some("not a configuration file (by its name)")
}

/// Documentation, data, code, templates, backups, keys and certificates.
fn has_other_extension(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    matches!(
        ext.as_deref(),
        Some("md" | "txt" | "yml" | "yaml" | "json" | "toml" | "sh" | "py" | "rs" | "php" | "html" | "js" | "j2" | "erb" | "tmpl" | "tpl" | "dist" | "orig" | "bak" | "swp" | "ini" | "lock" | "snap"
            | "pem" | "crt" | "cer" | "key" | "csr" | "der" | "p12" | "pfx" | "htpasswd")
    )
}

/// How many lines look like each syntax (two points for a line only that syntax has).
struct Scores {
    fpm: usize,
    nginx: usize,
}

impl Scores {
    fn of(bytes: &[u8]) -> Scores {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
        let (mut fpm, mut nginx) = (0usize, 0usize);
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') && !line.contains(' ') {
                fpm += 2;
                continue;
            }
            if let Some((key, _)) = line.split_once('=') {
                let key = key.trim().split('[').next().unwrap_or("").to_ascii_lowercase();
                if FPM_KEYS.contains(&key.as_str()) {
                    fpm += 2;
                    continue;
                }
            }
            let first = line.split(|c: char| c.is_whitespace() || c == '{' || c == ';').next().unwrap_or("");
            if NGINX_KEYS.contains(&first) && (line.ends_with(';') || line.ends_with('{') || line.contains('{')) {
                nginx += 2;
            } else if line.ends_with(';') || line.ends_with('{') || line == "}" {
                nginx += 1;
            }
        }
        Scores { fpm, nginx }
    }

    /// Clear enough to overrule the path: one syntax only, or one outweighing the other
    /// four to one (a stray `;` at the end of an INI value, a pool file's `[name]`).
    fn decisive(&self) -> Option<Kind> {
        let clear = |win: usize, lose: usize| (win >= 2 && lose == 0) || (win >= 8 && win >= 4 * lose);
        if clear(self.fpm, self.nginx) {
            Some(Kind::Fpm)
        } else if clear(self.nginx, self.fpm) {
            Some(Kind::Nginx)
        } else {
            None
        }
    }

    /// The winner, when the path does not say.
    fn leaning(&self) -> Option<Kind> {
        if self.fpm >= 2 && self.fpm > self.nginx {
            Some(Kind::Fpm)
        } else if self.nginx >= 2 && self.nginx > self.fpm {
            Some(Kind::Nginx)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_debian_layout_by_path() {
        let k = |p: &str| classify(Path::new(p), b"x");
        assert_eq!(k("etc/nginx/sites-enabled/default"), Kind::Nginx);
        assert_eq!(k("nginx/snippets/fastcgi-php.conf"), Kind::Nginx);
        assert_eq!(k("etc/php/8.2/fpm/pool.d/www.conf"), Kind::Fpm);
        assert_eq!(k("php/8.2/fpm/php-fpm.conf"), Kind::Fpm);
        assert_eq!(k("nginx/README.md"), Kind::Other("not a configuration file (by its extension)"));
        assert_eq!(k("nginx/ssl/shop.pem"), Kind::Other("not a configuration file (by its extension)"));
        assert_eq!(k("nginx/Dockerfile"), Kind::Other("not a configuration file (by its name)"));
        let dump = b"nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n# configuration file /etc/nginx/nginx.conf:\nevents {}\n";
        assert!(matches!(classify(Path::new("saved-dump.conf"), dump), Kind::Other(why) if why.contains("nginx -T")));
        assert_eq!(k("nginx/.htpasswd"), Kind::Other("not recognised as an nginx or PHP-FPM configuration"));
    }

    #[test]
    fn classifies_by_content_elsewhere() {
        let k = |b: &str| classify(Path::new("deploy/site.conf"), b.as_bytes());
        assert_eq!(k("server {\n  listen 80;\n  root /srv;\n}\n"), Kind::Nginx);
        assert_eq!(k("; pool\n[app]\nlisten = /run/app.sock\npm = static\n"), Kind::Fpm);
        assert_eq!(k("hello world\n"), Kind::Other("not recognised as an nginx or PHP-FPM configuration"));
        assert_eq!(classify(Path::new("a.conf"), b"\x7fELF\0\0\x01"), Kind::Other("binary file"));
        assert_eq!(classify(Path::new("a.conf"), b""), Kind::Other("empty file"));
    }

    #[test]
    fn content_overrules_the_folder_name() {
        // A repository keeps its PHP-FPM pools beside the nginx files (centminmod).
        let pool = b"[pool2]\nuser = nginx\nlisten = 127.0.0.1:9002\npm = ondemand\npm.max_children = 8\npm.process_idle_timeout = 10s;\n";
        assert_eq!(classify(Path::new("config/nginx/phpfpmd/pool2.conf"), pool), Kind::Fpm);
        // An nginx file in a PHP folder is nginx.
        assert_eq!(classify(Path::new("php/pool.d/site.conf"), b"server {\n  listen 80;\n  root /srv;\n}\n"), Kind::Nginx);
        // The path still decides when the content says nothing.
        assert_eq!(classify(Path::new("nginx/conf.d/empty.conf"), b"# nothing yet\n"), Kind::Nginx);
        assert_eq!(classify(Path::new("php/pool.d/www.conf"), b"; nothing yet\n"), Kind::Fpm);
    }

    #[test]
    fn template_tags() {
        assert!(has_template_tags(b"server {\n  listen {{ port }};\n}\n"));
        assert!(has_template_tags(b"{% if tls %}\nssl_protocols TLSv1.3;\n{% endif %}\n"));
        assert!(!has_template_tags(b"# {{ not a tag }} in a comment\nlocation ~ ^/a{2,3}$ { return 204; }\n"));
        assert!(is_template(b"%%TEST_GLOBALS%%\nevents {}\n", false));
        assert!(is_template(b"listen unix:%%TESTDIR%%/unix.sock;\n", false));
        assert!(!is_template(b"return 200 \"100%% done%%\";\n", false));
        assert!(!is_template(b"server {\n  listen {{ port }};\n}\n", false), "curly tags count only where nginx cannot parse them");
    }

    #[test]
    fn xml_is_not_ini() {
        let fpm52 = b"<?xml version=\"1.0\" ?>\n<configuration>\n  <section name=\"global_options\">\n    <value name=\"pid_file\">/run/php-fpm.pid</value>\n";
        assert_eq!(
            classify(Path::new("etc/php-fpm.conf"), fpm52),
            Kind::Other("a PHP-FPM 5.2 XML configuration (PHP-FPM 5.3 and later read only INI files); not linted")
        );
        assert_eq!(classify(Path::new("nginx/x.conf"), b"<?xml version=\"1.0\"?><a/>"), Kind::Other("an XML file, not an nginx or PHP-FPM configuration"));
    }
}
