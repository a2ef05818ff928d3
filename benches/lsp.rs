//! Completion latency of `conflint server` on a large file: `cargo bench --bench lsp`
//! (size in MB with `CONFLINT_LSP_MB`, default 2).
//!
//! The real binary over stdio, as an editor drives it: each round sends the whole buffer
//! (full text sync) with a new half-typed directive in its last location, then asks for
//! the completion there. Printed: the time from sending the change to the completion's
//! answer (what the user waits for), and to the diagnostics of that change (the lint the
//! completion does not wait for), best and median of the rounds.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ROUNDS: usize = 15;

fn site(bytes: usize) -> String {
    let mut out = String::from("events { worker_connections 1024; }\nhttp {\n");
    let mut i = 0;
    while out.len() < bytes {
        write!(
            out,
            "    server {{\n        listen 80;\n        server_name s{i}.example.com;\n        root /srv/s{i};\n        location / {{ try_files $uri /index.php; }}\n        location ~ \\.php$ {{\n            fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n            fastcgi_read_timeout 60s;\n        }}\n    }}\n"
        )
        .unwrap();
        i += 1;
    }
    out.push_str("    server {\n        location /api/ {\n");
    out
}

fn frame(msg: &Value) -> Vec<u8> {
    let body = msg.to_string();
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.parse().ok();
        }
    }
    let mut body = vec![0; length?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn main() {
    let mb: f64 = std::env::var("CONFLINT_LSP_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("conflint.toml"), "[nginx]\nversion = \"1.22.1\"\n").unwrap();
    let path = root.join("nginx.conf");
    let base = site((mb * 1e6) as usize);
    std::fs::write(&path, format!("{base}        }}\n    }}\n}}\n")).unwrap();
    let uri = format!("file://{}", path.display());

    let mut child = Command::new(env!("CARGO_BIN_EXE_conflint")).arg("server").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = BufReader::new(stdout);
        while let Some(msg) = read_message(&mut out) {
            if tx.send((Instant::now(), msg)).is_err() {
                break;
            }
        }
    });
    // Messages until `done` says all that was awaited has come, each with when it came.
    let wait = |done: &mut dyn FnMut(Instant, &Value) -> bool| loop {
        let (when, msg) = rx.recv_timeout(Duration::from_secs(120)).expect("the server answers");
        if done(when, &msg) {
            return;
        }
    };
    stdin.write_all(&frame(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"rootUri": format!("file://{}", root.display()), "capabilities": {}}}))).unwrap();
    stdin.write_all(&frame(&json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}))).unwrap();
    let text = format!("{base}        }}\n    }}\n}}\n");
    stdin.write_all(&frame(&json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "nginx", "version": 1, "text": text}}}))).unwrap();
    stdin.flush().unwrap();
    wait(&mut |_, m| m["method"] == "textDocument/publishDiagnostics");

    let line = base.matches('\n').count();
    let (mut completions, mut lints) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let typed = ["proxy_pa", "fastcgi_r", "add_h"][round % 3];
        let text = format!("{base}            {typed}\n        }}\n    }}\n}}\n");
        let version = round as i64 + 2;
        let mut burst = frame(&json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}}));
        let id = 1000 + round as i64;
        burst.extend(frame(&json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/completion", "params": {"textDocument": {"uri": uri}, "position": {"line": line, "character": 12 + typed.len()}}})));
        let sent = Instant::now();
        stdin.write_all(&burst).unwrap();
        stdin.flush().unwrap();
        let (mut answered, mut linted) = (None, None);
        wait(&mut |when, m| {
            if m["id"] == json!(id) {
                let items = m["result"]["items"].as_array().expect("a completion list");
                assert!(items.iter().any(|i| i["label"].as_str().is_some_and(|l| l.starts_with(typed))), "{typed} is completed");
                answered = Some(when - sent);
            } else if m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == json!(version) {
                linted = Some(when - sent);
            }
            answered.is_some() && linted.is_some()
        });
        completions.extend(answered);
        lints.extend(linted);
    }
    stdin.write_all(&frame(&json!({"jsonrpc": "2.0", "id": 1, "method": "shutdown"}))).unwrap();
    stdin.write_all(&frame(&json!({"jsonrpc": "2.0", "method": "exit"}))).unwrap();
    drop(stdin);
    let _ = child.wait();
    let stat = |v: &mut Vec<Duration>| {
        v.sort();
        format!("best {:.1} ms, median {:.1} ms", v[0].as_secs_f64() * 1e3, v[v.len() / 2].as_secs_f64() * 1e3)
    };
    println!("{:.2} MB file, {} lines, {ROUNDS} rounds", base.len() as f64 / 1e6, line + 4);
    println!("change + completion answered: {}", stat(&mut completions));
    println!("change linted (diagnostics):  {}", stat(&mut lints));
}
