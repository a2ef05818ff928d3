//! `conflint server` driven over stdio by a scripted LSP client: the real binary, real
//! Content-Length framing, a temporary workspace on disk. Every wait has a deadline, so a
//! hung server fails the test instead of hanging CI.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const DEADLINE: Duration = Duration::from_secs(30);

/// An LSP client speaking to one `conflint server` process.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Messages received but not yet taken by a `wait_for`.
    inbox: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conflint"))
            .arg("server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("conflint server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut out) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        Client { child, stdin, incoming, inbox: Vec::new(), next_id: 1 }
    }

    fn send_raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, msg: Value) {
        self.send_raw(&msg.to_string());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Send a request and wait for its response (`result` or `error` object).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(&format!("the response to {method}"), |m| m["id"] == json!(id) && m.get("method").is_none())
    }

    fn initialize(&mut self, params: Value) -> Value {
        let result = self.request("initialize", params);
        self.notify("initialized", json!({}));
        result["result"].clone()
    }

    /// The first message (already received or still to come) that `pred` accepts.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.inbox.iter().position(&pred) {
            return self.inbox.remove(i);
        }
        let end = Instant::now() + DEADLINE;
        loop {
            match self.incoming.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(msg) if pred(&msg) => return msg,
                Ok(msg) => self.inbox.push(msg),
                Err(RecvTimeoutError::Timeout) => panic!("no {what} within {DEADLINE:?}; received: {:#?}", self.inbox),
                Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output before {what}; received: {:#?}", self.inbox),
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Value {
        let msg = self
            .wait_for(&format!("diagnostics for {uri}"), |m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri);
        msg["params"].clone()
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "nginx", "version": 1, "text": text}}));
    }

    /// The exit code once the process has ended.
    fn exit_code(mut self) -> i32 {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().expect("exited, not killed by a signal");
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                panic!("the server did not exit within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn shutdown_and_exit(mut self) -> i32 {
        let resp = self.request("shutdown", Value::Null);
        assert_eq!(resp["result"], Value::Null, "{resp}");
        assert!(resp.get("error").is_none(), "{resp}");
        self.notify("exit", Value::Null);
        self.exit_code()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
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

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

const SITE: &str = "server {
    listen 80;
    root /srv/shop;
    fastcgi_read_timeout 300s;
    location /café/😀 { fastcgi_pass unix:/run/php/php8.2-fpm-shop.sock; }
    location ~ \\.php$ {
        include fastcgi.conf;
        fastcgi_read_timeout 30s;
        fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    }
}
";

/// An unused suppression: the one safe fix a site can have here.
const STALE_SUPPRESSION: &str = "# conflint: ignore[NGX204] left from an old zone\n";

const POOL: &str = "[www]
user = www-data
group = www-data
listen = /run/php/php8.2-fpm.sock
listen.owner = www-data
listen.group = www-data
pm = dynamic
pm.max_children = 20
pm.start_servers = 4
pm.min_spare_servers = 2
pm.max_spare_servers = 6
request_terminate_timeout = 300s
";

/// A repository with an nginx site and a PHP-FPM pool, as real paths.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    site: PathBuf,
    pool: PathBuf,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let site = root.join("nginx/sites-enabled/shop.conf");
    let pool = root.join("php/pool.d/www.conf");
    for (path, text) in [(&site, SITE), (&pool, POOL)] {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    Tree { _dir: dir, root, site, pool }
}

fn codes(diagnostics: &Value) -> Vec<&str> {
    diagnostics.as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect()
}

fn find<'a>(diagnostics: &'a Value, code: &str) -> &'a Value {
    diagnostics.as_array().unwrap().iter().find(|d| d["code"] == code).unwrap_or_else(|| panic!("no {code} in {diagnostics:#}"))
}

fn range(l0: u32, c0: u32, l1: u32, c1: u32) -> Value {
    json!({"start": {"line": l0, "character": c0}, "end": {"line": l1, "character": c1}})
}

