//! The nginx build: its version and configure arguments from `nginx -V`, and which of
//! nginx's own modules it has (built in, dynamic, or not at all).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{overrides, Version};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Build {
    pub version: Version,
    /// `configure arguments:` split at spaces (the `--with-cc-opt='…'` values are kept
    /// whole enough for the `--with`/`--without` words to be read).
    pub arguments: Vec<String>,
}

/// Whether a module of nginx's own source is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    Static,
    /// Built as a dynamic module: present once `load_module` loads this file stem.
    Dynamic(String),
    Absent,
}

/// `nginx -V` output (stderr), e.g. `nginx version: nginx/1.22.1` … `configure arguments: …`.
pub fn parse_v(output: &str) -> Option<Build> {
    let version = output.lines().find_map(|l| l.split_once("nginx version: ")).map(|(_, v)| v)?;
    let version = version.split('/').nth(1)?.split_whitespace().next()?.parse().ok()?;
    let arguments = output.lines().find_map(|l| l.strip_prefix("configure arguments:")).map(|a| a.split_whitespace().map(str::to_string).collect()).unwrap_or_default();
    Some(Build { version, arguments })
}

/// Ask `bin -V` (nothing of the configuration is passed; stopped after two seconds).
pub fn probe(bin: &Path) -> Option<Build> {
    let mut child = Command::new(bin).arg("-V").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < Duration::from_secs(2) => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    parse_v(&format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout)))
}

/// `nginx` on PATH, else in the sbin directories where distributions put it.
pub fn on_path() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(std::path::PathBuf::from))
        .map(|d| d.join("nginx"))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

impl Build {
    /// Is one of `linted` (or a directory holding it) this nginx's own configuration
    /// directory (`--conf-path`'s, else `--prefix`/conf)?
    pub fn serves(&self, linted: &[std::path::PathBuf]) -> bool {
        let arg = |name: &str| self.arguments.iter().find_map(|a| a.strip_prefix(&format!("--{name}=")));
        let conf = match arg("conf-path") {
            Some(p) => Path::new(p).parent().map(Path::to_path_buf),
            None => Some(Path::new(arg("prefix").unwrap_or("/usr/local/nginx")).join("conf")),
        };
        let Some(conf) = conf.and_then(|c| c.canonicalize().ok()) else { return false };
        linted.iter().filter_map(|p| p.canonicalize().ok()).any(|p| p.starts_with(&conf) || conf.starts_with(&p))
    }

    fn has(&self, arg: &str) -> bool {
        self.arguments.iter().any(|a| a == arg)
    }

    /// Third-party modules compiled in (`--add-module`): their directives are unknowable.
    pub fn adds_static_modules(&self) -> bool {
        self.arguments.iter().any(|a| a.starts_with("--add-module"))
    }

