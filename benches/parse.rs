//! Parse throughput on generated ~20 MB configurations: `cargo bench --bench parse`.
//!
//! Prints the best of several runs in MB/s (10^6 bytes per second) for the nginx and the
//! PHP-FPM parser.

use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

// The allocator the `conflint` binary uses.
#[global_allocator]
static ALLOCATOR: conflint::alloc::Allocator = conflint::alloc::Allocator;

const TARGET_BYTES: usize = 20_000_000;
const RUNS: usize = 25;
/// Lint and parse-only runs of the whole tree, each the best of this many: the same number
/// for both, so neither gets more chances at a quiet moment of a shared machine.
const LINT_RUNS: usize = 15;

/// A realistic PHP vhost, repeated with a different name each time.
fn nginx_config() -> String {
    let mut out = String::from(
        "user www-data;\nworker_processes auto;\nevents { worker_connections 1024; }\n\nhttp {\n",
    );
    let mut i = 0;
    while out.len() < TARGET_BYTES {
        write!(
            out,
            r#"
    # vhost {i}: PHP application behind php-fpm, API proxied to a backend
    server {{
        listen 80;
        listen [::]:80;
        server_name site{i}.example.com www.site{i}.example.com;
        root /var/www/site{i}/public;
        index index.php index.html;
        access_log /var/log/nginx/site{i}.access.log combined;
        error_log /var/log/nginx/site{i}.error.log warn;
        add_header Content-Security-Policy "default-src 'self'; script-src 'self' https://cdn.example.com; img-src 'self' data:" always;
        add_header X-Frame-Options SAMEORIGIN;

        location / {{
            try_files $uri $uri/ /index.php?$query_string;
        }}

        location ~ \.php$ {{
            try_files $uri =404;
            fastcgi_split_path_info ^(.+\.php)(/.+)$;
            fastcgi_pass unix:/run/php/php8.2-fpm-site{i}.sock;
            fastcgi_index index.php;
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_read_timeout 60s;
            fastcgi_buffers 16 16k;
        }}

        location /api/ {{
            proxy_pass http://127.0.0.1:{port};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 30s;
        }}

        location ~* \.(?:css|js|png|jpe?g|gif|svg|woff2?)$ {{
            expires 30d;
            access_log off;
        }}

        if ($request_method = POST) {{
            set $no_cache 1;
        }}

        location = /healthz {{
            content_by_lua_block {{
                local ok = ngx.shared.health:get("ok") -- set by a timer
                if ok then ngx.say("{{\"status\": \"ok\"}}") else ngx.exit(503) end
            }}
        }}
    }}
"#,
            port = 8000 + i % 1000
        )
        .unwrap();
        i += 1;
    }
    out.push_str("}\n");
    out
}

/// Many PHP-FPM pools with comments and `php_admin_value[...]` arrays.
fn fpm_config() -> String {
    let mut out = String::from(
        "[global]\npid = /run/php/php8.2-fpm.pid\nerror_log = /var/log/php8.2-fpm.log\n",
    );
    let mut i = 0;
    while out.len() < TARGET_BYTES {
        write!(
            out,
            r#"
; pool {i}
[site{i}]
user = site{i}
group = www-data
listen = /run/php/php8.2-fpm-site{i}.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = dynamic
pm.max_children = 20
pm.start_servers = 4
pm.min_spare_servers = 2
pm.max_spare_servers = 6
pm.max_requests = 500
request_terminate_timeout = 60s
; keep slow requests visible
slowlog = /var/log/php-fpm/site{i}-slow.log
request_slowlog_timeout = 5s
php_admin_value[memory_limit] = 256M
php_admin_value[error_log] = /var/log/php-fpm/site{i}-error.log
php_admin_flag[log_errors] = on
php_value[session.save_path] = "/var/lib/php/sessions/site{i}"
env[APP_ENV] = production
"#
        )
        .unwrap();
        i += 1;
    }
    out
}

/// Best of `runs`: the time to build the tree, and the time to build and free it. The
/// tree is dropped outside the first timer: freeing ~150 MB of small allocations costs
/// about as much as building them, and a one-shot CLI need not pay it at all.
fn best_of<T>(runs: usize, mut parse: impl FnMut() -> T) -> (Duration, Duration) {
    let mut best = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        let start = Instant::now();
        let tree = black_box(parse());
        let built = start.elapsed();
        drop(tree);
        best = (best.0.min(built), best.1.min(start.elapsed()));
    }
    best
}

