//! Lint time against config size: `cargo bench --bench scaling` (sizes in MB with
//! `CONFLINT_SCALING_MB=1,4,100`; default 1, 4, 16, 100).
//!
//! One http{} of PHP vhosts whose locations set no `fastcgi_param` of their own, so every
//! rule that asks for an effective array value climbs to http{}: linear time per location
//! keeps the whole lint linear in the size, anything more shows here as a falling MB/s.

use std::fmt::Write;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn config(bytes: usize) -> (String, usize) {
    let mut out = String::from("user www-data;\nevents { worker_connections 1024; }\nhttp {\n    include mime.types;\n    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n    fastcgi_read_timeout 60s;\n");
    let mut i = 0;
    while out.len() < bytes {
        write!(
            out,
            r#"    server {{ listen 80; server_name s{i}.example.com; location ~ \.php$ {{ fastcgi_pass 127.0.0.1:9000; }} }}
"#
        )
        .unwrap();
        i += 1;
    }
    out.push_str("}\n");
    (out, i)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("CONFLINT_SCALING_MB")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 4, 16, 100]);
    let registry = conflint::rules::Registry::builtin();
    for mb in sizes {
        let (text, servers) = config(mb * 1_000_000);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nginx.conf"), &text).unwrap();
        std::fs::write(dir.path().join("mime.types"), "types { text/html html; }\n").unwrap();
        let settings = conflint::check::Settings {
            // Over the default 64 MiB file cap at 100 MB: lifted, this measures the rules.
            workspace: conflint::workspace::Options { paths: vec![".".into()], cwd: dir.path().to_path_buf(), max_file_size: u64::MAX, ..Default::default() },
            config: Default::default(),
            selection: Default::default(),
            registry: registry.clone(),
        };
        // Big sizes once: the point is the slope, not the last millisecond.
        let runs = if mb >= 16 { 1 } else { 5 };
        let mut best = Duration::MAX;
        let mut findings = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let linted = conflint::check::lint(&settings, &mut std::io::empty()).unwrap();
            best = best.min(start.elapsed());
            findings = linted.findings.len();
            // Freed outside the timer: a one-shot CLI does not free its tree at all.
            drop(linted);
        }
        println!(
            "scaling {:6.1} MB ({servers} servers, {findings} findings): lint {:8.1} ms = {:6.1} MB/s",
            text.len() as f64 / 1e6,
            best.as_secs_f64() * 1e3,
            text.len() as f64 / 1e6 / best.as_secs_f64()
        );
    }
}