#[test]
fn diagnostics_fixes_hover_and_a_clean_exit() {
    let t = tree();
    let (site, pool) = (uri(&t.site), uri(&t.pool));
    let mut c = Client::start();
    let init = c.initialize(json!({
        "processId": null,
        "rootUri": uri(&t.root),
        "workspaceFolders": [{"uri": uri(&t.root), "name": "repo"}],
        "capabilities": {},
    }));
    let caps = &init["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16", "{init:#}");
    assert_eq!(caps["codeActionProvider"]["codeActionKinds"], json!(["quickfix", "source.fixAll.conflint"]));
    assert_eq!(caps["hoverProvider"], true);
    assert!(caps["completionProvider"].is_object(), "{init:#}");
    assert_eq!(init["serverInfo"]["name"], "conflint");

    let opened = format!("{SITE}{STALE_SUPPRESSION}");
    c.open(&site, &opened);
    let published = c.diagnostics(&site);
    assert_eq!(published["version"], 1);
    let diags = &published["diagnostics"];
    assert_eq!(codes(diags), ["XFP001", "NGX101", "XFP002", "CFL001"]);

    // `location /café/😀 { fastcgi_pass ` is 36 characters but 37 UTF-16 code units.
    let xfp001 = find(diags, "XFP001");
    assert_eq!(xfp001["range"], range(4, 37, 4, 71));
    assert_eq!(xfp001["severity"], 1);
    assert_eq!(xfp001["source"], "conflint");
    assert!(xfp001["message"].as_str().unwrap().starts_with("no PHP-FPM pool listens on unix:/run/php/php8.2-fpm-shop.sock"));
    assert!(xfp001["codeDescription"]["href"].as_str().unwrap().ends_with("/docs/rules/XFP001.md"), "{xfp001:#}");
    let related = &xfp001["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], pool.as_str());
    assert_eq!(related["location"]["range"], range(3, 9, 3, 33));
    assert_eq!(related["message"], "pool `www` listens on unix:/run/php/php8.2-fpm.sock");
    let ngx101 = find(diags, "NGX101");
    assert_eq!((&ngx101["range"], &ngx101["severity"]), (&range(7, 29, 7, 32), &json!(2)));

    // The pool is not open, but its finding is published too.
    let pool_published = c.diagnostics(&pool);
    assert_eq!(codes(&pool_published["diagnostics"]), ["FPM103"]);
    assert_eq!(pool_published["version"], Value::Null);

    // Quick fixes: the client hands the diagnostics back with their `data`.
    let actions = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": site},
            "range": xfp001["range"],
            "context": {"diagnostics": [xfp001]},
        }),
    );
    let fix = actions["result"].as_array().unwrap().iter().find(|a| a["kind"] == "quickfix").expect("a quick fix");
    assert_eq!(fix["title"], "XFP001 (fastcgi-pass-no-listener): pass to unix:/run/php/php8.2-fpm.sock (unsafe fix)");
    assert_eq!(fix["isPreferred"], false, "an unsafe fix is never preferred");
    assert_eq!(fix["diagnostics"][0]["code"], "XFP001");
    assert_eq!(fix["edit"]["changes"], json!({&site: [{"range": range(4, 37, 4, 71), "newText": "unix:/run/php/php8.2-fpm.sock"}]}));
    let actions = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": site},
            "range": ngx101["range"],
            "context": {"diagnostics": [ngx101], "only": ["quickfix"]},
        }),
    );
    let fixes = actions["result"].as_array().unwrap();
    assert_eq!(fixes.len(), 1, "only quick fixes were asked for: {actions:#}");
    assert_eq!(fixes[0]["isPreferred"], false, "raising a timeout is an unsafe fix");
    assert_eq!(fixes[0]["edit"]["changes"], json!({&site: [{"range": range(7, 29, 7, 32), "newText": "300s"}]}));

    // Fix all: the safe fixes of this document only — removing the unused suppression; the
    // unsafe fixes (XFP001, NGX101 and XFP002 raising `30s`) are left out.
    let actions = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": site},
            "range": range(0, 0, 0, 0),
            "context": {"diagnostics": [], "only": ["source.fixAll"]},
        }),
    );
    let all = actions["result"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{actions:#}");
    assert_eq!(all[0]["kind"], "source.fixAll.conflint");
    assert_eq!(all[0]["edit"]["changes"], json!({&site: [{"range": range(11, 0, 12, 0), "newText": ""}]}));

    // Hover on a diagnostic: its rule's page; elsewhere nothing.
    let hover = c.request("textDocument/hover", json!({"textDocument": {"uri": site}, "position": {"line": 4, "character": 50}}));
    let contents = &hover["result"]["contents"];
    assert_eq!(contents["kind"], "markdown");
    assert!(contents["value"].as_str().unwrap().starts_with("# XFP001 fastcgi-pass-no-listener\n"), "{hover:#}");
    assert!(contents["value"].as_str().unwrap().contains("## Fix"));
    assert_eq!(hover["result"]["range"], range(4, 37, 4, 71));
    // Between `server` and its `{`: neither a directive name nor a diagnostic.
    let nothing = c.request("textDocument/hover", json!({"textDocument": {"uri": site}, "position": {"line": 0, "character": 7}}));
    assert_eq!(nothing["result"], Value::Null, "{nothing:#}");

    // Typing the fixes in (unsaved) clears every diagnostic of the document.
    let fixed = SITE.replace("fpm-shop.sock", "fpm.sock").replace(" 30s;", " 300s;");
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": site, "version": 2},
            "contentChanges": [{"text": fixed}],
        }),
    );
    let published = c.diagnostics(&site);
    assert_eq!(published["version"], 2);
    assert_eq!(published["diagnostics"], json!([]));
    let nothing = c.request("textDocument/hover", json!({"textDocument": {"uri": site}, "position": {"line": 4, "character": 50}}));
    assert_eq!(nothing["result"], Value::Null);

    // Closing without saving: the file on disk still has the problems.
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": site}}));
    let published = c.diagnostics(&site);
    assert_eq!(codes(&published["diagnostics"]), ["XFP001", "NGX101", "XFP002"]);
    assert_eq!(published["version"], Value::Null);

    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn utf8_positions_when_the_client_offers_them() {
    let t = tree();
    let site = uri(&t.site);
    let mut c = Client::start();
    let init = c.initialize(json!({
        "rootUri": uri(&t.root),
        "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}},
    }));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    c.open(&site, SITE);
    let published = c.diagnostics(&site);
    // The same span in bytes: `é` is two, `😀` four.
    assert_eq!(find(&published["diagnostics"], "XFP001")["range"], range(4, 40, 4, 74));
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn without_a_workspace_folder_the_nearest_conflint_toml_is_the_root() {
    let t = tree();
    // Found upward from the site, it makes the repository the root (so the pool is read
    // and XFP001 fires), and its settings apply: an ignored rule, an excluded directory.
    std::fs::write(t.root.join("conflint.toml"), "[check]\nignore = [\"NGX101\"]\nextend-exclude = [\"legacy/\"]\n").unwrap();
    let legacy = t.root.join("legacy/old.conf");
    std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    std::fs::write(&legacy, "server {\n    location / { fastcgi_pass unix:/run/php/old.sock; }\n}\n").unwrap();
    let site = uri(&t.site);
    let mut c = Client::start();
    c.initialize(json!({"rootUri": null, "capabilities": {}}));
    c.open(&site, SITE);
    let published = c.diagnostics(&site);
    assert_eq!(codes(&published["diagnostics"]), ["XFP001", "XFP002"]);
    // Everything of that lint was published before the answer to a later request.
    c.request("textDocument/hover", json!({"textDocument": {"uri": site}, "position": {"line": 0, "character": 0}}));
    let legacy_uri = uri(&legacy);
    assert!(!c.inbox.iter().any(|m| m["params"]["uri"] == legacy_uri.as_str()), "{:#?}", c.inbox);
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn a_broken_conflint_toml_is_shown_and_linting_resumes_once_it_is_fixed() {
    let t = tree();
    let config = t.root.join("conflint.toml");
    std::fs::write(&config, "[check]\nignore = [\"NGX101\"]\nbogus = true\n").unwrap();
    let site = uri(&t.site);
    let mut c = Client::start();
    c.initialize(json!({"rootUri": uri(&t.root), "capabilities": {}}));
    c.open(&site, SITE);
    let shown = c.wait_for("an error message", |m| m["method"] == "window/showMessage");
    assert_eq!(shown["params"]["type"], 1);
    let text = shown["params"]["message"].as_str().unwrap();
    assert!(text.contains("conflint.toml:3") && text.contains("bogus"), "{text}");

    std::fs::write(&config, "[check]\nignore = [\"NGX101\"]\n").unwrap();
    c.notify("textDocument/didSave", json!({"textDocument": {"uri": site}}));
    let published = c.diagnostics(&site);
    assert_eq!(codes(&published["diagnostics"]), ["XFP001", "XFP002"]);
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn bad_input_gets_errors_not_a_dead_server() {
    let t = tree();
    let readme = t.root.join("README.md");
    std::fs::write(&readme, "# Shop\n\nThe nginx and PHP-FPM config of the shop.\n").unwrap();
    let mut c = Client::start();
    c.initialize(json!({"rootUri": uri(&t.root), "capabilities": {}}));

    let unknown =
        c.request("textDocument/definition", json!({"textDocument": {"uri": uri(&t.site)}, "position": {"line": 0, "character": 0}}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown:#}");
    let bad = c.request("textDocument/hover", json!({"position": "here"}));
    assert_eq!(bad["error"]["code"], -32602, "{bad:#}");
    c.send_raw("{this is not json");
    c.notify("textDocument/didOpen", json!({"textDocument": 42}));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": "untitled:Untitled-1", "languageId": "nginx", "version": 1, "text": "server {"}}),
    );

    // A file conflint cannot classify: no diagnostics, no error. The server answers in
    // order, so anything it published for the README would arrive before this response.
    c.open(&uri(&readme), "# Shop\n");
    let alive = c.request("textDocument/hover", json!({"textDocument": {"uri": uri(&readme)}, "position": {"line": 0, "character": 0}}));
    assert_eq!(alive["result"], Value::Null, "{alive:#}");
    let readme_uri = uri(&readme);
    assert!(!c.inbox.iter().any(|m| m["params"]["uri"] == readme_uri.as_str() || m["method"] == "window/showMessage"), "{:#?}", c.inbox);
    // Linting the README's root still published the site's findings.
    assert!(c.diagnostics(&uri(&t.site))["diagnostics"].as_array().is_some_and(|d| !d.is_empty()));

    // `exit` without `shutdown`: exit code 1, as LSP specifies.
    c.notify("exit", Value::Null);
    assert_eq!(c.exit_code(), 1);
}

/// A document outside the workspace folders is linted alone, from its text: nothing else
/// of its directory is read, and no diagnostics are published for any other file there.
#[test]
fn a_document_outside_the_workspace_is_linted_alone() {
    let t = tree();
    let outside = tempfile::tempdir().unwrap();
    let out = outside.path().canonicalize().unwrap();
    // Beside the opened file: an nginx.conf that includes it and a site with findings of
    // its own; linting the directory would publish both and read the secret.
    std::fs::write(out.join("nginx.conf"), "events {}\nhttp {\n    include doc.conf;\n    include other.conf;\n}\n").unwrap();
    std::fs::write(out.join("other.conf"), "server {\n    listen 80\n}\n").unwrap();
    std::fs::write(out.join("secret"), "SECRET-TEXT\n").unwrap();
    let doc = out.join("doc.conf");
    std::fs::write(&doc, "").unwrap();
    let mut c = Client::start();
    c.initialize(json!({"workspaceFolders": [{"uri": uri(&t.root), "name": "shop"}], "capabilities": {}}));
    c.open(&uri(&doc), "server {\n    include secret;\n    location / { fastcgi_pass 127.0.0.1:9000; }\n}\n");
    let published = c.diagnostics(&uri(&doc));
    let text = published.to_string();
    assert!(!text.contains("SECRET-TEXT"), "{published:#}");
    assert!(codes(&published["diagnostics"]).contains(&"CFL002"), "the include is not followed: {published:#}");
    // The server answers in order: anything published for the other files came first.
    let alive = c.request("textDocument/hover", json!({"textDocument": {"uri": uri(&doc)}, "position": {"line": 0, "character": 0}}));
    assert!(alive.get("error").is_none(), "{alive:#}");
    let others: Vec<&Value> = c
        .inbox
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .filter(|m| m["params"]["uri"].as_str().is_some_and(|u| u.starts_with(&uri(&out)) && u != uri(&doc)))
        .collect();
    assert!(others.is_empty(), "published for files outside the workspace: {others:#?}");
    assert!(!c.inbox.iter().any(|m| m.to_string().contains("SECRET-TEXT")), "{:#?}", c.inbox);
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// A `Content-Length` far over the cap reserves no memory; a message over the cap is
/// skipped and the server reads on.
#[test]
fn a_bogus_content_length_is_refused_and_the_server_reads_on() {
    let t = tree();
    let mut c = Client::start();
    c.initialize(json!({"rootUri": uri(&t.root), "capabilities": {}}));
    let pid = c.child.id();
    // Over the cap: the 100 bytes that follow are its (skipped) body.
    write!(c.stdin, "Content-Length: 99999999999\r\n\r\n").unwrap();
    c.stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let rss_kib = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches(" kB").parse().ok()).unwrap()
    };
    assert!(rss_kib(pid) < 200 * 1024, "the server reserved {} KiB for a message never sent", rss_kib(pid));
    drop(c);
    // A message just over the cap (80 MiB), sent whole, is skipped; the next one is answered.
    let mut c = Client::start();
    c.initialize(json!({"rootUri": uri(&t.root), "capabilities": {}}));
    let pid = c.child.id();
    let huge = (80 << 20) + 1;
    write!(c.stdin, "Content-Length: {huge}\r\n\r\n").unwrap();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..80 {
        c.stdin.write_all(&chunk).unwrap();
    }
    c.stdin.write_all(b" ").unwrap();
    let hover = c.request("textDocument/hover", json!({"textDocument": {"uri": uri(&t.site)}, "position": {"line": 0, "character": 0}}));
    assert!(hover.get("error").is_none(), "{hover:#}");
    assert!(rss_kib(pid) < 200 * 1024, "the server holds {} KiB after a refused message", rss_kib(pid));
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// The labels of a completion answer.
fn labels(resp: &Value) -> Vec<&str> {
    resp["result"]["items"].as_array().unwrap_or_else(|| panic!("a completion list: {resp:#}")).iter().map(|i| i["label"].as_str().unwrap()).collect()
}

fn item<'a>(resp: &'a Value, label: &str) -> &'a Value {
    resp["result"]["items"].as_array().unwrap().iter().find(|i| i["label"] == label).unwrap_or_else(|| panic!("no {label} offered: {:?}", labels(resp)))
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

/// The position just after the last character of `text` (UTF-16, ASCII here).
fn end_of(text: &str) -> (u32, u32) {
    let line = text.matches('\n').count() as u32;
    (line, text.rsplit('\n').next().unwrap().len() as u32)
}

#[test]
fn completion_and_hover_come_from_the_directive_tables_of_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let files = [
        ("conflint.toml", "[nginx]\nversion = \"1.22.1\"\n"),
        ("nginx/nginx.conf", "events {\n    worker_connections 512;\n}\nhttp {\n    include sites-enabled/*;\n}\n"),
        ("nginx/sites-enabled/shop.conf", "server {\n    listen 80;\n    client_max_body_size 8m;\n    include snippets/php.conf;\n    location / {\n        root /srv;\n    }\n}\n"),
        ("nginx/snippets/php.conf", "index index.php;\n"),
        ("nginx/snippets/orphan.conf", "location /x {\n    root /srv;\n}\n"),
        ("php/php-fpm.conf", "[global]\nerror_log = /var/log/php-fpm.log\ninclude = /etc/php/8.2/fpm/pool.d/*.conf\n"),
        ("php/pool.d/www.conf", POOL),
    ];
    for (path, text) in files {
        std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
        std::fs::write(root.join(path), text).unwrap();
    }
    let u = |p: &str| uri(&root.join(p));
    let mut c = Client::start();
    c.initialize(json!({"rootUri": uri(&root), "capabilities": {}}));
    let (conf, site, snippet, orphan, pool) = (u("nginx/nginx.conf"), u("nginx/sites-enabled/shop.conf"), u("nginx/snippets/php.conf"), u("nginx/snippets/orphan.conf"), u("php/pool.d/www.conf"));
    c.open(&site, files[2].1);
    c.diagnostics(&site);

    // Hover on a directive name: the table's facts and the link to its page.
    let hover = c.request("textDocument/hover", at(&site, 2, 8));
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or_else(|| panic!("{hover:#}"));
    assert!(text.contains("Default: `client_max_body_size 1m;`"), "{text}");
    assert!(text.contains("Context: http, server, location"), "{text}");
    assert!(text.contains("ngx_http_core_module"), "{text}");
    assert!(text.contains("(https://nginx.org/en/docs/http/ngx_http_core_module.html#client_max_body_size)"), "{text}");
    assert_eq!(hover["result"]["range"], range(2, 4, 2, 24));

    // Typing in the location, the buffer not saved nor re-linted yet.
    let typed = "server {\n    listen 80;\n    location / {\n        proxy_pa";
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": site, "version": 2}, "contentChanges": [{"text": typed}]}));
    let (line, character) = end_of(typed);
    let resp = c.request("textDocument/completion", at(&site, line, character));
    let offered = labels(&resp);
    assert!(offered.contains(&"proxy_pass") && offered.contains(&"proxy_read_timeout"), "{offered:?}");
    assert!(!offered.contains(&"worker_connections") && !offered.contains(&"listen") && !offered.contains(&"upstream"), "{offered:?}");
    let proxy_pass = item(&resp, "proxy_pass");
    assert_eq!(proxy_pass["textEdit"]["range"], range(line, 8, line, character), "replaces what was typed");
    assert!(proxy_pass["detail"].as_str().unwrap().starts_with("ngx_http_proxy_module"), "{proxy_pass:#}");
    // Newer than the chosen nginx 1.22.1: offered, marked and sorted after the rest.
    let trailers = item(&resp, "proxy_pass_trailers");
    assert!(trailers["detail"].as_str().unwrap().contains("appeared in nginx 1.27.2; this tree is checked against nginx 1.22.1 ([nginx] version)"), "{trailers:#}");
    assert!(trailers["sortText"].as_str() > proxy_pass["sortText"].as_str());
    // A third-party module the tree does not load is not offered.
    assert!(!offered.contains(&"content_by_lua_block"), "{offered:?}");

    // The site's top level is http (nginx.conf includes it there); half a word at the start.
    let typed = "upst";
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": site, "version": 3}, "contentChanges": [{"text": typed}]}));
    let offered_top = c.request("textDocument/completion", at(&site, 0, 4));
    let offered = labels(&offered_top);
    assert!(offered.contains(&"upstream") && offered.contains(&"server") && offered.contains(&"map"), "{offered:?}");
    assert!(!offered.contains(&"listen") && !offered.contains(&"worker_connections") && !offered.contains(&"http"), "{offered:?}");
    assert!(!item(&offered_top, "upstream")["detail"].as_str().unwrap().contains("guessed"));

    // A snippet the site includes in its server: server context. What includes what is
    // the last lint's: the site is typed back and linted first.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": site, "version": 4}, "contentChanges": [{"text": files[2].1}]}));
    c.wait_for("the site linted again", |m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == site.as_str() && m["params"]["version"] == 4);
    c.open(&snippet, "index index.php;\n");
    let offered = c.request("textDocument/completion", at(&snippet, 1, 0));
    let offered = labels(&offered);
    assert!(offered.contains(&"listen") && offered.contains(&"location") && !offered.contains(&"upstream"), "{offered:?}");

    // A snippet nothing includes: its context is guessed from its content, and said so.
    c.open(&orphan, "location /x {\n    root /srv;\n}\n");
    let resp = c.request("textDocument/completion", at(&orphan, 3, 0));
    let detail = item(&resp, "server_name")["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("server") && detail.contains("guessed"), "{detail}");

    // events, in nginx.conf.
    c.open(&conf, "events {\n    \n}\nhttp {\n    include sites-enabled/*;\n}\n");
    let offered = c.request("textDocument/completion", at(&conf, 1, 4));
    let offered = labels(&offered);
    assert!(offered.contains(&"worker_connections") && !offered.contains(&"proxy_pass"), "{offered:?}");
    // Inside a map's body there are no directives to complete.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": conf, "version": 2}, "contentChanges": [{"text": "events {}\nhttp {\n    map $a $b {\n        de"}]}));
    let none = c.request("textDocument/completion", at(&conf, 3, 10));
    assert_eq!(none["result"], Value::Null, "{none:#}");

    // A newer directive used in the location: NGX002's page and the table's facts merge.
    let text = "server {\n    location / {\n        proxy_pass_trailers on;\n        proxy_pass http://127.0.0.1:8080;\n    }\n}\n";
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": site, "version": 5}, "contentChanges": [{"text": text}]}));
    let hover = c.request("textDocument/hover", at(&site, 2, 10));
    let value = hover["result"]["contents"]["value"].as_str().unwrap_or_else(|| panic!("{hover:#}"));
    let (facts, rule) = value.split_once("\n---\n").unwrap_or_else(|| panic!("facts, then the rule: {value}"));
    assert!(facts.contains("**proxy_pass_trailers**") && facts.contains("appeared in nginx 1.27.2"), "{facts}");
    assert!(rule.contains("# NGX002"), "{rule}");

    // PHP-FPM: keys of the pool's section; hover on a key.
    c.open(&pool, &format!("{POOL}pm.max_"));
    let (line, character) = end_of(&format!("{POOL}pm.max_"));
    let offered = c.request("textDocument/completion", at(&pool, line, character));
    let offered = labels(&offered);
    assert!(offered.contains(&"pm.max_children") && offered.contains(&"pm.max_requests"), "{offered:?}");
    assert!(!offered.contains(&"log_level") && !offered.contains(&"emergency_restart_threshold"), "{offered:?}");
    let hover = c.request("textDocument/hover", at(&pool, 6, 1));
    let value = hover["result"]["contents"]["value"].as_str().unwrap_or_else(|| panic!("{hover:#}"));
    assert!(value.contains("**pm**") && value.contains("one of static, dynamic, ondemand") && value.contains("pool section"), "{value}");
    let global = u("php/php-fpm.conf");
    c.open(&global, "[global]\nerror_log = /var/log/php-fpm.log\nlog_\n");
    let offered = c.request("textDocument/completion", at(&global, 2, 4));
    let offered = labels(&offered);
    assert!(offered.contains(&"log_level") && !offered.contains(&"pm.max_children"), "{offered:?}");

    assert_eq!(c.shutdown_and_exit(), 0);
}