fn report(name: &str, bytes: usize, (built, freed): (Duration, Duration), what: String) {
    let mb_s = |t: Duration| bytes as f64 / 1e6 / t.as_secs_f64();
    println!(
        "{name:5} {:5.1} MB ({what}): parse {:7.1} ms = {:6.1} MB/s; parse+drop {:7.1} ms = {:6.1} MB/s",
        bytes as f64 / 1e6,
        built.as_secs_f64() * 1e3,
        mb_s(built),
        freed.as_secs_f64() * 1e3,
        mb_s(freed),
    );
}

fn main() {
    let nginx = nginx_config();
    let config = conflint::nginx::parse(nginx.as_bytes());
    assert!(
        config.errors.is_empty(),
        "generated nginx config has errors: {:?}",
        config.errors.first()
    );
    let directives = config.walk().len();
    drop(config);
    let times = best_of(RUNS, || conflint::nginx::parse(black_box(nginx.as_bytes())));
    report("nginx", nginx.len(), times, format!("{directives} directives"));

    let fpm = fpm_config();
    let lines = conflint::fpm::parse(fpm.as_bytes()).lines.len();
    let times = best_of(RUNS, || conflint::fpm::parse(black_box(fpm.as_bytes())));
    report("fpm", fpm.len(), times, format!("{lines} lines"));

    lint_whole_tree(&nginx, &fpm);
}

/// The whole pipeline on both files as one tree: read, parse, resolve includes, join
/// nginx and PHP-FPM, run every rule. Compared with parsing alone it shows what the rules
/// cost.
fn lint_whole_tree(nginx: &str, fpm: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("nginx")).unwrap();
    std::fs::create_dir_all(dir.path().join("php/8.2/fpm")).unwrap();
    std::fs::write(dir.path().join("nginx/nginx.conf"), nginx).unwrap();
    std::fs::write(dir.path().join("php/8.2/fpm/php-fpm.conf"), fpm).unwrap();
    let settings = conflint::check::Settings {
        workspace: conflint::workspace::Options { paths: vec![".".into()], cwd: dir.path().to_path_buf(), ..Default::default() },
        config: Default::default(),
        selection: Default::default(),
        registry: conflint::rules::Registry::builtin(),
    };
    let bytes = nginx.len() + fpm.len();
    // Lint and parse-only runs alternate, so a slow spell of a shared VM hits both alike.
    let mut parse_only = (Duration::MAX, Duration::MAX);
    let mut best = Duration::MAX;
    let mut linted = None;
    for _ in 0..LINT_RUNS {
        drop(linted.take());
        let start = Instant::now();
        linted = Some(conflint::check::lint(&settings, &mut std::io::empty()).unwrap());
        best = best.min(start.elapsed());
        let parsed = best_of(1, || (conflint::nginx::parse(nginx.as_bytes()), conflint::fpm::parse(fpm.as_bytes())));
        parse_only = (parse_only.0.min(parsed.0), parse_only.1.min(parsed.1));
    }
    let linted = linted.unwrap();
    let findings = linted.findings.len();
    let mb_s = |t: Duration| bytes as f64 / 1e6 / t.as_secs_f64();
    println!(
        "lint  {:5.1} MB (nginx + fpm, all rules, {findings} findings): {:7.1} ms = {:6.1} MB/s; parse only {:7.1} ms = {:6.1} MB/s; ratio {:.2}",
        bytes as f64 / 1e6,
        best.as_secs_f64() * 1e3,
        mb_s(best),
        parse_only.0.as_secs_f64() * 1e3,
        mb_s(parse_only.0),
        best.as_secs_f64() / parse_only.0.as_secs_f64()
    );
    render_formats(&linted, &settings.registry);
}

/// Writing the findings out in each format (the best of 5, into a writer that only counts
/// the bytes, so that growing a buffer is not what is measured): thousands of findings in
/// one large file must not cost more than finding them.
fn render_formats(linted: &conflint::check::Linted, registry: &conflint::rules::Registry) {
    use conflint::report::{render, Format, Options};
    struct Counted(usize);
    impl std::io::Write for Counted {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut times = Vec::new();
    for (name, format) in [("full", Format::Full), ("concise", Format::Concise), ("json", Format::Json), ("sarif", Format::Sarif), ("github", Format::Github)] {
        let mut bytes = 0;
        let best = best_of(5, || {
            let mut out = Counted(0);
            render(format, &linted.findings, &linted.workspace.sources, registry, &Options::default(), &mut out).unwrap();
            bytes = out.0;
        });
        times.push(format!("{name} {:.0} ms ({:.1} MB)", best.0.as_secs_f64() * 1e3, bytes as f64 / 1e6));
    }
    println!("report {} findings: {}", linted.findings.len(), times.join(", "));
}