    /// Whether nginx's module `module` is in this build, given the configure options of
    /// its release (`options`: `--with-http_ssl_module`, `--without-http_gzip_module`, …).
    pub fn presence(&self, module: &str, options: &[String]) -> Presence {
        if overrides::NOT_ON_LINUX.contains(&module) {
            return Presence::Absent;
        }
        // Mail and stream modules exist only with their subsystem, which may be dynamic.
        let gate = ["mail", "stream"].into_iter().find(|s| module.starts_with(&format!("ngx_{s}_")));
        let gate_presence = match gate {
            Some(s) if self.has(&format!("--with-{s}")) => Presence::Static,
            Some(s) if self.has(&format!("--with-{s}=dynamic")) => Presence::Dynamic(format!("ngx_{s}_module")),
            Some(_) => return Presence::Absent,
            None => Presence::Static,
        };
        if module == "ngx_thread_pool_module" {
            return if self.has("--with-threads") { Presence::Static } else { Presence::Absent };
        }
        let Some(stem) = module.strip_prefix("ngx_") else { return gate_presence };
        let filterless = stem.replace("_filter_module", "_module");
        let option = options.iter().find_map(|o| {
            let name = o.strip_prefix("--without-").or_else(|| o.strip_prefix("--with-"))?;
            (name == stem || name == filterless).then_some((o.starts_with("--without-"), name))
        });
        match option {
            None => gate_presence,
            Some((true, name)) => if self.has(&format!("--without-{name}")) { Presence::Absent } else { gate_presence },
            Some((false, name)) => {
                if self.has(&format!("--with-{name}")) {
                    gate_presence
                } else if self.has(&format!("--with-{name}=dynamic")) {
                    Presence::Dynamic(module.to_string())
                } else {
                    Presence::Absent
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "nginx version: nginx/1.22.1\nbuilt with OpenSSL 3.0.11 19 Sep 2023\nTLS SNI support enabled\nconfigure arguments: --with-cc-opt='-g -O2' --prefix=/usr/share/nginx --with-compat --with-pcre-jit --with-http_ssl_module --with-http_stub_status_module --with-http_realip_module --with-http_auth_request_module --with-http_v2_module --with-http_dav_module --with-http_slice_module --with-threads --with-http_addition_module --with-http_flv_module --with-http_gunzip_module --with-http_gzip_static_module --with-http_mp4_module --with-http_random_index_module --with-http_secure_link_module --with-http_sub_module --with-mail_ssl_module --with-stream_ssl_module --with-stream_ssl_preread_module --with-stream_realip_module --with-http_geoip_module=dynamic --with-http_image_filter_module=dynamic --with-http_perl_module=dynamic --with-http_xslt_module=dynamic --with-mail=dynamic --with-stream=dynamic --with-stream_geoip_module=dynamic\n";

    #[test]
    fn debians_build_has_what_its_configure_line_says() {
        let b = parse_v(DEBIAN).unwrap();
        assert_eq!(b.version, Version(1, 22, 1));
        let options = &super::super::nginx_table(b.version).configure_options;
        assert_eq!(b.presence("ngx_http_proxy_module", options), Presence::Static);
        assert_eq!(b.presence("ngx_http_ssl_module", options), Presence::Static);
        assert_eq!(b.presence("ngx_http_sub_filter_module", options), Presence::Static);
        assert_eq!(b.presence("ngx_http_geoip_module", options), Presence::Dynamic("ngx_http_geoip_module".into()));
        assert_eq!(b.presence("ngx_http_xslt_filter_module", options), Presence::Dynamic("ngx_http_xslt_filter_module".into()));
        assert_eq!(b.presence("ngx_http_degradation_module", options), Presence::Absent);
        assert_eq!(b.presence("ngx_stream_proxy_module", options), Presence::Dynamic("ngx_stream_module".into()));
        assert_eq!(b.presence("ngx_stream_geoip_module", options), Presence::Dynamic("ngx_stream_geoip_module".into()));
        assert_eq!(b.presence("ngx_mail_proxy_module", options), Presence::Dynamic("ngx_mail_module".into()));
        assert_eq!(b.presence("ngx_kqueue_module", options), Presence::Absent);
        assert_eq!(b.presence("ngx_thread_pool_module", options), Presence::Static);
        assert!(!b.adds_static_modules());
    }

    #[test]
    fn the_build_counts_only_for_its_own_configuration_directory() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("etc/nginx");
        let checkout = dir.path().join("home/ops/infra/nginx");
        std::fs::create_dir_all(conf.join("sites-enabled")).unwrap();
        std::fs::create_dir_all(&checkout).unwrap();
        let b = Build { version: Version(1, 22, 1), arguments: vec![format!("--conf-path={}/nginx.conf", conf.display())] };
        assert!(b.serves(&[conf.clone()]));
        assert!(b.serves(&[conf.join("sites-enabled")]), "a part of it");
        assert!(b.serves(&[dir.path().join("etc")]), "a directory holding it");
        assert!(!b.serves(&[checkout]), "a checkout elsewhere");
        assert!(!b.serves(&[dir.path().join("missing")]));
    }
}
