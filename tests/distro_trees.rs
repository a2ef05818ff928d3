//! The layouts the distributions' packages and the official Docker images install, built
//! in a temporary directory the way they sit on a server: linting the stock tree gives no
//! error, the real `nginx -t` / `php-fpm8.2 -t` accept it (through the product's staged
//! validator), and mistakes planted in each are found where they are — and, for the ones
//! that stop the server, refused by the real binaries with the message the finding quotes.
//!
//! Debian's tree is the real one: /etc/nginx and /etc/php/8.2/fpm of the packages installed
//! here, copied at run time. Alpine's, RHEL's and the Docker images' are written from those
//! packages' documented defaults (the nginx data files every package ships unchanged from
//! nginx — mime.types, fastcgi_params, fastcgi.conf — are copied from Debian's).

use std::path::{Path, PathBuf};

use conflint::check::{lint, Linted, Settings};
use conflint::finding::Severity;
use conflint::fix::validate::{Mode, ValidateOptions, Validator};
use conflint::workspace::Options;

fn required() -> bool {
    std::env::var("CONFLINT_REQUIRE_VALIDATORS").as_deref() == Ok("1")
}

/// Skip (saying why), or fail when CONFLINT_REQUIRE_VALIDATORS=1 (CI).
fn skip(why: &str) {
    assert!(!required(), "cannot run (CONFLINT_REQUIRE_VALIDATORS=1): {why}");
    eprintln!("SKIPPED: {why}");
}

fn validators() -> bool {
    let found = ["nginx", "php-fpm8.2"].iter().all(|b| Path::new("/usr/sbin").join(b).exists());
    if !found {
        skip("nginx and php-fpm8.2 are not installed: the stock trees are not validated");
    }
    found
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in ignore::WalkBuilder::new(from).standard_filters(false).follow_links(false).build().flatten() {
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &dest).unwrap();
        } else if meta.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

struct Tree {
    dir: tempfile::TempDir,
}

/// One finding as a test names it: code, path in the tree, line.
type At = (String, String, usize);

impl Tree {
    fn new() -> Tree {
        Tree { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Replace `from` (which must be there) by `to` in a file of the tree.
    fn edit(&self, rel: &str, from: &str, to: &str) {
        let p = self.path(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{rel} has no {from:?}");
        std::fs::write(p, text.replacen(from, to, 1)).unwrap();
    }

    /// The nginx data files every package ships as nginx releases them.
    fn nginx_data_files(&self, conf_dir: &str) {
        for f in ["mime.types", "fastcgi_params", "fastcgi.conf"] {
            let from = Path::new("/etc/nginx").join(f);
            if from.exists() {
                std::fs::create_dir_all(self.path(conf_dir)).unwrap();
                std::fs::copy(from, self.path(conf_dir).join(f)).unwrap();
            }
        }
    }

    fn lint(&self) -> Linted {
        let opts = Options { paths: vec![".".into()], cwd: self.dir.path().canonicalize().unwrap(), ..Default::default() };
        let settings = Settings { workspace: opts, config: Default::default(), selection: Default::default(), registry: conflint::rules::Registry::builtin() };
        lint(&settings, &mut std::io::empty()).expect("the tree loads")
    }

    /// Run the real validators on the tree as it is, through the staged validation `--fix`
    /// uses (the nginx.conf and php-fpm.conf of `which` count as touched, so each is
    /// checked).
    fn validate(&self, linted: &Linted, which: Which) -> Result<(), String> {
        let ws = &linted.workspace;
        let nginx = ws.nginx_roots.iter().copied().filter(|_| which != Which::Fpm);
        let fpm = ws.fpm.iter().filter(|c| !c.fragment && which != Which::Nginx).filter_map(|c| c.root);
        let roots = nginx.chain(fpm);
        let fixed: std::collections::BTreeSet<std::path::PathBuf> = roots.filter_map(|id| ws.source(id).disk_path.clone()).collect();
        let opts = ValidateOptions { mode: Mode::Always, nginx: None, php_fpm: None, cwd: self.dir.path().to_path_buf() };
        let validator = Validator::new(ws, &fixed, &opts).unwrap_or_else(|e| panic!("validation could not run: {e}"));
        let v = validator.run(ws, &std::collections::HashMap::new(), None).unwrap_or_else(|e| panic!("validation could not run: {e}"));
        assert!(!v.ran.is_empty(), "nothing was validated: {:?}", v.skipped);
        match v.passed() {
            true => Ok(()),
            false => Err(v.ran.iter().flat_map(|c| c.problems.iter().map(|p| p.message.clone())).collect::<Vec<_>>().join("\n")),
        }
    }
}

/// Which validators a check runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Both,
    Nginx,
    Fpm,
}

fn at(linted: &Linted, f: &conflint::finding::Finding) -> At {
    let src = linted.workspace.source(f.location.file);
    (f.code.clone(), src.display.clone(), src.position(f.location.span.start()).line)
}

/// No error: an error claims the server refuses to start or answers 50x.
fn assert_no_error(linted: &Linted, what: &str) {
    let errors: Vec<String> = linted
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{:?} {}", at(linted, f), f.message))
        .collect();
    assert!(errors.is_empty(), "{what}: false errors:\n{}", errors.join("\n"));
}

fn assert_found(linted: &Linted, code: &str, path: &str, line: usize) {
    let all: Vec<At> = linted.findings.iter().map(|f| at(linted, f)).collect();
    assert!(all.contains(&(code.to_string(), path.to_string(), line)), "{code} not found at {path}:{line}; found {all:?}");
}

/// The 1-based line of the first line containing `needle`.
fn line_of(tree: &Tree, rel: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(tree.path(rel)).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{rel} has no {needle:?}")) + 1
}

/// The validator refuses the tree, saying `words`.
fn assert_refused(tree: &Tree, linted: &Linted, which: Which, words: &str) {
    if !validators() {
        return;
    }
    match tree.validate(linted, which) {
        Ok(()) => panic!("the real validator accepted a tree planted with a mistake (expected {words:?})"),
        Err(out) => assert!(out.contains(words), "expected {words:?} from the validator, got:\n{out}"),
    }
}

fn assert_accepted(tree: &Tree, linted: &Linted, which: Which) {
    if validators() {
        if let Err(out) = tree.validate(linted, which) {
            panic!("the real validator refused the stock tree:\n{out}");
        }
    }
}

fn pools(linted: &Linted) -> Vec<(String, Option<String>)> {
    linted
        .workspace
        .fpm
        .iter()
        .flat_map(|c| &c.pools)
        .map(|p| (p.name.clone(), p.settings.iter().rev().find(|s| s.name == "listen").map(|s| s.value.text.to_string())))
        .collect()
}

// --- Debian 12: the packages installed here -------------------------------------------

const SITE: &str = "etc/nginx/sites-available/default";
const WWW: &str = "etc/php/8.2/fpm/pool.d/www.conf";

fn debian() -> Option<Tree> {
    if !Path::new("/etc/nginx/nginx.conf").exists() || !Path::new("/etc/php/8.2/fpm/php-fpm.conf").exists() {
        skip("Debian's nginx and php8.2-fpm packages are not installed (/etc/nginx, /etc/php/8.2/fpm)");
        return None;
    }
    let t = Tree::new();
    copy_tree(Path::new("/etc/nginx"), &t.path("etc/nginx"));
    copy_tree(Path::new("/etc/php/8.2/fpm"), &t.path("etc/php/8.2/fpm"));
    Some(t)
}

/// The step every PHP site takes: a location passing to the package's socket.
fn debian_with_php() -> Option<Tree> {
    let t = debian()?;
    t.edit(SITE, "\tserver_name _;\n", "\tserver_name _;\n\n\tlocation ~ \\.php$ {\n\t\tinclude snippets/fastcgi-php.conf;\n\t\tfastcgi_pass unix:/run/php/php8.2-fpm.sock;\n\t}\n");
    Some(t)
}

#[test]
fn debian_stock_tree_has_no_error_and_the_real_validators_accept_it() {
    let Some(t) = debian() else { return };
    let linted = t.lint();
    assert_no_error(&linted, "stock Debian");
    assert_eq!(pools(&linted), vec![("www".to_string(), Some("/run/php/php8.2-fpm.sock".to_string()))]);
    assert_accepted(&t, &linted, Which::Both);
    let Some(t) = debian_with_php() else { return };
    let linted = t.lint();
    assert_no_error(&linted, "Debian with PHP enabled");
    assert!(!linted.notes.iter().any(|n| n.message.contains("(XFP) not checked")), "the site and the pool are joined: {:?}", linted.notes);
    assert_accepted(&t, &linted, Which::Both);
}

#[test]
fn debian_limit_req_typo_is_found_although_conf_d_and_modules_enabled_are_empty() {
    let Some(t) = debian_with_php() else { return };
    t.edit("etc/nginx/nginx.conf", "\tgzip on;\n", "\tgzip on;\n\tlimit_req_zone $binary_remote_addr zone=perip:10m rate=10r/s;\n");
    t.edit(SITE, "\t\ttry_files $uri $uri/ =404;\n", "\t\ttry_files $uri $uri/ =404;\n\t\tlimit_req zone=peripp burst=20 nodelay;\n");
    let linted = t.lint();
    assert_found(&linted, "NGX204", "etc/nginx/sites-available/default", line_of(&t, SITE, "zone=peripp"));
    assert_refused(&t, &linted, Which::Both, "zero size shared memory zone \"peripp\"");
}

#[test]
fn debian_planted_pool_and_socket_mistakes_are_found() {
    let Some(t) = debian_with_php() else { return };
    t.edit(SITE, "unix:/run/php/php8.2-fpm.sock", "unix:/run/php/php8.1-fpm.sock");
    let linted = t.lint();
    assert_found(&linted, "XFP001", SITE, line_of(&t, SITE, "php8.1-fpm.sock"));

    let Some(t) = debian_with_php() else { return };
    t.edit(WWW, "\npm.max_children = 5\n", "\npm.max_children = 0\n");
    let linted = t.lint();
    assert_found(&linted, "FPM004", WWW, line_of(&t, WWW, "pm.max_children = 0"));
    assert_refused(&t, &linted, Which::Both, "pm.max_children must be a positive value");

    let Some(t) = debian_with_php() else { return };
    t.edit(SITE, "include snippets/fastcgi-php.conf;", "include snippets/fastcgi-php8.conf;");
    let linted = t.lint();
    assert_found(&linted, "NGX007", SITE, line_of(&t, SITE, "fastcgi-php8.conf"));
    assert_refused(&t, &linted, Which::Both, "snippets/fastcgi-php8.conf\" failed (2: No such file or directory)");
}

// --- Alpine 3.19/3.20: nginx and php82-fpm from apk -------------------------------------

fn alpine() -> Tree {
    let t = Tree::new();
    t.nginx_data_files("etc/nginx");
    t.write(
        "etc/nginx/nginx.conf",
        "# /etc/nginx/nginx.conf as Alpine's nginx package installs it (abridged comments).\n\
         user nginx;\n\
         worker_processes auto;\n\
         pcre_jit on;\n\
         error_log /var/log/nginx/error.log warn;\n\
         include /etc/nginx/modules/*.conf;\n\
         include /etc/nginx/conf.d/*.conf;\n\
         \n\
         events {\n\
         \tworker_connections 1024;\n\
         }\n\
         \n\
         http {\n\
         \tinclude /etc/nginx/mime.types;\n\
         \tdefault_type application/octet-stream;\n\
         \tserver_tokens off;\n\
         \tclient_max_body_size 1m;\n\
         \tsendfile on;\n\
         \ttcp_nopush on;\n\
         \tssl_protocols TLSv1.1 TLSv1.2 TLSv1.3;\n\
         \tssl_prefer_server_ciphers on;\n\
         \tssl_session_cache shared:SSL:2m;\n\
         \tssl_session_timeout 1h;\n\
         \tssl_session_tickets off;\n\
         \tgzip_vary on;\n\
         \tmap $http_upgrade $connection_upgrade {\n\
         \t\tdefault upgrade;\n\
         \t\t'' close;\n\
         \t}\n\
         \tlog_format main '$remote_addr - $remote_user [$time_local] \"$request\" '\n\
         \t\t\t'$status $body_bytes_sent \"$http_referer\" '\n\
         \t\t\t'\"$http_user_agent\" \"$http_x_forwarded_for\"';\n\
         \taccess_log /var/log/nginx/access.log main;\n\
         \tinclude /etc/nginx/http.d/*.conf;\n\
         }\n",
    );
    t.write(
        "etc/nginx/http.d/default.conf",
        "# This is a default site configuration which will simply return 404, preventing\n\
         # chance access to any other virtualhost.\n\
         server {\n\
         \tlisten 80 default_server;\n\
         \tlisten [::]:80 default_server;\n\
         \tlocation / {\n\
         \t\treturn 404;\n\
         \t}\n\
         \tlocation = /404.html {\n\
         \t\tinternal;\n\
         \t}\n\
         }\n",
    );
    t.write(
        "etc/php82/php-fpm.conf",
        "; /etc/php82/php-fpm.conf as Alpine's php82-fpm installs it (comments abridged):\n\
         ; PHP is built with --prefix=/usr --sysconfdir=/etc/php82.\n\
         [global]\n\
         ;pid = run/php-fpm82.pid\n\
         ;error_log = log/php82/error.log\n\
         include=/etc/php82/php-fpm.d/*.conf\n",
    );
    t.write(
        "etc/php82/php-fpm.d/www.conf",
        "[www]\n\
         user = nobody\n\
         group = nobody\n\
         listen = 127.0.0.1:9000\n\
         pm = dynamic\n\
         pm.max_children = 5\n\
         pm.start_servers = 2\n\
         pm.min_spare_servers = 1\n\
         pm.max_spare_servers = 3\n",
    );
    t
}

const ALPINE_SITE: &str = "etc/nginx/http.d/app.conf";
const ALPINE_WWW: &str = "etc/php82/php-fpm.d/www.conf";

fn alpine_with_php() -> Tree {
    let t = alpine();
    t.write(
        ALPINE_SITE,
        "server {\n\
         \tlisten 8080;\n\
         \troot /var/www/app/public;\n\
         \tindex index.php;\n\
         \tlocation ~ \\.php$ {\n\
         \t\tinclude fastcgi.conf;\n\
         \t\tfastcgi_pass 127.0.0.1:9000;\n\
         \t}\n\
         }\n",
    );
    t
}

#[test]
fn alpine_stock_tree_has_no_error_and_its_pools_are_found() {
    let t = alpine();
    let linted = t.lint();
    assert_no_error(&linted, "stock Alpine");
    assert_eq!(pools(&linted), vec![("www".to_string(), Some("127.0.0.1:9000".to_string()))]);
    assert!(!linted.findings.iter().any(|f| f.code == "FPM009"), "the absolute /etc/php82 include resolves in the tree");
    let t = alpine_with_php();
    let linted = t.lint();
    assert_no_error(&linted, "Alpine with a PHP site");
    assert!(!linted.notes.iter().any(|n| n.message.contains("(XFP) not checked")), "{:?}", linted.notes);
    assert_accepted(&t, &linted, Which::Both);
}

#[test]
fn alpine_planted_mistakes_are_found() {
    let t = alpine_with_php();
    t.edit(ALPINE_WWW, "pm.max_spare_servers = 3", "pm.max_spare_servers = 10");
    let linted = t.lint();
    assert_found(&linted, "FPM005", ALPINE_WWW, line_of(&t, ALPINE_WWW, "pm.max_spare_servers = 10"));
    assert_refused(&t, &linted, Which::Both, "pm.min_spare_servers(1) and pm.max_spare_servers(10) cannot be greater than pm.max_children(5)");

    let t = alpine_with_php();
    t.edit(ALPINE_SITE, "fastcgi_pass 127.0.0.1:9000;", "fastcgi_pass php-fpm;");
    let linted = t.lint();
    assert_found(&linted, "NGX110", ALPINE_SITE, line_of(&t, ALPINE_SITE, "fastcgi_pass php-fpm;"));
    assert_refused(&t, &linted, Which::Both, "no port in upstream \"php-fpm\"");

    let t = alpine_with_php();
    t.edit(ALPINE_SITE, "fastcgi_pass 127.0.0.1:9000;", "fastcgi_pass 127.0.0.1:9001;");
    let linted = t.lint();
    assert_found(&linted, "XFP001", ALPINE_SITE, line_of(&t, ALPINE_SITE, "127.0.0.1:9001"));
}

// --- RHEL / Rocky 9: nginx and php-fpm from the AppStream -------------------------------

fn rhel() -> Tree {
    let t = Tree::new();
    t.nginx_data_files("etc/nginx");
    t.write(
        "etc/nginx/nginx.conf",
        "# For more information on configuration, see:\n\
         #   * Official English Documentation: http://nginx.org/en/docs/\n\
         user nginx;\n\
         worker_processes auto;\n\
         error_log /var/log/nginx/error.log;\n\
         pid /run/nginx.pid;\n\
         \n\
         # Load dynamic modules. See /usr/share/doc/nginx/README.dynamic.\n\
         include /usr/share/nginx/modules/*.conf;\n\
         \n\
         events {\n\
         \x20   worker_connections 1024;\n\
         }\n\
         \n\
         http {\n\
         \x20   log_format  main  '$remote_addr - $remote_user [$time_local] \"$request\" '\n\
         \x20                     '$status $body_bytes_sent \"$http_referer\" '\n\
         \x20                     '\"$http_user_agent\" \"$http_x_forwarded_for\"';\n\
         \x20   access_log  /var/log/nginx/access.log  main;\n\
         \x20   sendfile            on;\n\
         \x20   tcp_nopush          on;\n\
         \x20   keepalive_timeout   65;\n\
         \x20   types_hash_max_size 4096;\n\
         \x20   include             /etc/nginx/mime.types;\n\
         \x20   default_type        application/octet-stream;\n\
         \x20   include /etc/nginx/conf.d/*.conf;\n\
         \n\
         \x20   server {\n\
         \x20       listen       80;\n\
         \x20       listen       [::]:80;\n\
         \x20       server_name  _;\n\
         \x20       root         /usr/share/nginx/html;\n\
         \x20       include /etc/nginx/default.d/*.conf;\n\
         \x20       error_page 404 /404.html;\n\
         \x20       location = /404.html {\n\
         \x20       }\n\
         \x20       error_page 500 502 503 504 /50x.html;\n\
         \x20       location = /50x.html {\n\
         \x20       }\n\
         \x20   }\n\
         }\n",
    );
    // Installed by the php-fpm package for nginx.
    t.write("etc/nginx/conf.d/php-fpm.conf", "# PHP-FPM FastCGI server\n# network or unix domain socket configuration\nupstream php-fpm {\n        server unix:/run/php-fpm/www.sock;\n}\n");
    t.write(
        "etc/nginx/default.d/php.conf",
        "# pass the PHP scripts to FastCGI server\n\
         #\n\
         # See conf.d/php-fpm.conf for socket configuration\n\
         #\n\
         index index.php index.html index.htm;\n\
         \n\
         location ~ \\.(php|phar)(/.*)?$ {\n\
         \x20   fastcgi_split_path_info ^(.+\\.(?:php|phar))(/.*)$;\n\
         \n\
         \x20   fastcgi_intercept_errors on;\n\
         \x20   fastcgi_index  index.php;\n\
         \x20   include        fastcgi_params;\n\
         \x20   fastcgi_param  SCRIPT_FILENAME  $document_root$fastcgi_script_name;\n\
         \x20   fastcgi_param  PATH_INFO $fastcgi_path_info;\n\
         \x20   fastcgi_pass   php-fpm;\n\
         }\n",
    );
    t.write(
        "etc/php-fpm.conf",
        ";;;;;;;;;;;;;;;;;;;;;\n; FPM Configuration ;\n;;;;;;;;;;;;;;;;;;;;;\n\
         include=/etc/php-fpm.d/*.conf\n\
         \n\
         [global]\n\
         pid = /run/php-fpm/php-fpm.pid\n\
         error_log = /var/log/php-fpm/error.log\n\
         daemonize = yes\n",
    );
    t.write(
        "etc/php-fpm.d/www.conf",
        "[www]\n\
         user = apache\n\
         group = apache\n\
         listen = /run/php-fpm/www.sock\n\
         listen.acl_users = apache,nginx\n\
         listen.allowed_clients = 127.0.0.1\n\
         pm = dynamic\n\
         pm.max_children = 50\n\
         pm.start_servers = 5\n\
         pm.min_spare_servers = 5\n\
         pm.max_spare_servers = 35\n\
         slowlog = /var/log/php-fpm/www-slow.log\n\
         php_admin_value[error_log] = /var/log/php-fpm/www-error.log\n\
         php_admin_flag[log_errors] = on\n\
         php_value[session.save_handler] = files\n\
         php_value[session.save_path]    = /var/lib/php/session\n\
         php_value[soap.wsdl_cache_dir]  = /var/lib/php/wsdlcache\n",
    );
    t
}

const RHEL_WWW: &str = "etc/php-fpm.d/www.conf";
const RHEL_PHP: &str = "etc/nginx/default.d/php.conf";

#[test]
fn rhel_stock_tree_has_no_error_and_the_packaged_php_location_reaches_the_pool() {
    let t = rhel();
    let linted = t.lint();
    assert_no_error(&linted, "stock RHEL");
    assert_eq!(pools(&linted), vec![("www".to_string(), Some("/run/php-fpm/www.sock".to_string()))]);
    assert!(!linted.notes.iter().any(|n| n.message.contains("(XFP) not checked")), "{:?}", linted.notes);
    assert!(!linted.findings.iter().any(|f| f.code == "XFP001"), "the upstream's socket is the pool's");
    assert_accepted(&t, &linted, Which::Fpm);
    // The staged nginx -t refuses to read the module snippets outside the tree
    // (/usr/share/nginx/modules, CFL002): validated without that line.
    let t = rhel_without_module_snippets();
    assert_accepted(&t, &t.lint(), Which::Nginx);
}

fn rhel_without_module_snippets() -> Tree {
    let t = rhel();
    t.edit("etc/nginx/nginx.conf", "include /usr/share/nginx/modules/*.conf;", "");
    t
}

#[test]
fn rhel_planted_mistakes_are_found() {
    let t = rhel();
    t.edit(RHEL_WWW, "pm.max_children = 50", "pm.max_childen = 50");
    let linted = t.lint();
    assert_found(&linted, "FPM002", RHEL_WWW, line_of(&t, RHEL_WWW, "pm.max_childen"));
    assert_refused(&t, &linted, Which::Fpm, "unknown entry 'pm.max_childen'");

    let t = rhel();
    t.edit("etc/nginx/conf.d/php-fpm.conf", "unix:/run/php-fpm/www.sock", "unix:/run/php-fpm/www.socket");
    let linted = t.lint();
    assert_found(&linted, "XFP001", RHEL_PHP, line_of(&t, RHEL_PHP, "fastcgi_pass"));

    let t = rhel_without_module_snippets();
    t.edit(RHEL_PHP, "    fastcgi_pass   php-fpm;\n", "    fastcgi_pass   php-fpm;\n    limit_conn perip 10;\n");
    let linted = t.lint();
    assert_found(&linted, "NGX204", RHEL_PHP, line_of(&t, RHEL_PHP, "limit_conn perip"));
    assert_refused(&t, &linted, Which::Nginx, "zero size shared memory zone \"perip\"");
}

// --- The official Docker images: php:8.2-fpm beside nginx in one container --------------

const DOCKER_CONF: &str = "usr/local/etc/php-fpm.conf";
const DOCKER_APP: &str = "usr/local/etc/php-fpm.d/zz-app.conf";
const DOCKER_SITE: &str = "etc/nginx/conf.d/default.conf";

fn docker() -> Tree {
    let t = Tree::new();
    // php:8.2-fpm: PHP built with --prefix=/usr/local and the default sysconfdir, so its
    // php-fpm.conf includes a path relative to /usr/local.
    t.write(
        DOCKER_CONF,
        ";;;;;;;;;;;;;;;;;;;;;\n; FPM Configuration ;\n;;;;;;;;;;;;;;;;;;;;;\n\
         \n\
         ; All relative paths in this configuration file are relative to PHP's install\n\
         ; prefix (/usr/local). This prefix can be dynamically changed by using the\n\
         ; '-p' argument from the command line.\n\
         \n\
         [global]\n\
         ;pid = run/php-fpm.pid\n\
         ;error_log = log/php-fpm.log\n\
         \n\
         include=etc/php-fpm.d/*.conf\n",
    );
    t.write(
        "usr/local/etc/php-fpm.d/www.conf",
        "[www]\n\
         user = www-data\n\
         group = www-data\n\
         listen = 127.0.0.1:9000\n\
         pm = dynamic\n\
         pm.max_children = 5\n\
         pm.start_servers = 2\n\
         pm.min_spare_servers = 1\n\
         pm.max_spare_servers = 3\n",
    );
    // Written by the image's Dockerfile.
    t.write(
        "usr/local/etc/php-fpm.d/docker.conf",
        "[global]\n\
         error_log = /proc/self/fd/2\n\
         log_limit = 8192\n\
         \n\
         [www]\n\
         ; php-fpm closes STDOUT on startup, so sending logs to /proc/self/fd/1 does not work.\n\
         access.log = /proc/self/fd/2\n\
         clear_env = no\n\
         catch_workers_output = yes\n\
         decorate_workers_output = no\n",
    );
    t.write("usr/local/etc/php-fpm.d/zz-docker.conf", "[global]\ndaemonize = no\n\n[www]\nlisten = 9000\n");
    // nginx:stable's nginx.conf, and the application's site in place of its default.conf.
    t.nginx_data_files("etc/nginx");
    t.write(
        "etc/nginx/nginx.conf",
        "user  nginx;\n\
         worker_processes  auto;\n\
         \n\
         error_log  /var/log/nginx/error.log notice;\n\
         pid        /var/run/nginx.pid;\n\
         \n\
         events {\n\
         \x20   worker_connections  1024;\n\
         }\n\
         \n\
         http {\n\
         \x20   include       /etc/nginx/mime.types;\n\
         \x20   default_type  application/octet-stream;\n\
         \x20   log_format  main  '$remote_addr - $remote_user [$time_local] \"$request\" '\n\
         \x20                     '$status $body_bytes_sent \"$http_referer\" '\n\
         \x20                     '\"$http_user_agent\" \"$http_x_forwarded_for\"';\n\
         \x20   access_log  /var/log/nginx/access.log  main;\n\
         \x20   sendfile        on;\n\
         \x20   keepalive_timeout  65;\n\
         \x20   include /etc/nginx/conf.d/*.conf;\n\
         }\n",
    );
    t.write(
        DOCKER_SITE,
        "server {\n\
         \x20   listen       80;\n\
         \x20   server_name  localhost;\n\
         \x20   root   /var/www/html/public;\n\
         \x20   index  index.php;\n\
         \x20   location ~ \\.php$ {\n\
         \x20       include        fastcgi.conf;\n\
         \x20       fastcgi_pass   127.0.0.1:9000;\n\
         \x20   }\n\
         }\n",
    );
    t
}

#[test]
fn docker_image_tree_has_no_error_and_its_relative_include_is_read_under_usr_local() {
    let t = docker();
    let linted = t.lint();
    assert_no_error(&linted, "official Docker images");
    // www.conf, docker.conf and zz-docker.conf are one pool, read through the relative
    // include as PHP-FPM reads it under /usr/local.
    assert_eq!(pools(&linted), vec![("www".to_string(), Some("9000".to_string()))]);
    assert!(linted.workspace.fpm.iter().all(|c| c.complete), "every file PHP-FPM reads is in the tree");
    let fpm009: Vec<&str> = linted.findings.iter().filter(|f| f.code == "FPM009").map(|f| f.message.as_str()).collect();
    assert!(fpm009.is_empty(), "the image's own include is not a problem: {fpm009:?}");
    assert!(!linted.findings.iter().any(|f| f.message.contains("/usr/etc")), "nothing says /usr/etc");
    assert!(!linted.notes.iter().any(|n| n.message.contains("(XFP) not checked")), "{:?}", linted.notes);
    assert_accepted(&t, &linted, Which::Both);
}

#[test]
fn docker_planted_mistakes_are_found() {
    let t = docker();
    t.write(DOCKER_APP, "[www]\npm.max_children = 0\n");
    let linted = t.lint();
    assert_found(&linted, "FPM004", DOCKER_APP, 2);
    assert_refused(&t, &linted, Which::Both, "pm.max_children must be a positive value");

    let t = docker();
    t.edit(DOCKER_CONF, "include=etc/php-fpm.d/*.conf", "include=php-fpm.d/*.conf");
    let linted = t.lint();
    let at = line_of(&t, DOCKER_CONF, "include=php-fpm.d");
    assert_found(&linted, "FPM009", DOCKER_CONF, at);
    let said: Vec<&str> = linted.findings.iter().filter(|f| f.code == "FPM009").map(|f| f.message.as_str()).collect();
    assert!(said.iter().any(|m| m.contains("'/usr/local/php-fpm.d/*.conf'")), "names what the include means in the image: {said:?}");

    let t = docker();
    t.edit(DOCKER_SITE, "include        fastcgi.conf;", "include        fastcgi.conf;\n        include        /etc/nginx/snippets/php-params.conf;");
    let linted = t.lint();
    assert_found(&linted, "NGX007", DOCKER_SITE, line_of(&t, DOCKER_SITE, "php-params.conf"));
    assert_refused(&t, &linted, Which::Both, "php-params.conf\" failed (2: No such file or directory)");
}
